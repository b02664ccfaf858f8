"""Reading each digit several ways and averaging (test-time augmentation): does it name more?

    python bench/test_time_augmentation.py --model-dir recognize_digits_cnn.inference.model

Reads the real digits of --digits and the 10,000 MNIST test digits through to_mnist, as infer.py
does, then again with the model's probabilities averaged over the digit as it is and turned or
scaled copies of it (augment.turn_scale_shift, the distortions LeNet-5 is trained on), and prints
how many each way names right. Several --model-dir may be given: the hard real digits are each
model's borderline ones, so one model says little.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import recognize_digits  # noqa: E402,F401  (quiets paddle: import it first)
import numpy as np  # noqa: E402
from machine import describe  # noqa: E402
from recognize_digits import cli, data  # noqa: E402
from recognize_digits.augment import turn_scale_shift  # noqa: E402
from recognize_digits.inference import Predictor  # noqa: E402
from recognize_digits.preprocess import preprocess, to_mnist  # noqa: E402
from real_digits import digit_files  # noqa: E402

# The copies averaged with the digit as it is: (turn in degrees, scale), per way of reading.
WAYS = {
    "turned +-7 degrees": [(-7, 1.0), (7, 1.0)],
    "turned +-10 degrees": [(-10, 1.0), (10, 1.0)],
    "scaled 0.9, 1.1": [(0, 0.9), (0, 1.1)],
    "turned +-7, scaled 0.9, 1.1": [(-7, 1.0), (7, 1.0), (0, 0.9), (0, 1.1)],
}


def copies(images, turn, scale):
    """`images` [N, 1, 28, 28] in [-1, 1], all turned by `turn` degrees and scaled by `scale`."""
    n = len(images)
    out = turn_scale_shift(images[:, 0], np.full(n, np.deg2rad(turn)), np.full(n, scale),
                           np.zeros((n, 2)))
    return out[:, np.newaxis].astype(np.float32)


def right(probabilities, labels):
    return int((probabilities.argmax(axis=1) == labels).sum())


def main(argv=None):
    parser = cli.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", action="append", required=True,
                        help="a model folder from train.py; give it several times to compare")
    parser.add_argument("--digits", default="../shared/digits",
                        help="folder of digit images named <label>_<writer>_*.png")
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR", "../shared/mnist"))
    args = parser.parse_args(argv)

    files, real_labels = digit_files(args.digits)
    real = np.concatenate([preprocess(os.path.join(args.digits, f)) for f in files])
    grey, test_labels = data.load_mnist("test", args.data_dir, raw=True)
    test = (np.stack([to_mnist(g) for g in grey])[:, np.newaxis] * 2 - 1).astype(np.float32)

    print(f"{'model, way of reading':<60} {'real digits':>12} {'MNIST test':>11}")
    for model_dir in args.model_dir:
        predictor = Predictor(model_dir)
        plain_real, plain_test = predictor(real), predictor(test)
        print(f"{model_dir + ': as it is':<60} {right(plain_real, real_labels):>6}/{len(files):<5} "
              f"{right(plain_test, test_labels):>11}")
        for way, distortions in WAYS.items():
            on_real, on_test = plain_real.copy(), plain_test.copy()
            for turn, scale in distortions:
                on_real += predictor(copies(real, turn, scale))
                on_test += predictor(copies(test, turn, scale))
            print(f"{'  averaged with ' + way:<60} {right(on_real, real_labels):>6}/{len(files):<5} "
                  f"{right(on_test, test_labels):>11}")
    print(f"on {describe()}")


if __name__ == "__main__":
    sys.exit(cli.run(main))
