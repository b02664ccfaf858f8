"""Which more distortions of the training digits might help LeNet-5 read real handwriting: a study.

    python bench/augmentation.py --variant shear --save-dir /tmp/aug_shear [train.py's flags]
    python bench/hard_shapes.py --model-dir /tmp/aug_shear      # then compare the models

Trains as `python train.py` does, each batch distorted by `readers.augment` (turns of up to 10
degrees, 10% scaling, 2-pixel shifts, a third of the strokes thickened or thinned) and then by
the variant's own distortion: a slant (each image sheared by up to `shear` of its height), or a
smooth bend (displacements of `bend` pixels, standard deviation, on a 4x4 grid, spread between).
Compare the models it leaves with bench/hard_shapes.py, bench/real_digits.py and
bench/number_reading.py, and on MNIST's test set in the training log; docs/real_digits.md
("Closed 4s, curled 9s, hooked 6s") has the results.
"""

import functools
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import train  # noqa: E402  (prepares Paddle as train.py does)
from recognize_digits import readers  # noqa: E402
from recognize_digits.run import cli  # noqa: E402

VARIANTS = {"shear": {"shear": 0.3}, "bend": {"bend": 1.5}, "gentle bend": {"bend": 0.75}}
GRID = 4  # the bend's displacements are drawn on a 4x4 grid over the image


def augment_more(images, rng, augment, shear=0.0, bend=0.0):
    """`augment` (readers.augment), then each image [N, 1, 28, 28] slanted and bent at random."""
    out = augment(images, rng)[:, 0]
    n = len(out)
    ys, xs = np.mgrid[0:28, 0:28].astype(np.float32)
    src_y, src_x = np.broadcast_to(ys, out.shape), np.broadcast_to(xs, out.shape)
    if shear:  # rows move sideways in proportion to their height above the centre
        src_x = src_x + rng.uniform(-shear, shear, n)[:, None, None] * (ys - 13.5)
    if bend:
        spread = np.maximum(0.0, 1.0 - np.abs(np.linspace(0, GRID - 1, 28)[:, None] - np.arange(GRID)))
        moves = rng.normal(0.0, bend, (n, 2, GRID, GRID))
        src_y = src_y - np.einsum("ig,ngh,jh->nij", spread, moves[:, 0], spread)
        src_x = src_x - np.einsum("ig,ngh,jh->nij", spread, moves[:, 1], spread)
    return readers._bilinear(out, src_y, src_x)[:, np.newaxis].astype(np.float32)


def main(argv=None):
    parser = cli.ArgumentParser(description=__doc__.split("\n")[0], add_help=False)
    parser.add_argument("--variant", required=True, choices=VARIANTS)
    args, train_argv = parser.parse_known_args(argv)
    readers.augment = functools.partial(augment_more, augment=readers.augment,
                                        **VARIANTS[args.variant])
    return train.main(train_argv)


if __name__ == "__main__":
    sys.exit(cli.run(main, prog="bench/augmentation.py", results_on_stdout=False))
