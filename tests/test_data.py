"""The MNIST reader on small IDX files the tests write: parsing, scaling, every error."""

import gzip
import os

import numpy as np
import pytest

from conftest import write_idx
from recognize_digits import data
from recognize_digits.data import DataError


def test_read_idx_round_trip(tmp_path):
    images = np.arange(3 * 28 * 28, dtype=np.int64).reshape(3, 28, 28) % 256
    write_idx(tmp_path / "x.gz", images)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "x.gz", ndim=3), images)


def test_load_mnist_shapes_scaling_and_labels(tiny_mnist):
    images, labels = data.load_mnist("train", tiny_mnist, check_md5=False)
    assert images.shape == (50, 1, 28, 28) and images.dtype == np.float32
    assert labels.shape == (50,) and labels.dtype == np.int64
    raw = data.read_idx(tiny_mnist / "train-images-idx3-ubyte.gz", ndim=3)
    # The chapter's scaling: x / 255 * 2 - 1, so 0 -> -1 and 255 -> 1.
    np.testing.assert_allclose(images[:, 0], raw / 255.0 * 2 - 1, atol=1e-6)
    assert images.min() >= -1 and images.max() <= 1


def test_md5_is_checked(tiny_mnist):
    with pytest.raises(DataError, match="md5"):
        data.load_mnist("test", tiny_mnist)


def test_explicit_folder_missing_files_names_them(tmp_path):
    with pytest.raises(DataError) as err:
        data.find_data_dir(str(tmp_path))
    message = str(err.value)
    assert "\n" not in message and str(tmp_path) in message and "--data-dir" in message
    for name in data.ALL_FILES:
        assert name in message


def test_mnist_dir_env_is_used(tiny_mnist, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(tiny_mnist))
    assert data.find_data_dir() == str(tiny_mnist)


def test_no_network_no_files_is_one_clear_error(tmp_path, monkeypatch):
    """With nothing cached and no network, the error names the files, the folder and --data-dir."""
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(data, "URL_PREFIX", "http://127.0.0.1:9/")  # nothing listens on port 9
    with pytest.raises(DataError) as err:
        data.find_data_dir()
    message = str(err.value)
    assert "could not download" in message and "--data-dir" in message
    assert data.cache_dir() in message and "train-images-idx3-ubyte.gz" in message
    assert os.listdir(data.cache_dir()) == [], "no partial download is left behind"


def test_download_checks_md5_and_keeps_nothing_bad(tmp_path, monkeypatch):
    """A download whose md5 is wrong is refused and leaves no file behind."""
    served = tmp_path / "mirror"
    served.mkdir()
    for name in data.ALL_FILES:
        (served / name).write_bytes(b"not mnist")
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data, "URL_PREFIX", served.as_uri() + "/")
    with pytest.raises(DataError, match="md5"):
        data.find_data_dir()
    assert os.listdir(data.cache_dir()) == []


def test_download_into_paddle_cache(tmp_path, monkeypatch):
    """Files with the right md5 are downloaded into ~/.cache/paddle/dataset/mnist and reused."""
    served = tmp_path / "mirror"
    served.mkdir()
    for name in data.ALL_FILES:
        (served / name).write_bytes(b"pretend " + name.encode())
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data, "URL_PREFIX", served.as_uri() + "/")
    import hashlib
    monkeypatch.setattr(data, "MD5", {n: hashlib.md5(b"pretend " + n.encode()).hexdigest()
                                      for n in data.ALL_FILES})
    folder = data.find_data_dir()
    assert folder == str(tmp_path / "home" / ".cache" / "paddle" / "dataset" / "mnist")
    assert sorted(os.listdir(folder)) == sorted(data.ALL_FILES)
    monkeypatch.setattr(data, "URL_PREFIX", "http://127.0.0.1:9/")  # reused: no second download
    assert data.find_data_dir() == folder


@pytest.mark.parametrize("content, match", [
    (b"", "is empty"),
    (b"this is not gzip at all", "not a readable .gz"),
])
def test_bad_files(tmp_path, content, match):
    (tmp_path / "x.gz").write_bytes(content)
    with pytest.raises(DataError, match=match):
        data.read_idx(tmp_path / "x.gz", ndim=1)


def test_truncated_gz(tmp_path):
    write_idx(tmp_path / "full.gz", np.zeros((100, 28, 28)))
    raw = (tmp_path / "full.gz").read_bytes()
    (tmp_path / "cut.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="not a readable .gz"):
        data.read_idx(tmp_path / "cut.gz", ndim=3)


def test_truncated_idx_inside_valid_gzip(tmp_path):
    write_idx(tmp_path / "x.gz", np.zeros((10, 28, 28)))
    raw = gzip.decompress((tmp_path / "x.gz").read_bytes())
    (tmp_path / "x.gz").write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(DataError, match="truncated"):
        data.read_idx(tmp_path / "x.gz", ndim=3)


def test_wrong_magic(tmp_path):
    write_idx(tmp_path / "x.gz", np.zeros((10, 28, 28)), magic=0x0803 + 0x100)
    with pytest.raises(DataError, match="magic"):
        data.read_idx(tmp_path / "x.gz", ndim=3)
    write_idx(tmp_path / "labels.gz", np.zeros(10))
    with pytest.raises(DataError, match="magic"):  # a labels file where images belong
        data.read_idx(tmp_path / "labels.gz", ndim=3)


def test_directory_where_a_file_should_be(tmp_path):
    (tmp_path / "x.gz").mkdir()
    with pytest.raises(DataError, match="folder"):
        data.read_idx(tmp_path / "x.gz", ndim=3)


def test_count_mismatch(tiny_mnist):
    write_idx(tiny_mnist / "t10k-labels-idx1-ubyte.gz", np.zeros(19))
    with pytest.raises(DataError, match="20 images but .* 19 labels"):
        data.load_mnist("test", tiny_mnist, check_md5=False)


def test_real_mnist_loads(mnist_dir):
    images, labels = data.load_mnist("train", mnist_dir)
    assert images.shape == (60000, 1, 28, 28) and labels.shape == (60000,)
    assert np.bincount(labels).min() > 5000  # all ten digits, roughly balanced
    assert images.min() == -1.0 and images.max() == 1.0
