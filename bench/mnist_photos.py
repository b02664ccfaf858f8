"""MNIST test digits made into photos of paper, read through to_mnist: what the paper costs.

    python bench/mnist_photos.py --model-dir recognize_digits_cnn.inference.model --count 1500 --seed 1

Each digit is scaled up (60-200 px), drawn as dark ink on paper of random brightness under a
lighting gradient, with sensor noise, up to 5 specks of the ink's colour, and saved as a JPEG
(quality 50-95); then read back as infer.py reads a file (preprocess.to_mnist). Prints how many the
model names right, against the same digits read raw, and how many to_mnist refused as blank; then
photographs a tenth as many blank sheets (no digit, no specks) and prints how many were read as a
digit. The same --seed draws the same photos, so two versions of the code can be compared on them.

    python bench/mnist_photos.py --model-dir recognize_digits_cnn.inference.model --desk

--desk puts each sheet on a desk: the photo takes in the desk beyond one edge of the sheet, or
two (a corner), darker than the paper and grained, 10-40% of the sheet's width deep.
"""

import io
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()  # before Paddle loads: MKL's code path on AMD, Paddle's log kept quiet
import numpy as np  # noqa: E402
from steps import describe  # noqa: E402
from PIL import Image  # noqa: E402
from recognize_digits import data  # noqa: E402
from recognize_digits.run import cli  # noqa: E402
from recognize_digits.images.loading import ImageError  # noqa: E402
from recognize_digits.inference import Predictor  # noqa: E402
from recognize_digits.images.preprocess import to_mnist  # noqa: E402


def photo(digit, rng, desk=False, specks=True):
    """A 28x28 MNIST digit (uint8, white on black) as a grey JPEG photo of it on paper (uint8),
    with specks of dust if `specks`, and the desk beyond the sheet's edge if `desk`."""
    side = int(rng.integers(60, 200))
    ink = np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR)) / 255
    rows, cols = np.indices(ink.shape) / side
    light = 1 + 0.2 * (rng.random() - 0.5) * cols + 0.2 * (rng.random() - 0.5) * rows
    paper, pen = 0.6 + 0.3 * rng.random(), 0.05 + 0.3 * rng.random()
    image = (paper * (1 - ink) + pen * ink) * light
    image += rng.normal(0, 0.02 + 0.03 * rng.random(), ink.shape)
    for _ in range(int(rng.integers(0, 6)) if specks else 0):  # specks of dust, the ink's colour
        y, x = rng.integers(0, side, 2) / side
        image[(rows - y) ** 2 + (cols - x) ** 2 <= (rng.uniform(0.5, side / 40) / side) ** 2] = pen
    if desk:
        image = on_desk(image, paper, rng)
    out = io.BytesIO()
    Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8)).save(
        out, "JPEG", quality=int(rng.integers(50, 95)))
    return np.asarray(Image.open(out).convert("L"))


def on_desk(image, paper, rng):
    """The photo of a sheet [side, side] widened to take in the desk beyond one or two of the
    sheet's edges: more paper (the photo's own, mirrored), then the edge, a little tilted, then the
    desk, darker than the paper, with a grain and the photo's noise."""
    side = image.shape[0]
    first = int(rng.integers(4))  # the sheet's edge: 0 top, 1 right, 2 bottom, 3 left...
    sides = [first, (first + 1) % 4] if rng.random() < 0.5 else [first]  # ...or a corner
    # For each side: more paper beyond the photo (0-10% of it), then the desk (10-40%).
    margins = {s: (int(rng.uniform(0, 0.1) * side), int(rng.uniform(0.1, 0.4) * side))
               for s in sides}
    pad = [[0, 0], [0, 0]]
    for s, (margin, band) in margins.items():
        pad[s % 2 == 1][s in (1, 2)] = margin + band
    image = np.pad(image, pad, mode="reflect")
    rows, cols = np.indices(image.shape)
    grain = np.asarray(Image.fromarray(rng.normal(0, 1, (4, 16)).astype(np.float32)).resize(
        image.shape[::-1], Image.Resampling.BILINEAR))
    desk = paper * rng.uniform(0.15, 0.6) + 0.04 * grain + rng.normal(0, 0.03, image.shape)
    for s, (margin, band) in margins.items():
        # How far beyond the sheet's edge each pixel is, the edge tilted by up to 3 degrees.
        tilt = np.tan(np.radians(rng.uniform(-3, 3)))
        along, depth = (cols, rows) if s % 2 == 0 else (rows, cols)
        if s in (1, 2):
            depth = depth.max() - depth
        beyond = band - depth + tilt * (along - along.mean())
        image = np.where(beyond > 0, desk, image)
    return image


def main(argv=None):
    parser = cli.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", default="recognize_digits_cnn.inference.model")
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR", "../shared/mnist"))
    parser.add_argument("--count", type=cli.positive_int, default=1500)
    parser.add_argument("--seed", type=cli.seed, default=1)
    parser.add_argument("--desk", action="store_true", help="photograph each sheet on a desk")
    args = parser.parse_args(argv)

    grey, labels = data.load_mnist("test", args.data_dir, raw=True)
    rng = np.random.default_rng(args.seed)
    pick = rng.choice(len(grey), min(args.count, len(grey)), replace=False)
    grey, labels = grey[pick].reshape(-1, 28, 28), labels[pick]
    digits, refused = [], 0
    for g in grey:
        try:
            digits.append(to_mnist(photo(g, rng, args.desk)))
        except ImageError:  # read as blank: counts as wrong
            refused += 1
            digits.append(np.zeros((28, 28), np.float32))
    predictor = Predictor(args.model_dir)
    raw = predictor((grey[:, None] / 127.5 - 1).astype(np.float32)).argmax(axis=1) == labels
    read = predictor(np.stack(digits)[:, None] * 2 - 1).argmax(axis=1) == labels
    print(f"Machine: {describe()}; {len(grey):,} MNIST test digits (seed {args.seed})"
          f"{', each sheet on a desk' if args.desk else ''}")
    print(f"raw: {raw.sum():,} right; as photos through to_mnist: {read.sum():,} right, "
          f"{refused} refused as blank")
    # And sheets with nothing on them, photographed the same way: each should be refused.
    blank, misread = np.zeros((28, 28), np.uint8), 0
    for _ in range(max(1, len(grey) // 10)):
        try:
            to_mnist(photo(blank, rng, args.desk, specks=False))
            misread += 1
        except ImageError:
            pass
    print(f"blank sheets: {misread} of {max(1, len(grey) // 10)} read as a digit")


if __name__ == "__main__":
    sys.exit(cli.run(main))
