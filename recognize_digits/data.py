"""MNIST: find, download (md5-checked) and read the four IDX files, as numpy arrays.

The chapter reads MNIST through `paddle.dataset.mnist`, which survives in Paddle 3 only as a
deprecated leftover. Here the four original files are parsed with numpy in one go; `readers` cuts
the arrays into the chapter's shuffled batches.

Where the files are looked for, in order: `data_dir` (the `--data-dir` flag), `$MNIST_DIR`, then
Paddle's own dataset cache `~/.cache/paddle/dataset/mnist` (where `paddle.vision.datasets.MNIST`
keeps them, so an earlier download is reused). Files missing from the cache are downloaded there.
"""

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
import zlib

import numpy as np

from recognize_digits import RecognizeDigitsError, special_file

# Paddle's dataset mirror and the official md5s (the same ones paddle.vision.datasets.MNIST checks).
URL_PREFIX = "https://dataset.bj.bcebos.com/mnist/"
FILES = {
    "train": (
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
    ),
    "test": (
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ),
}
ALL_FILES = [name for pair in FILES.values() for name, _ in pair]
MD5 = {name: md5 for pair in FILES.values() for name, md5 in pair}

# IDX magic numbers: 0x00000801 = unsigned bytes, 1 dimension (labels); 0x00000803 = 3 dimensions.
IDX_MAGIC = {1: 0x0801, 3: 0x0803}
MAX_IDX_BYTES = 60000 * 28 * 28  # the data of the largest MNIST file, train-images-idx3-ubyte


class DataError(RecognizeDigitsError):
    """MNIST could not be found, downloaded or read."""


def cache_dir():
    """Paddle's dataset cache for MNIST (created on first download, not here)."""
    return os.path.join(os.path.expanduser("~"), ".cache", "paddle", "dataset", "mnist")


def find_data_dir(data_dir=None, download=True):
    """Return the folder holding all four MNIST files, downloading them if need be.

    An explicit `data_dir` or `$MNIST_DIR` must already hold the files: a typo in a path should be
    an error, not a surprise 11 MB download somewhere else.
    """
    explicit = data_dir or os.environ.get("MNIST_DIR")
    if explicit:
        missing = [name for name in ALL_FILES if not os.path.exists(os.path.join(explicit, name))]
        if missing:
            source = "--data-dir" if data_dir else "$MNIST_DIR"
            raise DataError(
                f"MNIST not found in {explicit} ({source}): missing {', '.join(missing)}. "
                f"Point --data-dir at the folder holding the four files {', '.join(ALL_FILES)}, "
                f"or leave it unset to download them into {cache_dir()}."
            )
        return explicit

    folder = cache_dir()
    for name in ALL_FILES:
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            if not download:
                raise DataError(f"MNIST file {path} is missing and download is off.")
            _download(name, folder)
    return folder


def _download(name, folder):
    """Download one file into `folder`, md5-checked, written to a temporary name first."""
    url = URL_PREFIX + name
    os.makedirs(folder, exist_ok=True)
    print(f"Downloading {url} to {folder}", flush=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, out)
        _check_md5(tmp, name)
        os.replace(tmp, os.path.join(folder, name))
    except OSError as err:  # URLError, timeouts and a full disk are all OSErrors
        raise DataError(
            f"could not download {url} ({getattr(err, 'reason', err)}). MNIST needs the four files "
            f"{', '.join(ALL_FILES)} in {folder}; with no network, copy them there or pass "
            f"--data-dir FOLDER."
        ) from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _check_md5(path, name):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != MD5[name]:
        raise DataError(
            f"{path} has md5 {digest.hexdigest()}, expected {MD5[name]}: it is damaged or not the "
            f"original {name}; replace it (in Paddle's cache, delete it to download it again)."
        )


def read_idx(path, ndim):
    """Read a gzipped IDX file of unsigned bytes with `ndim` dimensions into a uint8 array.

    Bounded, whatever the file holds: a FIFO or a device is refused before it is opened; the
    header is decompressed first, and its shape says how many bytes must follow, which may be no
    more than the largest MNIST file holds; at most that many (and one more, to catch a longer
    stream) are then decompressed. A "gzip bomb" named like an MNIST file fills no memory.
    """
    kind = _special_file(path)
    if kind:
        raise DataError(f"{path} is {kind}, expected a gzipped MNIST IDX file.")
    header_size = 4 + 4 * ndim
    try:
        with gzip.open(path, "rb") as f:
            header = f.read(header_size)
            shape = _idx_shape(path, header, ndim)
            count = int(np.prod(shape, dtype=np.int64))
            raw = f.read(count + 1)
    except (OSError, EOFError, zlib.error) as err:
        # gzip.BadGzipFile is an OSError; a truncated .gz raises EOFError.
        raise DataError(f"{path} is not a readable .gz file ({err}): it is damaged or "
                        f"incomplete; replace it with the original.") from None
    if len(raw) < count:
        raise DataError(
            f"{path} holds {len(raw)} bytes of data, its header promises {count} (shape "
            f"{tuple(shape)}): the file is truncated or damaged; replace it with the original."
        )
    if len(raw) > count:
        raise DataError(
            f"{path} holds more data than the {count} bytes its header promises (shape "
            f"{tuple(shape)}): the file is damaged, or not MNIST; replace it with the original."
        )
    return np.frombuffer(raw, dtype=np.uint8).reshape(shape)


def _special_file(path):
    """special_file, with a missing file left for gzip.open to report."""
    try:
        return special_file(path)
    except FileNotFoundError:
        return None


def _idx_shape(path, header, ndim):
    """The shape an IDX header gives, checked: magic number, and no more data than MNIST's."""
    if len(header) < 4 + 4 * ndim:
        what = "is empty" if os.path.getsize(path) == 0 else f"is too short ({len(header)} bytes)"
        raise DataError(f"{path} {what}, not an MNIST IDX file: replace it with the original.")
    magic, *shape = (int(v) for v in np.frombuffer(header, dtype=">u4", count=1 + ndim))
    if magic != IDX_MAGIC[ndim]:
        raise DataError(
            f"{path} is not an MNIST IDX file with {ndim} dimension(s) (magic number "
            f"{magic:#010x}, expected {IDX_MAGIC[ndim]:#010x}): replace it with the original."
        )
    count = int(np.prod(shape, dtype=object))  # Python ints: a forged header cannot overflow
    if count > MAX_IDX_BYTES:
        raise DataError(
            f"{path} promises {count:,} bytes of data (shape {tuple(shape)}), more than any "
            f"MNIST file holds ({MAX_IDX_BYTES:,}): it is not an MNIST file; replace it with the "
            f"original."
        )
    return shape


def scale_pixels(images):
    """uint8 [N, 28, 28] -> float32 [N, 1, 28, 28] in [-1, 1], as the chapter does (x / 255 * 2 - 1)."""
    return (images.astype(np.float32) / 255.0 * 2.0 - 1.0)[:, np.newaxis, :, :]


def load_mnist(split, data_dir=None, download=True, check_md5=True, raw=False):
    """Return (images float32 [N, 1, 28, 28] in [-1, 1], labels int64 [N]) for 'train' or 'test';
    with `raw`, the images as stored: uint8 [N, 28, 28], white digit on black.

    The md5 is checked on every load (20 ms), not only after a download: a file damaged on disk or
    replaced by hand is caught before it can train a wrong model. Tests on small files they write
    themselves turn the check off.
    """
    folder = find_data_dir(data_dir, download=download)
    (images_name, _), (labels_name, _) = FILES[split]
    images_path = os.path.join(folder, images_name)
    labels_path = os.path.join(folder, labels_name)
    # Parse first: a truncated or foreign file gets its own message; then the md5 catches any
    # change that still parses.
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels."
        )
    if images.shape[1:] != (28, 28):
        raise DataError(f"{images_path} holds images of {images.shape[1:]}, expected 28x28.")
    if check_md5:
        for path, name in ((images_path, images_name), (labels_path, labels_name)):
            _check_md5(path, name)
    return (images if raw else scale_pixels(images)), labels.astype(np.int64)

