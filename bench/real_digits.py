"""How well a trained model reads real handwritten digits: the chapter's preprocessing vs ours.

    python bench/real_digits.py --model-dir recognize_digits_cnn.inference.model

Reads every image in --digits (the label is the first character of the file name), prints the
accuracy with `--preprocess book` (the chapter's load_image) and `mnist` (preprocess.to_mnist) and
the misses; then the same images read as infer.py reads them by default (`--digits auto`: the
number in the image, which must come out as the one digit); then checks that to_mnist, and the
number reading, do no harm to real MNIST digits (test set, raw vs through them).
"""

import io
import os
import sys
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()  # before Paddle loads: MKL's code path on AMD, Paddle's log kept quiet
from recognize_digits import RecognizeDigitsError, data  # noqa: E402
from recognize_digits.run import cli  # noqa: E402
from recognize_digits.images.loading import ImageError  # noqa: E402
from recognize_digits.inference import Predictor  # noqa: E402
from recognize_digits.images.number import digit_inputs, reading  # noqa: E402
from recognize_digits.images.preprocess import preprocess, to_mnist  # noqa: E402


def add_model_and_data_arguments(parser):
    """--model-dir, --digits and --data-dir, which bench/number_reading.py takes too."""
    parser.add_argument("--model-dir", default="recognize_digits_cnn.inference.model")
    parser.add_argument("--digits", default="../shared/digits",
                        help="folder of digit images named <label>_<writer>_*.png")
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR", "../shared/mnist"))


def digit_files(folder):
    """The images of `folder` whose name starts with their label: (file names, labels)."""
    try:
        files = sorted(f for f in os.listdir(folder) if f[:1].isdigit())
    except OSError as err:
        raise RecognizeDigitsError(f"cannot read the digits in {folder} ({err.strerror}): pass "
                                   f"--digits FOLDER, of images named <label>_<writer>_*.png")
    return files, np.array([int(f[0]) for f in files])


def read(predictor, image, jpeg=False):
    """The digit infer.py's default preprocessing and the model name in a grey image, saved as a
    PNG (or a JPEG), or None if it is refused."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG" if jpeg else "PNG", quality=80)
    buffer.seek(0)
    try:
        return int(predictor(preprocess(buffer, name="photo")).argmax())
    except ImageError:
        return None


def model_and_digits(argv, description):
    """The arguments of add_model_and_data_arguments, parsed from `argv`; the model's predictor;
    the digit files in --digits and their labels."""
    parser = cli.ArgumentParser(description=description)
    add_model_and_data_arguments(parser)
    args = parser.parse_args(argv)
    return args, Predictor(args.model_dir), *digit_files(args.digits)


def main(argv=None):
    args, predictor, files, labels = model_and_digits(argv, __doc__.split("\n")[0])
    paths = [os.path.join(args.digits, f) for f in files]
    for mode in ("book", "mnist"):
        start = time.perf_counter()
        images = np.concatenate([preprocess(path, mode) for path in paths])
        ms = (time.perf_counter() - start) / len(files) * 1000
        guesses = predictor(images).argmax(axis=1)
        right = int((guesses == labels).sum())
        print(f"{mode:>5}: {right}/{len(files)} real digits right "
              f"({100 * right / len(files):.1f}%), {ms:.1f} ms per image to read and preprocess")
        for name, label, guess in zip(files, labels, guesses):
            if guess != label:
                print(f"         miss {name}: label {label}, guess {guess}")

    print("  auto: " + as_numbers(paths, labels, predictor, "real digits"))

    images, test_labels = data.load_mnist("test", args.data_dir, download=False)
    raw = (predictor(images).argmax(axis=1) == test_labels).mean()
    grey, _ = data.load_mnist("test", args.data_dir, raw=True)
    start = time.perf_counter()
    ours = np.stack([to_mnist(g) for g in grey])[:, np.newaxis] * 2 - 1
    ms = (time.perf_counter() - start) / len(grey) * 1000
    through = (predictor(ours).argmax(axis=1) == test_labels).mean()
    print(f"MNIST test: {100 * raw:.2f}% raw, {100 * through:.2f}% through to_mnist "
          f"({100 * (through - raw):+.2f} points), to_mnist {ms:.2f} ms per image")
    pngs = [io.BytesIO(png(g)) for g in grey]
    print("MNIST test, " + as_numbers(pngs, test_labels, predictor, "digits"))


def as_numbers(sources, labels, predictor, what):
    """Read images as infer.py does by default (the number in each): how many come out as the
    right single digit, as several digits, or refused."""
    start = time.perf_counter()
    answers = []
    for source in sources:
        try:
            inputs, places = digit_inputs(source, name="digit")
        except ImageError:
            answers.append(None)
            continue
        result = reading("digit", predictor(inputs), places)
        answers.append(result.get("number", str(result["label"])))
    ms = (time.perf_counter() - start) / len(sources) * 1000
    right = sum(answer == str(label) for answer, label in zip(answers, labels))
    several = sum(answer is not None and len(answer) > 1 for answer in answers)
    return (f"read as numbers (infer.py's default): {right}/{len(sources)} {what} right "
            f"({100 * right / len(sources):.2f}%), {several} read as several digits, "
            f"{answers.count(None)} refused; {ms:.1f} ms per image")


def png(grey):
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, format="PNG")
    return buffer.getvalue()


if __name__ == "__main__":
    sys.exit(cli.run(main))
