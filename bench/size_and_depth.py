"""Images of sizes and depths that were read as blank, for docs/real_digits.md ("Size and depth").

    python bench/size_and_depth.py DIR [--data-dir ../shared/mnist]
    python infer.py DIR/*                   # then read them; each file's name ends in its answer

Writes: MNIST test digits 0-4 in 150 and 200 px boxes, dark on a lit, noisy 4000x3000 sheet
(JPEG, quality 90: big<box>_<i>_<label>.jpg); a 3-digit number of 150 px digits in a 20000x200
strip (strip_<number>.png); a row of the first 1,000 MNIST test digits, 28000x28 (row1000.png);
three digits as 12-bit data (500..3500) in 16-bit PNGs (deep12bit_<label>.png).
"""

import argparse
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from recognize_digits import data  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR", "../shared/mnist"))
    args = parser.parse_args()
    out = args.out
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    x, y = data.load_mnist("test", args.data_dir, download=False, raw=True)

    def dark(i, px):  # an MNIST digit as dark ink, its 28x28 box scaled to px
        return 255 - np.asarray(Image.fromarray(x[i]).resize((px, px), Image.BILINEAR), np.float32)

    def photo(h, w):
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        return 215 + 25 * xx / w - 15 * yy / h + rng.normal(0, 4, (h, w)).astype(np.float32)

    for px, name in ((150, "a"), (200, "b")):
        for i in range(5):
            p = photo(3000, 4000)
            top, left = rng.integers(200, 2600), rng.integers(200, 3600)
            d = dark(i, px) / 255.0
            p[top : top + px, left : left + px] *= 0.25 + 0.75 * d
            im = Image.fromarray(np.clip(p, 0, 255).astype(np.uint8))
            im.save(f"{out}/big{px}_{i}_{y[i]}.jpg", quality=90)
    # strip: 20000x200 with a 3-digit number, digits 150 px
    p = np.full((200, 20000), 235, np.float32)
    labels = ""
    for k, i in enumerate((1, 2, 3)):
        p[25:175, 9700 + 160 * k : 9700 + 160 * k + 150] = np.minimum(
            p[25:175, 9700 + 160 * k : 9700 + 160 * k + 150], dark(i, 150) * 235 / 255
        )
        labels += str(y[i])
    Image.fromarray(p.astype(np.uint8)).save(f"{out}/strip_{labels}.png")
    # a row of 1000 MNIST digits, 28 px each
    Image.fromarray(255 - np.hstack([x[i] for i in range(1000)])).save(f"{out}/row1000.png")
    # 12-bit data in a 16-bit PNG
    for i in range(3):
        d = np.asarray(Image.fromarray(x[i]).resize((112, 112), Image.BILINEAR), np.float32)
        a = ((255 - d) / 255 * 3000 + 500).astype(np.uint16)  # 12-bit: 500..3500
        Image.fromarray(a).save(f"{out}/deep12bit_{y[i]}.png")


if __name__ == "__main__":
    main()
