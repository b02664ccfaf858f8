"""Images with no digit in them, for bench/not_sure.py: typed words and letters, drawn shapes
(stars, faces, grids, a triangle, a square, a cross, a spiral, an arrow, a plus), scribbles.

    python bench/no_digit_images.py DIR [--seed S]     # 62 PNGs, dark on white

Seed 0 is the set the "not sure" rule was chosen on; seed 1, the set it was checked on.
"""

import argparse
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Italic.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    out = args.out
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(args.seed)

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


if __name__ == "__main__":
    main()
