"""`infer.py --serve` under load: many clients at once get the right answers; memory stays flat.

    python bench/serve_load.py --model-dir recognize_digits_cnn.inference.model \
        --digits ../shared/digits [--clients 20] [--photos 200] [--requests 1000]

Starts the server as a user does (`python infer.py --serve --port 0`, a free port), then
  1. 20 clients post 200 real digit photos at once (cycling through --digits); every answer must
     equal what the predictor gives for that photo alone (read, preprocessed and run here, one at
     a time, as `infer.py PHOTO` does), `input` included;
  2. the server's resident memory (RSS) is measured, 1,000 more photos are posted by the same 20
     clients, and it is measured again.
tests/test_serve.py runs a smaller version of both, with the same helpers (tests/serving.py).
"""

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

sys.path.insert(0, os.path.join(ROOT, "tests"))

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()
from serving import (ServerProcess, answers_alone, cycle, photos, post_all,  # noqa: E402
                     rss_mb)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", default="recognize_digits_cnn.inference.model")
    parser.add_argument("--digits", default=os.environ.get("DIGITS_DIR", "../shared/digits"))
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args(argv)

    paths = photos(args.digits)
    expected = answers_alone(args.model_dir, paths)
    with ServerProcess("--model-dir", args.model_dir) as server:
        loaded = rss_mb(server.pid)
        start = time.perf_counter()
        jobs = cycle(paths, args.photos)
        results = post_all(server.url, jobs, args.clients)
        seconds = time.perf_counter() - start
        same = sum(result == (200, expected[path]) for path, result in zip(jobs, results))
        right = sum(answer["label"] == int(os.path.basename(path)[0])
                    for path, (_, answer) in zip(jobs, results))
        print(f"{args.clients} clients, {args.photos} photos at once: {same}/{args.photos} answers "
              f"equal to the predictor's on that photo alone ({right} name the digit right), "
              f"{seconds:.1f} s ({args.photos / seconds:.0f} requests/s)")

        before = rss_mb(server.pid)
        start = time.perf_counter()
        half = post_all(server.url, cycle(paths, args.requests // 2), args.clients)
        middle = rss_mb(server.pid)
        rest = post_all(server.url, cycle(paths, args.requests - len(half)), args.clients)
        seconds = time.perf_counter() - start
        after = rss_mb(server.pid)
        ok = sum(status == 200 for status, _ in half + rest)
        print(f"server RSS: {loaded:.1f} MB once the model is loaded, {before:.1f} MB after those "
              f"{args.photos} requests, then {middle:.1f} MB after {len(half):,} more and "
              f"{after:.1f} MB after {args.requests:,} more ({after - before:+.1f} MB; "
              f"{ok}/{args.requests} answered 200 in {seconds:.1f} s, "
              f"{args.requests / seconds:.0f} requests/s)")
    return 0 if same == args.photos and ok == args.requests else 1


if __name__ == "__main__":
    sys.exit(main())
