"""How often the reader says "not sure", and of what: right answers, wrong ones, no digit at all.

    python bench/not_sure.py --make-no-digit DIR [--seed S]    # 62 images with no digit in DIR
    python bench/not_sure.py --make-drawn-letters DIR [--seed S]    # 30 letters drawn with a pen
    python bench/not_sure.py --model-dir recognize_digits_cnn.inference.model \\
        --digits ../shared/digits --count 2000 --no-digit DIR [DIR ...]

Reads, as infer.py does (number.digit_inputs, reading), the real digits in --digits, the first
--count MNIST test digits saved as PNGs, the digits typed in the 16 Liberation fonts at three
sizes (480; fonts none of matplotlib's, whose letters and digits images/letters.py draws),
and every image in the --no-digit folders (letters,
words, shapes, scribbles: no digit in them): how many right answers are marked not sure (kept to
a few percent), how many wrong ones are caught, and how many images with no digit are answered
as sure (and which).
"""

import glob
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()
from recognize_digits import data  # noqa: E402
from answers import answer, png_bytes  # noqa: E402
from recognize_digits.images import sureness  # noqa: E402
from recognize_digits.inference import Predictor  # noqa: E402
from recognize_digits.run import cli  # noqa: E402


def tally(what, answers, labels):
    right = [a == str(y) for (a, _), y in zip(answers, labels)]
    unsure_right = sum(r and s is False for r, (_, s) in zip(right, answers))
    wrong = [(a, s) for r, (a, s) in zip(right, answers) if not r and a is not None]
    caught = sum(s is False for _, s in wrong)
    print(f"{what}: {sum(right)}/{len(labels)} right, of which {unsure_right} "
          f"({100 * unsure_right / max(sum(right), 1):.1f}%) not sure; {len(wrong)} wrong, of "
          f"which {caught} not sure; {sum(a is None for a, _ in answers)} refused", flush=True)


def main(argv=None):
    parser = cli.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", default="recognize_digits_cnn.inference.model")
    parser.add_argument("--digits", default="../shared/digits")
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR", "../shared/mnist"))
    parser.add_argument("--count", type=int, default=2000, help="MNIST test digits")
    parser.add_argument("--no-digit", nargs="*", default=[], metavar="DIR",
                        help="folders of images that hold no digit")
    parser.add_argument("--make-no-digit", metavar="DIR",
                        help="instead, write 62 images with no digit into DIR")
    parser.add_argument("--letter-nearer", type=float, default=sureness.LETTER_NEARER,
                        help="the rule's LETTER_NEARER (0: no letter is ever nearer)")
    parser.add_argument("--typed-near", type=float, default=sureness.TYPED_NEAR,
                        help="the rule's TYPED_NEAR (0: no digit is ever like a typed one)")
    parser.add_argument("--make-drawn-letters", metavar="DIR",
                        help="instead, write 30 letters drawn with a pen (no font) into DIR")
    parser.add_argument("--seed", type=int, default=0, help="with --make-no-digit and "
                        "--make-drawn-letters")
    args = parser.parse_args(argv)
    if args.make_no_digit:
        make_no_digit_images(args.make_no_digit, args.seed)
        return 0
    if args.make_drawn_letters:
        make_drawn_letters(args.make_drawn_letters, args.seed)
        return 0
    sureness.LETTER_NEARER, sureness.TYPED_NEAR = args.letter_nearer, args.typed_near
    predictor = Predictor(args.model_dir)
    files = sorted(glob.glob(os.path.join(args.digits, "*.png")))
    tally(f"{len(files)} real digits", [answer(f, predictor, f) for f in files],
          [int(os.path.basename(f)[0]) for f in files])
    images, labels = data.load_mnist("test", args.data_dir, download=False, raw=True)
    answers = [answer(png_bytes(x), predictor, "mnist") for x in images[: args.count]]
    tally(f"{args.count} MNIST test digits", answers, labels[: args.count])
    typed = [(digit, typed_digit(digit, font, size)) for font in DIGIT_FONTS
             for size in (40, 80, 140)
             for digit in range(10)]
    tally(f"{len(typed)} typed digits", [answer(png, predictor, "typed")
                                         for _, png in typed], [d for d, _ in typed])
    for folder in args.no_digit:
        files = sorted(glob.glob(os.path.join(folder, "*.png")))
        found = [(os.path.basename(f), *answer(f, predictor, f)) for f in files]
        sure = [f"{name}: {a}" for name, a, s in found if s]
        print(f"{folder}: {len(sure)} of {len(files)} images with no digit answered as sure "
              f"({sum(a is None for _, a, _ in found)} refused): {', '.join(sure)}", flush=True)
    return 0


DIGIT_FONTS = sorted(glob.glob("/usr/share/fonts/truetype/liberation/*.ttf"))  # Debian's
FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Italic.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
]


def make_no_digit_images(out, seed):
    """Images with no digit in them, 62 PNGs, dark on white, into `out`: typed words and
    letters, drawn shapes (stars, faces, grids, a triangle, a square, a cross, a spiral, an
    arrow, a plus), scribbles. Seed 0 is the set the "not sure" rule was chosen on; seed 1, the
    set it was checked on."""
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)

    def typed(text, name, size=60):
        f = ImageFont.truetype(FONTS[rng.integers(len(FONTS))], size)
        l, t, r, b = f.getbbox(text)
        im = Image.new("L", (r - l + 60, b - t + 60), 255)
        ImageDraw.Draw(im).text((30 - l, 30 - t), text, fill=0, font=f)
        im.save(f"{out}/{name}.png")

    for w in ["Hello world", "cat", "hi", "Yes", "OK", "xyz", "the end", "Name", "WX", "stop"]:
        typed(w, "word_" + w.replace(" ", "_"))
    for c in "AKMWXRefhkmnpvwyNHEFTGQrtu":
        typed(c, "letter_" + c + ("_lc" if c.islower() else ""), size=int(rng.integers(60, 140)))

    def canvas():
        im = Image.new("L", (200, 200), 255)
        return im, ImageDraw.Draw(im)

    def save(im, name):
        im.save(f"{out}/{name}.png")

    for k in range(4):  # stars
        im, d = canvas()
        n = int(rng.integers(5, 8))
        a0 = rng.uniform(0, 6.3)
        pts = [
            (
                100 + (80 if i % 2 == 0 else 35) * np.cos(a0 + i * np.pi / n),
                100 + (80 if i % 2 == 0 else 35) * np.sin(a0 + i * np.pi / n),
            )
            for i in range(2 * n)
        ]
        d.line(pts + [pts[0]], fill=0, width=int(rng.integers(3, 9)))
        save(im, f"shape_star{k}")
    for k in range(3):  # faces
        im, d = canvas()
        w = int(rng.integers(3, 7))
        d.ellipse((20, 20, 180, 180), outline=0, width=w)
        d.ellipse((60, 65, 75, 80), fill=0)
        d.ellipse((125, 65, 140, 80), fill=0)
        d.arc((60, 90, 140, 150), 20, 160, fill=0, width=w)
        save(im, f"shape_face{k}")
    for k in range(3):  # grids
        im, d = canvas()
        s = int(rng.integers(25, 50))
        w = int(rng.integers(2, 5))
        for x in range(30, 171, s):
            d.line((x, 30, x, 170), fill=0, width=w)
            d.line((30, x, 170, x), fill=0, width=w)
        save(im, f"shape_grid{k}")
    for k in range(3):  # triangles, squares, crosses
        im, d = canvas()
        w = int(rng.integers(3, 9))
        [
            lambda: d.polygon([(100, 30), (170, 160), (30, 160)], outline=0, width=w),
            lambda: d.rectangle((40, 50, 160, 150), outline=0, width=w),
            lambda: (
                d.line((40, 40, 160, 160), fill=0, width=w),
                d.line((160, 40, 40, 160), fill=0, width=w),
            ),
        ][k]()
        save(im, f"shape_{['triangle', 'square', 'cross'][k]}")
    for k in range(3):  # a heart-ish / spiral / arrow
        im, d = canvas()
        w = 5
        if k == 0:
            t = np.linspace(0, 6 * np.pi, 200)
            d.line(
                [(100 + 3 * ti * np.cos(ti), 100 + 3 * ti * np.sin(ti)) for ti in t],
                fill=0,
                width=w,
            )
            save(im, "shape_spiral")
        if k == 1:
            d.line((30, 100, 170, 100), fill=0, width=w)
            d.line((130, 60, 170, 100, 130, 140), fill=0, width=w)
            save(im, "shape_arrow")
        if k == 2:
            d.line((30, 100, 170, 100), fill=0, width=w)
            d.line((100, 30, 100, 170), fill=0, width=w)
            save(im, "shape_plus")
    for k in range(10):  # scribbles
        im, d = canvas()
        pts = [tuple(rng.uniform(30, 170, 2)) for _ in range(int(rng.integers(5, 15)))]
        d.line(pts, fill=0, width=int(rng.integers(3, 8)), joint="curve")
        save(im, f"scribble{k}")


def typed_digit(digit, font, size):
    """PNG bytes of `digit` typed in `font` at `size` pixels, black on white."""
    f = ImageFont.truetype(font, size)
    left, top, right, bottom = f.getbbox(str(digit))
    im = Image.new("L", (right - left + 60, bottom - top + 60), 255)
    ImageDraw.Draw(im).text((30 - left, 30 - top), str(digit), fill=0, font=f)
    return png_bytes(im)


def arc(cx, cy, r, start, end, steps=24):
    """Points along a circle from `start` to `end` degrees (0 is right, 90 down)."""
    t = np.deg2rad(np.linspace(start, end, steps))
    return list(zip(cx + r * np.cos(t), cy + r * np.sin(t)))


# Letters as a pen draws them: strokes of points in a unit box (x right, y down; a descender
# goes below 1). Drawn, not typed, they share no font with letters.py's.
PEN_LETTERS = {
    "A": [[(0, 1), (0.5, 0), (1, 1)], [(0.22, 0.6), (0.78, 0.6)]],
    "C": [arc(0.5, 0.5, 0.5, 40, 320)],
    "E": [[(1, 0), (0, 0), (0, 1), (1, 1)], [(0, 0.5), (0.75, 0.5)]],
    "F": [[(1, 0), (0, 0), (0, 1)], [(0, 0.5), (0.75, 0.5)]],
    "G": [arc(0.5, 0.5, 0.5, -40, -320) + [(0.95, 0.55), (0.55, 0.55)]],
    "H": [[(0, 0), (0, 1)], [(1, 0), (1, 1)], [(0, 0.5), (1, 0.5)]],
    "K": [[(0, 0), (0, 1)], [(1, 0), (0, 0.55), (1, 1)]],
    "L": [[(0, 0), (0, 1), (0.8, 1)]],
    "M": [[(0, 1), (0, 0), (0.5, 0.6), (1, 0), (1, 1)]],
    "N": [[(0, 1), (0, 0), (1, 1), (1, 0)]],
    "Q": [arc(0.5, 0.5, 0.5, 0, 360), [(0.6, 0.7), (1, 1.05)]],
    "R": [[(0, 1), (0, 0), (0.6, 0), (0.85, 0.12), (0.85, 0.38), (0.6, 0.5), (0, 0.5)],
          [(0.4, 0.5), (1, 1)]],
    "T": [[(0, 0), (1, 0)], [(0.5, 0), (0.5, 1)]],
    "V": [[(0, 0), (0.5, 1), (1, 0)]],
    "W": [[(0, 0), (0.25, 1), (0.5, 0.3), (0.75, 1), (1, 0)]],
    "X": [[(0, 0), (1, 1)], [(1, 0), (0, 1)]],
    "Y": [[(0, 0), (0.5, 0.5), (1, 0)], [(0.5, 0.5), (0.5, 1)]],
    "a": [arc(0.45, 0.68, 0.32, 0, 360), [(0.8, 0.35), (0.8, 1)]],
    "e": [[(0.1, 0.62), (0.9, 0.62)] + arc(0.5, 0.62, 0.4, 0, -310)],
    "h": [[(0, 0), (0, 1)], [(0, 0.6), (0.3, 0.4), (0.7, 0.4), (0.9, 0.55), (0.9, 1)]],
    "k": [[(0, 0), (0, 1)], [(0.8, 0.4), (0, 0.7), (0.8, 1)]],
    "m": [[(0, 0.35), (0, 1)], [(0, 0.5), (0.15, 0.35), (0.35, 0.35), (0.45, 0.5), (0.45, 1)],
          [(0.45, 0.5), (0.6, 0.35), (0.8, 0.35), (0.9, 0.5), (0.9, 1)]],
    "n": [[(0, 0.35), (0, 1)], [(0, 0.5), (0.3, 0.35), (0.7, 0.35), (0.9, 0.5), (0.9, 1)]],
    "p": [[(0, 0.35), (0, 1.35)], arc(0.4, 0.65, 0.35, 0, 360)],
    "r": [[(0.1, 0.35), (0.1, 1)], [(0.1, 0.55), (0.35, 0.38), (0.75, 0.35)]],
    "t": [[(0.4, 0), (0.4, 0.9), (0.6, 1), (0.8, 0.95)], [(0.1, 0.3), (0.8, 0.3)]],
    "u": [[(0, 0.35), (0, 0.85), (0.2, 1), (0.7, 1), (0.9, 0.85)], [(0.9, 0.35), (0.9, 1)]],
    "v": [[(0, 0.35), (0.5, 1), (1, 0.35)]],
    "x": [[(0, 0.35), (1, 1)], [(1, 0.35), (0, 1)]],
    "y": [[(0, 0.3), (0.5, 0.75)], [(1, 0.3), (0.3, 1.3)]],
}


def make_drawn_letters(out, seed):
    """PEN_LETTERS drawn as a hand would, dark on white, into `out`: each point moved a little
    at random, the letter slanted, of its own size and pen width."""
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    for letter, strokes in PEN_LETTERS.items():
        im = Image.new("L", (200, 200), 255)
        draw = ImageDraw.Draw(im)
        size, slant = rng.uniform(80, 130), rng.uniform(-0.25, 0.25)
        width = int(rng.integers(3, 9))
        for stroke in strokes:
            points = np.array(stroke, float)
            if len(points) > 6:  # a curve: stretched and moved as a whole, not made to wobble
                centre = points.mean(axis=0)
                points = centre + (points - centre) * rng.uniform(0.85, 1.15, 2)
                points += rng.normal(0, 0.03, 2)
            else:
                points += rng.normal(0, 0.03, points.shape)
            xs = 100 + (points[:, 0] - 0.5 + slant * (0.5 - points[:, 1])) * size * 0.7
            ys = 100 + (points[:, 1] - 0.5) * size
            draw.line(list(zip(xs, ys)), fill=0, width=width, joint="curve")
        im.save(os.path.join(out, f"drawn_{letter}{'_lc' if letter.islower() else ''}.png"))


if __name__ == "__main__":
    sys.exit(cli.run(main))
