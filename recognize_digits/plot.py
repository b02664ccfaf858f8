"""The chapter's cost curves (its `event_handler_plot`, drawn by the removed `Ploter`).

Drawn with matplotlib's Agg backend, which needs no display, and saved as a PNG.
"""

import logging

# Paddle sets up logging at INFO; keep matplotlib's notes and warnings out of the user's terminal:
# building its font cache on first use, and, on import, two lines about a read-only HOME, which
# train.py reports in its own words (files.check_paddle_cache).
logging.getLogger("matplotlib").setLevel(logging.ERROR)

import matplotlib  # noqa: E402  (after quieting its log)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

from recognize_digits.files import atomic_path  # noqa: E402


def plot_costs(history, path, title="Train and test cost"):
    """Save the train cost (every logged batch) and test cost (every epoch) against the step.

    `history` is train.py's: {"train": [[step, cost], ...], "test": [[step, cost, acc], ...]},
    steps counted over the whole run.
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
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


def save_figure(fig, path):
    """Save a matplotlib figure as a PNG, atomically, and free its memory."""
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
