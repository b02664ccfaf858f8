"""The chapter's readers: a seeded shuffle per epoch, batches, and batches made ahead."""

import numpy as np
import pytest

from recognize_digits import readers


def test_epoch_permutation_is_seeded_and_differs_by_epoch():
    a = readers.epoch_permutation(1000, seed=1, epoch=0)
    assert sorted(a) == list(range(1000))
    np.testing.assert_array_equal(a, readers.epoch_permutation(1000, seed=1, epoch=0))
    assert not np.array_equal(a, readers.epoch_permutation(1000, seed=1, epoch=1))
    assert not np.array_equal(a, readers.epoch_permutation(1000, seed=2, epoch=0))


def test_batches_cover_everything_once_last_short():
    images = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1)
    labels = np.arange(10)
    order = readers.epoch_permutation(10, 0, 0)
    got = list(readers.batches(images, labels, 4, order))
    assert [len(y) for _, y in got] == [4, 4, 2]
    seen = np.concatenate([y for _, y in got])
    np.testing.assert_array_equal(seen, order)
    for x, y in got:
        np.testing.assert_array_equal(x[:, 0, 0, 0], y)


def one_then_an_error():
    yield 1
    raise ValueError("bad batch")


def test_prefetch_yields_every_item_in_order_and_passes_on_an_error():
    assert list(readers.prefetch(iter(range(100)), depth=2)) == list(range(100))
    got = readers.prefetch(one_then_an_error())
    assert next(got) == 1
    with pytest.raises(ValueError, match="bad batch"):
        next(got)
