"""Why this project trains with its own loop and readers, not `paddle.Model` (hapi) or `paddle.io.DataLoader`.

    python bench/hapi_dataloader.py                  # well under a minute on 2 CPU cores
    python bench/hapi_dataloader.py --train-size 1280 --repeats 1   # smoke test

1. A LeNet-5 training pass over the same N images (no augmentation, no moving average):
   train.py's loop (`train.train`) vs `paddle.Model(net).fit(dataset, batch_size=64)`,
   alternately, --repeats times; medians and their ratio.
2. The input alone, one epoch of 60,000 images in batches of 64, consumed without training:
   `readers.batches` (+ `paddle.to_tensor`, as train.train feeds the net) vs
   `paddle.io.DataLoader` with num_workers=0 and 2.
3. The test cost of one trained net: `train.test` (exact mean over the 10,000 test images) vs
   `model.evaluate(...)["loss"]`, and the last test batch's own mean cost beside them.
4. The warnings `fit` raised that a user of this project would see (its filters in place).
"""

import argparse
import os
import statistics
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)  # the project: recognize_digits and train.py

import recognize_digits  # noqa: E402,F401  (first: quiets Paddle)
import numpy as np  # noqa: E402
import paddle  # noqa: E402
import paddle.nn.functional as F  # noqa: E402
from machine import describe  # noqa: E402
import train  # noqa: E402
from recognize_digits import cli, data, distributed, models, readers, training  # noqa: E402


def wait():
    """Wait for the device's queued work; on CPU Paddle runs each op as it is called (and
    paddle.device.synchronize() raises TypeError there)."""
    if paddle.device.get_device() != "cpu":
        paddle.device.synchronize()


class ArrayDataset(paddle.io.Dataset):
    """A map-style Dataset over the same numpy arrays train.py cuts: one (image, label) per index."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.images[i], self.labels[i]


def ours(images, labels, seed, epoch):
    """Seconds of one train.train pass; a fresh LeNet-5 from `seed`."""
    paddle.seed(seed)
    model = models.convolutional_neural_network()
    optimizer = training.optimizer_program(model.parameters())
    no_average = training.ExponentialMovingAverage(model, 0.0)
    # train.train reads the cost (a wait for the step) at step 0 only; fit reads it every step.
    args = train.parse_args(["--model", "cnn", "--log-interval", "1000000"])
    batches = readers.TrainingBatches(images, labels, 64, seed, epoch, augment_images=False)
    start = time.perf_counter()
    train.train(args, model, optimizer, no_average, batches, epoch, cli.Console(enabled=False),
                distributed.StopTogether(world=1))
    wait()
    return time.perf_counter() - start


def hapi(images, labels, seed, caught):
    """Seconds of one paddle.Model.fit pass and the trained paddle.Model; a fresh LeNet-5 from
    `seed`. The warnings fit raises go to `caught`."""
    paddle.seed(seed)
    net = models.convolutional_neural_network()
    model = paddle.Model(net)
    model.prepare(training.optimizer_program(net.parameters()), paddle.nn.CrossEntropyLoss())
    dataset = ArrayDataset(images, labels)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as raised:
        # Appended, so the project's own filters (recognize_digits/__init__.py) still come first:
        # what is recorded is what a user would see, every time, not only once per place.
        warnings.simplefilter("always", append=True)
        model.fit(dataset, batch_size=64, epochs=1, shuffle=True, verbose=0)
    wait()
    seconds = time.perf_counter() - start
    caught.extend(raised)
    return seconds, model


def epoch_seconds(batches):
    """Seconds to draw every batch of `batches` and the number of batches."""
    start = time.perf_counter()
    n = sum(1 for _ in batches)
    return time.perf_counter() - start, n


def ours_as_tensors(images, labels, order):
    for x, y in readers.batches(images, labels, 64, order):
        yield paddle.to_tensor(x), paddle.to_tensor(y)  # as train.train does, for a fair match


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-size", type=int, default=12800, help="images in part 1's pass")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    print(f"Machine: {describe()}\n")

    images, labels = data.load_mnist("train", args.data_dir)
    test_images, test_labels = data.load_mnist("test", args.data_dir)
    x, y = images[:args.train_size], labels[:args.train_size]
    caught = []
    ours(x[:640], y[:640], 0, 0)  # warm up both, not counted
    hapi(x[:640], y[:640], 0, caught)
    times = {"train.py": [], "hapi": []}
    for repeat in range(args.repeats):  # alternately, so that both see the same machine
        times["train.py"].append(ours(x, y, 0, repeat))
        seconds, model = hapi(x, y, 0, caught)
        times["hapi"].append(seconds)
    a, b = statistics.median(times["train.py"]), statistics.median(times["hapi"])
    print(f"1. LeNet-5 pass over {len(y):,} images, steps of 64 (median of {args.repeats}): "
          f"train.train {a:.2f} s, paddle.Model.fit {b:.2f} s, fit / train.train = {b / a:.2f}")

    # 2. The input alone. DataLoader cuts one sample at a time and collates 64 of them;
    # readers.batches cuts a whole batch with one numpy fancy index.
    dataset = ArrayDataset(images, labels)
    loaders = {"readers.batches + to_tensor": lambda r: ours_as_tensors(
                   images, labels, readers.epoch_permutation(len(labels), 0, r)),
               "DataLoader num_workers=0": lambda r: paddle.io.DataLoader(
                   dataset, batch_size=64, shuffle=True, num_workers=0),
               "DataLoader num_workers=2": lambda r: paddle.io.DataLoader(
                   dataset, batch_size=64, shuffle=True, num_workers=2, timeout=120)}
    input_times, failed = {name: [] for name in loaders}, {}
    for repeat in range(args.repeats):
        for name, make in loaders.items():
            if name in failed:
                continue
            try:
                seconds, n = epoch_seconds(make(repeat))
                input_times[name].append(seconds)
            except Exception as err:  # e.g. no /dev/shm, no fork: say so and go on
                failed[name] = f"{type(err).__name__}: {str(err).strip().splitlines()[0]}"
    print(f"2. One epoch of input, {len(labels):,} images in {n} batches of 64, consumed without "
          f"training (median of {args.repeats}):")
    for name in loaders:
        if name in failed:
            print(f"   {name:28s} failed here: {failed[name]}")
        else:
            s = statistics.median(input_times[name])
            print(f"   {name:28s} {s / n * 1000:6.3f} ms per batch, {s:6.2f} s per epoch")

    # 3. The same trained net (the last hapi run's), three ways. evaluate's "loss" is whatever
    # the last batch logged, not a mean over the set.
    quiet = cli.Console(enabled=False)
    exact, _ = train.test(model.network, test_images, test_labels, 0, quiet)
    reported = float(np.ravel(model.evaluate(ArrayDataset(test_images, test_labels),
                                             batch_size=1000, verbose=0)["loss"])[0])
    model.network.eval()
    with paddle.no_grad():
        last = float(F.cross_entropy(model.network(paddle.to_tensor(test_images[-1000:])),
                                     paddle.to_tensor(test_labels[-1000:])))
    print(f"3. Test cost of one trained net: train.test avg_cost {exact:.6f} (mean over "
          f"{len(test_labels):,} images); model.evaluate(batch_size=1000)['loss'] {reported:.6f}; "
          f"the last batch of 1,000 alone {last:.6f}")

    # fit hands the DataLoader's tensors to paddle.to_tensor again (a copy per batch), which
    # Paddle warns about once per process; BatchNorm's warning on every step is filtered away.
    first = str(caught[0].message).strip().splitlines()[0] if caught else "-"
    print(f"4. Warnings raised by {args.repeats + 1} paddle.Model.fit calls, after this project's "
          f"filters: {len(caught)}; the first: {first}")


if __name__ == "__main__":
    sys.exit(cli.run(main))
