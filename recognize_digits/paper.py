"""Telling the ink from the paper: `find_ink`, steps 0-3 of preprocess.to_mnist.

A photo of a digit is ink on paper under uneven light, with the paper's texture, perhaps ruled
lines, specks of dust, and the desk beyond the sheet's edge; a drawing is clean, but either
polarity. `find_ink` keeps only the ink, as light on black (MNIST's way round), scaled so that the
ink is 1 and the paper 0:

    0. the desk, where the photo takes it in beyond the sheet's edge, is covered with paper;
    1. flatten the paper: fit a smooth surface to the background, subtract it (uneven lighting);
    2. polarity: try the ink as light, and as dark (inverted); keep the reading where it stands
       out clearly from the paper; no clear ink at all means the image is blank;
    3. find the ink (Otsu's threshold); drop ruled lines and specks.

It works on the whole image, whether it holds one digit or a number (segment.py splits that).
Only numpy.
"""

import numpy as np

from recognize_digits import morphology

MIN_CONTRAST = 0.05  # ink must differ from the paper by 5% of black-to-white (13 grey levels)...
MIN_SNR = 4.0  # ...and by 4 times the paper's own noise (texture, sensor noise, JPEG artefacts)
MIN_DIGIT = 0.04  # a digit smaller than 4% of the image is a speck of dust, not a digit...
MIN_DIGIT_PIXELS = 6  # ...and so is one less than 6 pixels tall and wide: it cannot be read
INK_PERCENTILE = 50  # the ink is scaled so that this percentile of it is full white (1.0)
KEEP_BLOB = 0.1  # keep the blobs of ink with at least 10% of the largest blob's ink
BLOB_CELLS = 64  # blobs are found on a grid of at most 64x64 cells: pieces closer than a cell join
LINE_EDGE = 0.02  # a straight run of ink from edge to edge (give or take 2% at each end)...
LINE_WIDTH = 0.04  # ...at most 4% of the image thick is a ruled line or the edge of the sheet
DESK_STRAIGHT = 0.9  # the desk's edge (the sheet's) is straight along 90% of the image's side...
DESK_TOLERANCE = 0.03  # ...give or take 3% of the image
# A lighting surface with over 2% of the image more than 15% of black-to-white below it runs above
# the paper: it followed the ink (see _flatten).
BELOW_PAPER, BELOW_PAPER_SHARE = 0.15, 0.02


def find_ink(image):
    """The ink of a grey image (float, [0, 1]) as white on black: float32 in [0, 1], 0 off the
    ink; None if there is no ink (the image is blank)."""
    image = _cover_desk(image)  # a photo that takes in the desk beyond the sheet's edge
    ink, noise, mask = _separate_ink_from_paper(image)  # 1-2: flatten the lighting, polarity
    return _find_digit(ink, noise, mask)  # 3: Otsu's ink, no ruled lines, no specks


def crop(img):
    """The smallest rectangle of `img` holding all its non-zero pixels."""
    rows, cols = np.flatnonzero(img.any(axis=1)), np.flatnonzero(img.any(axis=0))
    return img[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


# --- 0: the desk beyond the sheet -----------------------------------------------------------------
def _cover_desk(image):
    """The image with the desk, where a photo takes it in beyond the sheet's edge, covered with
    paper: the sheet's lighting (a plane fitted to its paper) carried on, with the paper's own
    grain (its pixels' differences from that plane, drawn at random, the ink's soft edges left
    out), so that the steps after this one measure the paper's level and noise as before. The
    desk is darker than the paper; the image is returned as it is when there is none."""
    if image.max() <= 0:
        return image
    dark = image < _otsu(image)
    desk = _desk(dark, image)
    paper = ~desk & ~dark
    if not desk.any() or not paper.any():
        return image
    h, w = image.shape
    y, x = np.meshgrid(_coords(h), _coords(w), indexing="ij")
    plane = np.stack([np.ones_like(x), x, y], axis=-1)  # a plane: 1, x, y at each pixel
    # Fitted as _flatten fits the paper under light ink: the ink's edges, darker, left out.
    start = np.array([1 - np.median(image[paper]), 0.0, 0.0])
    coef, noise = _robust_fit(plane[paper], 1 - image[paper], start)
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
            continue  # a ruled line along the border (_lines takes it), or a shadow's ramp
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


# --- 1-2: the ink, light on black, whatever the paper and the lighting ---------------------------
def _separate_ink_from_paper(image):
    """The ink, light on a black background: (ink >= 0, noise level of the paper, ink mask).

    Which side is ink? Both readings are tried (light ink on dark paper, and dark on light,
    inverted). The right one shows ink standing far above the paper's noise, and covers less than
    half of the image (the paper is the majority). The mask is None if neither shows any ink.
    """
    best = (None, 0.0, None)
    if not image.size:
        return best
    clearest = 0.0
    for candidate in (image, 1 - image):
        flat, noise = _flatten(candidate)
        ink = np.clip(flat, 0, None)  # what is lighter than the paper
        if ink.max() <= 0:
            continue
        mask = ink > _otsu(ink)
        if not mask.any() or mask.mean() >= 0.5:
            continue
        # Real ink stands out from the paper's texture and noise; the texture split in two by a
        # threshold does not. Measured over 3x3 pixels (a photo's noise averages out) and pixel by
        # pixel (the 1-pixel lines of a small drawing, which a 3x3 mean blurs into the paper).
        for smooth in (True, False):
            contrast, spread = _contrast(flat, smooth)
            clarity = contrast / max(spread, 1e-3)
            if contrast >= max(MIN_CONTRAST, MIN_SNR * spread) and clarity > clearest:
                best, clearest = (ink, noise, mask), clarity
    return best


def _contrast(flat, smooth=True):
    """How far the ink stands out of the flattened paper `flat` (the ink lighter): the ink's
    mean above the paper's (each side of Otsu's threshold), and the paper's noise (a robust
    standard deviation). With `smooth`, both are measured on the image averaged over 3x3 pixels:
    a pen's stroke is wider than that, and keeps its contrast, where the pixels' own noise (a
    photo taken in dim light) falls by up to 3 times."""
    if smooth:
        rows = np.pad(flat, ((1, 1), (0, 0)), mode="edge")
        flat = rows[:-2] + rows[1:-1] + rows[2:]  # each pixel with the ones above and below...
        cols = np.pad(flat, ((0, 0), (1, 1)), mode="edge")
        flat = (cols[:, :-2] + cols[:, 1:-1] + cols[:, 2:]) / 9  # ...and beside them
    step = max(1, max(flat.shape) // 128)  # the statistics need no more than 128x128 of them
    flat = flat[::step, ::step]
    ink = np.clip(flat, 0, None)
    if ink.max() <= 0:
        return 0.0, 1.0
    mask = ink > _otsu(ink)
    paper = flat[~mask]
    if not mask.any() or not paper.size:
        return 0.0, 1.0
    spread = 1.4826 * float(np.median(np.abs(paper - np.median(paper))))
    return float(ink[mask].mean() - ink[~mask].mean()), spread


def _flatten(image):
    """Subtract the paper (dark, the ink being light): (image - paper, noise level of the paper).

    Lighting varies slowly across a photo, so the paper's brightness is modelled as a smooth
    surface, a quadratic in x and y. A first fit goes through the darker quarter of each block of
    an 8x8 grid (paper even where a stroke covers most of the block, so it follows the light, not
    the ink); a second one through a grid of pixels, robustly, the ink left out. On MNIST's black
    the surface is exactly 0.

    A digit cropped close, its strokes touching the edges, leaves too little paper to fit: the
    surface follows the ink, and runs far above the paper left between the strokes. The lighting
    is then taken as even, at the paper's level (`_even_paper`).
    """
    h, w = image.shape
    g = max(1, min(8, h, w))
    bh, bw = h // g, w // g
    blocks = image[: bh * g, : bw * g].reshape(g, bh, g, bw).transpose(0, 2, 1, 3)
    paper = np.percentile(blocks.reshape(g, g, -1), 25, axis=2).ravel()
    start = np.zeros(6)
    start[0] = np.median(paper)  # start from uniform paper
    centres = np.meshgrid(_coords(h, bh / 2 - 0.5, bh, g), _coords(w, bw / 2 - 0.5, bw, g),
                          indexing="ij")
    coef, _ = _robust_fit(_quadratic(*centres), paper, start)

    step = max(1, max(h, w) // 64)
    grid = np.meshgrid(_coords(h, 0, step), _coords(w, 0, step), indexing="ij")
    coef, noise = _robust_fit(_quadratic(*grid), image[::step, ::step].ravel(), coef)

    y, x = _coords(h).astype(np.float32)[:, None], _coords(w).astype(np.float32)[None, :]
    c = coef.astype(np.float32)  # the surface, term by term: 1, x, y, x*x, x*y, y*y
    background = (c[0] + c[2] * y + c[5] * y * y) + (c[1] + c[4] * y) * x + c[3] * x * x
    flat = image - background
    if np.mean(flat < -BELOW_PAPER) > BELOW_PAPER_SHARE:
        return _even_paper(image)
    return flat, noise


def _even_paper(image):
    """(image - paper, noise level of the paper) for paper evenly lit: its level is the median of
    the darker side of Otsu's threshold (the ink being light), its noise measured below that."""
    paper = image[image <= _otsu(image)] if image.max() > 0 else image.ravel()
    level = float(np.median(paper))
    below = level - paper[paper <= level]
    return image - level, 1.4826 * float(np.median(below))


def _coords(n, first=0.0, step=1, count=None):
    """Positions first, first + step, ... (`count` of them, or up to n) of n pixels, as -1..1."""
    count = len(range(0, n, step)) if count is None else count
    return (first + step * np.arange(count)) * 2 / max(n - 1, 1) - 1


def _quadratic(y, x):
    """The six terms of a quadratic surface at the points (y, x): [N, 6]."""
    y, x = y.ravel(), x.ravel()
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1)


def _robust_fit(basis, values, coef):
    """Least squares of `values` on the `basis` columns, robust to outliers (the ink).

    Starting from the fit `coef`, values more than 3 standard deviations off the fit are left out
    of the next fit, until that no longer changes. The ink lies above the paper, so the standard
    deviation is measured below the median (a robust one: from the median absolute deviation).
    Returns (coefficients, standard deviation of the values that fit).
    """
    use = np.ones(values.size, bool)
    for i in range(10):
        res = values - basis @ coef
        centre = np.median(res[use])
        below = centre - res[use & (res <= centre)]
        noise = 1.4826 * float(np.median(below))
        fits = np.abs(res - centre) <= 3 * max(noise, 1 / 255)
        if fits.sum() < basis.shape[1] or (i > 0 and (fits == use).all()):
            break
        use = fits
        b = basis[use]  # solved by the normal equations, with a tiny ridge: never singular
        coef = np.linalg.solve(b.T @ b + 1e-6 * np.eye(b.shape[1]), b.T @ values[use])
    return coef, noise


def _otsu(values):
    """Otsu's threshold: the level that best splits `values` into two classes (ink and paper)."""
    top = float(values.max())
    bins = np.minimum((values * (256 / top)).astype(np.int64), 255)  # a 256-level histogram
    p = np.bincount(bins.ravel(), minlength=256) / bins.size
    level = (np.arange(256) + 0.5) * top / 256
    w0 = np.cumsum(p)  # weight and summed level of the class below each possible threshold
    m0 = np.cumsum(p * level)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (m0[-1] * w0 - m0) ** 2 / (w0 * (1 - w0))  # Otsu's between-class variance
    return (np.nanargmax(np.nan_to_num(between, nan=-1.0)) + 1) * top / 256


# --- 3: the ink, without ruled lines and specks -----------------------------------------------
def _find_digit(ink, noise, mask):
    """The digit's ink as a soft image in [0, 1] (0 off the digit), or None if there is none."""
    if mask is None:
        return None
    # Ruled lines are often fainter than the ink, and only partly above the threshold: look for
    # them among all that stands out of the paper's noise. That fainter ink also holds the
    # digit's pieces together (see _digit_region).
    faint = ink > max(3 * noise, MIN_CONTRAST / 2)
    lines = _lines(faint, mask)
    region = _digit_region(mask & ~lines, faint & ~lines, ink)
    if region is None:
        return None
    region &= ~lines
    if not (mask & region).any():  # all the ink there was lay on lines
        return None
    # Scale so that typical ink is 1 (MNIST's strokes are saturated), paper noise 0. The median:
    # a higher percentile changes MNIST's own digits less, but follows a JPEG's ringing around
    # the strokes (docs/real_digits.md, "MNIST's own digits").
    floor = 2 * noise
    full = max(np.percentile(ink[mask & region], INK_PERCENTILE), floor + MIN_CONTRAST)
    soft = np.clip((ink - floor) / (full - floor), 0, 1) * region
    # What is left must be big enough to be a digit: a few stray pixels, scaled up to fill the
    # 20x20 box, would become a solid white block.
    if not soft.any() or max(crop(soft).shape) < max(MIN_DIGIT * max(ink.shape), MIN_DIGIT_PIXELS):
        return None
    return soft.astype(np.float32)


def _lines(mask, ink):
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
        lines &= ~_strokes_among_lines(found, _without_specks(ink & ~lines))
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


def _without_specks(mask):
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


def _digit_region(mask, faint, ink):
    """Where the digit is: the big blobs of ink (and a pixel around them), without the specks.

    `mask` is the ink above Otsu's threshold, `faint` all that stands out of the paper's noise.
    A blob is a piece of `faint` ink, found on a coarse grid (at most 64x64 cells), so that the
    pieces of a broken pencil stroke count as one blob when they are closer than a cell, or joined
    by fainter ink: a stroke that fades in the middle, as some of MNIST's own do, is still one
    stroke (the 2 whose fainter lower bar would otherwise be dropped). A blob with less than 10%
    of the largest blob's ink above the threshold is noise, dust or a stray mark.
    """
    h, w = mask.shape
    c = max(1, -(-max(h, w) // BLOB_CELLS))  # cell side in pixels
    gh, gw = -(-h // c), -(-w // c)
    padded = np.zeros((gh * c, gw * c), np.float32)
    padded[:h, :w] = np.where(mask, ink, 0)
    cell_ink = padded.reshape(gh, c, gw, c).sum(axis=(1, 3))
    # A cell is faint ink when at least half of it is: then the noise's odd pixel above the
    # level does not bridge a speck to a stroke.
    padded[:h, :w] = faint
    faint_cells = padded.reshape(gh, c, gw, c).mean(axis=(1, 3)) >= 0.5
    labels = morphology.label(faint_cells | (cell_ink > 0))
    if labels.max() == 0:
        return None
    blob_ink = np.bincount(labels.ravel(), weights=cell_ink.ravel())
    blob_ink[0] = 0
    kept = blob_ink >= KEEP_BLOB * blob_ink.max()
    cells = kept[labels]
    # Back to pixels: the ink of the kept blobs, one pixel wider all round (the faint anti-aliased
    # edge of a stroke belongs to it, though it is below the threshold).
    region = np.repeat(np.repeat(cells, c, axis=0), c, axis=1)[:h, :w] & mask
    return morphology.dilate(region, morphology.SQUARE)
