"""Windows and macOS as far as this Linux machine can play them: a Python without the POSIX-only
modules, consoles that cannot encode a Chinese file name, SIGTERM, a HOME that is no folder.

"As on Windows" is a `sitecustomize` on PYTHONPATH that makes fcntl, resource, pwd, grp,
termios, pty and tty unimportable (None in sys.modules) and removes os.pread and os.pwrite, as a
Windows Python lacks them. What this cannot show (Windows' own file locks, its consoles, its
paths with drive letters) is listed in docs/portability.md.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image

from conftest import ROOT
from serving import ServerProcess, post

POSIX_ONLY = ("fcntl", "resource", "pwd", "grp", "termios", "pty", "tty")
HIDE_POSIX = f"""import os, sys
for name in {POSIX_ONLY!r}:
    sys.modules[name] = None
for name in ("pread", "pwrite"):
    if hasattr(os, name):
        delattr(os, name)
"""
INFER_3 = os.path.join(ROOT, "image", "infer_3.png")
ENCODINGS = ["cp1252", "cp936", "ascii"]


@pytest.fixture
def as_on_windows(tmp_path):
    """The environment of a Python that lacks the POSIX-only modules."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(HIDE_POSIX)
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(folder), ROOT]))


def run(script, *args, env=None, timeout=600):
    return subprocess.run([sys.executable, os.path.join(ROOT, script), *args], cwd=ROOT, env=env,
                          capture_output=True, timeout=timeout)


def test_the_modules_are_hidden(as_on_windows):
    """The simulation itself: each module fails to import; the scripts and every module of the
    package load without them."""
    code = ("import importlib, os, pkgutil\n"
            f"for name in {POSIX_ONLY!r}:\n"
            "    try:\n        importlib.import_module(name)\n    except ImportError:\n"
            "        continue\n    raise SystemExit(name + ' imported')\n"
            "assert not hasattr(os, 'pread')\n"
            "import train, infer, recognize_digits\n"
            "for module in pkgutil.walk_packages(recognize_digits.__path__, 'recognize_digits.'):\n"
            "    importlib.import_module(module.name)\n"
            "print('ok')")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=as_on_windows,
                            capture_output=True, text=True, timeout=300)
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", "")


def test_train_as_on_windows_into_a_save_dir_with_backslashes(as_on_windows, mnist_dir, tmp_path):
    """A --save-dir as a Windows user types it: backslashes (on Linux, part of the name), spaces
    and Chinese. One epoch of softmax regression, then infer.py on its model."""
    save_dir = str(tmp_path) + os.sep + "runs\\softmax 模型"
    result = run("train.py", "--model", "softmax", "--epochs", "1", "--train-size", "2000",
                 "--data-dir", mnist_dir, "--save-dir", save_dir, env=as_on_windows)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""
    lines = result.stdout.decode().splitlines()
    assert lines[-1].endswith(f"saved in {save_dir}/")
    assert sorted(name for name in os.listdir(save_dir) if not name.startswith(".")) == [
        "checkpoint.npz", "confusion.png", "cost.png", "model.json", "model.pdiparams",
        "model_info.json"]
    result = run("infer.py", INFER_3, "--model-dir", save_dir, env=as_on_windows)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().startswith("Inference result of ")


def test_infer_and_serve_as_on_windows(as_on_windows, model_dir):
    result = run("infer.py", INFER_3, "--model-dir", model_dir, env=as_on_windows)
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout.decode() == f"Inference result of {INFER_3} is: 3 (100.0%)\n" or \
        result.stdout.decode().startswith(f"Inference result of {INFER_3} is: 3 (")
    with ServerProcess("--model-dir", model_dir, env=as_on_windows) as server:
        with open(INFER_3, "rb") as f:
            status, answer = post(server.url, f.read())
    assert (status, answer["label"]) == (200, 3)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_chinese_file_name_on_any_console(encoding, model_dir, tmp_path):
    """Piped output in the console's code page: each line survives, what it lacks escaped."""
    folder = tmp_path / "我的 数字"
    folder.mkdir()
    image = folder / "三.png"
    Image.open(INFER_3).save(image)
    env = dict(os.environ, PYTHONIOENCODING=encoding)
    result = run("infer.py", str(image), "--model-dir", model_dir, env=env)
    assert (result.returncode, result.stderr) == (0, b"")
    line = result.stdout.decode(encoding)
    shown = str(image) if encoding == "cp936" else str(image).encode(
        "ascii", "backslashreplace").decode()
    assert line.startswith(f"Inference result of {shown} is: 3 (")
    # An error naming the file (here: the model folder is missing) is one line too.
    result = run("infer.py", str(image), "--model-dir", str(folder / "没有"), env=env)
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1
    assert result.stderr.decode(encoding, "replace").startswith("infer.py: error: no trained ")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_chinese_save_dir_on_any_console(encoding, mnist_dir, tmp_path):
    save_dir = str(tmp_path / "训练 结果")
    env = dict(os.environ, PYTHONIOENCODING=encoding)
    result = run("train.py", "--model", "softmax", "--epochs", "1", "--train-size", "1000",
                 "--data-dir", mnist_dir, "--save-dir", save_dir, env=env)
    assert (result.returncode, result.stderr) == (0, b"")
    last = result.stdout.decode(encoding).splitlines()[-1]
    shown = save_dir if encoding == "cp936" else save_dir.encode(
        "ascii", "backslashreplace").decode()
    assert last.startswith("Trained 1 epoch in ") and last.endswith(f"saved in {shown}/")


def digits_folder(folder, count):
    """`count` copies of the chapter's digit: enough for infer.py to work a few seconds on."""
    folder.mkdir()
    with open(INFER_3, "rb") as f:
        data = f.read()
    for i in range(count):
        (folder / f"{i:04d}.png").write_bytes(data)
    return folder


@pytest.mark.parametrize("delay", [0.2, 0.6, 2.5])
def test_sigterm_stops_infer_with_one_line(delay, model_dir, tmp_path):
    """From the first moment (Paddle loading) to the last (reading images, printing answers):
    one line on stderr, exit status 143, nothing from Paddle, and only whole lines on stdout."""
    folder = digits_folder(tmp_path / "digits", 400)
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, "infer.py"), str(folder),
                                "--model-dir", model_dir], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    time.sleep(delay)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    if process.returncode == 0:  # it finished first: nothing to see
        pytest.skip("infer.py finished before the signal")
    if process.returncode == -signal.SIGTERM:  # before Python ran a line of it: the OS's silent end
        assert (out, err) == (b"", b"")
        return
    assert (process.returncode, err) == (143, b"infer.py: stopped by SIGTERM\n")
    assert all(line.startswith(b"Inference result of ") for line in out.splitlines())
    assert out == b"" or out.endswith(b"\n")


def test_sigterm_stops_the_server_with_one_line(model_dir):
    server = ServerProcess("--model-dir", model_dir)
    status, out, err = server.stop(signal.SIGTERM)
    assert (status, out, err) == (143, "", "infer.py: stopped by SIGTERM\n")


def test_sigterm_before_training_starts_is_one_line(mnist_dir, tmp_path):
    """SIGTERM while train.py loads Paddle or MNIST (its steps stop between two steps instead:
    tests/test_resume.py)."""
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, "train.py"), "--epochs", "1",
                                "--data-dir", mnist_dir, "--save-dir", str(tmp_path / "m")],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert (process.returncode, out, err) == (143, b"", b"train.py: stopped by SIGTERM\n")


@pytest.mark.parametrize("script", ["train.py", "infer.py"])
def test_a_home_that_is_not_a_folder_is_one_line(script, tmp_path):
    home = tmp_path / "home"
    home.write_text("a file, not a folder")
    result = run(script, INFER_3, env=dict(os.environ, HOME=str(home)))
    assert result.returncode == 1 and result.stdout == b""
    assert result.stderr.decode() == (
        f"{script}: error: the home folder {home} is not a folder, and Paddle keeps its files in "
        f"~/.cache/paddle: set HOME (on Windows, USERPROFILE) to a folder you can write to, e.g. "
        f"HOME=/tmp/home python ...\n")


def test_a_deleted_working_folder_is_one_line(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    command = f'cd "{gone}" && rmdir "{gone}" && exec "{sys.executable}" "$0" "$1"'
    result = subprocess.run(["sh", "-c", command, os.path.join(ROOT, "infer.py"), INFER_3],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr == ("infer.py: error: the current folder no longer exists (it was "
                             "deleted or moved): cd into a folder that exists and run the "
                             "command again.\n")
