"""Telling the ink from the paper: `find_ink`, steps 0-3 of preprocess.to_mnist.

A photo of a digit is ink on paper under uneven light, with the paper's texture, perhaps ruled
lines, specks of dust, and the desk beyond the sheet's edge; a drawing is clean, but either
polarity. `find_ink` keeps only the ink, as light on black (MNIST's way round), scaled so that the
ink is 1 and the paper 0:

    0. the desk, where the photo takes it in beyond the sheet's edge, is covered with paper
       (desk.py);
    1. flatten the paper: fit a smooth surface to the background, subtract it (uneven lighting);
    2. polarity: try the ink as light, and as dark (inverted); keep the reading where it stands
       out clearly from the paper; no clear ink at all means the image is blank (lighting.py);
    3. find the ink (Otsu's threshold); drop ruled lines (lines.py) and specks (here).

It works on the whole image, whether it holds one digit or a number (segment.py splits that).
Only numpy.
"""

import numpy as np

from recognize_digits.images import morphology
from recognize_digits.images.desk import cover_desk
from recognize_digits.images.frames import inside_frame
from recognize_digits.images.lighting import MIN_CONTRAST, separate_ink_from_paper
from recognize_digits.images.lines import KEEP_BLOB, ruled_lines

MIN_DIGIT = 0.025  # a digit smaller than 2.5% of the image (its long side; a strip's short
# side) is a speck of dust, not a digit (a 150-pixel digit in a 4000x3000 photo is 3.75%)...
MIN_DIGIT_PIXELS = 6  # ...and so is one less than 6 pixels tall and wide: it cannot be read
INK_PERCENTILE = 50  # the ink is scaled so that this percentile of it is full white (1.0)
FRAMES_INSIDE = 2  # a digit in a frame in a frame is read; deeper, as it is
BLOB_CELLS = 64  # blobs are found on a grid of at most 64x64 cells: pieces closer than a cell join


def find_ink(image):
    """The ink of a grey image (float, [0, 1]) as white on black: float32 in [0, 1], 0 off the
    ink; None if there is no ink (the image is blank)."""
    image = cover_desk(image)  # a photo that takes in the desk beyond the sheet's edge
    return _ink_within(image, FRAMES_INSIDE)


def _ink_within(image, frames):
    """find_ink on `image`, or inside the frame around its digit (frames.py), up to `frames`
    frames deep (a figure's tile in a box...)."""
    window = inside_frame(image) if frames else None
    if window is not None:
        inner = _ink_within(image[window], frames - 1)
        if inner is not None:
            soft = np.zeros(image.shape, np.float32)
            soft[window] = inner
            return soft
    ink, noise, mask = separate_ink_from_paper(image)  # 1-2: flatten the lighting, polarity
    return _find_digit(ink, noise, mask)  # 3: Otsu's ink, no ruled lines, no specks


def crop(img):
    """The smallest rectangle of `img` holding all its non-zero pixels."""
    rows, cols = np.flatnonzero(img.any(axis=1)), np.flatnonzero(img.any(axis=0))
    return img[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _find_digit(ink, noise, mask):
    """The digit's ink as a soft image in [0, 1] (0 off the digit), or None if there is none."""
    if mask is None:
        return None
    # Ruled lines are often fainter than the ink, and only partly above the threshold: look for
    # them among all that stands out of the paper's noise. That fainter ink also holds the
    # digit's pieces together (see _digit_region).
    faint = ink > max(3 * noise, MIN_CONTRAST / 2)
    lines = ruled_lines(faint, mask)
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
    side = min(max(ink.shape), 4 * min(ink.shape))  # a strip of digits: by their height
    if not soft.any() or max(crop(soft).shape) < max(MIN_DIGIT * side, MIN_DIGIT_PIXELS):
        return None
    return soft.astype(np.float32)


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
    c = max(1, -(-min(max(h, w), 4 * min(h, w)) // BLOB_CELLS))  # cell side (a strip: by height)
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
    # Back to pixels: the ink of the kept blobs, and the faint anti-aliased edge of its strokes,
    # below the threshold but part of them: one pixel all round at MNIST's scale (a stroke 2
    # pixels wide); on a digit shown larger (a 28x28 image enlarged ten times, its pixels blocks
    # of 10) the faint ink within half a stroke's width, unless that joins pieces that were apart
    # (two digits of a number, whose edges meet).
    region = np.repeat(np.repeat(cells, c, axis=0), c, axis=1)[:h, :w] & mask
    ring = morphology.dilate(region, morphology.SQUARE)
    edge = round(morphology.stroke_width(region) / 2)
    if edge > 1:
        wider = ring | (morphology.grow_round(region, edge) & faint)
        if morphology.label(wider).max() == morphology.label(ring).max():
            return wider
    return ring
