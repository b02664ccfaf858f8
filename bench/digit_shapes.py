"""What MNIST's digits look like, for `sureness.py`: each digit's mean and main shapes.

    python bench/digit_shapes.py --data-dir ../shared/mnist

For each digit 0-9, the mean of its first 4,000 training images and their 20 principal
components (the directions in which the digit varies most), and how far from those the next
1,000 training images of that digit lie (the root of the squared difference left after the best
fit, 99th percentile): recognize_digits/images/digit_shapes.npz (float16, 0.3 MB).
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from recognize_digits import data  # noqa: E402
from recognize_digits.images import sureness  # noqa: E402
from recognize_digits.run import cli  # noqa: E402

FIT, CHECK, COMPONENTS, PERCENTILE = 4000, 1000, 20, 99


def main(argv=None):
    parser = cli.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR", "../shared/mnist"))
    args = parser.parse_args(argv)
    images, labels = data.load_mnist("train", args.data_dir, download=False, raw=True)
    images = images.reshape(len(images), -1).astype(np.float32) / 255
    means, components, limits = [], [], []
    for digit in range(10):
        own = images[labels == digit]
        mean = own[:FIT].mean(axis=0)
        basis = np.linalg.svd(own[:FIT] - mean, full_matrices=False)[2][:COMPONENTS]
        means.append(mean.astype(np.float16))
        components.append(basis.astype(np.float16))
        left = sureness.distance(own[FIT : FIT + CHECK], means[-1], components[-1])
        limits.append(np.percentile(left, PERCENTILE))
    path = sureness.SHAPES
    np.savez_compressed(path + ".tmp.npz", mean=np.stack(means), components=np.stack(components),
                        limit=np.array(limits, np.float32))
    os.replace(path + ".tmp.npz", path)
    print(f"wrote {path}: limits {np.round(limits, 2).tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
