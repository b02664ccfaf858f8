"""The desk beyond the sheet: step 0 of ink.find_ink.

A photo of a sheet of paper often takes in the desk beyond the sheet's edge: a dark band along a
side or across a corner, which the steps after this one would take for ink. `cover_desk` finds it
(its edge is straight and sharp, where a shadow only ramps) and covers it with paper. Only numpy.
"""

import numpy as np

from recognize_digits.images.lighting import MIN_CONTRAST, coords, otsu, robust_fit
from recognize_digits.images.lines import LINE_EDGE, LINE_WIDTH

DESK_STRAIGHT = 0.9  # the desk's edge (the sheet's) is straight along 90% of the image's side...
DESK_TOLERANCE = 0.03  # ...give or take 3% of the image


def cover_desk(image):
    """The image with the desk, where a photo takes it in beyond the sheet's edge, covered with
    paper: the sheet's lighting (a plane fitted to its paper) carried on, with the paper's own
    grain (its pixels' differences from that plane, drawn at random, the ink's soft edges left
    out), so that the steps after this one measure the paper's level and noise as on the sheet. The
    desk is darker than the paper; the image is returned as it is when there is none."""
    if image.max() <= 0:
        return image
    dark = image < otsu(image)
    desk = _desk(dark, image)
    paper = ~desk & ~dark
    if not desk.any() or not paper.any():
        return image
    h, w = image.shape
    y, x = np.meshgrid(coords(h), coords(w), indexing="ij")
    plane = np.stack([np.ones_like(x), x, y], axis=-1)  # a plane: 1, x, y at each pixel
    # Fitted as _flatten fits the paper under light ink: the ink's edges, darker, left out.
    start = np.array([1 - np.median(image[paper]), 0.0, 0.0])
    coef, noise = robust_fit(plane[paper], 1 - image[paper], start)
    light = 1 - plane @ coef
    grain = (image - light)[paper]
    grain = grain[np.abs(grain) <= 3 * max(noise, 1 / 255)]
    if not grain.size:
        return image
    out = image.copy()
    out[desk] = light[desk] + np.random.default_rng(0).choice(grain, int(desk.sum()))
    return out.astype(image.dtype)


def _desk(dark, image):
    """The desk in a photo: a band of the image's `dark` pixels along a side (or two sides: a
    corner of the sheet) that ends in the sheet's edge, straight and sharp.

    For each side, the depth of the dark pixels from the image's border is taken along it. The
    desk reaches the border all along the side (give or take LINE_EDGE at each end), its depth
    follows a straight line, however tilted, and the image steps up from desk to paper across
    that line, where a shadow would only ramp. A digit that touches the border does so along a
    stroke or two, not all along it, and a stroke that lies along the border still stops short
    of its ends. A stroke that crosses the edge (ink running on from the band into the sheet)
    says the band is no desk but the sheet in a hard shadow. The desk leaves at least a quarter
    of the image.

    The sheet's edge is looked for where it crosses the photo: beyond one side, two sides that
    meet (a corner of the sheet) or two opposite sides (a strip). A sheet that the photo shows
    whole, desk all round, is not: a bold light digit on black, cropped close, looks just like it
    (two of MNIST's test digits, 3s, were taken for one).
    """
    desk = np.zeros_like(dark)
    for turns in range(4):  # each side in turn as the top
        m, img = np.rot90(dark, turns), np.rot90(image, turns)
        h, w = m.shape
        depth = _dark_depth(m, gap=max(2, int(DESK_TOLERANCE * h)))
        through = depth == h  # columns dark from end to end: the desk beyond the next side
        x = np.flatnonzero(~through)
        margin = int(LINE_EDGE * w)
        if x.size < max(4, w / 2) or (depth[x[margin : x.size - margin]] == 0).any():
            continue
        if not _at_one_end(through):  # beyond the next side: one corner, not two
            continue
        edge = _straight_line(x, depth[x], DESK_TOLERANCE * h, w)
        if np.mean(np.abs(depth[x] - edge[x]) <= DESK_TOLERANCE * h) < DESK_STRAIGHT:
            continue
        if np.median(edge[x]) <= LINE_WIDTH * h or not _sharp_edge(img, edge, x):
            continue  # a ruled line along the border (ruled_lines takes it), or a shadow's ramp
        if _crossed(depth[x] - edge[x], h):
            continue  # ink runs on across the edge: a hard shadow over the sheet, not the desk
        # All beyond the sheet's straight edge, and the edge's own blur and shadow.
        rows = np.arange(h)[:, None]
        desk |= np.rot90(rows < np.where(through, h, edge + max(2, DESK_TOLERANCE * h)), -turns)
    # The rest is the sheet: mostly paper (on a drawing of light ink on black, the "desk" found
    # is black background, and so is the rest).
    if desk.mean() > 0.75 or dark[~desk].mean() >= 0.5:
        return np.zeros_like(dark)
    return desk


def _at_one_end(columns):
    """Whether the True of `columns` lie at one end of it, and nearly all of the span from that
    end to the last of them (a lighter streak of the desk may break it), or there are none. The
    lines of squared paper, dark from end to end too, are spread across."""
    where = np.flatnonzero(columns)
    if not where.size:
        return True
    dense = where.size >= 0.9 * (where[-1] - where[0] + 1)
    return dense and (where[0] == 0) != (where[-1] == columns.size - 1)


def _crossed(beyond, h):
    """Whether a stroke runs on across the edge: where the dark goes on `beyond` the edge (for
    each column, in order) by a tenth of the image or more, in 3 columns side by side or more (a
    stroke is that wide; the grain along the edge is not), between columns where it stops at the
    edge. (Where the desk beyond the next side begins, at one end, the dark goes on too.)"""
    far = beyond > max(4, 0.1 * h)
    far[1:-1] = far[:-2] & far[1:-1] & far[2:]  # with a far column on either side
    change = np.diff(far.astype(np.int8))
    starts = np.flatnonzero(change == 1)  # where a run of far columns begins...
    ends = np.flatnonzero(change == -1)  # ...and where one ends
    return bool(starts.size and ends.size and ends[-1] > starts[0])


def _straight_line(x, y, tolerance, n):
    """The straight line through most of the points (x, y), at 0..n-1: through the medians of
    each half, then fitted by least squares to the points within `tolerance` of it (where a
    digit's stroke, or the next side's desk, meets the edge, the points are off the line)."""
    half = x.size // 2
    x0, y0 = np.median(x[:half]), np.median(y[:half])
    x1, y1 = np.median(x[half:]), np.median(y[half:])
    slope = (y1 - y0) / max(x1 - x0, 1)
    intercept = y0 - slope * x0
    near = np.abs(y - (intercept + slope * x)) <= tolerance
    if near.sum() >= 2:
        slope, intercept = np.polyfit(x[near], y[near], 1)
    return intercept + slope * np.arange(n)


def _dark_depth(dark, gap):
    """For each column of `dark`, how far down from the top it is dark: the row where the first
    `gap` light pixels in a row begin (lighter streaks of the desk's grain, shorter than that,
    do not end it). 0 where the top is light, the height where it is dark to the end."""
    h = dark.shape[0]
    light = np.concatenate([~dark, np.ones((gap, dark.shape[1]), bool)])  # light beyond the end
    count = np.concatenate([np.zeros((1, dark.shape[1]), np.int64), np.cumsum(light, axis=0)])
    window = count[gap:] - count[:-gap]  # light pixels in the `gap` rows from each row down
    return np.minimum(np.argmax(window == gap, axis=0), h)


def _sharp_edge(image, edge, x):
    """Whether `image` steps up from dark to light across the line `edge` (a row for each column,
    at the columns `x`) within a few pixels: by at least MIN_CONTRAST, and by most of what it
    does across three times the distance (a shadow's ramp is wider)."""
    d = max(2, int(LINE_EDGE * image.shape[0]))
    near_step = _median_beside(image, edge, x, d) - _median_beside(image, edge, x, -d)
    far_step = _median_beside(image, edge, x, 3 * d) - _median_beside(image, edge, x, -3 * d)
    return near_step >= max(MIN_CONTRAST, 0.7 * far_step)


def _median_beside(image, edge, x, offset):
    """The median of `image` along the line `edge` moved by `offset` rows, at the columns `x`."""
    rows = np.clip(np.round(edge[x] + offset).astype(np.int64), 0, image.shape[0] - 1)
    return float(np.median(image[rows, x]))
