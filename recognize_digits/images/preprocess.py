"""Making a photo or a drawing of a digit look like an MNIST digit: `to_mnist`, `preprocess`.

A model trained on MNIST has only ever seen digits made one way: a white digit on a black
background, cropped to the digit, scaled to fit a 20x20 box (keeping its aspect ratio), with
anti-aliased strokes about 2 px wide, and placed in a 28x28 image so that its centre of mass is at
the centre. A photo or a drawing of a digit is none of that: dark ink on light paper, off-centre,
thin or thick strokes, uneven lighting, paper texture, ruled lines. The chapter's `load_image` only
resizes the whole image to 28x28; LeNet-5 then reads about 1 in 5 photos of digits on paper
correctly (bench/real_digits.py measures it).

`to_mnist` redoes what the makers of MNIST did, on a user's image:

    0. cover the desk with paper, where the photo takes it in beyond the sheet's edge;
    1. flatten the paper: fit a smooth surface to the background, subtract it (uneven lighting);
    2. polarity: try the ink as light, and as dark (inverted); keep the reading where it stands
       out clearly from the paper; no clear ink at all means the image is blank;
    3. find the ink (Otsu's threshold); drop ruled lines and specks;
       (steps 0-3, telling the ink from the paper, are paper.py's `find_ink`)
    4. crop to the digit, bring its strokes to MNIST's width, scale it to fit 20x20;
    5. place it in 28x28 with its centre of mass at the centre.

MNIST's own digits come through nearly unchanged (bench/real_digits.py checks that the model's
accuracy on them stays put). `preprocess` takes an image file to the model's input, this way or
the chapter's. Only numpy and Pillow.
"""

import numpy as np
from PIL import Image

from recognize_digits.images import morphology
from recognize_digits.images.loading import WORK_PIXELS, ImageError, load_image, open_image
from recognize_digits.images.ink import crop, find_ink

SIZE = 28  # MNIST: 28x28 images...
BOX = 20  # ...holding the digit scaled to fit 20x20, aspect ratio kept...
CENTRE = 14.0  # ...with its centre of mass here (row, column; measured on MNIST: 13.99, 14.01)

# Stroke width once the digit fits the 20x20 box, by `morphology.stroke_width`, on the 60,000
# MNIST training digits: 5th percentile, median, 95th percentile. Digits outside that range are
# brought to the median; digits inside it (nearly all MNIST digits) are left alone.
STROKE_MIN, STROKE_TYPICAL, STROKE_MAX = 1.3, 1.9, 3.0
KEEP_EXTENT = 0.8  # thinning may not take more than a fifth off the digit's height or width


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
    return fit_digit(find_ink_in(grey, source))


def find_ink_in(grey, source="the image"):
    """Steps 1-3 (ink.find_ink) on a grey image [H, W] (uint8): its ink, white on black, in
    [0, 1], on the image shrunk to at most WORK_PIXELS pixels. ImageError if there is none."""
    ink = find_ink(_as_float(grey))
    if ink is None:
        raise ImageError(f"no digit found in {source} (the image is blank).")
    return ink


def fit_digit(ink):
    """Steps 4-5: the ink of one digit (white on black, 0 around it) -> float32 [28, 28]."""
    digit = _fit_box(crop(ink))  # 4: MNIST's stroke width, fitted into 20x20
    return _centre_by_mass(digit)  # 5: centre of mass at (14, 14)


def _as_float(grey):
    """uint8 [H, W] -> float32 in [0, 1], shrunk by area averaging to at most WORK_PIXELS pixels
    (its shape kept: a long strip of digits keeps their height)."""
    grey = np.asarray(grey)
    if grey.ndim != 2:
        raise ValueError(f"to_mnist takes a grey image [H, W], got an array of shape {grey.shape}")
    if grey.size == 0:
        return np.zeros(grey.shape, np.float32)
    im = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))
    if im.width * im.height > WORK_PIXELS:
        im = _resize(im, (WORK_PIXELS / (im.width * im.height)) ** 0.5)
    return np.asarray(im, dtype=np.float32) / 255.0


def _resize(im, scale):
    """Resize a Pillow image by `scale`: area average when shrinking, bilinear when enlarging."""
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    return im.resize(size, method)


# --- 4: cropped, strokes as wide as MNIST's, fitted into 20x20 ----------------------------------
def _fit_box(digit):
    """Scale the cropped digit to fit 20x20, with strokes as wide as MNIST's.

    The stroke width is measured on the crop itself, where a stroke is at least a pixel wide.
    Measured after shrinking to 20x20, the 1-pixel line of a small drawing is a faint smear
    whose width reads anywhere from 0.3 to 3 pixels, depending on where it falls on the grid.
    If the strokes would be too thin or too thick at 20x20 (a fine pen, a fat marker), they are
    grown or shrunk at a finer scale (k times 20x20), measured again there, and the result is
    shrunk to 20x20.
    """
    long_side = max(digit.shape)
    width = max(morphology.stroke_width(digit) * BOX / long_side, 0.01)  # as it would be at 20x20
    if STROKE_MIN <= width <= STROKE_MAX:
        return _scale(digit, BOX / long_side)
    k = int(np.clip(np.ceil(2 / width), 3, 8))  # fine enough that a stroke is 2 px, if possible
    work = _scale(digit, BOX * k / long_side)
    fine_width = max(morphology.stroke_width(work), 0.01)
    if fine_width < 1:  # a stroke thinner than a pixel is a faint line: make it solid first
        work = np.clip(work / fine_width, 0, 1)
        fine_width = morphology.stroke_width(work)
    steps = round((STROKE_TYPICAL * k - fine_width) / 2)  # pixels to add (or remove) each side
    if steps > 0:
        work = morphology.grow_round(np.pad(work, steps), steps)
    elif steps < 0:
        work = _thinned(work, -steps)
    work = crop(work)
    return _scale(work, BOX / max(work.shape))


def _thinned(work, steps):
    """`work` eroded by up to `steps` pixels all round, as far as the digit keeps its extent.

    The strokes thinner than the typical one would vanish first: what little is left of the
    digit, cropped and scaled to 20x20, would come out as a blot.
    """
    height, width = crop(work).shape
    for n in range(steps, 0, -1):
        thinner = morphology.grow_round(work, n, shrink=True)
        if thinner.any():
            h, w = crop(thinner).shape
            if h >= KEEP_EXTENT * height and w >= KEEP_EXTENT * width:
                return thinner
    return work


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
