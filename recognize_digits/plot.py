"""The chapter's figures: the cost curves (its `event_handler_plot`, drawn by the removed
`Ploter`), the confusion matrix, and grids of digits.

Each function draws one figure and saves it as a PNG at the path it is given. They use
matplotlib's object interface with the Agg renderer, which needs no display and leaves pyplot's
global state (a notebook's inline backend, say) alone. train.py saves to a temporary name and
renames it into place (run/files.py).
"""

import numpy as np
from matplotlib.figure import Figure


def new_figure(rows=1, columns=1, **kwargs):
    """A matplotlib Figure and its axes, as pyplot.subplots returns them."""
    fig = Figure(figsize=kwargs.pop("figsize"), dpi=kwargs.pop("dpi", 100))
    return fig, fig.subplots(rows, columns, **kwargs)


def save_figure(fig, path):
    """Save a figure as a PNG at `path` (whatever its name ends with)."""
    fig.tight_layout()
    fig.savefig(path, format="png")


def plot_costs(history, path, title="Train and test cost"):
    """Save the train cost (every logged batch) and test cost (every epoch) against the step.

    `history` is train.py's: {"train": [[step, cost], ...], "test": [[step, cost, acc], ...]},
    steps counted over the whole run.
    """
    fig, ax = new_figure(figsize=(6.4, 4.0))
    if history["train"]:
        steps, costs = zip(*history["train"])
        ax.plot(steps, costs, label="Train cost", linewidth=1)
    if history["test"]:
        steps, costs = zip(*[(row[0], row[1]) for row in history["test"]])
        ax.plot(steps, costs, "o-", label="Test cost")
    ax.set_xlabel("Step (batches)")
    ax.set_ylabel("Cost (cross-entropy)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, path)


def plot_cost_curves(histories, path):
    """Train (thin) and test (dots) cost of several models against the epoch, on one chart."""
    fig, ax = new_figure(figsize=(7, 4.2), dpi=100)
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
    fig, (ax, bar) = new_figure(1, 2, figsize=(10, 4.6), dpi=100,
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


def plot_digit_grid(images, titles, path, columns=10, title=None, title_colors=None):
    """Digits (uint8 [N, 28, 28], white on black) in a grid, each with a title above it."""
    rows = -(-len(images) // columns)
    fig, axes = new_figure(rows, columns, figsize=(columns * 0.9, rows * 1.05 + 0.4), dpi=100)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray", vmin=0, vmax=255)
            ax.set_title(titles[i], fontsize=9,
                         color=title_colors[i] if title_colors else "black")
    if title:
        fig.suptitle(title)
    save_figure(fig, path)


def plot_mistakes(images, labels, predicted, probabilities, path, count=40):
    """Up to `count` test digits the model gets wrong, most confident mistakes first."""
    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-probabilities[wrong, predicted[wrong]])][:count]
    titles = [f"{labels[i]} read as {predicted[i]}" for i in wrong]
    plot_digit_grid(images[wrong], titles, path, title_colors=["C3"] * len(wrong),
                    title=f"The {len(wrong)} test digits LeNet-5 gets most confidently wrong "
                          f"(of {len(np.flatnonzero(predicted != labels))} mistakes)")
