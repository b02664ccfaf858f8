"""Grey-level dilation and erosion, and connected components: the shape of the ink in an image.

A dilation sets every pixel to the largest value in its neighbourhood, an erosion to the smallest.
With white ink on black, that thickens or thins the strokes by the neighbourhood's reach:
`preprocess` brings a photo's strokes to MNIST's width this way, and `augment` varies the stroke
width of training digits. Only numpy.
"""

import numpy as np

# A neighbourhood is the list of (row, column) offsets a pixel looks at, itself included.
SQUARE = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1))  # 3x3, centred
CROSS = tuple((dy, dx) for dy, dx in SQUARE if dy == 0 or dx == 0)  # 3x3 without the corners
SQUARE_2X2 = ((0, 0), (1, 0), (0, 1), (1, 1))  # the pixel, the one below, right, below right


def dilate(image, offsets, outside=0):
    """Grey dilation of `image` ([..., H, W]) over the neighbourhood `offsets`.

    `outside` is the value taken beyond the border, or "edge" to repeat the edge pixels there.
    Leading axes are a batch: each image is dilated on its own.
    """
    return _pick_over(np.maximum, image, offsets, outside)


def erode(image, offsets, outside=0):
    """Grey erosion of `image` ([..., H, W]) over `offsets`: as `dilate`, with the minimum."""
    return _pick_over(np.minimum, image, offsets, outside)


def grow_round(image, steps, shrink=False):
    """Dilate (or erode, `shrink`) a 2-D image by `steps` pixels all round, as a round pen would.

    Alternating a 3x3 square and a 3x3 cross grows an octagon, close to the round pen of a
    handwritten stroke (a square alone would make diagonal strokes 40% thicker).
    """
    change = erode if shrink else dilate
    for i in range(steps):
        image = change(image, SQUARE if i % 2 == 0 else CROSS)
    return image


def label(mask):
    """Connected components (8-neighbours) of a small boolean image: labels > 0, 0 off the mask.

    Every pixel starts with its own number; repeatedly each takes the smallest number among its
    neighbours and then the number that pixel now has (a jump along the chain), until no change.
    """
    h, w = mask.shape
    none = h * w + 1
    labels = np.where(mask, np.arange(1, h * w + 1).reshape(h, w), none)
    while True:
        low = np.where(mask, erode(labels, SQUARE, outside=none), none)
        low = np.append(low.ravel(), none)[low - 1]  # jump: the label of the pixel my label names
        if (low == labels).all():
            return np.where(mask, labels, 0)
        labels = low


def _pick_over(pick, image, offsets, outside):
    """Reduce `image` shifted by each of `offsets` with `pick` (np.maximum or np.minimum)."""
    h, w = image.shape[-2:]
    rows, cols = [dy for dy, _ in offsets], [dx for _, dx in offsets]
    top, left = max(0, -min(rows)), max(0, -min(cols))
    margins = [(0, 0)] * (image.ndim - 2) + [(top, max(0, max(rows))), (left, max(0, max(cols)))]
    if outside == "edge":
        padded = np.pad(image, margins, mode="edge")
    else:
        padded = np.pad(image, margins, constant_values=outside)
    out = image
    for dy, dx in offsets:
        out = pick(out, padded[..., top + dy : top + dy + h, left + dx : left + dx + w])
    return out
