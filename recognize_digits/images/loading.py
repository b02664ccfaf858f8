"""Reading a user's image file: any format Pillow knows -> 8-bit grey, or one clear ImageError.

A source is a path, or a binary file object (an upload's bytes in `io.BytesIO`); `name` says
what to call it in error messages when it is not a path. Every way a file can be wrong (missing,
empty, not an image, damaged, truncated, a "decompression bomb") becomes an ImageError naming the
file in one line, never another exception. `open_image` is what `preprocess.to_mnist` starts
from; `load_image` is the chapter's own function.
"""

import io
import os
import sys
import warnings

import numpy as np
from PIL import Image, ImageOps

from recognize_digits import RecognizeDigitsError, first_line, special_file

MAX_PIXELS = 50_000_000  # refuse larger images unread: a "decompression bomb" can fill the memory
MAX_PIPED_BYTES = 100_000_000  # an image piped in (`-`) is read whole first: at most this much
STANDARD_INPUT = ("-", "/dev/stdin")  # paths that mean "the image piped in"
# Formats Pillow decodes with a program of its own, which may not be installed.
OUTSIDE_PROGRAMS = {"EPS": "Ghostscript (gs)"}
WORK_SIDE = 512  # larger images are shrunk (area average) first to 512x512 pixels' worth (a strip
WORK_PIXELS = WORK_SIDE * WORK_SIDE  # keeps its height: 20000x200 -> 5120x51): plenty for 20x20
# A colour channel is taken for grey where it spreads at least twice as far as luminance (the ink
# far from the paper in it, close in grey); the spreads are measured on ~256x256 pixels of it.
COLOUR_INK, COLOUR_SAMPLE = 0.5, 256 * 256


class ImageError(RecognizeDigitsError):
    """An image file that cannot be read, or that shows no digit."""


def open_image(source, name=None):
    """The image in `source` as 8-bit grey (mode "L"), the right way up, on white where transparent.

    EXIF orientation is applied (phones store photos sideways with a tag saying so), the first
    frame of an animation is used, transparent parts are laid on white paper (or on black when the
    drawing itself is white, so that it does not vanish), 16-bit grey is scaled to 8 bits by the
    range its bits use (12-bit data: 0..4095). A large
    JPEG comes back smaller (by 2, 4 or 8), but no smaller than WORK_SIDE pixels.
    """
    name = name or source
    with _open(source, name) as im:
        return _decoding(name, _upright_grey, im)


def load_image(source, name=None):
    """The chapter's load_image, unchanged: grey, squeezed to 28x28, scaled to [-1, 1].

    Returns float32 [1, 1, 28, 28]. (The chapter's Image.ANTIALIAS is LANCZOS: renamed, Pillow 10.)
    """
    name = name or source
    with _open(source, name) as im:
        x = _decoding(name, _book_28x28, im)
    return x / 255.0 * 2.0 - 1.0


def _upright_grey(im):
    # A large JPEG is decoded at 1/2, 1/4 or 1/8 scale straight away (no smaller than WORK_SIDE,
    # what to_mnist works on): several times faster, for the same digit.
    full_width = im.width
    im.draft(None, (WORK_SIDE, WORK_SIDE))
    im.load()
    try:
        upright = ImageOps.exif_transpose(im)
    except Exception:  # a damaged EXIF block: the picture itself is still good
        upright = im
    grey = _to_grey(upright)
    # By how much the draft shrank it: number.py gives the digits' boxes in the file's pixels.
    grey.info["scale"] = full_width / im.width
    return grey


def _book_28x28(im):
    grey = im.convert("L").resize((28, 28), Image.Resampling.LANCZOS)
    return np.array(grey).reshape(1, 1, 28, 28).astype(np.float32)


def _open(source, name):
    """Image.open, with every failure (missing, empty, not an image, too big) as an ImageError.

    A path is checked to be a regular file first (a FIFO would wait for a writer, a device may
    never end); `-` and `/dev/stdin` read the image piped in.
    """
    try:
        if source in STANDARD_INPUT:
            source = _read_standard_input(name)
        elif isinstance(source, (str, bytes, os.PathLike)) and (kind := special_file(source)):
            raise ImageError(f"{name} is {kind}, not an image file.")
        if _is_empty(source):
            raise ImageError(f"{name} is empty (0 bytes), not an image.")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's remarks on odd files (see _decoding)...
            # ...but between 89 and 179 Mpixel it only warns of a bomb: that is an error here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(source)  # reads the header only: the size is known before decoding
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError(f"{name} does not exist.") from None
    except IsADirectoryError:
        raise ImageError(f"{name} is a folder, not an image file.") from None
    except PermissionError:
        raise ImageError(f"{name} cannot be read (permission denied).") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{name} is too large to be a digit (over {MAX_PIXELS:,} pixels).") \
            from None
    except Exception as err:  # UnidentifiedImageError, and whatever a broken header raises
        raise ImageError(f"{name} is not an image Pillow can read ({first_line(err)}).") from None
    if im.width * im.height > MAX_PIXELS:
        im.close()
        raise ImageError(
            f"{name} is too large to be a digit ({im.width}x{im.height} pixels, more than "
            f"{MAX_PIXELS:,}); shrink it first."
        )
    return im


def _read_standard_input(name):
    """The image piped into standard input, as a file object; ImageError if there is none."""
    if sys.stdin is None or sys.stdin.isatty():
        raise ImageError(f"{name} means an image piped in, but standard input is "
                         f"{'closed' if sys.stdin is None else 'a terminal'}: pipe one in "
                         f"(cat photo.png | python infer.py -).")
    data = sys.stdin.buffer.read(MAX_PIPED_BYTES + 1)
    if len(data) > MAX_PIPED_BYTES:
        raise ImageError(f"{name}: the data piped in is over {MAX_PIPED_BYTES:,} bytes, too much "
                         f"for an image of a digit.")
    return io.BytesIO(data)


def _is_empty(source):
    """Whether the file at path `source`, or what is left to read in file object `source`, is
    0 bytes. (A file object that cannot seek counts as not empty: Pillow then says what it is.)"""
    if isinstance(source, (str, bytes, os.PathLike)):
        return os.path.getsize(source) == 0
    if not source.seekable():
        return False
    start = source.tell()
    end = source.seek(0, os.SEEK_END)
    source.seek(start)
    return end == start


def _decoding(name, decode, im):
    """`decode(im)`; Pillow's errors on a bad file become an ImageError naming `name`.

    Pillow's warnings on a damaged file ("Corrupt EXIF data", "Truncated File Read") are silenced:
    the user gets a digit or a one-line error, either of which says enough.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return decode(im)
    except ImageError:
        raise
    except Exception as err:  # OSError "image file is truncated", SyntaxError, ValueError, ...
        if im.format in OUTSIDE_PROGRAMS:
            raise ImageError(f"{name} is an {im.format} file, which Pillow reads with "
                             f"{OUTSIDE_PROGRAMS[im.format]} ({first_line(err)}): install it, or "
                             f"save the image as PNG first.") from None
        raise ImageError(f"{name} is damaged or truncated ({first_line(err)}).") from None


def _to_grey(im):
    """Any Pillow image -> mode "L"."""
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        # Scaled by the bits the data uses: 12-bit data (a camera's, a scanner's) stored in 16
        # bits is 0..4095, which divided by 257 is 16 grey levels, a blank image.
        a = np.asarray(im, dtype=np.float32)
        top = 2.0 ** max(8, int(np.ceil(np.log2(float(a.max()) + 1)))) - 1 if a.size else 255
        return Image.fromarray((a * (255 / top)).round().astype(np.uint8))
    if im.mode in ("I", "F"):  # 32-bit: no fixed range, so stretch what is there to 0..255
        a = np.asarray(im, dtype=np.float64)
        finite = np.isfinite(a)  # a float TIFF may hold NaN or infinite pixels: no data there
        a = np.where(finite, a, np.median(a[finite]) if finite.any() else 0)
        span = a.max() - a.min() if a.size else 0
        a = (a - a.min()) / span * 255 if span > 0 else np.zeros_like(a)
        return Image.fromarray(a.round().astype(np.uint8))
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        on_white = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("L")
        lo, hi = on_white.getextrema()
        alpha_lo, alpha_hi = rgba.getchannel("A").getextrema()
        if hi - lo < 16 and alpha_hi - alpha_lo >= 16:  # white ink on transparency: use black paper
            return Image.alpha_composite(Image.new("RGBA", rgba.size, "black"), rgba).convert("L")
        return on_white
    if im.mode in ("L", "1"):
        return im.convert("L")
    return _clearest_grey(im.convert("RGB"))  # P, CMYK, YCbCr, LAB, HSV: through RGB to be safe


def _clearest_grey(rgb):
    """An RGB image as grey: its luminance, or the colour channel that shows the ink most where
    luminance hides it (blue ink on grey paper is little darker than the paper in grey, but far
    apart in red or blue): the spread of the values (1st to 99th percentile) stands for the ink's
    contrast."""
    grey = rgb.convert("L")
    step = max(1, int((rgb.width * rgb.height / COLOUR_SAMPLE) ** 0.5))
    a = np.asarray(rgb)[::step, ::step]
    channels = [np.asarray(grey)[::step, ::step]] + [a[..., c] for c in range(3)]
    spreads = [float(np.subtract(*np.percentile(c, [99, 1]))) for c in channels]
    best = int(np.argmax(spreads))
    if spreads[0] >= COLOUR_INK * spreads[best]:
        return grey
    return rgb.getchannel(best - 1)
