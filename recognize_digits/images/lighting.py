"""The paper's light taken away, and which side is ink: steps 1-2 of ink.find_ink.

    1. flatten the paper: fit a smooth surface to the background, subtract it (uneven lighting);
    2. polarity: try the ink as light, and as dark (inverted); keep the reading where it stands
       out clearly from the paper; no clear ink at all means the image is blank.

Also the two tools the other steps share: Otsu's threshold and a robust least-squares fit.
Only numpy.
"""

import numpy as np

MIN_CONTRAST = 0.05  # ink must differ from the paper by 5% of black-to-white (13 grey levels)...
MIN_SNR = 4.0  # ...and by 4 times the paper's own noise (texture, sensor noise, JPEG artefacts)
# Where no ink passes those, faint ink still counts if it is clean: 2.5% of black-to-white (6 grey
# levels) and 8 times the paper's noise (a small, blurred photo of blue ink on grey paper, which
# is little darker than the paper in grey). Texture or noise split by a threshold is under 3 times.
FAINT_CONTRAST, FAINT_SNR = 0.025, 8.0
# A lighting surface with over 2% of the image more than 15% of black-to-white below it runs above
# the paper: it followed the ink (see _flatten).
BELOW_PAPER, BELOW_PAPER_SHARE = 0.15, 0.02


def separate_ink_from_paper(image):
    """The ink, light on a black background: (ink >= 0, noise level of the paper, ink mask).

    Which side is ink? Both readings are tried (light ink on dark paper, and dark on light,
    inverted). The right one shows ink standing far above the paper's noise, and covers less than
    half of the image (the paper is the majority). Where neither does by MIN_CONTRAST and
    MIN_SNR, faint but clean ink is looked for (FAINT_CONTRAST, FAINT_SNR): what was found before
    is found as before. The mask is None if neither shows any ink.
    """
    if not image.size:
        return None, 0.0, None
    readings = [_reading(candidate) for candidate in (image, 1 - image)]
    for least, snr in ((MIN_CONTRAST, MIN_SNR), (FAINT_CONTRAST, FAINT_SNR)):
        best, clearest = (None, 0.0, None), 0.0
        for ink, noise, mask, contrasts in filter(None, readings):
            for contrast, spread in contrasts:
                clarity = contrast / max(spread, 1e-3)
                if contrast >= max(least, snr * spread) and clarity > clearest:
                    best, clearest = (ink, noise, mask), clarity
        if best[2] is not None:
            break  # the faint ink is looked for only where no clear ink is
    return best


def _reading(candidate):
    """`candidate` read with its ink light: (ink, noise, mask, [(contrast, spread) smoothed and
    not]), or None if there is no ink that way round."""
    flat, noise = _flatten(candidate)
    ink = np.clip(flat, 0, None)  # what is lighter than the paper
    if ink.max() <= 0:
        return None
    mask = ink > otsu(ink)
    if not mask.any() or mask.mean() >= 0.5:
        return None
    # Real ink stands out from the paper's texture and noise; the texture split in two by a
    # threshold does not. Measured over 3x3 pixels (a photo's noise averages out) and pixel by
    # pixel (the 1-pixel lines of a small drawing, which a 3x3 mean blurs into the paper).
    return ink, noise, mask, [_contrast(flat, smooth) for smooth in (True, False)]


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
    # The statistics need no more than 128x128 of them (a long strip keeps its rows).
    step = max(1, int((flat.size / 128**2) ** 0.5))
    flat = flat[::step, ::step]
    ink = np.clip(flat, 0, None)
    if ink.max() <= 0:
        return 0.0, 1.0
    mask = ink > otsu(ink)
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
    centres = np.meshgrid(coords(h, bh / 2 - 0.5, bh, g), coords(w, bw / 2 - 0.5, bw, g),
                          indexing="ij")
    coef, _ = robust_fit(_quadratic(*centres), paper, start)

    step = max(1, min(max(h, w), 4 * min(h, w)) // 64)  # (a long strip: by its height)
    grid = np.meshgrid(coords(h, 0, step), coords(w, 0, step), indexing="ij")
    coef, noise = robust_fit(_quadratic(*grid), image[::step, ::step].ravel(), coef)

    y, x = coords(h).astype(np.float32)[:, None], coords(w).astype(np.float32)[None, :]
    c = coef.astype(np.float32)  # the surface, term by term: 1, x, y, x*x, x*y, y*y
    background = (c[0] + c[2] * y + c[5] * y * y) + (c[1] + c[4] * y) * x + c[3] * x * x
    flat = image - background
    if np.mean(flat < -BELOW_PAPER) > BELOW_PAPER_SHARE:
        return _even_paper(image)
    return flat, noise


def _even_paper(image):
    """(image - paper, noise level of the paper) for paper evenly lit: its level is the median of
    the darker side of Otsu's threshold (the ink being light), its noise measured below that."""
    paper = image[image <= otsu(image)] if image.max() > 0 else image.ravel()
    level = float(np.median(paper))
    below = level - paper[paper <= level]
    return image - level, 1.4826 * float(np.median(below))


def coords(n, first=0.0, step=1, count=None):
    """Positions first, first + step, ... (`count` of them, or up to n) of n pixels, as -1..1."""
    count = len(range(0, n, step)) if count is None else count
    return (first + step * np.arange(count)) * 2 / max(n - 1, 1) - 1


def _quadratic(y, x):
    """The six terms of a quadratic surface at the points (y, x): [N, 6]."""
    y, x = y.ravel(), x.ravel()
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1)


def robust_fit(basis, values, coef):
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


def otsu(values):
    """Otsu's threshold: the level that best splits `values` into two classes (ink and paper)."""
    top = float(values.max())
    # A 256-level histogram (values below 0, as a desk covered with paper's grain can leave
    # beside black, go in the first bin).
    bins = np.clip((values * (256 / top)).astype(np.int64), 0, 255)
    p = np.bincount(bins.ravel(), minlength=256) / bins.size
    level = (np.arange(256) + 0.5) * top / 256
    w0 = np.cumsum(p)  # weight and summed level of the class below each possible threshold
    m0 = np.cumsum(p * level)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (m0[-1] * w0 - m0) ** 2 / (w0 * (1 - w0))  # Otsu's between-class variance
    return (np.nanargmax(np.nan_to_num(between, nan=-1.0)) + 1) * top / 256
