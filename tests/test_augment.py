"""augment.py: the distortions of the training digits."""

import numpy as np

from recognize_digits.readers import augment, turn_scale_shift


def bar():
    """A white bar on MNIST's background (-1), off the centre: [1, 28, 28]."""
    image = np.full((1, 28, 28), -1.0, np.float32)
    image[0, 5:10, 3:6] = 1.0
    return image


def test_no_turn_no_scale_no_shift_is_the_image_itself():
    assert np.array_equal(turn_scale_shift(bar(), np.zeros(1), np.ones(1), np.zeros((1, 2))), bar())


def test_a_whole_pixel_shift_moves_the_image_right_and_down():
    moved = turn_scale_shift(bar(), np.zeros(1), np.ones(1), np.array([[2.0, 1.0]]))
    expected = np.full((1, 28, 28), -1.0, np.float32)
    expected[0, 6:11, 5:8] = 1.0
    assert np.array_equal(moved, expected)


def test_a_quarter_turn_is_clockwise():
    turned = turn_scale_shift(bar(), np.array([np.pi / 2]), np.ones(1), np.zeros((1, 2)))
    assert np.allclose(turned[0], np.rot90(bar()[0], k=-1), atol=1e-5)


def test_augment_keeps_shape_and_range_and_follows_its_random_generator():
    images = np.repeat(bar()[:, np.newaxis], 8, axis=0)
    first = augment(images, np.random.default_rng(3))
    assert first.shape == images.shape and first.dtype == np.float32
    assert first.min() >= -1.0 and first.max() <= 1.0
    assert np.array_equal(first, augment(images, np.random.default_rng(3)))
    assert not np.array_equal(first[0], first[1])  # each digit distorted its own way
