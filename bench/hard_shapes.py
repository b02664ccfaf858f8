"""Digits of the shapes the model confuses, drawn as small photos of grey paper, read as infer.py does.

    python bench/hard_shapes.py --model-dir recognize_digits_cnn.inference.model [--count 100]
    python bench/hard_shapes.py --save DIR --count 8      # look at what it draws

Four shapes a person reads at once and MNIST holds few of (issue #27's misses, as classes):
a 4 with a closed, triangular top and a bar that stops at the upright (read as 9); a 9 whose tail
curls back to the left (read as 8); a 6 whose top hooks over (read as 8); a 0 drawn past its
start, its stroke overlapping at the top. Each is drawn at random: its proportions, slant, pen
width, size (16-50 pixels tall), paper (grey 140-210, a little warm), ink, blur and noise. Prints,
for each shape, how many are read right and how many of those and of the wrong answers are sure.
"""

import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()
from answers import answer, png_bytes  # noqa: E402
from recognize_digits.inference import Predictor  # noqa: E402
from recognize_digits.run import cli  # noqa: E402


def arc(cx, cy, rx, ry, start, end, steps=40):
    """Points along an ellipse from angle `start` to `end` (radians; 0 is right, pi/2 down)."""
    t = np.linspace(start, end, steps)
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))


def closed_four(rng):
    """A 4 whose top is a triangle: the upright, the diagonal down to the left, the bar across
    that stops at (or just past) the upright, as in a 9's loop."""
    right, top, bar = rng.uniform(0.6, 0.85), rng.uniform(0.0, 0.1), rng.uniform(0.4, 0.6)
    left, apex = rng.uniform(0.0, 0.15), right - rng.uniform(0.0, 0.15)
    return [[(apex, top), (left, bar), (right + rng.uniform(0.0, 0.08), bar)],
            [(apex, top), (right + rng.uniform(-0.1, 0.05), 1.0)]]


def curled_nine(rng):
    """A 9 whose tail runs down and curls back to the left, short of closing a second loop."""
    r = rng.uniform(0.18, 0.25)
    x = 0.5 + r
    curl = rng.uniform(0.15, 0.4)
    tail = [(x, 0.28), (x - 0.02, 0.7), (x - 0.08, 0.92), (x - 0.2, 1.0), (x - 0.2 - curl, 0.95),
            (x - 0.25 - curl, rng.uniform(0.8, 0.9))]
    return [arc(0.5, 0.28, r, r, 0, 2 * np.pi), tail]


def hooked_six(rng):
    """A 6 whose top stroke hooks over to the right and down."""
    r = rng.uniform(0.22, 0.28)
    top = [(0.5 - r, 0.7), (0.52 - r, 0.35), (0.45, 0.08), (0.7, 0.0), (0.75, rng.uniform(0.05, 0.3))]
    return [arc(0.5, 0.7, r, r * rng.uniform(0.9, 1.1), np.pi, 3 * np.pi), top]


def overlapping_zero(rng):
    """A 0 drawn from the top round past its start, the stroke overlapping itself."""
    start, turns = -np.pi / 2 + rng.uniform(-0.3, 0.3), rng.uniform(1.05, 1.25)
    t = np.linspace(start, start + 2 * np.pi * turns, 60)
    rx, ry = rng.uniform(0.3, 0.42), 0.5
    grow = 1 + rng.choice([-1, 1]) * rng.uniform(0.08, 0.2) * (t - start) / (2 * np.pi * turns)
    return [list(zip(0.5 + rx * grow * np.cos(t), 0.5 + ry * np.sin(t) * grow))]


SHAPES = {"closed-top 4": (closed_four, 4), "curled 9": (curled_nine, 9),
          "hooked 6": (hooked_six, 6), "overlapping 0": (overlapping_zero, 0)}


def photo(strokes, rng):
    """The strokes (in a unit box) drawn on grey paper 3 times the digit's size, as PNG bytes."""
    size = int(rng.choice([16, 20, 25, 30, 50]))
    paper, ink = rng.uniform(140, 210), rng.uniform(20, 90)
    width, blur, slant = rng.uniform(0.04, 0.1), rng.uniform(0, 1.5), rng.uniform(-0.2, 0.3)
    side = 3 * size
    image = Image.new("L", (side, side), int(paper))
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        points = [((x - 0.5 + slant * (0.5 - y)) * size * 0.75 + side / 2, (y - 0.5) * size + side / 2)
                  for x, y in stroke]
        draw.line(points, fill=int(ink), width=max(1, int(width * size)), joint="curve")
    grey = np.asarray(image.filter(ImageFilter.GaussianBlur(blur)), float)
    grey = grey + rng.normal(0, 3, grey.shape)
    return png_bytes(np.stack([grey, grey * 0.97, grey * 0.93], -1).clip(0, 255).astype(np.uint8))


def main(argv=None):
    parser = cli.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", default="recognize_digits_cnn.inference.model")
    parser.add_argument("--count", type=cli.positive_int, default=100, help="images of each shape")
    parser.add_argument("--seed", type=cli.seed, default=0)
    parser.add_argument("--save", metavar="DIR", help="write the images to DIR instead of reading them")
    args = parser.parse_args(argv)
    predictor = None if args.save else Predictor(args.model_dir)
    for number, (name, (draw, label)) in enumerate(SHAPES.items()):
        rng = np.random.default_rng([args.seed, number])
        images = [photo(draw(rng), rng) for _ in range(args.count)]
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            for i, png in enumerate(images):
                with open(os.path.join(args.save, f"{label}_{name.replace(' ', '_')}_{i}.png"), "wb") as f:
                    f.write(png)
            continue
        answers = [answer(png, predictor, "digit.png") for png in images]
        right = [s for a, s in answers if a == str(label)]
        wrong = [(a, s) for a, s in answers if a != str(label)]
        misread = {}
        for a, _ in wrong:
            misread[a] = misread.get(a, 0) + 1
        print(f"{name}: {len(right)}/{args.count} right ({sum(right)} sure); {len(wrong)} wrong "
              f"({sum(bool(s) for _, s in wrong)} sure): "
              + ", ".join(f"{a} x{n}" for a, n in sorted(misread.items(), key=lambda kv: -kv[1])),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main, prog="bench/hard_shapes.py"))
