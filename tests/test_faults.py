"""Faults of a hostile machine and a careless user (issue 15): a full disk, a truncated model, two
runs at once, a crafted checkpoint, a gzip bomb, a FIFO, stdout closed or full. Each gets one line
and keeps what was there; docs/reliability.md lists them with the line the user sees.

Most run train.py and infer.py in this process (`cli.run(train.main, ...)`) on 640 images: fast.
The full disk is a 1 MB tmpfs where this machine lets the tests mount one (CI runs as root), and
injected faults where it does not.
"""

import contextlib
import gzip
import io
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tracemalloc

import numpy as np
import paddle
import pytest
from PIL import Image

import infer
import train
from conftest import ROOT, train_steps
from recognize_digits import RecognizeDigitsError, data, inference, models, readers, training
from recognize_digits.run import checkpoint, cli, files, model_files
from recognize_digits.images.preprocess import preprocess

INFER_3 = os.path.join(ROOT, "image", "infer_3.png")
MARKER = "the crafted checkpoint ran code"


def run_train(*args):
    return cli.run(train.main, ["--model", "softmax", "--train-size", "640", *args],
                   prog="train.py")


def run_infer(*args):
    return cli.run(infer.main, list(args), prog="infer.py")


def one_error(capsys, prog="train.py"):
    """The one line on stderr, less its `prog: error: `."""
    _, err = capsys.readouterr()
    line, = err.splitlines()
    assert line.startswith(f"{prog}: error: "), line
    return line.removeprefix(f"{prog}: error: ")


@pytest.fixture
def small_disk(tmp_path):
    """A folder on a 1 MB tmpfs, or None where this machine does not let the tests mount one."""
    folder = tmp_path / "disk"
    folder.mkdir()
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
                                 capture_output=True).returncode == 0
    except OSError:
        mounted = False
    yield folder if mounted else None
    if mounted:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(folder, leave):
    """Fill the file system of `folder` up to `leave` bytes free."""
    stat = os.statvfs(folder)
    with open(os.path.join(folder, "filler"), "wb") as f:
        f.write(b"\0" * max(0, stat.f_bavail * stat.f_frsize - leave))


def model_bytes(folder):
    return {name: open(os.path.join(folder, name), "rb").read()
            for name in model_files.MODEL_FILES + (model_files.INFO_FILE,)}


# --- 1. A model is never replaced by a worse file ---------------------------------------------

class DiskFullAtTheSecondExport:
    """model_files.export_model, with the disk full from the second export on: filled to
    16 KB where the tmpfs is, else paddle.jit.save made to do what it does on such a disk (cut
    the weights short to 12,288 bytes, and say nothing)."""

    def __init__(self, disk, monkeypatch):
        self.disk, self.monkeypatch, self.calls = disk, monkeypatch, 0

    def __call__(self, save_dir, model, info):
        self.calls += 1
        if self.calls == 2 and self.disk:
            fill(self.disk, 16 * 1024)
        elif self.calls == 2:
            self.monkeypatch.setattr(paddle.jit, "save", jit_save_on_a_full_disk)
        return REAL_EXPORT(save_dir, model, info)


REAL_JIT_SAVE = paddle.jit.save
REAL_EXPORT = model_files.export_model


def jit_save_on_a_full_disk(layer, path, **kwargs):
    REAL_JIT_SAVE(layer, path, **kwargs)
    os.truncate(path + ".pdiparams", 12_288)


def test_a_full_disk_never_replaces_the_model(mnist_dir, small_disk, tmp_path, monkeypatch,
                                              capsys):
    """paddle.jit.save does not raise on a full disk; the export is checked, the old model kept."""
    save_dir = str((small_disk or tmp_path) / "m")
    monkeypatch.setattr(model_files, "export_model",
                        DiskFullAtTheSecondExport(small_disk, monkeypatch))
    assert run_train("--epochs", "1", "--save-dir", save_dir) == 0
    before = model_bytes(save_dir)
    capsys.readouterr()
    assert run_train("--epochs", "2", "--resume", "--save-dir", save_dir) == 1
    assert one_error(capsys) == (
        f"could not write the inference model in {save_dir} (the exported model.pdiparams came "
        f"out 12,288 bytes, not the 31,451 its weights take: is the disk full?); the files "
        f"already there are kept. Free some space, or choose another --save-dir.")
    assert model_bytes(save_dir) == before  # epoch 0's model, untouched
    assert model_files.read_info(save_dir)["epoch"] == 0
    inference.Predictor(save_dir)  # and it loads
    assert checkpoint.read_checkpoint(save_dir)["state"]["epoch"] == 0
    assert not [name for name in os.listdir(save_dir) if name.startswith(".export-")]


@pytest.mark.parametrize("damage", ["97%", "50%", "1 byte short", "1 byte changed",
                                    "model.json cut"])
def test_a_model_file_that_is_not_what_train_py_wrote_is_refused(damage, model_dir, tmp_path,
                                                                  capsys):
    """LeNet-5's weights cut to 97% load in Paddle Inference and answer 9 (100.0%): refused."""
    folder = tmp_path / "model"
    shutil.copytree(model_dir, folder)
    name = "model.json" if damage == "model.json cut" else "model.pdiparams"
    raw = (folder / name).read_bytes()
    damaged = {"97%": raw[: len(raw) * 97 // 100], "50%": raw[: len(raw) // 2],
               "1 byte short": raw[:-1], "model.json cut": raw[:-10],
               "1 byte changed": raw[:1000] + bytes([raw[1000] ^ 1]) + raw[1001:]}[damage]
    (folder / name).write_bytes(damaged)
    assert run_infer(INFER_3, "--model-dir", str(folder)) == 1
    line = one_error(capsys, "infer.py")
    assert line.startswith(f"{folder / name} is ")
    if damage == "1 byte changed":
        assert "is not the file train.py wrote (its sha256 differs" in line
    else:
        assert f"is {len(damaged):,} bytes, but model_info.json records {len(raw):,}: it is " \
               f"truncated or was changed since train.py wrote it" in line
    assert line.endswith("train the model again with `python train.py`.")


@pytest.mark.parametrize("change", ["no records", "other scaling"])
def test_model_info_is_checked(change, model_dir, tmp_path, capsys):
    folder = tmp_path / "model"
    shutil.copytree(model_dir, folder)
    info = json.loads((folder / "model_info.json").read_text())
    if change == "no records":
        del info["files"]
    else:
        info["input"]["scaling"] = "x / 255: black digit on white in [0, 1]"
    (folder / "model_info.json").write_text(json.dumps(info))
    assert run_infer(INFER_3, "--model-dir", str(folder)) == 1
    line = one_error(capsys, "infer.py")
    if change == "no records":
        assert line == (f"{folder / 'model_info.json'} records no size and sha256 of the model "
                        f"files (it was written by an older train.py, or not by train.py): train "
                        f"the model again with `python train.py`.")
    else:
        assert line == (f"{folder / 'model_info.json'} says the model takes its input scaled as "
                        f"'x / 255: black digit on white in [0, 1]', but infer.py scales images "
                        f"as 'x / 255 * 2 - 1: white digit on black in [-1, 1], as MNIST': pass "
                        f"the --model-dir of a train.py run.")


def test_an_export_killed_between_its_renames_is_finished_by_the_next_run(tmp_path):
    """Killed after the weights and program were renamed, before model_info.json: read_info
    takes the new info from the export's folder, and the next run puts it in place."""
    old, new, save_dir = tmp_path / "old", tmp_path / "new", tmp_path / "m"
    for seed, folder in ((1, old), (2, new)):
        paddle.seed(seed)
        model_files.export_model(str(folder), models.softmax_regression(), {"seed": seed})
    shutil.copytree(old, save_dir)
    for name in model_files.MODEL_FILES:
        shutil.copy(new / name, save_dir / name)
    (save_dir / ".export-killed").mkdir()
    shutil.copy(new / "model_info.json", save_dir / ".export-killed" / "model_info.json")
    (save_dir / ".export-older").mkdir()  # an export killed while paddle.jit.save wrote
    (save_dir / ".export-older" / "model.pdiparams").write_bytes(b"half")
    (save_dir / ".checkpoint.npz.x1y2z3.tmp").write_bytes(b"half a checkpoint")

    assert model_files.read_info(str(save_dir))["seed"] == 2
    inference.Predictor(str(save_dir))  # and it loads
    model_files.remove_leftovers(str(save_dir))
    assert sorted(os.listdir(save_dir)) == ["model.json", "model.pdiparams", "model_info.json"]
    assert json.loads((save_dir / "model_info.json").read_text())["seed"] == 2


def test_leftovers_of_a_killed_run_are_removed_by_the_next_run(mnist_dir, tmp_path, capsys):
    save_dir = tmp_path / "m"
    (save_dir / ".export-abc123").mkdir(parents=True)
    (save_dir / ".export-abc123" / "model.json").write_text("{")
    (save_dir / ".cost.png.a1b2c3.tmp").write_bytes(b"half a plot")
    (save_dir / "notes.txt").write_text("the user's own file stays")
    assert run_train("--epochs", "1", "--save-dir", str(save_dir)) == 0
    assert sorted(os.listdir(save_dir)) == [
        ".train.lock", "checkpoint.npz", "confusion.png", "cost.png", "model.json",
        "model.pdiparams", "model_info.json", "notes.txt"]


# --- 2. A run keeps what it was started with --------------------------------------------------

def test_resume_keeps_the_training_set_size(mnist_dir, tmp_path, capsys):
    save_dir = str(tmp_path / "m")
    assert run_train("--epochs", "1", "--save-dir", save_dir) == 0
    capsys.readouterr()
    assert cli.run(train.main, ["--resume", "--epochs", "2", "--save-dir", save_dir],
                   prog="train.py") == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("Resuming softmax_regression (7,850 parameters) on 640 images,")
    assert checkpoint.read_checkpoint(save_dir)["state"]["args"]["train_size"] == 640


def test_the_resume_command_is_quoted_for_the_shell(tmp_path):
    args = train.parse_args(["--epochs", "3", "--data-dir", "my data"])
    save_dir = str(tmp_path / "it's my run")
    command = checkpoint.resume_command(args, save_dir, world=1)
    result = subprocess.run(["sh", "-c", f"printf '%s\\n' {command}"], capture_output=True,
                            text=True)
    assert result.stdout.splitlines() == ["python", "train.py", "--resume", "--save-dir",
                                          save_dir, "--epochs", "3", "--data-dir", "my data"]


def saved_checkpoint(save_dir, change):
    """A finished 1-epoch checkpoint of softmax regression, with `change` made to its state."""
    network = models.softmax_regression()
    optimizer = training.optimizer_program(network.parameters())
    train_steps(network, optimizer, [(np.zeros((2, 1, 28, 28), np.float32), np.arange(2))])
    state = {"epoch": 0, "history": {"train": [], "test": [], "seconds": []},
             "best": {"epoch": 0, "test_cost": 1.0, "test_acc": 0.5},
             "args": {"model": "softmax", "epochs": 1, "batch_size": 64, "lr": 0.001, "seed": 1,
                      "augment": False, "ema_decay": 0.999, "train_size": 640}}
    change(state)
    checkpoint.save_checkpoint(save_dir, network, optimizer,
                               training.ExponentialMovingAverage(network), state)


def without_train_size(state):
    del state["args"]["train_size"]


def without_epoch(state):
    del state["epoch"]


def without_test_history(state):
    del state["history"]["test"]


@pytest.mark.parametrize("change, lacks", [
    (without_train_size, "the setting train_size"), (without_epoch, "epoch"),
    (without_test_history, "history/test")])
def test_a_checkpoint_lacking_a_key_names_it(change, lacks, tmp_path, capsys):
    saved_checkpoint(str(tmp_path), change)
    assert cli.run(train.main, ["--resume", "--epochs", "2", "--save-dir", str(tmp_path)],
                   prog="train.py") == 1
    assert one_error(capsys) == (f"{tmp_path / 'checkpoint.npz'} lacks {lacks} (written by an "
                                 f"older train.py, or damaged): delete it to start afresh.")


@pytest.mark.parametrize("array, lacks", [
    ("model/1.bias", "lacks model/1.bias of shape [10]"),
    ("ema/1.weight", "lacks ema/1.weight of shape [784, 10]"),
    ("optimizer/1.bias_moment2_0", "lacks some of the optimizer's state of 1.bias")])
def test_a_checkpoint_lacking_a_tensor_names_it(array, lacks, mnist_dir, tmp_path, capsys):
    saved_checkpoint(str(tmp_path), without_nothing)
    with np.load(tmp_path / "checkpoint.npz") as archive:
        assert array in archive.files
        arrays = {name: archive[name] for name in archive.files if name != array}
    with open(tmp_path / "checkpoint.npz", "wb") as f:
        np.savez(f, **arrays)
    assert cli.run(train.main, ["--resume", "--epochs", "2", "--save-dir", str(tmp_path),
                                "--data-dir", mnist_dir], prog="train.py") == 1
    assert one_error(capsys) == (f"{tmp_path / 'checkpoint.npz'} {lacks} (damaged, or not of "
                                 f"this model): delete it to start afresh.")


def without_nothing(state):
    pass


# --- 3. One run per save dir ------------------------------------------------------------------

def test_a_second_run_into_a_save_dir_in_use_is_refused(tmp_path, capsys):
    held = files.lock_save_dir(str(tmp_path))
    assert run_train("--save-dir", str(tmp_path)) == 1
    assert one_error(capsys) == (f"{tmp_path} is in use by another train.py (PID {os.getpid()}): "
                                 f"wait for it to finish, or train into another --save-dir.")
    held.close()
    files.lock_save_dir(str(tmp_path)).close()  # free again


HOLD_THE_LOCK = """
import sys, time
sys.path.insert(0, {root!r})
from recognize_digits.run import files
lock = files.lock_save_dir({folder!r})
print("locked", flush=True)
time.sleep(60)
"""


def test_the_lock_dies_with_its_process(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK.format(root=ROOT,
                                                                          folder=str(tmp_path))],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "locked\n"
    with pytest.raises(RecognizeDigitsError, match=f"in use by another train.py "
                                                       f"\\(PID {holder.pid}\\)"):
        files.lock_save_dir(str(tmp_path))
    holder.kill()
    holder.wait()
    files.lock_save_dir(str(tmp_path)).close()  # SIGKILL left no stale lock


# --- 4. Tracebacks become one line ------------------------------------------------------------

def test_a_folder_that_cannot_be_read_is_one_line_and_the_rest_is_classified(
        model_dir, tmp_path, monkeypatch, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() == 0:  # root reads any folder: inject the error a user would get
        monkeypatch.setattr(os, "listdir", ListdirDenied(str(locked)))
    else:
        locked.chmod(0)
    try:
        assert run_infer(str(locked), INFER_3, "--model-dir", model_dir) == 1
    finally:
        locked.chmod(0o755)
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"infer.py: error: {locked} is a folder that cannot be read "
                                f"(Permission denied)"]
    assert out.startswith(f"Inference result of {INFER_3} is: 3 (")


class ListdirDenied:
    def __init__(self, path):
        self.path, self.real = path, os.listdir

    def __call__(self, path="."):
        if str(path) == self.path:
            raise PermissionError(13, "Permission denied", str(path))
        return self.real(path)


def test_names_that_are_not_utf8(model_dir, tmp_path, monkeypatch, capsys):
    """Printed as the bytes they are; a model or save dir Paddle cannot open: one line."""
    image = os.path.join(str(tmp_path), os.fsdecode(b"digit\xff.png"))
    shutil.copy(INFER_3, image)
    output = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(output, encoding="utf-8"))  # strict
    assert run_infer(image, "--model-dir", model_dir) == 0
    sys.stdout.flush()
    assert output.getvalue().startswith(b"Inference result of " + os.fsencode(image) + b" is: 3")
    monkeypatch.undo()

    folder = os.path.join(str(tmp_path), os.fsdecode(b"model\xff"))
    shutil.copytree(model_dir, folder)
    assert run_infer(INFER_3, "--model-dir", folder) == 1
    assert one_error(capsys, "infer.py") == (f"cannot load the model in {tmp_path}/model\\xff: "
                                             f"Paddle Inference cannot open a path that is not "
                                             f"valid UTF-8; rename the folder.")
    assert run_train("--save-dir", os.path.join(str(tmp_path), os.fsdecode(b"run\xff"))) == 1
    assert one_error(capsys) == (f"cannot use the save dir {tmp_path}/run\\xff: Paddle cannot "
                                 f"write to a path that is not valid UTF-8; choose another "
                                 f"folder with --save-dir.")


def test_stdout_on_a_full_disk(mnist_dir, model_dir, small_disk, tmp_path, monkeypatch, capsys):
    """infer.py: one line, exit 1. train.py > log: one warning; training goes on to its end."""
    monkeypatch.setattr(sys, "stdout", open("/dev/full", "w"))
    assert run_infer(INFER_3, "--model-dir", model_dir) == 1
    assert one_error(capsys, "infer.py") == ("could not write to standard output (No space left "
                                             "on device): the output is lost.")
    if small_disk:  # a log file on a full disk
        fill(small_disk, 0)
    monkeypatch.setattr(sys, "stdout", open(small_disk / "log" if small_disk else "/dev/full", "w"))
    save_dir = str(tmp_path / "m")
    assert run_train("--epochs", "2", "--log-interval", "1", "--save-dir", save_dir) == 0
    assert capsys.readouterr().err.splitlines() == [
        "train.py: warning: could not write to standard output (No space left on device): the "
        "rest of the log is lost; training goes on, and saves its model and checkpoints as "
        "usual."]
    assert checkpoint.read_checkpoint(save_dir)["state"]["epoch"] == 1
    assert model_files.read_info(save_dir)["epochs"] == 2


@pytest.mark.parametrize("seed", ["-1", "1e23", "18446744073709551616"])
def test_seeds_out_of_range_are_one_line(seed, capsys):
    with pytest.raises(SystemExit) as stop:
        train.parse_args(["--seed", seed])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.endswith(  # (prog: pytest's name here)
        f": error: argument --seed: must be a whole number from 0 to 18446744073709551615, got "
        f"'{seed}' (see --help)\n")


class OutOfMemoryInEpoch1:
    """train_program, but out of memory in epoch 1, as Paddle says it (a MemoryError)."""

    def __init__(self):
        self.real, self.steps = train.train_program, 0

    def __call__(self, model, images, labels, **kwargs):
        self.steps += 1
        if self.steps > 10:  # 640 images: 10 batches of 64 an epoch
            raise MemoryError("(ResourceExhausted) Fail to alloc memory of 1881600000 size, "
                              "error code is 12.\n  [Hint: Expected error == 0, but received "
                              "error:12 != 0:0.] (at /paddle/cpu_allocator.cc:44)")
        return self.real(model, images, labels, **kwargs)


def test_out_of_memory_is_one_line_and_keeps_the_checkpoint(mnist_dir, tmp_path, monkeypatch,
                                                            capsys):
    monkeypatch.setattr(train, "train_program", OutOfMemoryInEpoch1())
    save_dir = str(tmp_path / "m")
    assert run_train("--epochs", "2", "--save-dir", save_dir) == 1
    assert one_error(capsys) == ("out of memory ((ResourceExhausted) Fail to alloc memory of "
                                 "1881600000 size, error code is 12.): try a smaller "
                                 "--batch-size.")
    assert checkpoint.read_checkpoint(save_dir)["state"]["epoch"] == 0


def test_a_read_only_home_is_said_before_training(tmp_path):
    """paddle.jit.save writes under ~/.cache/paddle, found through HOME alone (and matplotlib,
    imported by train.py, would add two warnings of its own)."""
    home = tmp_path / "home"
    home.mkdir()
    mounted = bool(shutil.which("mount")) and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(home)],
        capture_output=True).returncode == 0
    if not mounted:  # no mount allowed: a HOME that cannot hold folders either
        home.rmdir()
        home.write_text("not a folder")
    try:
        result = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), "--save-dir",
                                 str(tmp_path / "m")], capture_output=True, text=True,
                                env={**os.environ, "HOME": str(home)}, timeout=120)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(home)], check=True)
    why = "Read-only file system" if mounted else "Not a directory"
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"train.py: error: Paddle cannot write in {home}/.cache/paddle ({why}), where it keeps "
        f"temporary files while it exports the model: point HOME at a writable folder, e.g. "
        f"HOME=/tmp/home python train.py ..."]


# --- 5. Bounded input -------------------------------------------------------------------------

def idx_gz(path, header, zeros):
    """A gzipped IDX file: `header`, then `zeros` zero bytes (they compress ~1000 to 1)."""
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(header)
        for _ in range(zeros // (1 << 20)):
            f.write(bytes(1 << 20))


@pytest.mark.parametrize("header, message", [
    ((0x0803).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in (2_700_000, 28, 28)),
     "promises 2,116,800,000 bytes of data (shape (2700000, 28, 28)), more than any MNIST file "
     "holds (47,040,000): it is not an MNIST file"),
    ((0x0803).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in (10, 28, 28)),
     "holds more data than the 7840 bytes its header promises (shape (10, 28, 28)): the file "
     "is damaged, or not MNIST"),
    (bytes(16), "magic number 0x00000000, expected 0x00000803"),
])
def test_a_gzip_bomb_is_refused_before_it_is_decompressed(header, message, tmp_path):
    """64 MB of zeros behind the header (the issue's: 2 GB in 9 MB): at most the header's count
    of bytes is ever decompressed."""
    path = tmp_path / "train-images-idx3-ubyte.gz"
    idx_gz(path, header, 64 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(data.DataError) as err:
            data.read_idx(path, 3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message in str(err.value)
    assert peak < 1 << 20, f"{peak:,} bytes decompressed into memory"


@contextlib.contextmanager
def no_waiting(seconds=30):
    """A reader that waits on a FIFO fails the test (TimeoutError) instead of hanging it."""
    previous = signal.signal(signal.SIGALRM, time_is_up)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def time_is_up(signum, frame):
    raise TimeoutError("waited on a FIFO or a device")


def mnist_with(folder, mnist_dir, name, make):
    """A copy of the MNIST folder (linked) whose file `name` is made by `make(path)`."""
    folder.mkdir()
    for file in data.ALL_FILES:
        if file != name:
            os.symlink(os.path.join(mnist_dir, file), folder / file)
    make(str(folder / name))
    return str(folder)


def link_dev_zero(path):
    os.symlink("/dev/zero", path)


@pytest.mark.parametrize("make, kind", [(os.mkfifo, "a FIFO (named pipe)"),
                                        (link_dev_zero, "a device")])
def test_a_fifo_or_device_named_like_mnist_is_refused_not_waited_on(make, kind, mnist_dir,
                                                                    tmp_path, capsys):
    folder = mnist_with(tmp_path / "data", mnist_dir, "train-images-idx3-ubyte.gz", make)
    with no_waiting():
        assert run_train("--data-dir", folder, "--save-dir", str(tmp_path / "m")) == 1
    assert one_error(capsys) == (f"{folder}/train-images-idx3-ubyte.gz is {kind}, expected a "
                                 f"gzipped MNIST IDX file.")


def test_a_fifo_or_device_as_an_image_is_refused(model_dir, tmp_path, capsys):
    os.mkfifo(tmp_path / "photo.png")
    with no_waiting():
        assert run_infer(str(tmp_path / "photo.png"), "/dev/zero", INFER_3,
                         "--model-dir", model_dir) == 1
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        f"infer.py: error: {tmp_path / 'photo.png'} is a FIFO (named pipe), not an image file.",
        "infer.py: error: /dev/zero is a device, not an image file."]
    assert out.startswith(f"Inference result of {INFER_3} is: 3 (")


def test_an_image_piped_into_dev_stdin(model_dir):
    with open(INFER_3, "rb") as f:
        result = subprocess.run([sys.executable, os.path.join(ROOT, "infer.py"), "/dev/stdin",
                                 "--model-dir", model_dir], input=f.read(), capture_output=True,
                                timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"Inference result of /dev/stdin is: 3 (")


class PipedStdin:
    def __init__(self, data, tty=False):
        self.buffer, self.tty = io.BytesIO(data), tty

    def isatty(self):
        return self.tty


def test_dash_reads_a_piped_image_and_not_a_terminal(model_dir, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", PipedStdin(open(INFER_3, "rb").read()))
    assert run_infer("-", "--model-dir", model_dir) == 0
    assert capsys.readouterr().out.startswith("Inference result of - is: 3 (")
    monkeypatch.setattr(sys, "stdin", PipedStdin(b"", tty=True))
    assert run_infer("-", "--model-dir", model_dir) == 1
    assert one_error(capsys, "infer.py") == ("- means an image piped in, but standard input is a "
                                             "terminal: pipe one in (cat photo.png | python "
                                             "infer.py -).")


# --- 6. Exact with any number of processes ----------------------------------------------------

@pytest.mark.parametrize("world", [1, 2, 3, 6, 7])
def test_the_test_set_shares_cover_every_image_once(world):
    shares = [readers.test_set_share(10_000, rank, world) for rank in range(world)]
    assert sorted(np.concatenate(shares).tolist()) == list(range(10_000))
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


def test_three_processes_test_all_10000_images(mnist_dir, tmp_path):
    launched = subprocess.run(
        [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "3",
         "--log_level", "WARNING", "--log_dir", str(tmp_path / "log"),
         os.path.join(ROOT, "train.py"), "--model", "softmax", "--epochs", "1",
         "--train-size", "6000", "--data-dir", mnist_dir, "--save-dir", str(tmp_path / "m")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert launched.returncode == 0, launched.stderr[-3000:]
    acc = model_files.read_info(str(tmp_path / "m"))["test_acc"]
    assert f"acc: {acc}" in launched.stdout
    assert abs(acc * 10_000 - round(acc * 10_000)) < 1e-9, f"{acc} is no count of 10,000"


# --- 7. Loading a checkpoint runs no code -----------------------------------------------------

class RunsCode:
    """A pickle that, when loaded, writes a file: what a crafted checkpoint could do."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return exec, (f"open({self.path!r}, 'w').write({MARKER!r})",)


def crafted_npz(path, marker):
    arrays = {"state.json": np.array([RunsCode(marker)], dtype=object)}
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def crafted_pickle(path, marker):
    with open(path, "wb") as f:
        pickle.dump({"state": RunsCode(marker)}, f)


@pytest.mark.parametrize("name, craft, message", [
    ("checkpoint.npz", crafted_npz, "{path} is damaged (its state.json is object [1], not a "
                                    "text): delete it to start afresh."),
    ("checkpoint.npz", crafted_pickle, "{path} is damaged (ValueError): delete it to start "
                                       "afresh."),
    ("checkpoint.pdckpt", crafted_pickle, "{path} was written by an older train.py (a pickle, "
                                          "which this one does not load: loading it could run "
                                          "code): delete it to start afresh."),
])
def test_a_crafted_checkpoint_runs_no_code(name, craft, message, tmp_path, capsys):
    marker = tmp_path / "marker"
    craft(tmp_path / name, str(marker))
    pickle.loads(pickle.dumps(RunsCode(str(tmp_path / "proof"))))  # the craft works: unpickled,
    assert (tmp_path / "proof").read_text() == MARKER               # it runs code
    assert cli.run(train.main, ["--resume", "--save-dir", str(tmp_path)], prog="train.py") == 1
    assert one_error(capsys) == message.format(path=tmp_path / name)
    assert not marker.exists(), MARKER


# --- 8. Small things users meet ---------------------------------------------------------------

def test_top_k_over_10_is_one_line(capsys):
    with pytest.raises(SystemExit) as stop:
        infer.parse_args([INFER_3, "--top-k", "11"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.endswith(": error: argument --top-k: must be a whole number "
                                            "from 1 to 10, got '11' (see --help)\n")


def test_an_unreadable_checkpoint_is_not_called_damaged(tmp_path, monkeypatch, capsys):
    saved_checkpoint(str(tmp_path), without_nothing)
    monkeypatch.setattr(checkpoint, "open", OpenDenied(), raising=False)
    assert cli.run(train.main, ["--resume", "--epochs", "2", "--save-dir", str(tmp_path)],
                   prog="train.py") == 1
    assert one_error(capsys) == (f"{tmp_path / 'checkpoint.npz'} cannot be read (Permission "
                                 f"denied): make it readable, or move it away to start afresh.")
    monkeypatch.undo()
    (tmp_path / "checkpoint.npz").unlink()
    (tmp_path / "checkpoint.npz").mkdir()
    assert cli.run(train.main, ["--resume", "--save-dir", str(tmp_path)], prog="train.py") == 1
    assert one_error(capsys) == (f"{tmp_path / 'checkpoint.npz'} is a folder, not a checkpoint "
                                 f"file: move it away to start afresh.")


class OpenDenied:
    def __call__(self, path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))


def test_stdout_closed_is_one_line(monkeypatch, capsys):
    """`infer.py >&-`: Python starts with sys.stdout None, and every result would be lost."""
    monkeypatch.setattr(sys, "stdout", None)
    assert run_infer(INFER_3) == 1
    assert capsys.readouterr().err == (
        "infer.py: error: standard output is closed, so the results would be lost: send them to "
        "a file (> results.txt), or to /dev/null.\n")


def test_a_nan_pixel_in_a_float_tiff_leaves_the_digit(model_dir, tmp_path):
    three = np.asarray(Image.open(INFER_3).convert("L"), dtype=np.float32) / 255
    three[0, 0] = np.nan
    Image.fromarray(three).save(tmp_path / "three.tif")  # mode "F": 32-bit float
    probabilities = inference.Predictor(model_dir)(preprocess(str(tmp_path / "three.tif")))
    assert probabilities.argmax() == 3
