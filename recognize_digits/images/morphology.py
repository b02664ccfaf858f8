"""Grey-level dilation and erosion, and connected components: the shape of the ink in an image.

A dilation sets every pixel to the largest value in its neighbourhood, an erosion to the smallest.
With white ink on black, that thickens or thins the strokes by the neighbourhood's reach:
`preprocess` brings a photo's strokes to MNIST's width this way, and `augment` varies the stroke
width of training digits; `stroke_width` measures it. Only numpy.
"""

import numpy as np

# A neighbourhood is the list of (row, column) offsets a pixel looks at, itself included.
SQUARE = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1))  # 3x3, centred
CROSS = tuple((dy, dx) for dy, dx in SQUARE if dy == 0 or dx == 0)  # 3x3 without the corners
SQUARE_2X2 = ((0, 0), (1, 0), (0, 1), (1, 1))  # the pixel, the one below, right, below right


def stroke_width(img):
    """Mean stroke width in pixels of the ink of `img` (soft, or a mask): twice the ink's area
    over the length of its outline (a stroke of width w and length L has area w*L and an outline
    of about 2*L)."""
    solid = np.pad(img > 0.5 * img.max(), 1)
    outline = np.count_nonzero(solid[1:] != solid[:-1])
    outline += np.count_nonzero(solid[:, 1:] != solid[:, :-1])
    return 2 * float(img.sum()) / max(outline, 1)


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
    """Connected components (8-neighbours) of a boolean image: labels 1..n, 0 off the mask.

    The classic two-pass labelling, on runs rather than pixels: each row's runs of True are
    found with numpy, a run is joined to every run of the row above that it touches (columns
    overlapping, or meeting at a corner), and a union-find remembers which runs belong together.
    A digit of a few thousand pixels is a few dozen runs, so the Python loop stays short.
    """
    h, w = mask.shape
    edges = np.diff(np.pad(np.asarray(mask, bool), ((0, 0), (1, 1))).astype(np.int8), axis=1)
    rows, starts = np.nonzero(edges == 1)  # run i: row rows[i], columns starts[i]..ends[i]-1
    ends = np.nonzero(edges == -1)[1]
    parent = list(range(len(starts)))
    first_in_row = np.searchsorted(rows, np.arange(h + 1))
    for row in range(1, h):
        _join_touching_runs(parent, starts, ends, range(first_in_row[row - 1], first_in_row[row]),
                            range(first_in_row[row], first_in_row[row + 1]))
    roots = [_root(parent, i) for i in range(len(starts))]
    numbers = np.unique(roots, return_inverse=True)[1] + 1 if roots else np.zeros(0, np.int64)
    labels = np.zeros((h, w), np.int64)
    for row, start, end, number in zip(rows, starts, ends, numbers):
        labels[row, start:end] = number
    return labels


def _join_touching_runs(parent, starts, ends, above, below):
    """Union the runs of two neighbouring rows that touch (8-neighbours), sweeping both at once."""
    i, j = above.start, below.start
    while i < above.stop and j < below.stop:
        if starts[i] <= ends[j] and starts[j] <= ends[i]:  # ends are exclusive: corners count
            parent[_root(parent, i)] = _root(parent, j)
        if ends[i] < ends[j]:  # move on from whichever run ends first
            i += 1
        else:
            j += 1


def _root(parent, i):
    """The run that stands for run i's component (halving the path on the way up)."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


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
