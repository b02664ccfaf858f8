"""Whether the reader is sure of a digit (images/sureness.py): a letter told from a digit by the
letters of images/letters.py, on MNIST's digits and on letters and digits typed in a font that
is none of those (Pillow's own)."""

import io
import os
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from recognize_digits.images import letters, sureness
from recognize_digits.images.preprocess import preprocess

# Letters a model reads as digits, and the digit it reads (most lie within SURE_DISTANCE of
# that digit's MNIST shapes, and were answered as sure).
READ_AS = {"H": 4, "T": 7, "G": 6, "e": 8, "y": 4, "A": 4, "R": 8, "t": 1}


def typed(text, size=90):
    """`text` typed in Pillow's own font (Aileron, not one of matplotlib's), as the model's input."""
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("L", (right - left + 40, bottom - top + 40), 255)
    ImageDraw.Draw(image).text((20 - left, 20 - top), text, fill=0, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    return preprocess(buffer)


@pytest.fixture(scope="module")
def shapes(mnist_dir):
    found = sureness.digit_shapes()  # made from MNIST's training digits, in Paddle's cache
    assert found is not None and len(found["letters"]) >= 1000
    return found


def test_letters_are_drawn_in_matplotlibs_fonts_mnist_like():
    assert len(letters.font_files()) >= 10
    images = letters.letter_images()
    assert images.shape[1:] == (28, 28) and images.dtype == np.uint8
    assert len(images) >= 10 * len(letters.LETTERS)
    ink = images > 0
    assert ink.any(axis=(1, 2)).all()
    mass = images.sum(axis=(0, 1)).astype(float)  # centred by mass, as MNIST's digits are
    assert abs((mass * np.arange(28)).sum() / mass.sum() - 13.5) < 1
    assert not set(letters.LETTERS) & set(letters.LIKE_DIGITS)


def test_letters_shaped_like_digits_lie_nearer_a_letter(shapes):
    inputs = np.concatenate([typed(letter) for letter in READ_AS])
    nearer = sureness.nearer_a_letter(inputs, list(READ_AS.values()), shapes)
    assert nearer.sum() >= 6, dict(zip(READ_AS, nearer))


def test_digits_lie_nearer_their_own_kind(shapes, mnist_test):
    images, labels = mnist_test
    assert sureness.nearer_a_letter(images[:1000], labels[:1000], shapes).mean() <= 0.01
    digits = np.concatenate([typed(str(digit)) for digit in range(10)])
    assert sureness.nearer_a_letter(digits, range(10), shapes).sum() <= 1


def test_typed_digits_lie_nearest_typed_digits_of_their_kind(shapes):
    # Typed in Pillow's font, none of those letters.py draws in: most are like a typed digit
    # (a 1 with a foot lies further from MNIST's 1s than SURE_DISTANCE); letters are not.
    for size in (40, 90, 150):
        digits = np.concatenate([typed(str(digit), size) for digit in range(10)])
        assert sureness.like_a_typed_digit(digits, range(10), shapes).sum() >= 6, size
    read = np.concatenate([typed(letter) for letter in READ_AS])
    assert not sureness.like_a_typed_digit(read, list(READ_AS.values()), shapes).any()


def test_without_fonts_the_letters_are_left_out(monkeypatch, shapes, mnist_test):
    # A Pillow built without FreeType, or no matplotlib fonts: no letters, and no digit is
    # ever nearer one; the other two rules still decide.
    def no_freetype(*args, **kwargs):
        raise ImportError("The _imagingft C module is not installed")

    monkeypatch.setattr(ImageFont, "truetype", no_freetype)
    none = letters.letter_images()
    assert none.shape == (0, 28, 28)
    typed, typed_digit = letters.typed_digits()
    assert typed.shape == (0, 28, 28) and typed_digit.shape == (0,)
    images, labels = mnist_test
    without = dict(shapes, letters=sureness.References(none.reshape(0, 784)),
                   typed=[sureness.References(typed.reshape(0, 784))] * 10)
    assert not sureness.nearer_a_letter(images[:10], labels[:10], without).any()
    assert not sureness.like_a_typed_digit(images[:10], labels[:10], without).any()


def test_a_cache_written_before_the_letters_is_made_again(monkeypatch, tmp_path, mnist_dir):
    # digit_shapes.npz as the reader wrote it before it kept letters: read, it lacks them, and
    # the shapes are made again from MNIST (MNIST_DIR), letters and all, and written in its place.
    from recognize_digits import data

    monkeypatch.setattr(data, "cache_dir", lambda: str(tmp_path / "dataset" / "mnist"))
    old = tmp_path / "dataset" / sureness.SHAPES_FILE
    old.parent.mkdir(parents=True)
    np.savez(old, mean=np.zeros((10, 784)), components=np.zeros((10, 20, 784)), limit=np.ones(10))
    sureness._loaded_shapes.cache_clear()
    try:
        made = sureness.digit_shapes()
    finally:
        sureness._loaded_shapes.cache_clear()
    assert len(made["letters"]) >= 1000 and len(made["digits"]) == 10
    with np.load(old) as written:
        assert set(written.files) == set(sureness.KEYS)
        assert written["digits"].shape == (10, sureness.REFERENCE, 784)


def test_judging_a_digit_makes_nothing_the_size_of_the_references(shapes, mnist_test):
    # Each of a server's request threads keeps what it allocated (glibc's arena per thread): the
    # 41 MB of reference digits and letters converted on each call made its memory grow by
    # 20-26 MB in 400 requests (tests/test_serve.py), where judging one digit needs under 1 MB.
    images, labels = mnist_test
    probabilities = np.eye(10)[labels[:1]]
    sureness.sure(probabilities, images[:1])
    tracemalloc.start()
    try:
        sureness.sure(probabilities, images[:1])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20, f"{peak / 2**20:.1f} MB made to judge one digit"


def shapes_when(barrier):
    """digit_shapes(), asked by each thread as soon as all are at the barrier."""
    barrier.wait()
    sureness.digit_shapes()


def test_threads_asking_at_once_load_the_shapes_once(monkeypatch, mnist_dir):
    # A server's 20 request threads each loading their own 41 MB held 250-450 MB more after the
    # first 200 requests (bench/serve_load.py).
    loads = []
    monkeypatch.setattr(sureness, "_as_floats", lambda shapes: loads.append(1) or shapes)
    sureness._loaded_shapes.cache_clear()
    start = threading.Barrier(8)
    threads = [threading.Thread(target=shapes_when, args=(start,)) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sureness._loaded_shapes.cache_clear()
    assert len(loads) == 1


def damaged(kind, good, path):
    """A copy of the good digit_shapes.npz at `path`, damaged in the way `kind` names."""
    data = bytearray(good.read_bytes())
    if kind == "cut short":
        data = data[: len(data) // 3]
    elif kind == "bytes changed":
        data[len(data) // 2 : len(data) // 2 + 100] = b"x" * 100
    elif kind == "not a zip":
        data = b"garbage\n"
    elif kind == "other sizes":  # as another version of fit_shapes would write it
        with np.load(good) as npz:
            arrays = {key: npz[key] for key in npz.files}
        np.savez(path, **dict(arrays, digits=arrays["digits"][:, :10]))
        return
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("kind", ["cut short", "bytes changed", "not a zip", "other sizes"])
def test_a_damaged_cache_is_made_again_not_a_traceback(kind, shapes, tmp_path):
    # A damaged file raised zipfile.BadZipFile out of infer.py; now it reads as missing.
    from recognize_digits import data

    good = os.path.join(os.path.dirname(data.cache_dir()), sureness.SHAPES_FILE)
    path = tmp_path / sureness.SHAPES_FILE
    damaged(kind, Path(good), path)
    assert sureness._read_shapes(str(path)) is None
    assert sureness._read_shapes(good) is not None


def test_a_full_disk_leaves_no_part_written_cache(monkeypatch, shapes, tmp_path):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", full)
    sureness._write_shapes(str(tmp_path / sureness.SHAPES_FILE), {"mean": np.zeros(3)})
    assert list(tmp_path.iterdir()) == []
