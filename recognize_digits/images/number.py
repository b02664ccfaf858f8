"""Reading a number: the digits written in one image, left to right. infer.py and serve.py both
read images this way.

    images, places = digit_inputs("42.png")   # float32 [n, 1, 28, 28], and where each one is
    result = reading("42.png", predictor(images), places, inputs=images)
    # {"path": "42.png", "number": "42", "probability": 0.96, "sure": True, "digits": [...], ...}

The image's ink is found once, as for a single digit (preprocess.find_ink_in), and split into
places (segment.split_digits), each read as one digit or, if it is wide enough to be digits that
touch, as several cut apart. Every digit of every way is made MNIST-like on its own
(preprocess.fit_digit), and the caller runs all of them through the predictor in one batch; then
each place is read the way whose digits the model is surest of (the product of their
probabilities). An image holding one digit reads as `--digits one` reads any
image: the whole ink as one digit.
"""

from operator import itemgetter

import numpy as np

from recognize_digits.images import sureness
from recognize_digits.images.loading import ImageError, open_image
from recognize_digits.images.preprocess import SIZE, find_ink_in, fit_digit, preprocess
from recognize_digits.images.pieces import TooManyPieces
from recognize_digits.images.segment import split_digits

MAX_DIGITS = 12  # more places than this is not a number (a page of text, a pattern)
DIGITS = ("auto", "one")  # infer.py --digits: read a number, or the whole image as one digit
ONE_DIGIT = [[[None]]]  # the places of an image read as one digit: one way, one digit, no box


def digit_inputs(source, mode="mnist", digits="auto", name=None):
    """One image file -> (model inputs float32 [n, 1, 28, 28] in [-1, 1], places).

    `places` says what the inputs are, in order: for each place in the number, the ways to read
    it, each a list of its digits' boxes ([left, top, right, bottom] in the image's pixels,
    right and bottom exclusive). `digits` "one", or the chapter's preprocessing (`mode` "book"),
    read the whole image as one digit. ImageError when the image cannot be read, holds no digit,
    or holds ink that belongs to no digit.
    """
    if digits == "one" or mode == "book":
        return preprocess(source, mode, name), ONE_DIGIT
    if digits != "auto":
        raise ValueError(f"unknown digits {digits!r}: use one of {DIGITS}")
    name = name or source
    grey = open_image(source, name)
    ink = find_ink_in(np.asarray(grey), name)
    try:
        found, unplaced = split_digits(ink)
    except TooManyPieces as err:
        raise _too_many(name, err.count) from None
    if len(found) > MAX_DIGITS:
        raise _too_many(name, len(found))
    if unplaced:
        raise ImageError(f"{name} holds ink that is no digit and belongs to none (around "
                         f"{_where(unplaced[0], ink, grey)}): crop the image to the number, "
                         f"or pass --digits one to read it as one digit.")
    images, places = [], []
    for ways in found:
        for way in ways:
            images += [_mnist_like(ink, digit, whole=len(found) == 1 and len(way) == 1)
                       for digit in way]
        places.append([[_in_image(digit.box, ink, grey) for digit in way] for way in ways])
    inputs = (np.stack(images) * 2.0 - 1.0).reshape(-1, 1, SIZE, SIZE).astype(np.float32)
    return inputs, places


def _too_many(name, count):
    return ImageError(f"{name} holds {count} pieces of ink, too many for a number (at most "
                      f"{MAX_DIGITS} digits): crop the image to the number.")


def _mnist_like(ink, digit, whole):
    """One digit of the ink as the model's input; `whole`: the image holds only this digit, so
    all its ink is read, exactly as --digits one reads it."""
    return fit_digit(ink if whole else digit.ink_in(ink))


def _in_image(box, ink, grey):
    """A box on the ink (the image shrunk to at most WORK_PIXELS) -> in the file's own pixels.

    open_image may have decoded a large JPEG at a fraction of its size: it records the factor.
    """
    factor = grey.info.get("scale", 1) * grey.width / ink.shape[1]
    left, top, right, bottom = box
    return [int(np.floor(left * factor)), int(np.floor(top * factor)),
            int(np.ceil(right * factor)), int(np.ceil(bottom * factor))]


def _where(piece, ink, grey):
    left, top, right, bottom = _in_image(piece.box, ink, grey)
    return f"x {left}-{right}, y {top}-{bottom}"


def reading(path, probabilities, places, top_k=1, inputs=None):
    """One image's result as a JSON-ready dict, from digit_inputs' places and the model's
    probabilities [n, 10] for its inputs (`inputs`, to judge whether each digit looks like one:
    sureness.py; None, the probability alone).

    One digit: prediction's dict (path, label, probability, top_k) and sure (whether the reader
    is sure of it, sureness.sure).
    Several: path; number, a string (so that "042" keeps its 0); probability, that every digit
    is read right (the product); top_k, the `top_k` likeliest numbers; sure, whether every digit
    is; digits, for each digit its label, probability, top_k, sure and box. label is None (the
    image holds no single digit).
    """
    picked = chosen(probabilities, places)
    indices = [i for i, _ in picked]
    sure = sureness.sure(probabilities[indices], None if inputs is None else inputs[indices])
    if len(picked) == 1:
        return {**prediction(path, probabilities[picked[0][0]], top_k), "sure": bool(sure[0])}
    digits = [{**_digit(probabilities[i], box, top_k), "sure": bool(one_sure)}
              for (i, box), one_sure in zip(picked, sure)]
    likeliest = likeliest_numbers([probabilities[i] for i, _ in picked], top_k)
    return {"path": path, "label": None, "probability": likeliest[0]["probability"],
            "top_k": likeliest, "number": likeliest[0]["number"], "sure": bool(sure.all()),
            "digits": digits}


def chosen(probabilities, places):
    """The digits read, left to right, as (index into the inputs, box): at each place, the way
    whose digits the model is surest of, all together (the product of their top probabilities);
    on a tie, the way with fewer digits (it comes first)."""
    picked, start = [], 0
    for ways in places:
        best, best_sureness = None, -1.0
        for way in ways:
            sureness = float(np.prod(probabilities[start : start + len(way)].max(axis=1)))
            if sureness > best_sureness:
                best, best_sureness = list(zip(range(start, start + len(way)), way)), sureness
            start += len(way)
        picked += best
    return picked


def _digit(probabilities, box, top_k):
    """One digit of a number: label, probability, top_k (as prediction gives them), box."""
    fields = prediction(None, probabilities, top_k)
    del fields["path"]
    return {**fields, "box": box}


def likeliest_numbers(probabilities, k):
    """The k likeliest readings of the whole number, likeliest first, the digits read each on
    its own: [{"number": "42", "probability": p}, ...]. Each digit's k best suffice: a reading
    using another digit is less likely than k readings that do not."""
    best = [("", 1.0)]
    for p in probabilities:
        top = np.argsort(-np.asarray(p), kind="stable")[:k]
        grown = [(number + str(d), q * float(p[d])) for number, q in best for d in top]
        best = sorted(grown, key=itemgetter(1), reverse=True)[:k]
    return [{"number": number, "probability": round(q, 6)} for number, q in best]


def prediction(path, probabilities, top_k=1):
    """One image's result as a JSON-ready dict: `infer.py --json` prints it, POST /predict sends it.

    Fields: path, label (the most likely digit), probability, and top_k (the `top_k` most likely
    digits with their probabilities, most likely first). Probabilities are rounded to 6 places.
    """
    top = np.argsort(-np.asarray(probabilities), kind="stable")[:top_k]
    ranked = [{"label": int(d), "probability": round(float(probabilities[d]), 6)} for d in top]
    return {"path": path, "label": ranked[0]["label"], "probability": ranked[0]["probability"],
            "top_k": ranked}
