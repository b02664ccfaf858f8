"""Whether the reader is sure of a digit (`sure`), or should say "not sure" and give its guess.

The model names a digit for anything it is shown, a letter, a star, a scribble, often with a
probability near 100%: the probability alone tells little. What tells more is whether the ink,
made MNIST-like, looks like the digit named at all. For each digit, digit_shapes.npz holds the
mean of MNIST's training images of it and the 20 directions in which they vary most (principal
components; bench/digit_shapes.py makes it). An image of that digit is close to the flat space
these span; a letter or a shape is far from it. `distance` is how far (the root of the squared
difference left after the best fit), measured in units of the distance that 99% of MNIST's
training digits (others than those fitted) stay within. A digit is sure when

    - the model gives it at least SURE_P, and
    - it lies within SURE_DISTANCE of its digit's space.

Both chosen on data: the 60 real digits, MNIST's test digits and 62 images with no digit
(docs/real_digits.md, "Not sure"). Only numpy.
"""

import os

import numpy as np

SHAPES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digit_shapes.npz")
SURE_P = 0.9
SURE_DISTANCE = 0.95
_shapes = None


def distance(images, mean, components):
    """How far each image (rows of [n, 784] in [0, 1]) lies from the space of `components`
    [k, 784] around `mean` [784]: the root of the sum of squares of what the best fit leaves."""
    centred = np.asarray(images, np.float32) - mean.astype(np.float32)
    basis = components.astype(np.float32)
    left = centred - (centred @ basis.T) @ basis
    return np.sqrt((left * left).sum(axis=1))


def shape_distances(inputs, labels):
    """Model inputs [n, 1, 28, 28] in [-1, 1] and the digits named -> each one's distance from
    its digit's space, in units of the distance 99% of MNIST's own stay within."""
    global _shapes
    if _shapes is None:
        with np.load(SHAPES) as npz:
            _shapes = {key: npz[key] for key in ("mean", "components", "limit")}
    images = (np.asarray(inputs, np.float32).reshape(len(inputs), -1) + 1) / 2
    out = np.empty(len(images), np.float32)
    for i, (image, label) in enumerate(zip(images, labels)):
        out[i] = distance(image[None], _shapes["mean"][label], _shapes["components"][label])[0] \
            / _shapes["limit"][label]
    return out


def sure(probabilities, inputs):
    """Whether each digit read is sure: `probabilities` [n, 10] the model's, `inputs`
    [n, 1, 28, 28] what it read (None: the probability alone decides)."""
    probabilities = np.asarray(probabilities)
    labels = probabilities.argmax(axis=1)
    confident = probabilities.max(axis=1) >= SURE_P
    if inputs is None:
        return confident
    return confident & (shape_distances(inputs, labels) <= SURE_DISTANCE)
