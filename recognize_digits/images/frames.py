"""A digit inside a frame: `inside_frame` finds the window to read it in.

A digit is often shown inside something: a box drawn or printed around it (a form's field), or a
filled tile of the other colour (MNIST's digit shown with `plt.imshow(x, cmap="gray")` and saved
as a figure is a white digit on a black square on a white page; a screenshot of a digit on a dark
button). Read whole, the frame is the biggest, darkest thing in the image: it was taken for the
digit (the imshow figure came out a sure 0). The frame is told apart by its shape:

    - a box: a piece of ink whose bounding box it lines on all four sides (each side a band of
      rows or columns at least 85% covered, at most 15% of the box deep), with ink inside that
      does not fill the inside from edge to edge (a digit drawn as a rectangle, a 0 of four
      strokes, holds nothing inside; a 7-segment 8's middle bar runs across);
    - a tile: a solid piece with straight edges (its core, the rows and columns at least half
      covered, is 85% of its box, 60% covered, each of the core's edges 85%), whose holes hold
      a shape that is no rectangle (a bold 0 drawn as a rectangle holds a rectangle of paper);

and neither reaches more than one side of the image (the paper around a digit does); a tile
differs from the page just around it (a square of squared paper does not). Both
colours are looked at (the dark pieces and the light ones), at Otsu's threshold of the image
itself. The window is the inside of the frame; preprocess reads the digit there as in any image.
Only numpy.
"""

import numpy as np

from recognize_digits.images import morphology
from recognize_digits.images.lighting import otsu

SMALLEST = 0.15  # a frame is at least 15% of the image's height and width...
MIN_SIDE = 12  # ...and 12 pixels
SIDE_FULL = 0.85  # a side of a box: rows (or columns) at least 85% covered...
SIDE_DEEP = 0.15  # ...at most 15% of the box deep
TILE_SOLID = 0.6  # a tile's own pixels cover 60% of its core, its edges 85% each
CORE = 0.5  # a tile's core: its rows and columns at least half covered (not the axes' ticks)...
CORE_SHARE = 0.85  # ...85% of its box at least
HOLE_RECTANGLE = 0.85  # a hole that fills 85% of its box is a rectangle of paper, not a digit...
THIN = 0.35  # ...unless it is a bar, 0.35 times as wide as tall or less (a 1)
OUTSIDE = 0.25  # a tile differs from the page in a band a quarter of its size wide around it
MIN_CONTENT = 6  # what is inside must be at least 6 pixels tall or wide


def inside_frame(image):
    """The window (a pair of slices) inside the largest frame around the ink of `image` (float,
    [0, 1]), or None if there is no frame."""
    h, w = image.shape
    if min(h, w) < MIN_SIDE:
        return None
    low, high = float(image.min()), float(image.max())
    if high - low < 1e-3:
        return None
    dark = image < low + otsu(image - low)
    best, best_area = None, 0
    for mask in (dark, ~dark):
        labels = morphology.label(mask)
        boxes = _boxes(labels)
        for number, (top, bottom, left, right) in boxes.items():
            height, width = bottom - top, right - left
            if (height < max(SMALLEST * h, MIN_SIDE) or width < max(SMALLEST * w, MIN_SIDE)
                    or height * width <= best_area):
                continue
            touching = (top == 0) + (left == 0) + (bottom == h) + (right == w)
            if touching > 1:
                continue
            piece = labels[top:bottom, left:right] == number
            window = _inside_box(piece, mask[top:bottom, left:right])
            if window is None and _stands_out(mask, top, bottom, left, right):
                window = _inside_tile(piece)
            if window is not None:
                (rows, cols) = window
                best = (slice(top + rows.start, top + rows.stop),
                        slice(left + cols.start, left + cols.stop))
                best_area = height * width
    return best


def _stands_out(mask, top, bottom, left, right):
    """Whether the page just around a box (a band a quarter of its size wide) is mostly of the other
    colour: a tile on a page, not a square of paper between the lines of squared paper."""
    h, w = mask.shape
    band = max(2, round(OUTSIDE * max(bottom - top, right - left)))
    t, b = max(top - band, 0), min(bottom + band, h)
    l, r = max(left - band, 0), min(right + band, w)
    around = mask[t:b, l:r].sum() - mask[top:bottom, left:right].sum()
    area = (b - t) * (r - l) - (bottom - top) * (right - left)
    return area > 0 and around <= 0.5 * area


def _boxes(labels):
    """{label: (top, bottom, left, right)} of every component, bottom and right exclusive."""
    ys, xs = np.nonzero(labels)
    numbers = labels[ys, xs]
    n = int(labels.max())
    if n == 0:
        return {}
    top = np.full(n + 1, labels.shape[0]); np.minimum.at(top, numbers, ys)
    bottom = np.zeros(n + 1, int); np.maximum.at(bottom, numbers, ys + 1)
    left = np.full(n + 1, labels.shape[1]); np.minimum.at(left, numbers, xs)
    right = np.zeros(n + 1, int); np.maximum.at(right, numbers, xs + 1)
    return {i: (int(top[i]), int(bottom[i]), int(left[i]), int(right[i])) for i in range(1, n + 1)}


def _inside_box(piece, mask):
    """A box drawn around something: the window inside its four sides, or None."""
    depths = []
    for cover in (piece.mean(axis=1), piece.mean(axis=1)[::-1],  # top, bottom
                  piece.mean(axis=0), piece.mean(axis=0)[::-1]):  # left, right
        limit = max(1, int(SIDE_DEEP * len(cover)))
        full = cover[:limit + 1] >= SIDE_FULL
        start = 0 if full[0] else 1  # the first row may be the stroke's blurred edge
        if not full[start]:
            return None
        depth = start + (int(np.argmin(full[start:])) if not full[start:].all() else len(full))
        if depth > limit:
            return None
        depths.append(depth + 1)  # and a pixel of the stroke's blurred edge
    (t, b, l, r), (h, w) = depths, piece.shape
    if t + b + MIN_SIDE > h or l + r + MIN_SIDE > w:
        return None
    inside = mask[t : h - b, l : w - r]
    if not inside.any():
        return None
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    tall, wide = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    if max(tall, wide) < MIN_CONTENT:
        return None
    if wide >= 0.97 * inside.shape[1] or tall >= 0.97 * inside.shape[0]:
        return None  # strokes across the whole inside: a digit drawn as a box (an 8's bar)
    return slice(t, h - b), slice(l, w - r)


def _inside_tile(piece):
    """A filled tile around a digit of the other colour: the window of its core, or None."""
    rows = np.flatnonzero(piece.mean(axis=1) >= CORE)
    cols = np.flatnonzero(piece.mean(axis=0) >= CORE)
    if len(rows) < MIN_SIDE or len(cols) < MIN_SIDE:
        return None
    core = piece[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    if core.size < CORE_SHARE * piece.size:  # a round blob (the paper in a 9's loop) has a
        return None  # core of 3/4 of its box; a rectangle with an axis's ticks, nearly all
    # Straight edges (a round blob, a bold 0, has none) and solid: the digit inside may touch
    # the tile's edge, so what is not the tile in the core is all the digit.
    edges = (core[0].mean(), core[-1].mean(), core[:, 0].mean(), core[:, -1].mean())
    if min(edges) < SIDE_FULL or core.mean() < TILE_SOLID:
        return None
    holes = ~core
    if not holes.any():
        return None
    ys, xs = np.nonzero(holes)
    tall, wide = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    if max(tall, wide) < MIN_CONTENT or (holes.sum() >= HOLE_RECTANGLE * tall * wide
                                         and min(tall, wide) > THIN * max(tall, wide)):
        return None
    inset = max(1, round(0.01 * max(core.shape)))  # the tile's blurred edge, a spine around it
    return (slice(rows[0] + inset, rows[-1] + 1 - inset),
            slice(cols[0] + inset, cols[-1] + 1 - inset))
