"""The second core in one process: Paddle's intra-op threads, 1 against 2, timed alternately.

    python bench/threads.py                               # LeNet-5 and the MLP
    OMP_WAIT_POLICY=PASSIVE python bench/threads.py       # idle threads sleep instead of spinning
    KMP_BLOCKTIME=0 python bench/threads.py               # the same for MKL's OpenMP (libiomp5)

Paddle sets its CPU math library (MKL) to 1 thread; `paddle.base.core.set_num_threads(2)` lets
each matrix multiply (a convolution is one per image) split over 2. Each setting trains the same
model for the same steps, alternately in this process (1 thread, 2 threads, 1, 2, ...), with the
input pipeline of train.py: plain batches, and augmented ones made by readers.TrainingBatches'
background thread (LeNet-5's default), which competes for the second core. Prints images/s, the
median of the rounds, and the 2-thread / 1-thread ratio with its spread. Compare these ratios on an
otherwise idle machine only: a busy second core makes two threads wait for each other.
"""

import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import recognize_digits  # noqa: E402,F401
import paddle  # noqa: E402
from machine import describe  # noqa: E402
from steps import StepTimer, alternately, pipeline_batches, ratio_summary  # noqa: E402
from recognize_digits import cli, data, models  # noqa: E402


class ThreadedStepTimer(StepTimer):
    """A StepTimer whose steps run with `threads` intra-op threads (1 again between rounds)."""

    def __init__(self, threads, *args, **kwargs):
        self.threads = threads
        super().__init__(*args, **kwargs)

    def __call__(self, n):
        paddle.base.core.set_num_threads(self.threads)
        try:
            return super().__call__(n)
        finally:
            paddle.base.core.set_num_threads(1)


def training_run(name, images, labels, augment, threads):
    """Train `name` on train.py's input pipeline with `threads` intra-op threads: a timer."""
    paddle.seed(0)
    return ThreadedStepTimer(threads, models.build(name),
                             pipeline_batches(images, labels, augment), warm_up=10)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=["cnn", "mlp"], choices=list(models.MODELS))
    args = parser.parse_args(argv)
    env = " ".join(f"{k}={os.environ[k]}" for k in ("OMP_WAIT_POLICY", "KMP_BLOCKTIME",
                                                     "MKL_DEBUG_CPU_TYPE") if k in os.environ)
    print(f"Machine: {describe()}; {env or 'no OpenMP variables set'}")
    images, labels = data.load_mnist("train", args.data_dir)
    steps = {"softmax": 1000, "mlp": 300, "cnn": 60}
    for name in args.models:
        for augment in (False, True):
            runs = {threads: training_run(name, images, labels, augment, threads)
                    for threads in (1, 2)}
            speeds = alternately(runs, steps[name], rounds=args.rounds)
            print(f"{name:4s} augmentation {'on ' if augment else 'off'}: 1 thread "
                  f"{statistics.median(speeds[1]):8,.0f} images/s, 2 threads "
                  f"{statistics.median(speeds[2]):8,.0f}: 2 / 1 = "
                  f"{ratio_summary(speeds[2], speeds[1])}", flush=True)


if __name__ == "__main__":
    sys.exit(cli.run(main))
