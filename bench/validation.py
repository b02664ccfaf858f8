"""Choose training settings on held-out training images, never on the test set.

    python bench/validation.py --models mlp --seeds 5 --jobs 2          # about 4 minutes
    python bench/validation.py --models cnn --seeds 3 --jobs 2 --ema-decay 0.999

Trains on the first 50,000 training images and measures on the other 10,000, with train.py's
loop (Adam 0.001, batch 64, 5 epochs, the best pass by cost), for every combination of
augmentation (off, on) and moving-average decay (--ema-decay) asked for. Prints the validation
accuracy of the best pass, mean and range over the seeds, per combination. train.py's defaults
(augmentation for LeNet-5, --ema-decay 0.999) were chosen with it; the test set then only
measures the choice (bench/reproduce.py).
"""

import argparse
import concurrent.futures
import itertools
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from recognize_digits import RecognizeDigitsError  # noqa: E402
from recognize_digits.run import cli  # noqa: E402

VALIDATION_SIZE = 10_000


def train_and_validate(model, augment, ema_decay, seed, epochs, data_dir):
    """One run with train.py's own train() and test(); the validation cost and accuracy of every
    epoch."""
    import paddle

    import train
    from recognize_digits import data, models, readers, training
    from recognize_digits.run import console, distributed

    images, labels = data.load_mnist("train", data_dir)
    split = len(labels) - VALIDATION_SIZE
    args = train.parse_args(["--model", model, "--seed", str(seed)])
    paddle.seed(seed)
    network = models.build(model)
    optimizer = training.optimizer_program(network.parameters())
    ema = training.ExponentialMovingAverage(network, ema_decay)
    quiet, never_stop = console.Console(enabled=False), distributed.StopTogether(world=1)
    history = []
    for epoch in range(epochs):
        batches = readers.TrainingBatches(images[:split], labels[:split], 64, seed, epoch, augment)
        train.train(args, network, optimizer, ema, batches, epoch, quiet, never_stop)
        with ema.apply():
            history.append(train.test(network, images[split:], labels[split:], epoch, quiet))
    return history


def run_in_subprocess(config):
    """Each run in its own process: runs in parallel (--jobs) and none sees another's state."""
    result = subprocess.run([sys.executable, __file__, "--one", json.dumps(config)],
                            capture_output=True, text=True)
    if result.returncode:  # its own one-line error (no MNIST, say) is its last line
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise RecognizeDigitsError(f"a run failed ({last})")
    return config, json.loads(result.stdout.splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["softmax", "mlp", "cnn"],
                        choices=["softmax", "mlp", "cnn"])
    parser.add_argument("--seeds", type=int, default=3, help="runs per combination (seeds 1, 2, ...)")
    parser.add_argument("--ema-decay", nargs="+", type=float, default=[0.0, 0.999])
    parser.add_argument("--augment", nargs="+", choices=["off", "on"], default=["off", "on"])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: as train.py)")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time (default: 1)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a single run, as JSON: internal
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(train_and_validate(**json.loads(args.one))))
        return

    from recognize_digits.run.environment import prepare_paddle

    prepare_paddle()
    from steps import describe

    configs = [{"model": m, "augment": a == "on", "ema_decay": d, "seed": s,
                "epochs": args.epochs, "data_dir": args.data_dir}
               for m, a, d, s in itertools.product(args.models, args.augment, args.ema_decay,
                                                   range(1, args.seeds + 1))]
    results = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for config, history in pool.map(run_in_subprocess, configs):
            best = min(range(len(history)), key=lambda epoch: history[epoch][0])
            key = (config["model"], config["augment"], config["ema_decay"])
            results.setdefault(key, []).append((100 * history[best][1], best))
            print(f"{config['model']} augment={config['augment']} ema_decay={config['ema_decay']}"
                  f" seed={config['seed']}: {100 * history[best][1]:.2f}% (pass {best})",
                  flush=True)

    print(f"\nTrained on {60000 - VALIDATION_SIZE:,} training images, validated on the other "
          f"{VALIDATION_SIZE:,}; Adam 0.001, batch 64, {args.epochs} epochs, best pass by "
          f"validation cost; seeds 1-{args.seeds}. Machine: {describe()}.\n")
    print("| model | augmented | EMA decay | validation accuracy | best passes |")
    print("| --- | :---: | ---: | ---: | --- |")
    for (model, augment, decay), runs in results.items():
        accuracies = [acc for acc, _ in runs]
        print(f"| {model} | {'yes' if augment else 'no'} | {decay:g} | "
              f"{statistics.mean(accuracies):.2f}% ({min(accuracies):.2f}-{max(accuracies):.2f}) | "
              f"{', '.join(str(best) for _, best in runs)} |")


if __name__ == "__main__":
    sys.exit(cli.run(main))
