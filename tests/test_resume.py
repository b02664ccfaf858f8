"""Training that survives interruption, and files that are never half-written."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import paddle
import pytest

from conftest import ROOT
from recognize_digits import models, readers, training
from recognize_digits.inference import Predictor
from recognize_digits.run import checkpoint, model_files, signals


def train_cmd(*args):
    return [sys.executable, "-u", os.path.join(ROOT, "train.py"), "--model", "mlp",
            "--log-interval", "50", *args]


def unfinished_mlp_checkpoint(save_dir):
    """A checkpoint of an MLP run stopped after 2 of its 5 epochs."""
    network = models.multilayer_perceptron()
    optimizer = paddle.optimizer.Adam(parameters=network.parameters())
    ema = training.ExponentialMovingAverage(network)
    checkpoint.save_checkpoint(save_dir, network, optimizer, ema, {
        "epoch": 1, "history": {"train": [], "test": [], "seconds": []},
        "best": {"epoch": 1, "test_cost": 0.1, "test_acc": 0.97},
        "args": {"model": "mlp", "epochs": 5, "batch_size": 64, "lr": 0.001, "seed": 1,
                 "augment": False, "ema_decay": 0.999, "train_size": None}})


def final_weights(save_dir):
    return checkpoint.read_checkpoint(save_dir)["model"]


def test_sigint_then_resume_equals_an_uninterrupted_run(mnist_dir, tmp_path):
    """Ctrl-C during epoch 1 keeps epoch 0; --resume finishes with the very same weights."""
    common = ["--epochs", "3", "--data-dir", mnist_dir, "--seed", "5", "--augment"]
    straight = subprocess.run(train_cmd(*common, "--save-dir", str(tmp_path / "straight")),
                              capture_output=True, text=True, timeout=600)
    assert straight.returncode == 0, straight.stderr

    save_dir = str(tmp_path / "interrupted")
    process = subprocess.Popen(train_cmd(*common, "--save-dir", save_dir),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:  # wait until epoch 0 is done and epoch 1 under way
        if line.startswith("Pass 1, Batch 50,"):
            break
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    out, err = process.communicate(timeout=60)
    assert time.monotonic() - started < 10, "stops within a few seconds"
    assert process.returncode == 130
    message, = err.splitlines()
    assert message.startswith("Stopped by SIGINT in pass 1, batch ")
    resume = f"python train.py --resume --save-dir {save_dir} --epochs 3 --data-dir {mnist_dir}"
    assert message.endswith(f"epochs 0-0 are kept in {save_dir}; resume with: {resume}")
    assert checkpoint.read_checkpoint(save_dir)["state"]["epoch"] == 0

    resumed = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"),
                              *resume.split()[2:], "--log-interval", "50"],
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.startswith("Resuming multilayer_perceptron")
    # The same log lines from epoch 1 on, the same best pass, the same final weights.
    tail = straight.stdout.split("Test with Epoch 0")[1].split("\n", 1)[1]
    assert resumed.stdout.split("\n", 1)[1].rsplit("Trained", 1)[0] == tail.rsplit("Trained", 1)[0]
    a, b = final_weights(tmp_path / "straight"), final_weights(save_dir)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])  # bit for bit
    assert open(os.path.join(save_dir, "model.pdiparams"), "rb").read() == \
        open(tmp_path / "straight" / "model.pdiparams", "rb").read()


def test_a_new_run_never_overwrites_an_unfinished_one(tmp_path, mnist_dir):
    unfinished_mlp_checkpoint(tmp_path)
    before = (tmp_path / "checkpoint.npz").read_bytes()
    result = subprocess.run(train_cmd("--save-dir", str(tmp_path), "--data-dir", mnist_dir),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"train.py: error: {tmp_path} holds an unfinished run (2 of 5 epochs): continue it with "
        f"--resume, or train into another --save-dir."]
    assert (tmp_path / "checkpoint.npz").read_bytes() == before


def test_resume_without_checkpoint_is_one_line(tmp_path):
    result = subprocess.run(train_cmd("--resume", "--save-dir", str(tmp_path)),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1
    assert "nothing to resume" in result.stderr


KILL_WHILE_SAVING = """
import sys
sys.path.insert(0, {root!r})
from recognize_digits import models
from recognize_digits.run import model_files
import paddle
print("saving", flush=True)
for seed in range(1000):
    paddle.seed(seed)
    model_files.export_model({save_dir!r}, models.convolutional_neural_network(), {{"seed": seed}})
"""


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.45, 0.8])
def test_killing_the_process_while_it_saves_leaves_a_model_that_loads(tmp_path, delay):
    save_dir = str(tmp_path / "model")
    paddle.seed(0)
    model_files.export_model(save_dir, models.convolutional_neural_network(), {"seed": -1})
    images = np.random.default_rng(0).uniform(-1, 1, (8, 1, 28, 28)).astype(np.float32)
    process = subprocess.Popen([sys.executable, "-c",
                                KILL_WHILE_SAVING.format(root=ROOT, save_dir=save_dir)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "saving\n"
    time.sleep(delay)  # somewhere in the middle of one of the saves
    process.kill()
    process.wait()
    probabilities = Predictor(save_dir)(images)  # the old model or a new one, never a broken one
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    assert sorted(f for f in os.listdir(save_dir) if not f.startswith(".")) == [
        "model.json", "model.pdiparams", "model_info.json"]


def test_divergence_stops_and_keeps_the_best_model(mnist_dir, tmp_path, monkeypatch, capsys):
    """A NaN cost stops training with one line naming epoch and batch; epoch 0's model stays."""
    sys.path.insert(0, ROOT)
    import train

    real_batches, real_permutation = readers.batches, readers.epoch_permutation
    epochs_started = []

    def epoch_permutation(n, seed, epoch):
        epochs_started.append(epoch)
        return real_permutation(n, seed, epoch)

    def batches(images, labels, batch_size, order=None):
        """The real batches, but the training images of epoch 1 are all NaN."""
        for x, y in real_batches(images, labels, batch_size, order):
            poisoned = batch_size == 64 and epochs_started[-1] == 1
            yield (np.full_like(x, np.nan) if poisoned else x), y

    monkeypatch.setattr(readers, "batches", batches)
    monkeypatch.setattr(readers, "epoch_permutation", epoch_permutation)
    save_dir = str(tmp_path / "m")
    status = train.cli.run(train.main, ["--model", "softmax", "--epochs", "2", "--data-dir",
                                        mnist_dir, "--save-dir", save_dir], prog="train.py")
    assert status == 1
    err = capsys.readouterr().err.splitlines()
    assert err == ["train.py: error: the training cost became nan at epoch 1, batch 0: training "
                   "diverged. Try a smaller learning rate (--lr; the chapter uses 0.001). The best model so "
                   f"far (pass 0) is kept in {save_dir}."]
    assert model_files.read_info(save_dir)["epoch"] == 0


def test_unwritable_save_dir_is_one_line_before_training(tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    result = subprocess.run(train_cmd("--save-dir", str(tmp_path / "a_file" / "model")),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"train.py: error: cannot write to the save dir {tmp_path / 'a_file' / 'model'} (Not a "
        f"directory); free some space or choose another folder with --save-dir."]


def test_full_disk_while_saving_keeps_the_previous_files(mnist_dir, tmp_path, monkeypatch, capsys):
    """The disk fills up while epoch 1's checkpoint is written: one line; epoch 0's files stay."""
    sys.path.insert(0, ROOT)
    import train

    real_save = checkpoint.save_checkpoint

    def save_checkpoint(*args):
        if args[-1]["epoch"] == 1:  # args[-1]: the state
            raise OSError(28, "No space left on device")
        real_save(*args)

    monkeypatch.setattr(checkpoint, "save_checkpoint", save_checkpoint)
    save_dir = str(tmp_path / "m")
    status = train.cli.run(train.main, ["--model", "softmax", "--epochs", "3", "--data-dir",
                                        mnist_dir, "--save-dir", save_dir], prog="train.py")
    assert status == 1
    assert capsys.readouterr().err.splitlines() == [
        f"train.py: error: could not write the checkpoint in {save_dir} (No space left on "
        f"device); the files already there are kept. Free some space, or choose another "
        f"--save-dir."]
    assert checkpoint.read_checkpoint(save_dir)["state"]["epoch"] == 0
    Predictor(save_dir)  # the exported model still loads


def test_resume_with_another_model_type_is_one_line(tmp_path):
    unfinished_mlp_checkpoint(tmp_path)
    result = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), "--resume",
                             "--model", "cnn", "--save-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"train.py: error: the run in {tmp_path} trains --model mlp, not cnn: resume it without "
        f"--model, or pass another --save-dir."]


def test_damaged_checkpoint_is_one_line(tmp_path):
    (tmp_path / "checkpoint.npz").write_bytes(b"PK\x03\x04 half a zip")
    result = subprocess.run(train_cmd("--resume", "--save-dir", str(tmp_path)),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1
    assert "is damaged" in result.stderr and "Traceback" not in result.stderr


def test_checkpoint_of_an_older_version_is_one_line(tmp_path):
    """Checkpoints from before checkpoint.npz are pickles: say so, and never unpickle them."""
    network = models.multilayer_perceptron()
    paddle.save({"model": network.state_dict(), "optimizer": {},
                 "state": {"epoch": 1, "args": {"epochs": 5}}}, str(tmp_path / "checkpoint.pdckpt"))
    result = subprocess.run(train_cmd("--resume", "--save-dir", str(tmp_path)),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stderr.splitlines() == [
        f"train.py: error: {tmp_path / 'checkpoint.pdckpt'} was written by an older train.py "
        f"(a pickle, which this one does not load: loading it could run code): delete it to "
        f"start afresh."]


def test_a_second_ctrl_c_stops_at_once_but_a_repeated_sigterm_does_not():
    """paddle.distributed.launch sends three SIGTERMs 0.2 s apart: still a clean stop."""

    with signals.StopRequest() as stop:
        for _ in range(3):
            os.kill(os.getpid(), signal.SIGTERM)
        assert stop.signal == "SIGTERM"
    with pytest.raises(KeyboardInterrupt), signals.StopRequest() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.signal == "SIGINT"
        os.kill(os.getpid(), signal.SIGINT)


def test_sigterm_stops_cleanly_too(mnist_dir, tmp_path):
    """What a system shutdown or a job scheduler sends: the same clean stop as Ctrl-C."""
    save_dir = str(tmp_path / "m")
    process = subprocess.Popen(train_cmd("--model", "softmax", "--epochs", "5", "--data-dir",
                                         mnist_dir, "--save-dir", save_dir),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("Pass 1, Batch 50,"):
            break
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err.startswith("Stopped by SIGTERM in pass 1, batch ") and len(err.splitlines()) == 1
    assert checkpoint.read_checkpoint(save_dir)["state"]["epoch"] == 0
