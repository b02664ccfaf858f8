"""Ruled and squared paper: its lines told from a digit's strokes (part of step 3 of
ink.find_ink). Only numpy.
"""

import numpy as np

from recognize_digits.images import morphology

LINE_EDGE = 0.02  # a straight run of ink from edge to edge (give or take 2% at each end)...
LINE_WIDTH = 0.04  # ...at most 4% of the image thick is a ruled line or the edge of the sheet
KEEP_BLOB = 0.1  # keep the blobs of ink with at least 10% of the largest blob's ink


def ruled_lines(mask, ink):
    """The pixels of thin straight lines across the image (ruled or squared paper, a sheet's edge)
    in `mask`; `ink`, the ink above Otsu's threshold, tells a digit's strokes among them.

    A line is a run of ink along a row (or a column) from one edge of the image to the other, and
    thin. The paper's lines run off the image; a digit's stroke, however long and straight (a 3
    drawn in a paint program as three bars and an upright), stops short of the edges, or joins
    the digit near them (`_strokes_among_lines`), and must not be taken for one. Where a stroke
    of the digit crosses a line, the ink is thicker across the line than the line itself: that
    is the digit's. Rows first, then columns (where two lines cross, the second pass takes it).
    """
    lines = np.zeros_like(mask)
    found = []  # (axis, its lines)
    for axis in (1, 0):
        rest = mask & ~lines
        side = mask.shape[axis]
        margin = int(LINE_EDGE * side)  # pixels a line may fall short at each end
        if rest.sum(axis=axis).max() < side - 2 * margin:
            continue  # no row (or column) has enough ink for a line: the usual case, and quick
        start, length = _runs(rest, axis)
        line = rest & (start <= margin) & (start + length >= side - margin)
        if not line.any():
            continue
        across = _runs(rest, 1 - axis)[1]
        width = np.median(across[line])
        if width <= max(1, LINE_WIDTH * mask.shape[1 - axis]):
            line &= across <= 2 * width
            lines |= line
            found.append((axis, line))
    if found:
        lines &= ~_strokes_among_lines(found, without_specks(ink & ~lines))
    return lines


def _strokes_among_lines(found, digit):
    """Those of the lines that are strokes of a digit drawn to the image's edges, or cropped
    close: such strokes run from edge to edge as ruled lines do (a 7's bar; the bars and upright
    of a 3 drawn with a paint program's line tool). `found` lists (axis, its lines); `digit` is
    the ink that is no line.

    A line is a stroke when it joins the digit, or a stroke, near the image's border (within
    two strokes' width of it), and is at least half as wide as the digit's strokes. A ruled line
    runs on past the digit, which meets it (if at all) away from the border, and is thinner than
    the pen. With no other ink at all, lines of both directions that meet only near the border
    are the digit (a 7 of a bar and an upright); lines that cross away from it are squared
    paper, and lines of one direction ruled paper."""
    by_axis = dict(found)  # one mask of lines per direction
    ink = np.logical_or.reduce(list(by_axis.values()))
    stroke = morphology.stroke_width(digit if digit.any() else ink)
    reach = max(2, int(np.ceil(2 * stroke)))
    border = np.ones_like(digit)
    border[reach:-reach, reach:-reach] = False
    if not digit.any():
        both = len(by_axis) == 2
        return ink if both and not _cross(by_axis, ~border) else np.zeros_like(digit)
    each = [(axis, one) for axis, line in found for one in _each_line(line, axis)]
    strokes = digit.copy()
    joined = True
    while joined:  # a stroke may join the digit through another: a 4's upright, through its bar
        joined = False
        near = morphology.dilate(strokes & border, morphology.SQUARE)  # joins near the border
        for axis, line in each:
            thick = np.count_nonzero(line.any(axis=axis)) >= 0.5 * stroke
            if thick and not (line & strokes).any() and (line & near).any():
                strokes |= line
                joined = True
    return strokes & ink


def _each_line(lines, axis):
    """The lines of `lines` (running along `axis`) one by one: each a band of adjacent rows (or
    columns) that hold line pixels."""
    held = np.flatnonzero(lines.any(axis=axis))
    for band in np.split(held, np.flatnonzero(np.diff(held) > 1) + 1) if held.size else []:
        one = np.zeros_like(lines)
        index = (band,) if axis == 1 else (slice(None), band)
        one[index] = lines[index]
        yield one


def without_specks(mask):
    """`mask` without its pieces of under a tenth of the largest one's pixels (KEEP_BLOB)."""
    labels = morphology.label(mask)
    size = np.bincount(labels.ravel())
    size[0] = 0
    return (size >= KEEP_BLOB * size.max())[labels] & mask


def _cross(by_axis, interior):
    """Whether the row lines and the column lines (`by_axis[1]`, `by_axis[0]`) touch in
    `interior`."""
    rows, cols = by_axis[1], by_axis[0]
    return bool((morphology.dilate(rows, morphology.SQUARE) & cols & interior).any())


def _runs(mask, axis):
    """For each True pixel, where the unbroken run of True it lies in along `axis` starts, and
    its length: two int arrays shaped as `mask` (0 off it)."""
    m = np.moveaxis(mask, axis, -1)
    if not m.any():
        return np.zeros(mask.shape, np.int64), np.zeros(mask.shape, np.int64)
    edges = np.diff(np.pad(m, ((0, 0), (1, 1))).astype(np.int8), axis=-1)
    starts, ends = np.nonzero(edges == 1)[1], np.nonzero(edges == -1)[1]  # both in reading order
    run = np.cumsum((edges[:, :-1] == 1).ravel()).reshape(m.shape) - 1  # which run each pixel is in
    start = np.where(m, starts[run], 0)
    length = np.where(m, (ends - starts)[run], 0)
    return np.moveaxis(start, -1, axis), np.moveaxis(length, -1, axis)
