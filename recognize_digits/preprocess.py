"""Making a photo or a drawing of a digit look like an MNIST digit: `to_mnist`, `preprocess`.

A model trained on MNIST has only ever seen digits made one way: a white digit on a black
background, cropped to the digit, scaled to fit a 20x20 box (keeping its aspect ratio), with
anti-aliased strokes about 2 px wide, and placed in a 28x28 image so that its centre of mass is at
the centre. A photo or a drawing of a digit is none of that: dark ink on light paper, off-centre,
thin or thick strokes, uneven lighting, paper texture, ruled lines. The chapter's `load_image` only
resizes the whole image to 28x28; LeNet-5 then reads about 1 in 5 photos of digits on paper
correctly (bench/real_digits.py measures it).

`to_mnist` redoes what the makers of MNIST did, on a user's image:

    1. flatten the paper: fit a smooth surface to the background, subtract it (uneven lighting);
    2. polarity: try the ink as light, and as dark (inverted); keep the reading where it stands
       out clearly from the paper; no clear ink at all means the image is blank;
    3. find the ink (Otsu's threshold); drop ruled lines and specks;
    4. crop to the digit, bring its strokes to MNIST's width, scale it to fit 20x20;
    5. place it in 28x28 with its centre of mass at the centre.

MNIST's own digits come through nearly unchanged (bench/real_digits.py checks that the model's
accuracy on them stays put). `preprocess` takes an image file to the model's input, this way or
the chapter's. Only numpy and Pillow.
"""

import numpy as np
from PIL import Image

from recognize_digits import morphology
from recognize_digits.images import WORK_SIDE, ImageError, load_image, open_image

SIZE = 28  # MNIST: 28x28 images...
BOX = 20  # ...holding the digit scaled to fit 20x20, aspect ratio kept...
CENTRE = 14.0  # ...with its centre of mass here (row, column; measured on MNIST: 13.99, 14.01)

# Stroke width once the digit fits the 20x20 box, by `_stroke_width`, on the 60,000 MNIST training
# digits: 5th percentile, median, 95th percentile. Digits outside that range are brought to the
# median; digits inside it (nearly all MNIST digits) are left alone.
STROKE_MIN, STROKE_TYPICAL, STROKE_MAX = 1.3, 1.9, 3.0

MIN_CONTRAST = 0.05  # ink must differ from the paper by 5% of black-to-white (13 grey levels)...
MIN_SNR = 4.0  # ...and by 4 times the paper's own noise (texture, sensor noise, JPEG artefacts)
MIN_DIGIT = 0.04  # a digit smaller than 4% of the image is a speck of dust, not a digit
KEEP_BLOB = 0.1  # keep the blobs of ink with at least 10% of the largest blob's ink
BLOB_CELLS = 64  # blobs are found on a grid of at most 64x64 cells: pieces closer than a cell join
LINE_SPAN = 0.9  # a straight run of ink across 90% of the image...
LINE_WIDTH = 0.04  # ...at most 4% of the image thick is a ruled line or the edge of the sheet


def preprocess(source, mode="mnist", name=None):
    """One image file (a path or a binary file object) -> float32 [1, 1, 28, 28] in [-1, 1].

    mode "mnist": open_image + to_mnist (what works on real photos and drawings);
    mode "book": the chapter's load_image (to compare). `name` names a file object in errors.
    """
    if mode == "book":
        return load_image(source, name)
    if mode != "mnist":
        raise ValueError(f"unknown preprocessing mode {mode!r}: use 'mnist' or 'book'")
    digit = to_mnist(np.asarray(open_image(source, name)), source=name or source)
    return (digit * 2.0 - 1.0).reshape(1, 1, SIZE, SIZE)


def to_mnist(grey, source="the image"):
    """A grey image [H, W] (uint8) of a digit -> float32 [28, 28] in [0, 1], as an MNIST digit.

    Raises ImageError when there is no digit (a blank image); `source` names it in the message.
    """
    image = _as_float(grey)
    ink, noise, otsu_ink = _separate_ink_from_paper(image)  # 1-2: flatten the lighting, polarity
    digit = _find_digit(ink, noise, otsu_ink)  # 3: Otsu's ink, no ruled lines, no specks
    if digit is None:
        raise ImageError(f"no digit found in {source} (the image is blank).")
    digit = _fit_box(_crop(digit))  # 4: MNIST's stroke width, fitted into 20x20
    return _centre_by_mass(digit)  # 5: centre of mass at (14, 14)


def _as_float(grey):
    """uint8 [H, W] -> float32 in [0, 1], shrunk by area averaging to at most WORK_SIDE pixels."""
    grey = np.asarray(grey)
    if grey.ndim != 2:
        raise ValueError(f"to_mnist takes a grey image [H, W], got an array of shape {grey.shape}")
    if grey.size == 0:
        return np.zeros(grey.shape, np.float32)
    im = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))
    if max(im.size) > WORK_SIDE:
        im = _resize(im, WORK_SIDE / max(im.size))
    return np.asarray(im, dtype=np.float32) / 255.0


def _resize(im, scale):
    """Resize a Pillow image by `scale`: area average when shrinking, bilinear when enlarging."""
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    return im.resize(size, method)


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
        contrast = ink[mask].mean() - ink[~mask].mean()
        # Real ink stands out from the paper's texture and noise; the texture split in two by a
        # threshold does not.
        clarity = contrast / max(noise, 1e-3)
        if contrast >= max(MIN_CONTRAST, MIN_SNR * noise) and clarity > clearest:
            best, clearest = (ink, noise, mask), clarity
    return best


def _flatten(image):
    """Subtract the paper (dark, the ink being light): (image - paper, noise level of the paper).

    Lighting varies slowly across a photo, so the paper's brightness is modelled as a smooth
    surface, a quadratic in x and y. A first fit goes through the darker quarter of each block of
    an 8x8 grid (paper even where a stroke covers most of the block, so it follows the light, not
    the ink); a second one through a grid of pixels, robustly, the ink left out. On MNIST's black
    the surface is exactly 0.
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
    return image - background, noise


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


# --- 3: the digit's ink, without ruled lines and specks -----------------------------------------
def _find_digit(ink, noise, mask):
    """The digit's ink as a soft image in [0, 1] (0 off the digit), or None if there is none."""
    if mask is None:
        return None
    # Ruled lines are often fainter than the ink, and only partly above the threshold: look for
    # them among all that stands out of the paper's noise.
    lines = _lines(ink > max(3 * noise, MIN_CONTRAST / 2))
    region = _digit_region(mask & ~lines, ink)
    if region is None:
        return None
    region &= ~lines
    # Scale so that typical ink is 1 (MNIST's strokes are saturated), paper noise 0.
    floor = 2 * noise
    full = max(np.median(ink[mask & region]), floor + MIN_CONTRAST)
    soft = np.clip((ink - floor) / (full - floor), 0, 1) * region
    if not soft.any() or max(_crop(soft).shape) < MIN_DIGIT * max(ink.shape):
        return None
    return soft.astype(np.float32)


def _lines(mask):
    """The pixels of thin straight lines across the image (ruled or squared paper, a sheet's edge).

    A line is a run of ink along a row (or a column) over 90% of the image, and thin. Where a
    stroke of the digit crosses it, the ink is thicker across the line than the line itself: that
    is the digit's. Rows first, then columns (where two lines cross, the second pass takes it).
    """
    lines = np.zeros_like(mask)
    for axis in (1, 0):
        rest = mask & ~lines
        if rest.sum(axis=axis).max() < LINE_SPAN * mask.shape[axis]:
            continue  # no row (or column) has enough ink for a line: the usual case, and quick
        along = _run_lengths(rest, axis)
        line = along >= LINE_SPAN * mask.shape[axis]
        if not line.any():
            continue
        across = _run_lengths(rest, 1 - axis)
        width = np.median(across[line])
        if width <= max(1, LINE_WIDTH * mask.shape[1 - axis]):
            lines |= line & (across <= 2 * width)
    return lines


def _run_lengths(mask, axis):
    """For each True pixel, the length of the unbroken run of True it lies in along `axis`."""
    m = np.moveaxis(mask, axis, -1)
    if not m.any():
        return np.zeros(mask.shape, np.int64)
    edges = np.diff(np.pad(m, ((0, 0), (1, 1))).astype(np.int8), axis=-1)
    starts, ends = edges == 1, edges == -1
    lengths = np.nonzero(ends)[1] - np.nonzero(starts)[1]  # both in reading order
    run = np.cumsum(starts[:, :-1].ravel()).reshape(m.shape) - 1  # which run each pixel is in
    return np.moveaxis(np.where(m, lengths[run], 0), -1, axis)


def _digit_region(mask, ink):
    """Where the digit is: the big blobs of ink (and a pixel around them), without the specks.

    Blobs are found on a coarse grid (at most 64x64 cells), so that the pieces of a broken pencil
    stroke, closer than a cell, count as one blob. A blob with less than 10% of the ink of the
    largest is noise, dust or a stray mark.
    """
    h, w = mask.shape
    c = max(1, -(-max(h, w) // BLOB_CELLS))  # cell side in pixels
    gh, gw = -(-h // c), -(-w // c)
    padded = np.zeros((gh * c, gw * c), np.float32)
    padded[:h, :w] = np.where(mask, ink, 0)
    cell_ink = padded.reshape(gh, c, gw, c).sum(axis=(1, 3))
    labels = morphology.label(cell_ink > 0)
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


# --- 4: cropped, strokes as wide as MNIST's, fitted into 20x20 ----------------------------------
def _crop(img):
    """The smallest rectangle of `img` holding all its non-zero pixels."""
    rows, cols = np.flatnonzero(img.any(axis=1)), np.flatnonzero(img.any(axis=0))
    return img[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _fit_box(crop):
    """Scale the cropped digit to fit 20x20, with strokes as wide as MNIST's.

    If the strokes would be too thin or too thick at 20x20 (a fine pen, a fat marker), they are
    grown or shrunk first at a finer scale (k times 20x20), then the result is shrunk to 20x20.
    """
    long_side = max(crop.shape)
    digit = _scale(crop, BOX / long_side)
    # Measured at 20x20, as on MNIST (and the ragged outline of a photo's stroke is smoothed out).
    width = max(_stroke_width(digit), 0.01)
    if STROKE_MIN <= width <= STROKE_MAX:
        return digit
    k = int(np.clip(np.ceil(2 / width), 3, 8))  # fine enough that a stroke is 2 px, if possible
    work = _scale(crop, BOX * k / long_side)
    if width * k < 1:  # a stroke thinner than a pixel is a faint line: make it solid first
        work = np.clip(work / (width * k), 0, 1)
    steps = round((STROKE_TYPICAL - width) * k / 2)  # pixels to add (or remove) on each side
    if steps > 0:
        work = morphology.grow_round(np.pad(work, steps), steps)
    elif steps < 0:
        thinner = morphology.grow_round(work, -steps, shrink=True)
        work = thinner if thinner.max() > 0 else work
    work = _crop(work)
    return _scale(work, BOX / max(work.shape))


def _stroke_width(img):
    """Mean stroke width in pixels: twice the ink's area over the length of its outline.

    (A stroke of width w and length L has area w*L and an outline of about 2*L.)
    """
    solid = np.pad(img > 0.5 * img.max(), 1)
    outline = np.count_nonzero(solid[1:] != solid[:-1])
    outline += np.count_nonzero(solid[:, 1:] != solid[:, :-1])
    return 2 * float(img.sum()) / max(outline, 1)


def _scale(img, scale):
    """Resize a float image in [0, 1] by `scale` (see _resize)."""
    return np.clip(np.asarray(_resize(Image.fromarray(img), scale)), 0, 1)


# --- 5: placed in 28x28, centred by mass --------------------------------------------------------
def _centre_by_mass(digit):
    """Place the digit in a 28x28 image, its centre of mass on MNIST's (a whole-pixel shift)."""
    h, w = digit.shape
    mass = max(float(digit.sum()), 1e-6)
    cy = (digit.sum(axis=1) @ np.arange(h)) / mass
    cx = (digit.sum(axis=0) @ np.arange(w)) / mass
    top = int(np.clip(np.floor(CENTRE - cy + 0.5), 0, SIZE - h))
    left = int(np.clip(np.floor(CENTRE - cx + 0.5), 0, SIZE - w))
    out = np.zeros((SIZE, SIZE), np.float32)
    out[top : top + h, left : left + w] = digit
    return out
