"""MNIST test digits shown with matplotlib and saved as figures, read as infer.py reads a file.

    python bench/mnist_figures.py --model-dir recognize_digits_cnn.inference.model --count 100

The way a learner looks at an MNIST digit, `plt.imshow(x, cmap="gray")` then `plt.savefig(...)`,
gives a white digit on a black square (the 28x28 image, scaled up) on a white page, with axes,
ticks and their numbers around it, perhaps a title. Each digit is saved four ways (a figure with
axes; axes off; axes off, cut to the square with bbox_inches="tight"; axes and a title
"label: N"), at a random figure size and dpi, and read by number.digit_inputs and reading: the
digit must come out as the one digit. The plain 28x28 images are read the same way to compare.
"""

import io
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from answers import answer, png_bytes  # noqa: E402
from recognize_digits import data  # noqa: E402
from recognize_digits.inference import Predictor  # noqa: E402
from recognize_digits.run import cli  # noqa: E402

WAYS = ("axes", "no axes", "tight", "title")


def figure(x, way, rng, label=None):
    """PNG bytes of `x` (uint8 28x28) as plt.imshow(x, cmap="gray") saves it, one of WAYS."""
    side = float(rng.choice([3.0, 4.0, 4.8, 6.4]))
    fig = plt.figure(figsize=(side * float(rng.uniform(1.0, 1.4)), side),
                     dpi=int(rng.choice([72, 100, 150])))
    plt.imshow(x, cmap="gray")
    if way in ("no axes", "tight"):
        plt.axis("off")
    if way == "title":
        plt.title(f"label: {label}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", **({"bbox_inches": "tight"} if way == "tight" else {}))
    plt.close(fig)
    return buffer.getvalue()


def main(argv=None):
    parser = cli.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", default="recognize_digits_cnn.inference.model")
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR", "../shared/mnist"))
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true", help="print each miss")
    args = parser.parse_args(argv)
    predictor = Predictor(args.model_dir)
    images, labels = data.load_mnist("test", args.data_dir, download=False, raw=True)
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(len(images), args.count, replace=False)
    for way in ("28x28",) + WAYS:
        right = refused = unsure_right = sure_wrong = 0
        for i in picks:
            x, label = images[i], int(labels[i])
            source = png_bytes(x) if way == "28x28" else figure(x, way, rng, label)
            read, sure = answer(source, predictor, "figure.png")
            refused += read is None
            right += read == str(label)
            unsure_right += read == str(label) and sure is False
            sure_wrong += read is not None and read != str(label) and sure is not False
            if args.verbose and read != str(label):
                print(f"  {way}: test digit {i} ({label}) read as {read} (sure: {sure})")
        print(f"{way:8s}: {right}/{len(picks)} right, {refused} refused; right but not sure "
              f"{unsure_right}, wrong and sure {sure_wrong}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
