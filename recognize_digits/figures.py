"""The images the project makes itself for image/ (run `python -m recognize_digits.figures`).

infer_3.png: the chapter's sample digit, a handwritten 3 from the MNIST test set, upscaled 4x so
that it is a real picture a user can open, and infer.py has something to read out of the box.
"""

import argparse
import os

import numpy as np
from PIL import Image

from recognize_digits import data
from recognize_digits.files import atomic_path

IMAGE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "image")


def make_infer_3(data_dir=None, path=os.path.join(IMAGE_DIR, "infer_3.png"), index=1):
    """Save the `index`-th 3 of the MNIST test set, 28x28 -> 112x112, white on black, as MNIST."""
    folder = data.find_data_dir(data_dir)
    images = data.read_idx(os.path.join(folder, "t10k-images-idx3-ubyte.gz"), ndim=3)
    labels = data.read_idx(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"), ndim=1)
    digit = images[np.flatnonzero(labels == 3)[index]]
    with atomic_path(path) as tmp:
        Image.fromarray(digit).resize((112, 112), Image.Resampling.BICUBIC).save(tmp, format="PNG")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description="Make the project's images in image/.")
    parser.add_argument("--data-dir", default=None, help="folder of the four MNIST files")
    args = parser.parse_args(argv)
    print(make_infer_3(args.data_dir))


if __name__ == "__main__":
    main()
