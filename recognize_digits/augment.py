"""Random distortion of training digits: the ways one person's handwriting differs from another's.

MNIST's digits are clean and centred; a user's are a little turned, larger or smaller, shifted,
written with a finer or broader pen. Showing the model each training digit distorted a little
differently every epoch teaches it to read through that. `readers.TrainingBatches` applies
`augment` to each batch when asked (train.py's --augment). Only numpy.
"""

import numpy as np

from recognize_digits import morphology


def augment(images, rng, max_rotation=10.0, max_scale=0.1, max_shift=2.0, thickness=0.3):
    """Randomly distort a batch [N, 1, 28, 28] in [-1, 1] the way handwriting varies.

    Each image gets its own small rotation (degrees), scale, shift (pixels) and, with probability
    `thickness`, a stroke made thicker or thinner by one grey-level dilation or erosion. Sampling
    is bilinear and vectorised over the batch: about 2.4 ms for 64 images on one core.
    """
    n = len(images)
    angle = np.deg2rad(rng.uniform(-max_rotation, max_rotation, n))
    scale = rng.uniform(1 - max_scale, 1 + max_scale, n)
    shift = rng.uniform(-max_shift, max_shift, (n, 2))
    out = turn_scale_shift(images[:, 0], angle, scale, shift)

    # Stroke thickness: a 2x2 grey dilation thickens, erosion thins (ink is high, background -1).
    change = rng.uniform(size=n)
    thicker, thinner = change < thickness / 2, (change >= thickness / 2) & (change < thickness)
    if thicker.any() or thinner.any():
        grown = morphology.dilate(out, morphology.SQUARE_2X2, outside="edge")
        thinned = morphology.erode(out, morphology.SQUARE_2X2, outside="edge")
        out = np.where(thinner[:, None, None], thinned, out)
        out = np.where(thicker[:, None, None], grown, out)
    return out[:, np.newaxis].astype(np.float32)


def turn_scale_shift(images, angle, scale, shift):
    """Each image of a batch [N, 28, 28] turned by its `angle` (radians, clockwise as seen), scaled
    by its `scale` about the centre and shifted by its `shift` (pixels, right and down): [N], [N]
    and [N, 2] arrays. The background (-1) comes in from beyond the edges."""
    # Inverse map: for every output pixel, where to read in the input (about the image centre).
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    ys, xs = np.mgrid[0:28, 0:28].astype(np.float32) - 13.5
    src_x = cos[:, None, None] * xs + sin[:, None, None] * ys + 13.5 - shift[:, 0, None, None]
    src_y = -sin[:, None, None] * xs + cos[:, None, None] * ys + 13.5 - shift[:, 1, None, None]
    return _bilinear(images, src_y, src_x)


def _bilinear(images, src_y, src_x):
    """Sample a batch [N, 28, 28] at the points (src_y, src_x) [N, 28, 28], bilinearly; points
    off the image read the background (-1)."""
    n = len(images)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)), constant_values=-1.0)
    src_x = np.clip(src_x + 1, 0, 28.999)
    src_y = np.clip(src_y + 1, 0, 28.999)
    x0, y0 = np.floor(src_x).astype(np.int64), np.floor(src_y).astype(np.int64)
    fx, fy = src_x - x0, src_y - y0
    # Each point's top-left neighbour as an index into the padded batch, flattened (30x30 each);
    # +1 is the pixel to its right, +30 the one below.
    flat = padded.ravel()
    i = np.arange(n)[:, None, None] * 30 * 30 + y0 * 30 + x0
    return (flat[i] * (1 - fx) * (1 - fy) + flat[i + 1] * fx * (1 - fy)
            + flat[i + 30] * (1 - fx) * fy + flat[i + 31] * fx * fy)
