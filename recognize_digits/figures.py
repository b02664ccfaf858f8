"""The images the project makes itself for image/ and the README.

    python -m recognize_digits.figures --model-dir recognize_digits_cnn.inference.model

infer_3.png        the chapter's sample digit: a handwritten 3 of the MNIST test set, upscaled 4x
mnist_digits.png   a grid of MNIST training digits with their labels (the chapter's Figure 1)
confusion.png      the model's confusion matrix on the 10,000 test images, per-class accuracy
mistakes.png       test digits the model gets wrong, with their label and its guess
cost_curves.png    (bench/reproduce.py) train and test cost of the three models
"""

import argparse
import os

import numpy as np
from PIL import Image

from recognize_digits import data
from recognize_digits.files import atomic_path
from recognize_digits.plot import plt, save_figure

IMAGE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "image")


def make_infer_3(data_dir=None, path=os.path.join(IMAGE_DIR, "infer_3.png"), index=1):
    """Save the `index`-th 3 of the MNIST test set, 28x28 -> 112x112, white on black, as MNIST."""
    images, labels = data.load_mnist("test", data_dir, raw=True)
    digit = images[np.flatnonzero(labels == 3)[index]]
    with atomic_path(path) as tmp:
        Image.fromarray(digit).resize((112, 112), Image.Resampling.BICUBIC).save(tmp, format="PNG")
    return path


def plot_cost_curves(histories, path):
    """Train (thin) and test (dots) cost of several models against the epoch, on one chart."""
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=100)
    for (name, history), colour in zip(histories.items(), ("C0", "C1", "C2", "C3")):
        steps_per_epoch = history["test"][0][0]
        steps, costs = zip(*history["train"])
        ax.plot([s / steps_per_epoch for s in steps], costs, color=colour, alpha=0.35, lw=1)
        ax.plot([row[0] / steps_per_epoch for row in history["test"]],
                [row[1] for row in history["test"]], "o-", color=colour, label=f"{name} (test)")
    ax.set_yscale("log")
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Cost (cross-entropy, log scale)")
    ax.set_title("Train cost (faint, every 100 batches) and test cost (dots, every epoch)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    save_figure(fig, path)


def plot_digit_grid(images, titles, path, columns=10, title=None, title_colors=None):
    """Digits (uint8 [N, 28, 28], white on black) in a grid, each with a title above it."""
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 0.9, rows * 1.05 + 0.4), dpi=100)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray", vmin=0, vmax=255)
            ax.set_title(titles[i], fontsize=9,
                         color=title_colors[i] if title_colors else "black")
    if title:
        fig.suptitle(title)
    save_figure(fig, path)


def plot_mnist_digits(data_dir, path, per_digit=4):
    """The first `per_digit` training images of each digit, with their labels."""
    images, labels = data.load_mnist("train", data_dir, raw=True)
    index = [i for row in range(per_digit) for d in range(10)
             for i in [np.flatnonzero(labels == d)[row]]]
    plot_digit_grid(images[index], [f"label {labels[i]}" for i in index], path,
                    title="MNIST training digits (28x28, white on black)")


def confusion_matrix(labels, predicted):
    """counts[true, predicted] over the ten digits."""
    counts = np.zeros((10, 10), dtype=np.int64)
    np.add.at(counts, (labels, predicted), 1)
    return counts


def per_class_accuracy(counts):
    """The share of each digit's images read as that digit, from a confusion matrix."""
    return counts.diagonal() / counts.sum(axis=1)


def format_per_class(counts):
    """`0: 99.39%, 1: 99.65%, ...`: the per-class accuracy of a confusion matrix, in one line."""
    return ", ".join(f"{digit}: {acc:.2%}" for digit, acc in enumerate(per_class_accuracy(counts)))


def plot_confusion(counts, path, name):
    """The confusion matrix (log-coloured so the rare mistakes show) and per-class accuracy."""
    per_class = per_class_accuracy(counts)
    fig, (ax, bar) = plt.subplots(1, 2, figsize=(10, 4.6), dpi=100,
                                  gridspec_kw={"width_ratios": [1.25, 1]})
    ax.imshow(np.log1p(counts), cmap="Blues")
    for (t, p), n in np.ndenumerate(counts):
        if n:
            ax.text(p, t, str(n), ha="center", va="center", fontsize=7,
                    color="white" if t == p else "black")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    accuracy = counts.diagonal().sum() / counts.sum()
    ax.set_title(f"{name} on the 10,000 test images: {accuracy:.2%}")
    bar.barh(range(10), per_class * 100, color="C0")
    for d, a in enumerate(per_class):
        bar.text(a * 100 - 0.05, d, f"{a:.2%}", ha="right", va="center", color="white", fontsize=8)
    bar.set_xlim(max(0, per_class.min() * 100 - 2), 100)
    bar.set_yticks(range(10))
    bar.invert_yaxis()
    bar.set_xlabel("accuracy per digit (%)")
    bar.set_title("Per-class accuracy")
    save_figure(fig, path)


def plot_mistakes(images, labels, predicted, probabilities, path, count=40):
    """Up to `count` test digits the model gets wrong, most confident mistakes first."""
    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-probabilities[wrong, predicted[wrong]])][:count]
    titles = [f"{labels[i]} read as {predicted[i]}" for i in wrong]
    plot_digit_grid(images[wrong], titles, path, title_colors=["C3"] * len(wrong),
                    title=f"The {len(wrong)} test digits LeNet-5 gets most confidently wrong "
                          f"(of {len(np.flatnonzero(predicted != labels))} mistakes)")


def evaluate(model_dir, data_dir=None):
    """(uint8 test images, labels, predicted digits, probabilities) of an exported model."""
    from recognize_digits.inference import Predictor

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
