"""MNIST: find, download (md5-checked) and read the four IDX files; cut them into batches.

The chapter reads MNIST through `paddle.dataset.mnist` readers, which survive in Paddle 3 only as
deprecated leftovers. Here the four original files are parsed with numpy in one go, and batches are
plain slices of a shuffled index, so the input pipeline costs almost nothing next to training.

Where the files are looked for, in order: `data_dir` (the `--data-dir` flag), `$MNIST_DIR`, then
Paddle's own dataset cache `~/.cache/paddle/dataset/mnist` (where `paddle.vision.datasets.MNIST`
keeps them, so an earlier download is reused). Files missing from the cache are downloaded there.
"""

import gzip
import hashlib
import os
import queue
import shutil
import tempfile
import threading
import urllib.request
import zlib

import numpy as np

from recognize_digits import RecognizeDigitsError

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
    """Read a gzipped IDX file of unsigned bytes with `ndim` dimensions into a uint8 array."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except IsADirectoryError:
        raise DataError(f"{path} is a folder, expected a gzipped MNIST IDX file.") from None
    except (OSError, EOFError, zlib.error) as err:
        # gzip.BadGzipFile is an OSError; a truncated .gz raises EOFError.
        raise DataError(f"{path} is not a readable .gz file ({err}): it is damaged or "
                        f"incomplete; replace it with the original.") from None

    header = 4 + 4 * ndim
    if len(raw) < header:
        what = "is empty" if os.path.getsize(path) == 0 else f"is too short ({len(raw)} bytes)"
        raise DataError(f"{path} {what}, not an MNIST IDX file: replace it with the original.")
    magic, *shape = np.frombuffer(raw, dtype=">u4", count=1 + ndim)
    if magic != IDX_MAGIC[ndim]:
        raise DataError(
            f"{path} is not an MNIST IDX file with {ndim} dimension(s) (magic number "
            f"{magic:#010x}, expected {IDX_MAGIC[ndim]:#010x}): replace it with the original."
        )
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) - header != count:
        raise DataError(
            f"{path} holds {len(raw) - header} bytes of data, its header promises {count} "
            f"(shape {tuple(int(s) for s in shape)}): the file is truncated or damaged; replace "
            f"it with the original."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape([int(s) for s in shape])


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


def epoch_permutation(n, seed, epoch):
    """The order of the training set in one epoch: a fresh shuffle each epoch, fixed by (seed, epoch).

    Deriving it from the pair, rather than from a generator advanced epoch by epoch, means a resumed
    run and every process of a data-parallel run see exactly the same order without sharing state.
    """
    return np.random.default_rng([seed, epoch]).permutation(n)


def batches(images, labels, batch_size, order=None):
    """Yield (images, labels) numpy batches in `order` (default: as stored); the last may be short."""
    if order is None:
        order = np.arange(len(labels))
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        yield images[index], labels[index]


def training_batches(images, labels, batch_size, seed, epoch, augment_images=False, rank=0,
                     world=1):
    """One epoch of training batches as train.py feeds them: this process's shard of the epoch's
    shuffle, cut into batches, augmented if asked.

    Augmenting costs a few milliseconds of numpy per batch, so those batches are made ahead in a
    background thread, on the core Paddle's dynamic graph leaves idle. Plain batches are cheaper
    to cut in place than to pass between threads.
    """
    order = shard(epoch_permutation(len(labels), seed, epoch), rank, world)
    batch_iter = batches(images, labels, batch_size, order)
    if not augment_images:
        return batch_iter
    rng = np.random.default_rng([seed, epoch, rank])
    return prefetch((augment(x, rng), y) for x, y in batch_iter)


def shard(order, rank, world):
    """This process's share of an epoch's order (or of any sequence): every world-th item from
    the rank-th.

    The shards are disjoint and together the whole order. All shards get the same length (at
    most world - 1 items at the end are left out; none for MNIST's 60,000 and 2, 3, 4, 5, 6 or 8
    processes), so every process takes the same number of steps.
    """
    usable = len(order) - len(order) % world
    return order[:usable][rank::world]


def augment(images, rng, max_rotation=10.0, max_scale=0.1, max_shift=2.0, thickness=0.3):
    """Randomly distort a batch [N, 1, 28, 28] in [-1, 1] the way handwriting varies.

    Each image gets its own small rotation (degrees), scale, shift (pixels) and, with probability
    `thickness`, a stroke made thicker or thinner by one grey-level dilation or erosion. Sampling
    is bilinear and vectorised over the batch: about 2.4 ms for 64 images on one core.
    """
    n = len(images)
    angle = np.deg2rad(rng.uniform(-max_rotation, max_rotation, n))
    scale = rng.uniform(1 - max_scale, 1 + max_scale, n)
    shift = rng.uniform(-max_shift, max_shift, (n, 2))
    # Inverse map: for every output pixel, where to read in the input (about the image centre).
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    ys, xs = np.mgrid[0:28, 0:28].astype(np.float32) - 13.5
    src_x = cos[:, None, None] * xs + sin[:, None, None] * ys + 13.5 - shift[:, 0, None, None]
    src_y = -sin[:, None, None] * xs + cos[:, None, None] * ys + 13.5 - shift[:, 1, None, None]

    # Bilinear sampling from images padded by one pixel of background (-1).
    padded = np.pad(images[:, 0], ((0, 0), (1, 1), (1, 1)), constant_values=-1.0)
    src_x = np.clip(src_x + 1, 0, 28.999)
    src_y = np.clip(src_y + 1, 0, 28.999)
    x0, y0 = np.floor(src_x).astype(np.int64), np.floor(src_y).astype(np.int64)
    fx, fy = src_x - x0, src_y - y0
    flat = padded.ravel()
    base = np.arange(n)[:, None, None] * 30 * 30

    def at(y, x):
        return flat[base + y * 30 + x]

    out = (at(y0, x0) * (1 - fx) * (1 - fy) + at(y0, x0 + 1) * fx * (1 - fy)
           + at(y0 + 1, x0) * (1 - fx) * fy + at(y0 + 1, x0 + 1) * fx * fy)

    # Stroke thickness: a 2x2 grey dilation thickens, erosion thins (ink is high, background -1).
    change = rng.uniform(size=n)
    thicker, thinner = change < thickness / 2, (change >= thickness / 2) & (change < thickness)
    if thicker.any() or thinner.any():
        p = np.pad(out, ((0, 0), (0, 1), (0, 1)), mode="edge")
        neighbours = np.stack([p[:, :-1, :-1], p[:, 1:, :-1], p[:, :-1, 1:], p[:, 1:, 1:]])
        out = np.where(thicker[:, None, None], neighbours.max(0), out)
        out = np.where(thinner[:, None, None], neighbours.min(0), out)
    return out[:, np.newaxis].astype(np.float32)


def prefetch(iterable, depth=4):
    """Yield the items of `iterable`, produced ahead in a background thread.

    Paddle's dynamic graph keeps one core busy; cutting and augmenting the next batches on the
    other core (numpy releases the GIL while it copies) takes the input pipeline off the
    training loop's path.
    """
    items = queue.Queue(maxsize=depth)  # (True, item) ... then (False, None or the error)
    stop = threading.Event()

    def produce():
        try:
            for item in iterable:
                if stop.is_set():
                    return
                items.put((True, item))
            items.put((False, None))
        except BaseException as err:  # hand any error to the consumer, which raises it
            items.put((False, err))

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            more, item = items.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                items.get_nowait()
            except queue.Empty:
                thread.join(0.01)
