"""What preprocess.to_mnist does to MNIST's own digits, to choose its settings without the test set.

    python bench/mnist_through.py --model-dir recognize_digits_cnn.inference.model
    python bench/mnist_through.py --model-dir M --stroke-band 1.3 3.0 --ink-percentile 50

A digit that already is an MNIST digit should come through to_mnist (nearly) unchanged, and the
model should read it as it read the original. This measures that on MNIST *training* digits (a
random sample of --count), so that the test set stays for the final check (bench/real_digits.py):

- the stroke widths of the training digits, as to_mnist measures them (its band is chosen from
  these percentiles);
- how many digits the stroke-width step changes, and how much to_mnist changes a digit on average
  (sum of absolute differences, pixels in [0, 1]);
- the model's accuracy on the raw digits and through to_mnist: digits lost and won; and through
  the ink step alone (finding the ink, without the stroke width and the scaling).

--stroke-band and --ink-percentile try other settings (preprocess.STROKE_MIN/MAX,
ink.INK_PERCENTILE) in this process only.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()  # before Paddle loads: MKL's code path on AMD, Paddle's log kept quiet
import numpy as np  # noqa: E402
from steps import describe  # noqa: E402
from recognize_digits import data  # noqa: E402
from recognize_digits.images import ink, morphology, preprocess  # noqa: E402
from recognize_digits.run import cli  # noqa: E402
from recognize_digits.inference import Predictor  # noqa: E402


def stroke_width(digit):
    """The stroke width of a cropped digit's ink as to_mnist's step 4 measures it, at 20x20."""
    return morphology.stroke_width(digit) * preprocess.BOX / max(digit.shape)


def main(argv=None):
    parser = cli.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", default="recognize_digits_cnn.inference.model")
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR", "../shared/mnist"))
    parser.add_argument("--count", type=int, default=20000, help="training digits (default 20000)")
    parser.add_argument("--stroke-band", type=float, nargs=2, metavar=("MIN", "MAX"))
    parser.add_argument("--ink-percentile", type=float)
    args = parser.parse_args(argv)
    if args.stroke_band:
        preprocess.STROKE_MIN, preprocess.STROKE_MAX = args.stroke_band
    if args.ink_percentile is not None:
        ink.INK_PERCENTILE = args.ink_percentile

    grey, labels = data.load_mnist("train", args.data_dir, raw=True)
    pick = np.random.default_rng(1).choice(len(grey), min(args.count, len(grey)), replace=False)
    grey, labels = grey[pick], labels[pick]
    print(f"Machine: {describe()}; {len(grey):,} MNIST training digits")

    inks = [ink.crop(preprocess.find_ink_in(g)) for g in grey]  # to_mnist's steps 1-3
    widths = np.array([stroke_width(ink) for ink in inks])
    shown = [0.5, 1, 5, 50, 95, 99, 99.5]
    print("stroke width at 20x20, percentiles "
          + ", ".join(f"{p:g}: {w:.2f}" for p, w in zip(shown, np.percentile(widths, shown))))
    band = (preprocess.STROKE_MIN, preprocess.STROKE_MAX)
    outside = np.count_nonzero((widths < band[0]) | (widths > band[1]))
    print(f"band {band[0]:g}-{band[1]:g}, ink scaled so its {ink.INK_PERCENTILE:g}th percentile "
          f"is 1: the stroke step changes {outside:,} digits ({100 * outside / len(grey):.1f}%)")

    raw = grey.astype(np.float32) / 255
    ours = np.stack([preprocess.to_mnist(g) for g in grey])
    change = np.abs(ours - raw).sum(axis=(1, 2))
    print(f"to_mnist changes a digit by {change.mean():.2f} on average (sum of |difference|); "
          f"{np.count_nonzero(change > 5):,} digits by more than 5")

    predictor = Predictor(args.model_dir)
    before = reads_right(predictor, raw, labels)
    after = reads_right(predictor, ours, labels)
    print(f"model: {100 * before.mean():.2f}% raw, {100 * after.mean():.2f}% through to_mnist: "
          + lost_and_won(before, after))
    ink_only = np.stack([preprocess._centre_by_mass(ink) for ink in inks])
    print("  the ink step alone (ink.find_ink, then cropped and centred, not scaled): "
          + lost_and_won(before, reads_right(predictor, ink_only, labels)))


def reads_right(predictor, digits, labels):
    """Which of the digits ([N, 28, 28] in [0, 1]) the model names right."""
    return predictor(digits[:, None] * 2 - 1).argmax(axis=1) == labels


def lost_and_won(before, after):
    lost, won = np.count_nonzero(before & ~after), np.count_nonzero(~before & after)
    return f"{lost} lost, {won} won ({won - lost:+d})"


if __name__ == "__main__":
    sys.exit(cli.run(main))
