"""How well infer.py reads a number: numbers of 2-4 digits built from real handwritten digits and
from MNIST test digits, read the way infer.py reads an image.

    python bench/number_reading.py --model-dir recognize_digits_cnn.inference.model \
        --digits ../shared/digits

Real digits: for each writer in --digits (a source: `wikunia_photo`, `nikolasb_alex`, ..., the
part of the file name after the label), numbers of 2-4 of that writer's digits side by side on one
sheet. Each digit's ink (how much darker, or lighter, it is than its own paper) is cut out, scaled
to the number's height (28 to 110 px, each digit give or take 15%), set on the sheet at a random
gap (from overlapping boxes to a digit's height apart) and a slightly uneven baseline, on plain,
ruled or squared paper, under uneven light, with noise, some sheets saved as JPEG. MNIST: the same
with digits of the MNIST test set. Everything is drawn from --seed: the same sheets every run.

Each sheet is written as an image file and read by number.digit_inputs and number.reading, what
infer.py runs. Reported: digits right (1 - the edits that turn the reading into the number, per
digit written: what OCR calls character accuracy), numbers read right as a whole, numbers read with
too many or too few digits, and numbers refused (a one-line message instead of a guess).
"""

import os
import sys
import tempfile
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()  # before Paddle loads: MKL's code path on AMD, Paddle's log kept quiet
from recognize_digits import data  # noqa: E402
from recognize_digits.images import morphology  # noqa: E402
from recognize_digits.run import cli  # noqa: E402
from recognize_digits.images.loading import ImageError, open_image  # noqa: E402
from recognize_digits.inference import Predictor  # noqa: E402
from recognize_digits.images.number import digit_inputs, reading  # noqa: E402
from real_digits import add_model_and_data_arguments, digit_files  # noqa: E402


def main(argv=None):
    parser = cli.ArgumentParser(description=__doc__.split("\n")[0])
    add_model_and_data_arguments(parser)
    parser.add_argument("--count", type=cli.positive_int, default=300,
                        help="numbers of each kind (default: %(default)s)")
    parser.add_argument("--seed", type=cli.seed, default=13)
    parser.add_argument("--save", metavar="DIR", help="keep the sheets in DIR, to look at them")
    args = parser.parse_args(argv)

    predictor = Predictor(args.model_dir)
    rng = np.random.default_rng(args.seed)
    kinds = {"real digits": real_writers(args.digits), "MNIST test digits": mnist_writers(
        args.data_dir, rng)}
    print(f"python bench/number_reading.py --model-dir {args.model_dir} --digits {args.digits} "
          f"--count {args.count} --seed {args.seed}")
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.save or scratch
        os.makedirs(folder, exist_ok=True)
        for kind, writers in kinds.items():
            sheets = [make_sheet(writers, rng) for _ in range(args.count)]
            start = time.perf_counter()
            results = [read_sheet(sheet, folder, f"{kind.split()[0]}_{i:04d}", predictor)
                       for i, sheet in enumerate(sheets)]
            ms = (time.perf_counter() - start) / len(sheets) * 1000
            report(kind, sheets, results, ms)


# --- the digits: each one's ink, cut out ----------------------------------------------------------
def real_writers(folder):
    """{writer: [(label, ink)]}: the digits of --digits, by writer (the file name's source)."""
    writers = {}
    for name, label in zip(*digit_files(folder)):
        parts = os.path.splitext(name)[0].split("_")
        if len(parts) < 3:
            continue
        grey = np.asarray(open_image(os.path.join(folder, name)), np.float32)
        writers.setdefault("_".join(parts[1:3]), []).append((int(label), ink_of(grey)))
    return writers


def ink_of(grey):
    """How much of the ink each pixel holds, 0 to 1, cropped to the digit.

    The paper is the level of the image's border; the ink, the level furthest from it. The digit
    is the largest piece of ink and what has a tenth of its ink; thin strips along the border
    (the edge of a photographed sheet, a shadow) are left out.
    """
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    paper = float(np.median(border))
    darkest, lightest = np.percentile(grey, [1, 99])
    ink = float(darkest if paper - darkest > lightest - paper else lightest)
    alpha = np.clip((grey - paper) / (ink - paper if ink != paper else 1), 0, 1)
    labels = morphology.label(alpha > 0.5)
    mass = np.bincount(labels.ravel(), weights=alpha.ravel())
    mass[0] = 0
    for n in np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])):
        rows, cols = np.nonzero(labels == n)
        if n and min(np.ptp(rows), np.ptp(cols)) < 0.15 * min(grey.shape):
            mass[n] = 0  # a strip along the border
    keep = (mass >= 0.1 * mass.max())[labels] & (labels > 0)
    near = morphology.grow_round(keep.astype(np.float32), 2) > 0  # with the strokes' soft edges
    alpha = np.where(near, alpha, 0)
    rows, cols = np.flatnonzero(keep.any(axis=1)), np.flatnonzero(keep.any(axis=0))
    return alpha[max(rows[0] - 2, 0) : rows[-1] + 3, max(cols[0] - 2, 0) : cols[-1] + 3]


def mnist_writers(mnist_dir, rng, writers=60, each=40):
    """MNIST test digits as `writers` groups of `each` (MNIST's writers are not labelled)."""
    grey, labels = data.load_mnist("test", mnist_dir, download=False, raw=True)
    chosen = rng.choice(len(labels), writers * each, replace=False)
    digits = [(int(labels[i]), ink_of(255 - grey[i].astype(np.float32))) for i in chosen]
    return {f"mnist_{w}": digits[w * each : (w + 1) * each] for w in range(writers)}


# --- a sheet with a number on it ------------------------------------------------------------------
def make_sheet(writers, rng):
    """(the number written, the sheet as a uint8 image, whether to save it as JPEG, whether
    two of its digits touch)."""
    names = sorted(writers)
    pool = writers[names[rng.integers(len(names))]]
    chosen = [pool[i] for i in rng.integers(len(pool), size=rng.integers(2, 5))]
    height = rng.uniform(28, 110)
    inks = [scaled(ink, height * rng.uniform(0.85, 1.15)) for _, ink in chosen]
    alpha, touching = side_by_side(inks, height, rng)
    dark_on_light = rng.random() < 0.8
    paper, ink = (rng.uniform(170, 245), rng.uniform(10, 90)) if dark_on_light else \
        (rng.uniform(0, 50), rng.uniform(190, 255))
    sheet = np.full(alpha.shape, paper)
    sheet = sheet + (ink - paper) * rng.uniform(0.15, 0.5) * paper_lines(alpha.shape, height, rng)
    sheet = sheet + (ink - sheet) * alpha
    sheet = sheet * light(alpha.shape, rng) + rng.normal(0, rng.uniform(0, 4), alpha.shape)
    number = "".join(str(label) for label, _ in chosen)
    return number, np.clip(sheet, 0, 255).astype(np.uint8), rng.random() < 0.3, touching


def scaled(ink, height):
    h, w = ink.shape
    size = (max(1, round(w * height / h)), max(1, round(height)))
    resized = Image.fromarray(ink.astype(np.float32)).resize(size, Image.Resampling.BILINEAR)
    return np.asarray(resized)


def side_by_side(inks, height, rng):
    """(the digits' ink on one sheet, whether two of them touch): left to right, a gap of -0.25
    to 1 digit height between two (overlapping to wide apart), baselines within 8% of the
    height, margins."""
    margin = round(rng.uniform(0.3, 1.0) * height)
    gaps = [0] + [round(rng.uniform(-0.25, 1.0) * height) for _ in inks[1:]]
    lefts = np.cumsum([margin] + [ink.shape[1] + gap for ink, gap in zip(inks[:-1], gaps[1:])])
    drops = [round(rng.uniform(-0.08, 0.08) * height) for _ in inks]
    tallest = max(ink.shape[0] for ink in inks)
    sheet = np.zeros((tallest + 2 * margin + 2 * max(map(abs, drops)),
                      lefts[-1] + inks[-1].shape[1] + margin), np.float32)
    for ink, left, drop in zip(inks, lefts, drops):
        top = (sheet.shape[0] - ink.shape[0]) // 2 + drop
        window = sheet[top : top + ink.shape[0], left : left + ink.shape[1]]
        np.maximum(window, ink, out=window)
    apart = sum(morphology.label(ink > 0.3).max() for ink in inks)
    return sheet, morphology.label(sheet > 0.3).max() < apart


def paper_lines(shape, height, rng):
    """Plain (nothing), ruled (rows of lines) or squared paper: 1 on a line, 0 between."""
    lines = np.zeros(shape)
    kind = rng.integers(3)
    if kind == 0:
        return lines
    # Ruled paper's lines are 1 to 1.6 digits apart, squares 0.5 to 1.25 digits wide (8 mm
    # lines, 5 mm squares, digits 5 to 10 mm tall).
    step = rng.uniform(1.0, 1.6) * height if kind == 1 else rng.uniform(0.5, 1.25) * height
    width = int(rng.integers(1, 3))
    offset = rng.uniform(0, step)
    for y in np.arange(offset, shape[0], step).astype(int):
        lines[y : y + width] = 1
    if kind == 2:
        for x in np.arange(offset, shape[1], step).astype(int):
            lines[:, x : x + width] = 1
    return lines


def light(shape, rng):
    """Uneven light: up to 25% darker towards one side."""
    angle = rng.uniform(0, 2 * np.pi)
    y, x = np.indices(shape) / max(shape)
    ramp = np.cos(angle) * x + np.sin(angle) * y
    return 1 - rng.uniform(0, 0.25) * (ramp - ramp.min()) / max(np.ptp(ramp), 1e-6)


# --- reading them, and the score ------------------------------------------------------------------
def read_sheet(sheet, folder, name, predictor):
    """The number infer.py reads on the sheet, or None if it refuses to."""
    _, pixels, as_jpeg, _ = sheet
    path = os.path.join(folder, name + (".jpg" if as_jpeg else ".png"))
    Image.fromarray(pixels).save(path, **({"quality": 90} if as_jpeg else {}))
    try:
        inputs, places = digit_inputs(path)
    except ImageError:
        return None
    result = reading(path, predictor(inputs), places)
    return result["number"] if "number" in result else str(result["label"])


def edits(a, b):
    """Levenshtein distance: the fewest digits to insert, delete or change to turn a into b."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def report(kind, sheets, readings, ms):
    numbers = [number for number, _, _, _ in sheets]
    touching = [r == n for (n, _, _, touch), r in zip(sheets, readings) if touch]
    written = sum(len(n) for n in numbers)
    wrong = sum(min(edits(n, r or ""), len(n)) for n, r in zip(numbers, readings))
    whole = sum(n == r for n, r in zip(numbers, readings))
    miscount = sum(r is not None and len(r) != len(n) for n, r in zip(numbers, readings))
    refused = sum(r is None for r in readings)
    print(f"{kind}: {len(numbers)} numbers of 2-4 digits ({written} digits): "
          f"digits {100 * (written - wrong) / written:.1f}%, whole numbers {whole}/{len(numbers)} "
          f"({100 * whole / len(numbers):.1f}%); {miscount} read with too many or too few "
          f"digits, {refused} refused; {ms:.0f} ms per number")
    print(f"    of which {len(touching)} with digits that touch: {sum(touching)} read right")


if __name__ == "__main__":
    sys.exit(cli.run(main))
