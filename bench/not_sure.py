"""How often the reader says "not sure", and of what: right answers, wrong ones, no digit at all.

    python bench/not_sure.py --model-dir recognize_digits_cnn.inference.model \\
        --digits ../shared/digits --count 2000 --no-digit DIR [DIR ...]

Reads, as infer.py does (number.digit_inputs, reading), the real digits in --digits, the first
--count MNIST test digits saved as PNGs, and every image in the --no-digit folders (letters,
words, shapes, scribbles: no digit in them): how many right answers are marked not sure (kept to
a few percent), how many wrong ones are caught, and how many images with no digit are answered
as sure (and which).
"""

import glob
import io
import os
import sys

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()
from recognize_digits import data  # noqa: E402
from recognize_digits.images.loading import ImageError  # noqa: E402
from recognize_digits.images.number import digit_inputs, reading  # noqa: E402
from recognize_digits.inference import Predictor  # noqa: E402
from recognize_digits.run import cli  # noqa: E402


def answer(source, name, predictor):
    """(the answer as a string, sure), or (None, None) if the image is refused."""
    try:
        inputs, places = digit_inputs(source, name=name)
    except ImageError:
        return None, None
    result = reading(name, predictor(inputs), places, inputs=inputs)
    return result.get("number") or str(result["label"]), result["sure"]


def tally(what, answers, labels):
    right = [a == str(y) for (a, _), y in zip(answers, labels)]
    unsure_right = sum(r and s is False for r, (_, s) in zip(right, answers))
    wrong = [(a, s) for r, (a, s) in zip(right, answers) if not r and a is not None]
    caught = sum(s is False for _, s in wrong)
    print(f"{what}: {sum(right)}/{len(labels)} right, of which {unsure_right} "
          f"({100 * unsure_right / max(sum(right), 1):.1f}%) not sure; {len(wrong)} wrong, of "
          f"which {caught} not sure; {sum(a is None for a, _ in answers)} refused", flush=True)


def main(argv=None):
    parser = cli.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", default="recognize_digits_cnn.inference.model")
    parser.add_argument("--digits", default="../shared/digits")
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR", "../shared/mnist"))
    parser.add_argument("--count", type=int, default=2000, help="MNIST test digits")
    parser.add_argument("--no-digit", nargs="*", default=[], metavar="DIR",
                        help="folders of images that hold no digit")
    args = parser.parse_args(argv)
    predictor = Predictor(args.model_dir)
    files = sorted(glob.glob(os.path.join(args.digits, "*.png")))
    tally(f"{len(files)} real digits", [answer(f, f, predictor) for f in files],
          [int(os.path.basename(f)[0]) for f in files])
    images, labels = data.load_mnist("test", args.data_dir, download=False, raw=True)
    answers = []
    for x in images[: args.count]:
        buffer = io.BytesIO()
        Image.fromarray(x).save(buffer, format="PNG")
        buffer.seek(0)
        answers.append(answer(buffer, "mnist", predictor))
    tally(f"{args.count} MNIST test digits", answers, labels[: args.count])
    for folder in args.no_digit:
        files = sorted(glob.glob(os.path.join(folder, "*.png")))
        found = [(os.path.basename(f), *answer(f, f, predictor)) for f in files]
        sure = [f"{name}: {a}" for name, a, s in found if s]
        print(f"{folder}: {len(sure)} of {len(files)} images with no digit answered as sure "
              f"({sum(a is None for _, a, _ in found)} refused): {', '.join(sure)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
