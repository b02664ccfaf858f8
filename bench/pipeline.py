"""How much the input pipeline adds to an epoch, beyond the training steps themselves.

    python bench/pipeline.py --model cnn
    python bench/pipeline.py --model softmax

Times the same N training steps two ways, alternately, in one process:
  steps only   batches already cut and converted to tensors before the clock starts;
  full         what train.py does: shuffle, cut, augment (if the model's default), prefetch in a
               background thread, convert to tensors.
overhead = full / steps only - 1, the median of --repeats alternations.
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the project: recognize_digits and train.py

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()  # before Paddle loads: MKL's code path on AMD, Paddle's log kept quiet
import paddle  # noqa: E402
from steps import describe  # noqa: E402
import train  # noqa: E402
from recognize_digits import data, models, readers, training  # noqa: E402
from recognize_digits.run import cli, console, distributed  # noqa: E402
from train import AUGMENT_BY_DEFAULT as AUGMENT  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=list(AUGMENT), default="cnn")
    parser.add_argument("--steps", type=int, default=None, help="default: 200 for cnn, else 900")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    steps = args.steps or (200 if args.model == "cnn" else 900)

    images, labels = data.load_mnist("train", args.data_dir)
    paddle.seed(0)
    model = models.build(args.model)
    optimizer = training.optimizer_program(model.parameters())
    no_average = training.ExponentialMovingAverage(model, 0.0)  # the steps alone, both ways
    # train() reads (and so waits for) the cost of its logged steps: the first and the last.
    train_args = train.parse_args(["--model", args.model, "--log-interval", str(steps - 1)])
    quiet, never_stop = console.Console(enabled=False), distributed.StopTogether(world=1)

    ratios = []
    for repeat in range(args.repeats + 1):  # the first round warms up and is not counted
        # train.py's input pipeline for one epoch, cut to `steps` batches.
        batches = readers.TrainingBatches(images[:steps * 64], labels[:steps * 64], 64, 0, repeat,
                                          AUGMENT[args.model])
        ready = [(paddle.to_tensor(x), paddle.to_tensor(y)) for x, y in batches]
        start = time.perf_counter()
        model.train()
        for x, y in ready:
            cost, _ = training.train_program(model, x, y, with_accuracy=False)
            cost.backward()
            optimizer.step()
            optimizer.clear_grad()
        float(cost)
        steps_only = time.perf_counter() - start
        start = time.perf_counter()
        train.train(train_args, model, optimizer, no_average, batches, repeat, quiet, never_stop)
        full = time.perf_counter() - start
        if repeat:
            ratios.append(full / steps_only - 1)
            print(f"steps only {steps_only:.2f} s, full {full:.2f} s, overhead {ratios[-1]:+.1%}")
    print(f"{args.model}: input pipeline overhead {statistics.median(ratios):+.1%} (median of "
          f"{args.repeats}, {steps} steps of 64; augmentation {'on' if AUGMENT[args.model] else 'off'})"
          f" on {describe()}")


if __name__ == "__main__":
    sys.exit(cli.run(main))
