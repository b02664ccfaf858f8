"""The chapter's readers: the training and test sets as batches, in a fresh order each epoch.

The chapter feeds its trainer `paddle.batch(paddle.reader.shuffle(paddle.dataset.mnist.train(),
buf_size=500), batch_size=64)`: shuffle, then cut into batches of 64. Those readers survive in
Paddle 3 only as deprecated leftovers; here the arrays `data.load_mnist` returns are cut by plain
numpy slices of a shuffled index, so the input pipeline costs almost nothing next to training.
The order of each epoch is fixed by (seed, epoch), which is what lets an interrupted run resume
exactly and several processes each take their own shard of the same shuffle.

LeNet-5's batches are also distorted at random (`augment`, train.py's --augment): the ways one
person's handwriting differs from another's. MNIST's digits are clean and centred; a user's are a
little turned, larger or smaller, shifted, written with a finer or broader pen. Showing the model
each training digit distorted a little differently every epoch teaches it to read through that.
"""

import queue
import threading

import numpy as np



def epoch_permutation(n, seed, epoch):
    """The order of the training set in one epoch: a fresh shuffle each epoch, fixed by (seed, epoch).

    Deriving it from the pair, rather than from a generator advanced epoch by epoch, means a resumed
    run and every process of a data-parallel run see exactly the same order without sharing state.
    """
    return np.random.default_rng([seed, epoch]).permutation(n)


def shard(order, rank, world):
    """This process's share of an epoch's order (or of any sequence): every world-th item from
    the rank-th.

    The shards are disjoint and together the whole order. All shards get the same length (at
    most world - 1 items at the end are left out; none for MNIST's 60,000 and 2, 3, 4, 5, 6 or 8
    processes), so every process takes the same number of steps. (Not for the test set:
    test_set_share.)
    """
    usable = len(order) - len(order) % world
    return order[:usable][rank::world]


def test_set_share(n, rank, world):
    """This process's share of the n test images: every world-th from the rank-th, none left out.

    Unlike shard, the shares may differ in length by one: the test pass adds up each share's
    counts (training.train_test), so with any number of processes it covers every image once.
    """
    return np.arange(n)[rank::world]


def batches(images, labels, batch_size, order=None):
    """Yield (images, labels) numpy batches in `order` (default: as stored); the last may be short."""
    if order is None:
        order = np.arange(len(labels))
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        yield images[index], labels[index]


class TrainingBatches:
    """One epoch of training batches as train.py feeds them: this process's shard of the epoch's
    shuffle, cut into batches, augmented if asked. `len()` is the number of steps in the epoch.

    Augmenting costs a few milliseconds of numpy per batch, so those batches are made ahead in a
    background thread, on the core Paddle's dynamic graph leaves idle. Plain batches are cheaper
    to cut in place than to pass between threads.
    """

    def __init__(self, images, labels, batch_size, seed, epoch, augment_images=False, rank=0,
                 world=1):
        self.images, self.labels, self.batch_size = images, labels, batch_size
        self.order = shard(epoch_permutation(len(labels), seed, epoch), rank, world)
        self.augment_rng = np.random.default_rng([seed, epoch, rank]) if augment_images else None

    def __len__(self):
        return -(-len(self.order) // self.batch_size)

    def __iter__(self):
        batch_iter = batches(self.images, self.labels, self.batch_size, self.order)
        if self.augment_rng is None:
            return batch_iter
        return prefetch((augment(x, self.augment_rng), y) for x, y in batch_iter)


def prefetch(iterable, depth=4):
    """Yield the items of `iterable`, produced ahead in a background thread.

    Paddle's dynamic graph keeps one core busy; cutting and augmenting the next batches on the
    other core (numpy releases the GIL while it copies) takes the input pipeline off the
    training loop's path.
    """
    items = queue.Queue(maxsize=depth)  # (True, item) ... then (False, None or the error)
    stop = threading.Event()

    thread = threading.Thread(target=_produce, args=(iterable, items, stop), daemon=True)
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


def _produce(iterable, items, stop):
    """prefetch's background thread: put (True, item) for each item of `iterable` on the queue
    `items`, then (False, None), or (False, the error) if iterating raised one; quit early once
    `stop` is set."""
    try:
        for item in iterable:
            if stop.is_set():
                return
            items.put((True, item))
        items.put((False, None))
    except BaseException as err:  # hand any error to the consumer, which raises it
        items.put((False, err))


# --- the augmentation ------------------------------------------------------------------------
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
    out = turn_scale_shift(images[:, 0], angle, scale, shift)

    # Stroke thickness: a 2x2 grey dilation thickens, erosion thins (ink is high, background -1).
    change = rng.uniform(size=n)
    thicker, thinner = change < thickness / 2, (change >= thickness / 2) & (change < thickness)
    if thicker.any() or thinner.any():
        grown, thinned = _over_2x2(np.maximum, out), _over_2x2(np.minimum, out)
        out = np.where(thinner[:, None, None], thinned, out)
        out = np.where(thicker[:, None, None], grown, out)
    return out[:, np.newaxis].astype(np.float32)


def turn_scale_shift(images, angle, scale, shift):
    """Each image of a batch [N, 28, 28] turned by its `angle` (radians, clockwise as seen), scaled
    by its `scale` about the centre and shifted by its `shift` (pixels, right and down): [N], [N]
    and [N, 2] arrays. The background (-1) comes in from beyond the edges."""
    # Inverse map: for every output pixel, where to read in the input (about the image centre).
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    ys, xs = np.mgrid[0:28, 0:28].astype(np.float32) - 13.5
    src_x = cos[:, None, None] * xs + sin[:, None, None] * ys + 13.5 - shift[:, 0, None, None]
    src_y = -sin[:, None, None] * xs + cos[:, None, None] * ys + 13.5 - shift[:, 1, None, None]
    return _bilinear(images, src_y, src_x)


def _bilinear(images, src_y, src_x):
    """Sample a batch [N, 28, 28] at the points (src_y, src_x) [N, 28, 28], bilinearly; points
    off the image read the background (-1)."""
    n = len(images)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)), constant_values=-1.0)
    src_x = np.clip(src_x + 1, 0, 28.999)
    src_y = np.clip(src_y + 1, 0, 28.999)
    x0, y0 = np.floor(src_x).astype(np.int64), np.floor(src_y).astype(np.int64)
    fx, fy = src_x - x0, src_y - y0
    # Each point's top-left neighbour as an index into the padded batch, flattened (30x30 each);
    # +1 is the pixel to its right, +30 the one below.
    flat = padded.ravel()
    i = np.arange(n)[:, None, None] * 30 * 30 + y0 * 30 + x0
    return (flat[i] * (1 - fx) * (1 - fy) + flat[i + 1] * fx * (1 - fy)
            + flat[i + 30] * (1 - fx) * fy + flat[i + 31] * fx * fy)


def _over_2x2(pick, images):
    """Each pixel of a batch [N, 28, 28] and the ones right, below and below right of it,
    reduced by `pick`: np.maximum is a grey dilation (a thicker stroke), np.minimum an erosion.
    Beyond the border the edge pixels repeat."""
    p = np.pad(images, ((0, 0), (0, 1), (0, 1)), mode="edge")
    return pick(pick(images, p[:, 1:, :-1]), pick(p[:, :-1, 1:], p[:, 1:, 1:]))
