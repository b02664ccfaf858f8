"""Every bad input of the README's table, through train.py and infer.py as a user meets it:
one line on stderr naming the problem and what to do, a non-zero exit, never a traceback.

(Random bytes and arrays through the image preprocessing: tests/test_images.py and
tests/test_preprocess.py.)"""

import gzip
import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import ROOT
from recognize_digits import data

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"


def run(script, *args):
    result = subprocess.run([sys.executable, os.path.join(ROOT, script), *args],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def one_error_line(result, script, *words):
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{script}: error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# --- MNIST files ------------------------------------------------------------------------------

def gz_bytes(raw):
    return gzip.compress(raw)


def bad_train_images(mnist_dir):
    """Make each damaged variant of train-images-idx3-ubyte.gz, yield (folder, expected words)."""
    raw = gzip.decompress(open(os.path.join(mnist_dir, TRAIN_IMAGES), "rb").read())
    full = open(os.path.join(mnist_dir, TRAIN_IMAGES), "rb").read()
    return {
        "truncated .gz": (full[: len(full) // 2], ["not a readable .gz"]),
        "not gzip": (b"<html>404 Not Found</html>", ["not a readable .gz"]),
        "empty file": (b"", ["is empty", "replace it"]),
        "wrong IDX magic": (gz_bytes(b"\x00\x00\x08\x01" + raw[4:]), ["magic number"]),
        "truncated IDX data": (gz_bytes(raw[:-1000]), ["truncated"]),
        "count mismatch": (gz_bytes(raw[:4] + (59999).to_bytes(4, "big") + raw[8:-784]),
                           ["59999 images but", "60000 labels"]),
        "wrong md5": (gz_bytes(raw[:-1] + b"\x01"), ["md5", "not the original"]),
    }


@pytest.fixture(scope="module")
def data_variants(mnist_dir, tmp_path_factory):
    """A copy of the MNIST folder per bad variant (the other three files linked, not copied)."""
    variants = {}
    for name, (content, words) in bad_train_images(mnist_dir).items():
        folder = tmp_path_factory.mktemp(name.replace(" ", "_").replace(".", ""))
        for file in data.ALL_FILES:
            if file != TRAIN_IMAGES:
                os.symlink(os.path.join(os.path.abspath(mnist_dir), file), folder / file)
        (folder / TRAIN_IMAGES).write_bytes(content)
        variants[name] = (str(folder), words)
    folder = tmp_path_factory.mktemp("folder_not_file")
    for file in data.ALL_FILES:
        if file != TRAIN_IMAGES:
            os.symlink(os.path.join(os.path.abspath(mnist_dir), file), folder / file)
    (folder / TRAIN_IMAGES).mkdir()
    variants["folder where a file should be"] = (str(folder), ["is a folder"])
    variants["missing files"] = (str(tmp_path_factory.mktemp("empty")), ["MNIST not found",
                                                                         "--data-dir"])
    return variants


@pytest.mark.parametrize("case", [
    "missing files", "wrong md5", "truncated .gz", "not gzip", "wrong IDX magic",
    "truncated IDX data", "count mismatch", "empty file", "folder where a file should be"])
def test_bad_mnist_files(case, data_variants, tmp_path):
    folder, words = data_variants[case]
    result = run("train.py", "--data-dir", folder, "--save-dir", str(tmp_path / "m"))
    one_error_line(result, "train.py", *words)
    assert not (tmp_path / "m" / "model.pdiparams").exists()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=3000), compress=st.booleans(), ndim=st.sampled_from([1, 3]))
def test_idx_reader_on_random_bytes(tmp_path, raw, compress, ndim):
    """Random bytes, gzipped or not: the reader returns an array or raises DataError, nothing else."""
    path = tmp_path / "random.gz"
    path.write_bytes(gzip.compress(raw) if compress else raw)
    try:
        array = data.read_idx(path, ndim)
    except data.DataError as err:
        assert "\n" not in str(err)
    else:
        assert array.dtype == np.uint8 and array.ndim == ndim


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(0, 30), min_size=3, max_size=3), extra=st.integers(-5, 5),
       magic=st.sampled_from([0x0803, 0x0801, 0x0808, 0x0D03]))
def test_idx_reader_on_random_headers(tmp_path, shape, extra, magic):
    """Plausible headers with a wrong count of data bytes or a wrong magic: DataError or an array."""
    header = magic.to_bytes(4, "big") + b"".join(s.to_bytes(4, "big") for s in shape)
    body = bytes(max(0, int(np.prod(shape)) + extra))
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(header + body))
    exact = len(body) == int(np.prod(shape))  # (extra < 0 on an empty shape still writes 0 bytes)
    try:
        array = data.read_idx(path, 3)
    except data.DataError:
        assert magic != 0x0803 or not exact
    else:
        assert magic == 0x0803 and exact and list(array.shape) == shape


# --- Images for infer.py ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def image_cases(tmp_path_factory):
    """Each kind of image file a user may pass, made from image/infer_3.png where it has a digit."""
    folder = tmp_path_factory.mktemp("images")
    three = Image.open(os.path.join(ROOT, "image", "infer_3.png")).convert("L")
    on_paper = Image.eval(three, lambda v: 255 - v)  # dark ink on white paper

    (folder / "empty.png").write_bytes(b"")
    (folder / "text.png").write_text("these are my notes, not a picture\n")
    buffer = io.BytesIO()
    on_paper.save(buffer, format="PNG")
    (folder / "truncated.png").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    Image.new("L", (1, 1), 0).save(folder / "one_pixel.png")
    Image.new("L", (600, 800), 250).save(folder / "blank_page.png")
    # 20000x20000 grey: 400 Mpixel, 400 MB once decoded; a few hundred KB as a PNG.
    Image.new("1", (20000, 20000), 1).save(folder / "bomb.png")

    sixteen = np.asarray(on_paper, dtype=np.uint16) * 257  # 16-bit grey, full range
    Image.fromarray(sixteen).save(folder / "grey16.png")
    palette = on_paper.convert("RGB").quantize(8)
    palette.info["transparency"] = 0
    palette.save(folder / "palette_transparent.png", transparency=0)
    on_paper.convert("CMYK").save(folder / "cmyk.jpg", quality=95)
    frames = [on_paper.convert("P"), Image.new("P", on_paper.size, 0)]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:], duration=100)
    return folder


IMAGE_ERRORS = {
    "empty.png": "empty",
    "text.png": "not an image",
    "truncated.png": "truncated",
    "one_pixel.png": "no digit found",
    "blank_page.png": "no digit found",
    "bomb.png": "too large",
}
IMAGE_READ = ["grey16.png", "palette_transparent.png", "cmyk.jpg", "animated.gif"]


def test_image_table(image_cases, model_dir):
    """infer.py on every kind of file at once: one error line per bad one, a result per good one."""
    names = sorted(IMAGE_ERRORS) + IMAGE_READ
    result = run("infer.py", *[str(image_cases / n) for n in names], "--model-dir", model_dir,
                 "--json")
    assert result.returncode == 1
    errors = result.stderr.splitlines()
    assert len(errors) == len(IMAGE_ERRORS)
    for name, words in IMAGE_ERRORS.items():
        line, = [e for e in errors if name in e]
        assert line.startswith("infer.py: error: ") and words in line, line
    labels = {os.path.basename(row["path"]): row["label"]
              for row in map(json.loads, result.stdout.splitlines())}
    assert labels == {name: 3 for name in IMAGE_READ}


# --- Model folders ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def model_cases(model_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("model_dirs")
    (folder / "empty").mkdir()
    shutil.copytree(model_dir, folder / "truncated")
    params = folder / "truncated" / "model.pdiparams"
    params.write_bytes(params.read_bytes()[: params.stat().st_size // 2])
    other = folder / "other_model"
    other.mkdir()
    import paddle
    from recognize_digits.run.model_files import INFO_FILE, file_records
    paddle.jit.save(paddle.nn.Linear(100, 3), str(other / "model"),
                    input_spec=[paddle.static.InputSpec([None, 100], "float32", "x")])
    info = json.loads(open(os.path.join(model_dir, INFO_FILE)).read())
    (other / INFO_FILE).write_text(json.dumps({**info, "files": file_records(other)}))
    return folder


@pytest.mark.parametrize("case, words", [
    ("missing", ["no trained model in", "python train.py"]),
    ("empty", ["holds no complete trained model", "model.json", "python train.py"]),
    ("truncated", ["is truncated or was changed", "train the model again"]),
    ("other_model", ["not a digit model", "input"]),
])
def test_bad_model_dirs(case, words, model_cases):
    result = run("infer.py", "image/infer_3.png", "--model-dir", str(model_cases / case))
    one_error_line(result, "infer.py", *words)
    assert result.stdout == ""
