"""The images the project makes itself for image/ and the README.

    python bench/figures.py --model-dir recognize_digits_cnn.inference.model

infer_3.png        the chapter's sample digit: a handwritten 3 of the MNIST test set, upscaled 4x
mnist_digits.png   a grid of MNIST training digits with their labels (the chapter's Figure 1)
confusion.png      the model's confusion matrix on the 10,000 test images, per-class accuracy
mistakes.png       test digits the model gets wrong, with their label and its guess
cost_curves.png    (bench/reproduce.py) train and test cost of the three models
"""

import argparse
import os
import sys

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()
from recognize_digits import data  # noqa: E402
from recognize_digits.inference import Predictor  # noqa: E402
from recognize_digits.plot import (confusion_matrix, format_per_class, plot_confusion,  # noqa: E402
                                   plot_digit_grid, plot_mistakes)

IMAGE_DIR = os.path.join(ROOT, "image")


def make_infer_3(data_dir=None, path=os.path.join(IMAGE_DIR, "infer_3.png"), index=1):
    """Save the `index`-th 3 of the MNIST test set, 28x28 -> 112x112, white on black, as MNIST."""
    images, labels = data.load_mnist("test", data_dir, raw=True)
    digit = images[np.flatnonzero(labels == 3)[index]]
    Image.fromarray(digit).resize((112, 112), Image.Resampling.BICUBIC).save(path, format="PNG")
    return path


def plot_mnist_digits(data_dir, path, per_digit=4):
    """The first `per_digit` training images of each digit, with their labels."""
    images, labels = data.load_mnist("train", data_dir, raw=True)
    index = [i for row in range(per_digit) for d in range(10)
             for i in [np.flatnonzero(labels == d)[row]]]
    plot_digit_grid(images[index], [f"label {labels[i]}" for i in index], path,
                    title="MNIST training digits (28x28, white on black)")


def evaluate(model_dir, data_dir=None):
    """(uint8 test images, labels, predicted digits, probabilities) of an exported model."""
    images, labels = data.load_mnist("test", data_dir, raw=True)
    probabilities = Predictor(model_dir)(data.scale_pixels(images))
    return images, labels, probabilities.argmax(axis=1), probabilities


def main(argv=None):
    parser = argparse.ArgumentParser(description="Make the project's images in image/.")
    parser.add_argument("--data-dir", default=None, help="folder of the four MNIST files")
    parser.add_argument("--model-dir", default="recognize_digits_cnn.inference.model",
                        help="LeNet-5 exported by train.py, for the confusion matrix and mistakes")
    parser.add_argument("--out", default=IMAGE_DIR, help="where to write (default: image/)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    print(make_infer_3(args.data_dir, os.path.join(args.out, "infer_3.png")))
    plot_mnist_digits(args.data_dir, os.path.join(args.out, "mnist_digits.png"))
    images, labels, predicted, probabilities = evaluate(args.model_dir, args.data_dir)
    counts = confusion_matrix(labels, predicted)
    plot_confusion(counts, os.path.join(args.out, "confusion.png"), "LeNet-5")
    plot_mistakes(images, labels, predicted, probabilities, os.path.join(args.out, "mistakes.png"))
    print("Per-class accuracy: " + format_per_class(counts))


if __name__ == "__main__":
    main()


if __name__ == "__main__":
    main()
