"""Letters as the reader sees them, to tell a letter from a digit (sureness.py).

A model trained only on digits reads a letter as the digit nearest in shape, often at 99%: an
R as 8, a T as 7, a y as 4. Seen beside MNIST's digits, such a letter is no further from its
digit's than a careless digit is. Beside letters, it is nearer to one of them. `letter_images`
draws the letters in the fonts matplotlib brings along (DejaVu, STIX, Computer Modern: upright,
bold, italic, serif, sans, typewriter), each a few times, turned and slanted a little at random,
and makes them MNIST-like as the reader makes a digit (its ink at full strength, its strokes to
MNIST's width, fitted to 20x20, centred by mass). Letters a digit is written as are left out:
O, o and D (0), I, l, i and j (1), Z and z (2), S and s (5), b (6), B (8), g and q (9).
`typed_digits` draws the digits the same way: a typed digit is often further from MNIST's
handwritten ones than a letter is, but it lies nearest a typed digit of its kind.
Only Pillow and numpy; the fonts are found without importing matplotlib.
"""

import glob
import importlib.util
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from recognize_digits.images.preprocess import fit_digit

LIKE_DIGITS = "OoDIlijZzSsbBgq"
LETTERS = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in LIKE_DIGITS]
FONTS = ("DejaVuSans*.ttf", "DejaVuSerif*.ttf", "STIXGeneral*.ttf", "cm[brt]*10.ttf", "cmss10.ttf")
VARIANTS = 4  # each letter drawn 4 times in each font...
MAX_TURN, MAX_SLANT = 10.0, 0.25  # ...turned by up to 10 degrees, slanted by up to a quarter
SIZES = (30, 60)  # font sizes (pixels): large enough for the shape, small enough to be quick


def font_files():
    """The TrueType fonts matplotlib ships (mpl-data/fonts/ttf), [] where there are none."""
    try:
        spec = importlib.util.find_spec("matplotlib")
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = os.path.join(next(iter(spec.submodule_search_locations)), "mpl-data", "fonts", "ttf")
    return sorted(f for pattern in FONTS for f in glob.glob(os.path.join(folder, pattern))
                  if "Display" not in f)


def letter_images(seed=0):
    """The letters, MNIST-like: uint8 [n, 28, 28] (0 paper, 255 ink); none without the fonts
    (then no digit is ever nearer a letter: sureness.py decides as it did before)."""
    return drawn_in_fonts(LETTERS, seed)[0]


def typed_digits(seed=0):
    """The digits 0-9 as typed, MNIST-like: (uint8 [n, 28, 28], each one's digit [n]); none
    without the fonts."""
    images, characters = drawn_in_fonts("0123456789", seed)
    return images, np.array([int(c) for c in characters], np.uint8)


def drawn_in_fonts(characters, seed=0):
    """Each of `characters` drawn VARIANTS times in each font, MNIST-like: (uint8 [n, 28, 28],
    the character each one is [n])."""
    rng = np.random.default_rng(seed)
    out, drawn = [], []
    for path in font_files():
        for character in characters:
            for _ in range(VARIANTS):
                ink = _drawn(character, path, rng)
                if ink is not None:
                    out.append(np.round(fit_digit(ink) * 255).astype(np.uint8))
                    drawn.append(character)
    return (np.stack(out) if out else np.zeros((0, 28, 28), np.uint8)), drawn


def _drawn(letter, path, rng):
    """`letter` (any character) in the font at `path`, turned and slanted at random: its ink in
    [0, 1], white on black, at full strength as the reader scales ink (lighting.py); None if the
    font lacks it."""
    try:
        font = ImageFont.truetype(path, int(rng.integers(*SIZES)))
    except (OSError, ImportError):  # an unreadable font; a Pillow built without FreeType
        return None
    left, top, right, bottom = font.getbbox(letter)
    if right <= left or bottom <= top:
        return None
    image = Image.new("L", (right - left + 20, bottom - top + 20), 0)
    ImageDraw.Draw(image).text((10 - left, 10 - top), letter, fill=255, font=font)
    image = image.rotate(rng.uniform(-MAX_TURN, MAX_TURN), Image.Resampling.BILINEAR, expand=True)
    slant = rng.uniform(-MAX_SLANT, MAX_SLANT)
    image = image.transform(image.size, Image.Transform.AFFINE,
                            (1, slant, -slant * image.height / 2, 0, 1, 0),
                            Image.Resampling.BILINEAR)
    ink = np.asarray(image, np.float32) / 255
    solid = ink > 0.5
    if not solid.any():
        return None
    # The reader scales the ink so that its typical stroke is full strength (ink.py); the faint
    # anti-aliased edge stays faint.
    return np.clip(ink / np.median(ink[solid]), 0, 1) * (ink > 0.05)
