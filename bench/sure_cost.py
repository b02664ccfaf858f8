"""What judging whether a digit is sure costs (images/sureness.py): time and the memory made on
each call, for one digit and for 1,000 at once, on MNIST's test digits. The reference digits and
letters are loaded first (digit_shapes.npz), as a server or a second infer.py run has them.

    python bench/sure_cost.py [--mnist-dir ../shared/mnist] [--runs 200]
"""

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from recognize_digits import data  # noqa: E402
from recognize_digits.images import sureness  # noqa: E402


def cost(probabilities, inputs, runs):
    """(milliseconds per call, MB made at the peak of one call)."""
    start = time.perf_counter()
    for _ in range(runs):
        sureness.sure(probabilities, inputs)
    seconds = (time.perf_counter() - start) / runs
    tracemalloc.start()
    try:
        sureness.sure(probabilities, inputs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return seconds * 1000, peak / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist-dir", default=None, help="the MNIST files (default: MNIST_DIR)")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    images, labels = data.load_mnist("test", args.mnist_dir, download=False)
    if sureness.digit_shapes() is None:
        sys.exit("no digit_shapes: run train.py once, or set MNIST_DIR")
    probabilities = np.eye(10)[labels]
    for count, runs in ((1, args.runs), (1000, max(1, args.runs // 20))):
        ms, mb = cost(probabilities[:count], images[:count], runs)
        print(f"{count:>5} digit(s) at once: {ms:7.2f} ms a call ({ms / count:.3f} ms a digit), "
              f"{mb:5.2f} MB made at the peak")


if __name__ == "__main__":
    main()
