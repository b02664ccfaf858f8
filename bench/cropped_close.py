"""Digits cropped close: the image cut down to the digit's ink, with no paper (or 1-3 px) around it.

    python bench/cropped_close.py --model-dir recognize_digits_cnn.inference.model

A user who crops a photo, or a paint program's "crop to content", may leave the digit touching the
image's edges. Reads MNIST's 10,000 test digits cut down to their ink and 0, 1 or 3 pixels more on
each side (MNIST's own images have 4 or more), and the digits of --digits cut down the same way
(their ink: the minority side of Otsu's threshold on the image as read), as infer.py reads a file.
Then digits of straight strokes (tests/drawings.box_digit: a paint program's line tool), 0, 2, 3,
4, 5 and 7 on canvases of 30-80 pixels with strokes 1-3 pixels wide, drawn right to the canvas's
edges (or 1% or 2% short of them), and cut down to their ink. Prints how many the model names
right, and how many were refused as blank.
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()  # before Paddle loads: MKL's code path on AMD, Paddle's log kept quiet
from drawings import BOX_DIGITS, box_digit  # noqa: E402
from steps import describe  # noqa: E402
from real_digits import model_and_digits, read  # noqa: E402
from recognize_digits import data  # noqa: E402
from recognize_digits.run import cli  # noqa: E402
from recognize_digits.images.loading import ImageError, open_image  # noqa: E402
from recognize_digits.images.lighting import otsu  # noqa: E402
from recognize_digits.images.preprocess import to_mnist  # noqa: E402

MARGINS = (0, 1, 3)  # pixels of paper left on each side of the ink
EDGES = (0.0, 0.01, 0.02)  # how far short of the canvas's edges straight strokes are drawn


def cropped_close(grey, ink, margin):
    """`grey` cut down to the pixels of `ink` (a mask), and `margin` pixels more on each side."""
    rows, cols = np.nonzero(ink)
    return np.ascontiguousarray(grey[max(rows.min() - margin, 0) : rows.max() + 1 + margin,
                                     max(cols.min() - margin, 0) : cols.max() + 1 + margin])


def mnist_cropped_close(predictor, grey, labels, margin):
    """(right, refused as blank) for MNIST's digits `grey` cropped close."""
    digits, refused = [], 0
    for g in grey:
        try:
            digits.append(to_mnist(cropped_close(g, g > 0, margin)))
        except ImageError:
            digits.append(np.zeros((28, 28), np.float32))
            refused += 1
    guesses = predictor(np.stack(digits)[:, np.newaxis] * 2 - 1).argmax(axis=1)
    answered = np.array([d.any() for d in digits])
    return int(((guesses == labels) & answered).sum()), refused


def main(argv=None):
    args, predictor, files, labels = model_and_digits(argv, __doc__.split("\n")[0])
    print(f"Machine: {describe()}")
    grey, mnist_labels = data.load_mnist("test", args.data_dir, download=False, raw=True)
    for margin in MARGINS:
        right, refused = mnist_cropped_close(predictor, grey, mnist_labels, margin)
        print(f"MNIST test, cropped to the ink + {margin} px: {right:,}/{len(grey):,} right, "
              f"{refused} refused as blank")
    images = [np.asarray(open_image(os.path.join(args.digits, name))) for name in files]
    for margin in MARGINS:
        answers = []
        for image in images:
            dark = image < otsu(image.astype(np.float64))
            ink = dark if dark.mean() < 0.5 else ~dark
            answers.append(read(predictor, cropped_close(image, ink, margin)))
        right = sum(answer == label for answer, label in zip(answers, labels))
        print(f"{args.digits}, cropped to the ink + {margin} px: {right}/{len(files)} right, "
              f"{answers.count(None)} refused as blank")
    drawn = [(digit, size, width) for digit in BOX_DIGITS for size in (30, 45, 60, 80)
             for width in (1, 2, 3)]
    for edge in EDGES:
        right = sum(read(predictor, box_digit(digit, size, width, margin=edge)) == digit
                    for digit, size, width in drawn)
        print(f"digits of straight strokes drawn {edge:.0%} short of the canvas's edges: "
              f"{right}/{len(drawn)} right")
    right = 0
    for digit, size, width in drawn:
        drawing = box_digit(digit, size, width)
        right += read(predictor, cropped_close(drawing, drawing < 255, 0)) == digit
    print(f"digits of straight strokes, cut down to their ink: {right}/{len(drawn)} right")


if __name__ == "__main__":
    sys.exit(cli.run(main))
