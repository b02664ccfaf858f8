"""Reproduce the chapter's results: train the three models with its settings, write a table.

    python bench/reproduce.py                    # one seed: about 5 minutes on 2 CPU cores
    python bench/reproduce.py --seeds 3 --out bench/results.md
    python bench/reproduce.py --train-args="--no-augment --ema-decay 0"   # the chapter's recipe

Each run is the user's own command, `python train.py --model M --seed S` (Adam 0.001, batch 64,
5 epochs, train.py's defaults for augmentation and the moving average), in a temporary save dir; its checkpoint gives the best pass's accuracy and the time
of every epoch. Also draws the three models' cost curves on one chart (image/cost_curves.png).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()  # before Paddle loads: MKL's code path on AMD, Paddle's log kept quiet
from steps import describe  # noqa: E402
from recognize_digits import models  # noqa: E402
from recognize_digits.run import checkpoint  # noqa: E402

CHAPTER = {  # the chapter's name and reported test accuracy of each model
    "softmax": ("softmax_regression", 92.34),
    "mlp": ("multilayer_perceptron", 97.66),
    "cnn": ("convolutional_neural_network", 99.20),
}


def run(model, seed, epochs, data_dir, save_dir, extra):
    command = [sys.executable, os.path.join(ROOT, "train.py"), "--model", model, "--seed", str(seed),
               "--epochs", str(epochs), "--save-dir", save_dir, *extra]
    if data_dir:
        command += ["--data-dir", data_dir]
    print("$", " ".join(command[1:]), flush=True)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return checkpoint.read_checkpoint(save_dir)["state"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=1, help="runs per model (seeds 90, 91, ...)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=list(CHAPTER), choices=list(CHAPTER))
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: as train.py)")
    parser.add_argument("--train-args", default="",
                        help='more flags for train.py, e.g. --train-args="--no-augment"')
    parser.add_argument("--out", default=None, help="also write the table to this Markdown file")
    parser.add_argument("--figure", default=os.path.join(ROOT, "image", "cost_curves.png"))
    args = parser.parse_args()

    rows, histories = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            states = [run(model, 90 + i, args.epochs, args.data_dir,
                          os.path.join(tmp, f"{model}-{i}"), args.train_args.split())
                      for i in range(args.seeds)]
            histories[CHAPTER[model][0]] = states[0]["history"]
            accuracies = [100 * s["best"]["test_acc"] for s in states]
            train_s = [t for s in states for t, _ in s["history"]["seconds"]]
            test_s = [t for s in states for _, t in s["history"]["seconds"]]
            spread = (f" (min {min(accuracies):.2f}, max {max(accuracies):.2f})"
                      if len(accuracies) > 1 else "")
            rows.append(
                f"| `{CHAPTER[model][0]}` | {models.count_parameters(models.build(model)):,} | "
                f"{CHAPTER[model][1]:.2f}% | {statistics.mean(accuracies):.2f}%{spread} | "
                f"{'yes' if states[0]['args']['augment'] else 'no'} | "
                f"{states[0]['args']['ema_decay'] or 'no'} | "
                f"{statistics.mean(train_s):.1f} | {statistics.mean(test_s):.2f} | "
                f"{60000 / statistics.mean(train_s):,.0f} |")

    table = "\n".join([
        f"Adam 0.001, batch 64, {args.epochs} epochs, best pass by test cost; "
        f"{args.seeds} seed{'s' if args.seeds > 1 else ''} per model. Machine: {describe()}.",
        "",
        "| model | parameters | chapter | ours | augmented | EMA decay | s/epoch (training) | "
        "s/epoch (test loop) | training images/s |",
        "| --- | ---: | ---: | ---: | :---: | :---: | ---: | ---: | ---: |",
        *rows,
    ])
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")

    from recognize_digits.plot import plot_cost_curves

    plot_cost_curves(histories, args.figure)
    print("cost curves:", args.figure)


if __name__ == "__main__":
    main()
