"""`infer.py --serve` under load: many clients at once get the right answers; memory stays flat.

    python bench/serve_load.py --model-dir recognize_digits_cnn.inference.model \
        --digits ../shared/digits [--clients 20] [--photos 200] [--requests 1000]

Starts the server as a user does (`python infer.py --serve --port 0`, a free port), then
  1. 20 clients post 200 real digit photos at once (cycling through --digits); every answer must
     equal what the predictor gives for that photo alone (read, preprocessed and run here, one at
     a time, as `infer.py PHOTO` does), `input` included;
  2. the server's resident memory (RSS) is measured, 1,000 more photos are posted by the same 20
     clients, and it is measured again.
tests/test_serve.py runs a smaller version of both, with these helpers.
"""

import argparse
import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from itertools import repeat
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import recognize_digits  # noqa: E402,F401  (quiets paddle: import it first)
from recognize_digits.inference import Predictor, prediction  # noqa: E402
from recognize_digits.preprocess import preprocess  # noqa: E402
from recognize_digits.serve import png_base64  # noqa: E402

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


class ServerProcess:
    """`python infer.py --serve --port 0 ARGS...` in a subprocess, with the URL it printed.

    >>> with ServerProcess("--model-dir", folder) as server:
    ...     status, answer = post(server.url, body)
    """

    def __init__(self, *args, timeout=120):
        command = [sys.executable, os.path.join(ROOT, "infer.py"), "--serve", "--port", "0", *args]
        # Unbuffered, so that what follows the first line is left for stop() to read.
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, bufsize=0,
                                        preexec_fn=ctrl_c_as_in_a_terminal)
        self.first_line = read_line(self.process.stdout, timeout).decode()
        if not self.first_line.startswith("Open http"):
            self.stop()
            raise RuntimeError(f"the server did not start: {self.first_line!r} "
                               f"{self.process.stderr.read().decode()!r}")
        self.url = self.first_line.split()[1]
        self.pid = self.process.pid

    def stop(self, sig=signal.SIGINT, timeout=30):
        """Stop it as Ctrl-C does; (exit status, rest of stdout, stderr). A server that has not
        stopped within `timeout` seconds is killed (none is left running), and TimeoutExpired
        raised."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            raise
        return self.process.returncode, out.decode(), err.decode()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def ctrl_c_as_in_a_terminal():
    """In the server's process, before it starts: Ctrl-C (SIGINT) stops it, as in a terminal.

    A command started in the background by a shell without job control (`pytest &` in a script,
    `nohup`) has SIGINT ignored, and its children inherit that: Python then never raises
    KeyboardInterrupt, and the server would not stop."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def read_line(stream, timeout):
    """One line from a pipe, or "" if none comes within `timeout` seconds."""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        return stream.readline() if selector.select(timeout) else ""


def post(url, body, name=None, top_k=None, timeout=60):
    """POST /predict: (HTTP status, the JSON answer)."""
    query = {key: value for key, value in (("name", name), ("top_k", top_k)) if value is not None}
    request = urllib.request.Request(url + "predict?" + urllib.parse.urlencode(query), data=body)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.load(err)


def photos(folder):
    """The image files in `folder`, sorted."""
    return sorted(os.path.join(folder, name) for name in os.listdir(folder)
                  if name.lower().endswith(IMAGE_EXTENSIONS))


def answers_alone(model_dir, paths, top_k=3):
    """path -> the answer POST /predict must give for it: the predictor on that photo alone."""
    predictor = Predictor(model_dir)
    answers = {}
    for path in paths:
        image = preprocess(path)
        answers[path] = prediction(path, predictor(image)[0], top_k)
        answers[path]["input"] = [png_base64(image[0, 0])]
    return answers


def post_all(url, paths, clients, top_k=3):
    """Post every path (repeats allowed) from `clients` threads at once: [(status, answer)]."""
    bodies = {path: Path(path).read_bytes() for path in set(paths)}
    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(post, repeat(url), [bodies[p] for p in paths], paths, repeat(top_k)))


def cycle(paths, n):
    return [paths[i % len(paths)] for i in range(n)]


def rss_mb(pid):
    """Resident memory of process `pid`, in MB (Linux /proc; elsewhere `ps`)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    except FileNotFoundError:
        kb = int(subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True,
                                text=True, check=True).stdout)
    return kb / 1024


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
