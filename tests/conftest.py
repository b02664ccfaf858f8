"""Shared fixtures: tiny IDX files the tests write themselves, and the real MNIST folder.

Real-data tests take the `mnist_dir` fixture. It reads $MNIST_DIR (CI sets it to ../shared/mnist);
unset, it finds MNIST as train.py does (Paddle's cache, downloading there). When the files cannot
be had, the tests fail, never skip: a missing data set must show up red, not silently green.
"""

import gzip
import os
import struct
import sys

import numpy as np
import pytest
from hypothesis import settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()  # as train.py and infer.py do: Paddle's log and warnings kept out
import paddle  # noqa: E402

from recognize_digits import data, models, readers, training  # noqa: E402
from recognize_digits.run import model_files  # noqa: E402

# In CI the property tests draw the same examples every run: a red CI then means the change, not
# a lucky draw. Locally they keep exploring new examples.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def train_steps(model, optimizer, batches, ema=None):
    """An Adam step per batch, as train.py's train() takes them, without its log and signals."""
    model.train()
    for images, labels in batches:
        avg_cost, _ = training.train_program(model, paddle.to_tensor(images),
                                             paddle.to_tensor(labels), with_accuracy=False)
        avg_cost.backward()
        optimizer.step()
        optimizer.clear_grad()
        if ema is not None:
            ema.update()


def write_idx(path, array, magic=None):
    """Write a uint8 array as a gzipped IDX file (the MNIST format), optionally with a wrong magic."""
    array = np.asarray(array, dtype=np.uint8)
    magic = magic if magic is not None else 0x0800 + array.ndim
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


@pytest.fixture
def tiny_mnist(tmp_path):
    """A folder with the four MNIST files holding 50 training and 20 test images."""
    rng = np.random.default_rng(0)
    for split, n in (("train", 50), ("test", 20)):
        (images_name, _), (labels_name, _) = data.FILES[split]
        write_idx(tmp_path / images_name, rng.integers(0, 256, (n, 28, 28)))
        write_idx(tmp_path / labels_name, rng.integers(0, 10, n))
    return tmp_path


@pytest.fixture(scope="session")
def mnist_dir():
    try:
        return os.path.abspath(data.find_data_dir())
    except data.DataError as err:
        pytest.fail(f"real MNIST is needed: {err}")


@pytest.fixture(scope="session")
def mnist_test(mnist_dir):
    return data.load_mnist("test", mnist_dir)


@pytest.fixture(scope="session")
def model_dir(mnist_dir, tmp_path_factory):
    """LeNet-5 trained for one pass over 12,000 MNIST images (about 98% accurate), exported."""
    images, labels = data.load_mnist("train", mnist_dir)
    paddle.seed(90)
    model = models.convolutional_neural_network()
    optimizer = training.optimizer_program(model.parameters())
    train_steps(model, optimizer, readers.batches(images[:12000], labels[:12000], 64))
    folder = tmp_path_factory.mktemp("cnn.inference.model")
    model_files.export_model(folder, model, {"model": "cnn"})
    return str(folder)
