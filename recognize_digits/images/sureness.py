"""Whether the reader is sure of a digit (`sure`), or should say "not sure" and give its guess.

The model names a digit for anything it is shown, a letter, a star, a scribble, often with a
probability near 100%: the probability alone tells little. What tells more is whether the ink,
made MNIST-like, looks like the digit named at all. For each digit, `digit_shapes` finds the
mean of its first 4,000 MNIST training images and the 20 directions in which they vary most
(principal components), once, and keeps them in Paddle's cache (digit_shapes.npz, 2.7 MB,
made in a few seconds from the MNIST files train.py used). An image of that digit is close to
the flat space these span; a letter or a shape is far from it. `distance` is how far (the root
of the squared difference left after the best fit), measured in units of the distance that 99%
of MNIST's training digits (others than those fitted) stay within. A letter can lie as close:
an R to the 8s, a T to the 7s. It lies closer still to a letter, though: letters.py draws them
in matplotlib's fonts, and the same file keeps them, with the first REFERENCE MNIST training
images of each digit to compare them with. A typed digit, a 1 with a foot or a bold serif 4,
can lie as far from MNIST's handwritten ones as a letter, but it lies nearest a digit of its
kind typed in those fonts (letters.py draws them too). A digit is sure when the model gives it
at least SURE_P, and either

    - it lies within SURE_DISTANCE of its digit's space, and no letter is nearer to it than
      LETTER_NEARER times the nearest of those digits of its kind (nearer: the root of the sum
      of squared differences, pixel by pixel), or
    - a typed digit of its kind lies nearer to it than TYPED_NEAR, and nearer than any letter.

All chosen on data: the 60 real digits, MNIST's test digits, digits typed in fonts that are
none of matplotlib's, and images with no digit (docs/real_digits.md, "Not sure"). Where MNIST
cannot be found (no train.py run, no MNIST_DIR), the probability alone decides. Only numpy (and
Pillow, to draw the letters and digits).
"""

import contextlib
import functools
import os
import tempfile
import threading
import zipfile
import zlib

import numpy as np

from recognize_digits import data
from recognize_digits.images.letters import letter_images, typed_digits

SURE_P = 0.97  # of MNIST's wrong answers, 22 of 64 were sure at 0.9, 10 at 0.97
SURE_DISTANCE = 0.95
LETTER_NEARER = 0.85
TYPED_NEAR = 5.0
FIT, CHECK, COMPONENTS, PERCENTILE = 4000, 1000, 20, 99
REFERENCE = 1000  # MNIST training images of each digit that a letter's distance is compared with
SHAPES_FILE = "digit_shapes.npz"
KEYS = ("mean", "components", "limit", "digits", "letters", "typed", "typed_digit")
_LOADING = threading.Lock()


def distance(images, mean, components):
    """How far each image (rows of [n, 784] in [0, 1]) lies from the space of `components`
    [k, 784] around `mean` [784]: the root of the sum of squares of what the best fit leaves."""
    centred = np.asarray(images, np.float32) - np.asarray(mean, np.float32)
    basis = np.asarray(components, np.float32)
    left = centred - (centred @ basis.T) @ basis
    return np.sqrt((left * left).sum(axis=1))


def fit_shapes(images, labels):
    """MNIST's training digits (uint8 [N, 28, 28], labels [N]) -> for each digit the mean of
    its first FIT images, their COMPONENTS principal components, the PERCENTILE-th distance
    of the next CHECK images of it from the space these span, and its first REFERENCE images;
    and the letters and typed digits (letters.py), each a row of 784 pixels."""
    images = images.reshape(len(images), -1)
    means, components, limits, references = [], [], [], []
    for digit in range(10):
        own = images[labels == digit][: FIT + CHECK]
        references.append(own[:REFERENCE])
        own = own.astype(np.float32) / 255  # a digit at a time: not all 60,000 as floats at once
        mean = own[:FIT].mean(axis=0)
        centred = (own[:FIT] - mean).astype(np.float64)
        # The principal components: the covariance's eigenvectors of the largest eigenvalues
        # (the SVD's right singular vectors, found faster from the 784x784 covariance).
        basis = np.linalg.eigh(centred.T @ centred)[1][:, ::-1][:, :COMPONENTS].T
        means.append(mean.astype(np.float16))
        components.append(basis.astype(np.float16))
        left = distance(own[FIT : FIT + CHECK], means[-1], components[-1])
        limits.append(np.percentile(left, PERCENTILE))
    typed, typed_digit = typed_digits()
    return {"mean": np.stack(means), "components": np.stack(components),
            "limit": np.array(limits, np.float32), "digits": np.stack(references),
            "letters": letter_images().reshape(-1, 28 * 28),
            "typed": typed.reshape(-1, 28 * 28), "typed_digit": typed_digit}


def digit_shapes():
    """The shapes of MNIST's digits (fit_shapes), from Paddle's cache, made there on first use
    from the MNIST files (never downloaded for this); None where MNIST cannot be had."""
    with _LOADING:  # a server's threads asking at once: loaded once, not once by each (44 MB)
        return _loaded_shapes()


@functools.cache
def _loaded_shapes():
    path = os.path.join(os.path.dirname(data.cache_dir()), SHAPES_FILE)
    shapes = _read_shapes(path)
    if shapes is None:
        try:
            images, labels = data.load_mnist("train", download=False, raw=True)
        except data.DataError:
            return None
        shapes = fit_shapes(images, labels)
        _write_shapes(path, shapes)
    return _as_floats(shapes)


def _read_shapes(path):
    """digit_shapes.npz as fit_shapes makes it, or None where it is missing, damaged (cut short,
    its bytes changed) or of another version: it is then made again."""
    try:
        with np.load(path) as npz:
            shapes = {key: npz[key] for key in KEYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error):
        return None
    typed = len(shapes["typed"])
    expected = {"mean": (10, 784), "components": (10, COMPONENTS, 784), "limit": (10,),
                "digits": (10, REFERENCE, 784), "letters": (len(shapes["letters"]), 784),
                "typed": (typed, 784), "typed_digit": (typed,)}
    return shapes if all(shapes[key].shape == expected[key] for key in KEYS) else None


def _write_shapes(path, shapes):
    """Written aside and renamed: another process may be reading it. On a read-only or full disk
    nothing is left behind, and the shapes are made again next time."""
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npz")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **shapes)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.remove(tmp)


def _as_floats(shapes):
    """The shapes as the reader compares with them, made once when loaded (44 MB): the space
    of each digit in float32, the reference digits, letters and typed digits (a group for each
    digit) as References. Made on each call instead, each of a server's request threads would
    keep its own such memory (glibc keeps an arena per thread), and its memory would grow with
    the requests."""
    typed = shapes["typed"]
    return dict(shapes, mean=shapes["mean"].astype(np.float32),
                components=shapes["components"].astype(np.float32),
                digits=[References(own) for own in shapes["digits"]],
                letters=References(shapes["letters"]),
                typed=[References(typed[shapes["typed_digit"] == digit]) for digit in range(10)])


class References:
    """Images to compare with: rows [m, 784] in [0, 1] and their squared lengths, both made
    once, so that each comparison is one matrix product."""

    def __init__(self, pixels):
        self.rows = np.asarray(pixels).astype(np.float32) / 255  # uint8 [m, 784]
        self.lengths = np.einsum("ij,ij->i", self.rows, self.rows)

    def __len__(self):
        return len(self.rows)

    def nearest(self, images):
        """The distance from each of `images` [n, 784] in [0, 1] to the nearest of the rows
        (infinite where there are none); nothing as large as the rows is made."""
        if not len(self.rows):
            return np.full(len(images), np.inf, np.float32)
        squared = (self.lengths[None] - 2 * images @ self.rows.T
                   + np.einsum("ij,ij->i", images, images)[:, None])
        return np.sqrt(np.maximum(squared.min(axis=1), 0))


def shape_distances(inputs, labels, shapes):
    """Model inputs [n, 1, 28, 28] in [-1, 1] and the digits named -> each one's distance from
    its digit's space, in units of the distance 99% of MNIST's own stay within."""
    images, labels = _rows(inputs), np.asarray(labels)
    out = np.empty(len(images), np.float32)
    for digit in np.unique(labels):
        own = labels == digit
        out[own] = distance(images[own], shapes["mean"][digit], shapes["components"][digit]) \
            / shapes["limit"][digit]
    return out


def nearer_a_letter(inputs, labels, shapes, to_letter=None):
    """Model inputs [n, 1, 28, 28] in [-1, 1] and the digits named -> whether each lies nearer
    to a letter than LETTER_NEARER times the nearest of the reference digits of its kind.
    `to_letter`: each one's distance to the nearest letter, where already known."""
    images = _rows(inputs)
    if to_letter is None:
        to_letter = shapes["letters"].nearest(images)
    return to_letter < LETTER_NEARER * _nearest_of_kind(images, labels, shapes["digits"])


def like_a_typed_digit(inputs, labels, shapes, to_letter=None):
    """Model inputs [n, 1, 28, 28] in [-1, 1] and the digits named -> whether a typed digit of
    its kind lies nearer to each than TYPED_NEAR, and nearer than any letter (`to_letter` as
    for nearer_a_letter). Without fonts there are neither, and none is."""
    images = _rows(inputs)
    if to_letter is None:
        to_letter = shapes["letters"].nearest(images)
    to_typed = _nearest_of_kind(images, labels, shapes["typed"])
    return (to_typed < TYPED_NEAR) & (to_typed < to_letter)


def _nearest_of_kind(images, labels, kinds):
    """For each of `images` [n, 784], the distance to the nearest of `kinds[label]` (References)."""
    labels = np.asarray(labels)
    out = np.empty(len(images), np.float32)
    for digit in np.unique(labels):
        own = labels == digit
        out[own] = kinds[digit].nearest(images[own])
    return out


def _rows(inputs):
    """Model inputs [n, 1, 28, 28] in [-1, 1] -> [n, 784] in [0, 1], as MNIST's pixels / 255."""
    return (np.asarray(inputs, np.float32).reshape(len(inputs), -1) + 1) / 2


def sure(probabilities, inputs):
    """Whether each digit read is sure: `probabilities` [n, 10] the model's, `inputs`
    [n, 1, 28, 28] what it read (None: the probability alone decides)."""
    probabilities = np.asarray(probabilities)
    labels = probabilities.argmax(axis=1)
    confident = probabilities.max(axis=1) >= SURE_P
    shapes = digit_shapes() if inputs is not None and confident.any() else None
    if shapes is None:
        return confident
    to_letter = shapes["letters"].nearest(_rows(inputs))  # both rules ask
    handwritten = ((shape_distances(inputs, labels, shapes) <= SURE_DISTANCE)
                   & ~nearer_a_letter(inputs, labels, shapes, to_letter))
    return confident & (handwritten | like_a_typed_digit(inputs, labels, shapes, to_letter))
