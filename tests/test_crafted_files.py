"""Files someone else made, and a kill at the worst moment (issue 26): crafted checkpoints and
model folders, an export killed halfway, unreadable or oddly named files. Each is one line and
a non-zero exit, never a traceback, a wrong answer or gigabytes of memory; nothing is lost.

Most run train.py and infer.py in this process on 640 images, as tests/test_faults.py does.
"""

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import paddle
import pytest
from PIL import EpsImagePlugin

import infer
import train
from conftest import ROOT, train_steps
from recognize_digits import models, training
from recognize_digits.inference import INPUT_NAME, MODEL_INPUT, MODEL_PREFIX
from recognize_digits.run import checkpoint, cli, model_files

INFER_3 = os.path.join(ROOT, "image", "infer_3.png")
SETTINGS = {"model": "softmax", "epochs": 2, "batch_size": 64, "lr": 0.001, "seed": 1,
            "augment": False, "ema_decay": 0.999, "train_size": 640}


def run_train(*args):
    return cli.run(train.main, ["--train-size", "640", *args], prog="train.py")


def run_infer(*args):
    return cli.run(infer.main, list(args), prog="infer.py")


def one_error(capsys, prog):
    """The one line on stderr, less its `prog: error: `."""
    _, err = capsys.readouterr()
    line, = err.splitlines()
    assert line.startswith(f"{prog}: error: ")
    return line[len(f"{prog}: error: "):]


# --- Checkpoints ---------------------------------------------------------------------------------

def softmax_checkpoint(save_dir, change_state=None, change_arrays=None):
    """An unfinished (1 of 2 epochs) softmax checkpoint, its state or arrays changed."""
    network = models.softmax_regression()
    optimizer = training.optimizer_program(network.parameters())
    train_steps(network, optimizer, [(np.zeros((2, 1, 28, 28), np.float32), np.arange(2))])
    state = {"epoch": 0, "history": {"train": [[0, 2.3]], "test": [[10, 0.5, 0.9]],
                                     "seconds": [[1.0, 0.1]]},
             "best": {"epoch": 0, "test_cost": 0.5, "test_acc": 0.9}, "args": dict(SETTINGS)}
    if change_state:
        change_state(state)
    checkpoint.save_checkpoint(str(save_dir), network, optimizer,
                               training.ExponentialMovingAverage(network), state)
    if change_arrays:
        path = save_dir / "checkpoint.npz"
        with np.load(path) as archive:
            arrays = {name: archive[name] for name in archive.files}
        change_arrays(arrays)
        with open(path, "wb") as f:
            np.savez(f, **arrays)


def setting(name, value):
    def change(state):
        state["args"][name] = value
    change.__name__ = f"{name}={value!r}"
    return change


@pytest.mark.parametrize("change, problem", [
    (setting("lr", -1), "its setting lr is -1, not a positive number"),
    (setting("lr", "fast"), "its setting lr is 'fast', not a positive number"),
    (setting("lr", float("nan")), "its setting lr is nan, not a positive number"),
    (setting("train_size", 0), "its setting train_size is 0, not a positive whole number"),
    (setting("ema_decay", 2), "its setting ema_decay is 2, not a number from 0 up to 1"),
    (setting("augment", "no"), "its setting augment is 'no', not true or false"),
    (setting("model", "resnet"), "its setting model is 'resnet', not one of cnn, mlp, softmax"),
    (setting("model", ["cnn"]), "its setting model is ['cnn'], not one of cnn, mlp, softmax"),
    (setting("batch_size", 2.5), "its setting batch_size is 2.5, not a positive whole number"),
    (setting("seed", -1), "its setting seed is -1, not a whole number from 0 to "
                          "18446744073709551615"),
    (setting("epochs", True), "its setting epochs is True, not a positive whole number"),
    (lambda state: state.update(epoch=5), "its epoch is 5"),
    (lambda state: state["history"].update(test=[[1, "x", 0.5]]),
     "its history/test is not a list of rows of 3 numbers"),
    (lambda state: state.update(best={"epoch": 0}), "its best pass is {'epoch': 0}"),
])
def test_a_checkpoint_setting_out_of_range_is_one_line(change, problem, tmp_path, capsys):
    softmax_checkpoint(tmp_path, change_state=change)
    assert run_train("--resume", "--save-dir", str(tmp_path)) == 1
    assert one_error(capsys, "train.py") == (f"{tmp_path / 'checkpoint.npz'} is damaged "
                                             f"({problem}): delete it to start afresh.")


def as_float64(arrays):
    arrays["model/1.weight"] = arrays["model/1.weight"].astype(np.float64)


def as_strings(arrays):
    arrays["model/1.weight"] = arrays["model/1.weight"].astype(str)


def as_nan(arrays):
    arrays["ema/1.bias"] = np.full_like(arrays["ema/1.bias"], np.nan)


def moment_of_another_shape(arrays):
    arrays["optimizer/1.bias_moment1_0"] = np.zeros(3, np.float32)


@pytest.mark.parametrize("change, problem", [
    (as_float64, "is damaged (its array model/1.weight is float64, not float32)"),
    (as_strings, "is damaged (its array model/1.weight is <U"),
    (as_nan, "holds NaN or infinite numbers in ema/1.bias (damaged, or not of this model)"),
    (moment_of_another_shape, "holds optimizer/1.bias_moment1_0 of shape [3], not Adam's state "
                              "of 1.bias (damaged, or not of this model)"),
])
def test_a_checkpoint_tensor_of_another_type_is_one_line(change, problem, tmp_path, capsys,
                                                         mnist_dir):
    softmax_checkpoint(tmp_path, change_arrays=change)
    assert run_train("--resume", "--save-dir", str(tmp_path), "--data-dir", mnist_dir) == 1
    line = one_error(capsys, "train.py")
    assert line.startswith(f"{tmp_path / 'checkpoint.npz'} {problem}")
    assert line.endswith("delete it to start afresh.")


def test_arrays_claiming_huge_shapes_are_refused_before_they_are_read(tmp_path):
    """A 17 MB checkpoint whose array headers claim 10^9 numbers: refused from the headers, in
    a process that stays small (reading them would take 4 GB)."""
    softmax_checkpoint(tmp_path)
    path = tmp_path / "checkpoint.npz"
    with zipfile.ZipFile(path, "a") as archive:
        with archive.open("model/huge.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, {"descr": "<f4", "fortran_order": False,
                                                          "shape": (1_000_000_000,)})
            member.write(b"\0" * 17_000_000)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), "--resume",
                             "--save-dir", str(tmp_path)], capture_output=True, text=True,
                            cwd=ROOT, timeout=300)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert result.returncode == 1
    assert result.stderr == (f"train.py: error: {path} is damaged (its array model/huge claims "
                             f"1,000,000,000 numbers, more than any model has): delete it to "
                             f"start afresh.\n")
    assert max(peak_mb, before / 1024) < 1024, f"{peak_mb:.0f} MB"


# --- Model folders -------------------------------------------------------------------------------

def crafted_model(folder, layer, shape=(None, 1, 28, 28)):
    """A model folder as someone could make it by hand: `layer` exported by paddle.jit.save,
    with a model_info.json whose records match its files."""
    folder.mkdir(parents=True, exist_ok=True)
    layer.eval()
    spec = paddle.static.InputSpec(list(shape), "float32", INPUT_NAME)
    paddle.jit.save(layer, str(folder / MODEL_PREFIX), input_spec=[spec])
    info = {"model": "cnn", "input": MODEL_INPUT, "files": model_files.file_records(folder)}
    (folder / model_files.INFO_FILE).write_text(json.dumps(info))
    return str(folder)


def with_nan_weights():
    network = models.softmax_regression()
    for parameter in network.parameters():
        parameter.set_value(paddle.full(parameter.shape, float("nan")))
    return models.with_softmax(network)


@pytest.mark.parametrize("make, problem", [
    (with_nan_weights, "gives NaN or infinite outputs, not probabilities"),
    (models.convolutional_neural_network, "gives outputs from "),  # logits, no softmax
])
def test_a_model_that_does_not_give_probabilities_is_refused(make, problem, tmp_path, capsys):
    paddle.seed(0)
    folder = crafted_model(tmp_path / "model", make())
    assert run_infer(INFER_3, "--model-dir", folder) == 1
    line = one_error(capsys, "infer.py")
    assert line.startswith(f"the model in {folder} {problem}")
    assert line.endswith("train it again with `python train.py`.")


def test_a_model_taking_another_input_shape_is_refused(tmp_path, capsys):
    flat = paddle.nn.Sequential(paddle.nn.Linear(784, 10), paddle.nn.Softmax())
    folder = crafted_model(tmp_path / "model", flat, shape=(None, 784))
    assert run_infer(INFER_3, "--model-dir", folder) == 1
    assert one_error(capsys, "infer.py") == (
        f"{folder} holds a model that is not a digit model from train.py (its input is declared "
        f"[-1, 784], expected [N, 1, 28, 28]); pass the --model-dir of a train.py run.")


def test_a_deeply_nested_model_info_is_one_line(model_dir, tmp_path, capsys):
    folder = tmp_path / "model"
    shutil.copytree(model_dir, folder)
    (folder / "model_info.json").write_text("[" * 100_000 + "]" * 100_000)
    assert run_infer(INFER_3, "--model-dir", str(folder)) == 1
    assert one_error(capsys, "infer.py") == (
        f"{folder / 'model_info.json'} is not a model_info.json written by train.py (it is nested "
        f"too deep to read).")


class OpenDenied:
    def __init__(self, denied):
        self.denied = denied

    def __call__(self, path, *args, **kwargs):
        if os.path.basename(path) == self.denied:
            raise PermissionError(13, "Permission denied", str(path))
        return open(path, *args, **kwargs)


def test_an_unreadable_model_file_is_one_line(model_dir, monkeypatch, capsys):
    """model.pdiparams that this user may not read (mode 000): the sha256 check says so."""
    monkeypatch.setattr(model_files, "open", OpenDenied("model.pdiparams"), raising=False)
    assert run_infer(INFER_3, "--model-dir", model_dir) == 1
    assert one_error(capsys, "infer.py") == (
        f"{os.path.join(model_dir, 'model.pdiparams')} cannot be read (Permission denied): make "
        f"it readable, or train the model again with `python train.py`.")


# --- An export killed halfway --------------------------------------------------------------------

def test_a_first_export_killed_before_its_renames_leaves_the_save_dir_usable(tmp_path, capsys,
                                                                              mnist_dir):
    """Killed after .export-*/model_info.json was written, before any file was renamed into
    place: the model files are still only in the export's folder. Every command goes on."""
    export = tmp_path / "whole"
    model_files.export_model(str(export), models.softmax_regression(), {"seed": 1})
    save_dir = tmp_path / "m"
    shutil.copytree(export, save_dir / ".export-killed")
    assert model_files.interrupted_export_info(str(save_dir)) is None
    assert run_infer(INFER_3, "--model-dir", str(save_dir)) == 1
    assert "holds no complete trained model" in one_error(capsys, "infer.py")
    assert run_train("--model", "softmax", "--epochs", "1", "--save-dir", str(save_dir),
                     "--data-dir", mnist_dir) == 0
    assert not [name for name in os.listdir(save_dir) if name.startswith(".export-")]
    assert run_infer(INFER_3, "--model-dir", str(save_dir)) == 0


KILL_AT_THE_RENAMES = """
import sys
sys.path.insert(0, {root!r})
from recognize_digits.run.environment import prepare_paddle
prepare_paddle()
import paddle
from recognize_digits import models
from recognize_digits.run import model_files
paddle.seed(1)
print("exporting", flush=True)
model_files.export_model({save_dir!r}, models.convolutional_neural_network(), {{"seed": 1}})
"""


def test_a_kill_just_after_the_exports_info_is_written(tmp_path, mnist_dir):
    """SIGKILL the moment .export-*/model_info.json appears (polled for), then the same
    commands a user would run: they work."""
    save_dir = tmp_path / "m"
    save_dir.mkdir()
    process = subprocess.Popen([sys.executable, "-c", KILL_AT_THE_RENAMES.format(
        root=ROOT, save_dir=str(save_dir))], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "exporting\n"
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if list(save_dir.glob(".export-*/model_info.json")):
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.0005)
    process.wait(timeout=60)
    model_files.remove_leftovers(str(save_dir))  # what the next train.py does first
    result = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), "--model",
                             "softmax", "--epochs", "1", "--train-size", "640", "--save-dir",
                             str(save_dir), "--data-dir", mnist_dir], capture_output=True,
                            text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr


# --- Names and formats ---------------------------------------------------------------------------

def test_utf8_names_under_an_ascii_file_system_encoding(model_dir, mnist_dir, tmp_path):
    """LC_ALL=C without Python's UTF-8 mode: file names decode as ASCII (UTF-8 bytes as
    surrogates), but they are valid UTF-8, which is what Paddle needs."""
    env = dict(os.environ, LC_ALL="C", PYTHONCOERCECLOCALE="0", PYTHONUTF8="0")
    check = subprocess.run([sys.executable, "-c", "import sys; print(sys.getfilesystemencoding())"],
                           env=env, capture_output=True, text=True)
    assert check.stdout == "ascii\n"  # the simulation holds
    folder = tmp_path / "数字"
    folder.mkdir()
    shutil.copy(INFER_3, folder / "三.png")
    result = subprocess.run([sys.executable, os.path.join(ROOT, "infer.py"), str(folder / "三.png"),
                             "--model-dir", model_dir], env=env, capture_output=True, cwd=ROOT,
                            timeout=300)
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout.startswith(f"Inference result of {folder / '三.png'} is: 3".encode())
    # paddle.jit.save makes its folder from Python, which cannot write such a name: said at once.
    save_dir = tmp_path / "模型"
    result = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), "--model", "softmax",
                             "--epochs", "1", "--train-size", "640", "--data-dir", mnist_dir,
                             "--save-dir", str(save_dir)], env=env, capture_output=True, cwd=ROOT,
                            timeout=300)
    assert result.returncode == 1 and result.stdout == b""
    assert result.stderr.decode("ascii") == (
        f"train.py: error: cannot use the save dir {save_dir}: this Python reads file names as "
        f"ascii, and Paddle's export needs one it can write as UTF-8; run Python in UTF-8 mode "
        f"(python -X utf8 train.py ..., or PYTHONUTF8=1), or choose a --save-dir with an ASCII "
        f"name.\n").encode("ascii", "backslashreplace").decode()


def test_json_names_a_file_whose_name_is_not_utf8_in_valid_json(model_dir, tmp_path, capsys):
    path = os.path.join(str(tmp_path), os.fsdecode(b"caf\xe9.png"))
    shutil.copy(INFER_3, path)
    assert run_infer(path, "--model-dir", model_dir, "--json") == 0
    out = capsys.readouterr().out
    out.encode("ascii")  # plain ASCII JSON: any parser reads it
    assert json.loads(out)["path"] == os.path.join(str(tmp_path), "caf\\xe9.png")


def test_an_eps_file_without_ghostscript_says_so(model_dir, tmp_path, monkeypatch, capsys):
    eps = tmp_path / "digit.eps"
    eps.write_text("%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\n"
                   "newpath 5 5 moveto 20 20 lineto stroke\nshowpage\n")
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", False)  # as where Ghostscript is missing
    assert run_infer(str(eps), "--model-dir", model_dir) == 1
    assert one_error(capsys, "infer.py") == (
        f"{eps} is an EPS file, which Pillow reads with Ghostscript (gs) (Unable to locate "
        f"Ghostscript on paths): install it, or save the image as PNG first.")
