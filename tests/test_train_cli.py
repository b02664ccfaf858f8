"""train.py end to end, as a user runs it: its output, its files, its errors."""

import json
import os
import re
import subprocess
import sys

import pytest

import infer
import train
from conftest import ROOT
from recognize_digits.run import cli

INFER_3 = os.path.join(ROOT, "image", "infer_3.png")


def run_train(*args, cwd=ROOT):
    return subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), *args],
                          capture_output=True, text=True, cwd=cwd, timeout=600)


def test_train_end_to_end_writes_model_info_and_plot(mnist_dir, tmp_path):
    save_dir = tmp_path / "softmax.model"
    result = run_train("--model", "softmax", "--epochs", "2", "--data-dir", mnist_dir,
                       "--save-dir", str(save_dir), "--log-interval", "300")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", "a normal run prints nothing but our own output"
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Training softmax_regression (7,850 parameters)")
    # The chapter's log lines, in its formats.
    assert [l for l in lines if l.startswith("Pass ")] == [
        l for l in lines if re.fullmatch(r"Pass [01], Batch (0|300|600|900), Cost \d+\.\d{6}", l)]
    assert len([l for l in lines if l.startswith("Pass ")]) == 8
    tests = [l for l in lines if l.startswith("Test with Epoch")]
    assert len(tests) == 2 and re.fullmatch(r"Test with Epoch 1, avg_cost: [\d.]+, acc: [\d.]+", tests[1])
    assert re.fullmatch(r"Best pass is [01], testing Avgcost is [\d.]+", lines[-4])
    accuracy = float(re.fullmatch(r"The classification accuracy is ([\d.]+)%", lines[-3]).group(1))
    assert accuracy >= 90.0
    per_class = re.findall(r"(\d): ([\d.]+)%", lines[-2])
    assert lines[-2].startswith("Per-class accuracy: ") and [d for d, _ in per_class] == list("0123456789")

    assert sorted(os.listdir(save_dir)) == [".train.lock", "checkpoint.npz", "confusion.png",
                                            "cost.png", "model.json", "model.pdiparams",
                                            "model_info.json"]
    info = json.loads((save_dir / "model_info.json").read_text())
    assert info["model"] == "softmax" and info["builder"] == "softmax_regression"
    assert round(info["test_acc"] * 100, 2) == accuracy
    for figure in ("cost.png", "confusion.png"):
        assert (save_dir / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("model, threshold, chapter", [("softmax", 92.0, 92.34), ("mlp", 97.5, 97.66)])
def test_default_run_reaches_the_chapters_accuracy(model, threshold, chapter, mnist_dir, tmp_path):
    """`python train.py --model M`, all defaults (5 epochs, seed 90). LeNet-5's run takes three
    minutes here: bench/reproduce.py and the README measure it."""
    result = run_train("--model", model, "--data-dir", mnist_dir, "--save-dir",
                       str(tmp_path / model), "--log-interval", "1000")
    assert result.returncode == 0, result.stderr
    accuracy = float(re.search(r"The classification accuracy is ([\d.]+)%", result.stdout).group(1))
    assert accuracy >= threshold, f"{model}: {accuracy}% (the chapter: {chapter}%)"


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "argument --epochs: must be a positive whole number, got '0'"),
    (["--batch-size", "-5"], "argument --batch-size: must be a positive whole number"),
    (["--lr", "0"], "argument --lr: must be a positive number, got '0'"),
    (["--lr", "nan"], "argument --lr: must be a positive number"),
    (["--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
    (["--ema-decay", "1"], "argument --ema-decay: must be a number from 0 up to (not including) 1"),
])
def test_bad_flags_are_one_line(args, message):
    result = run_train(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr


def test_missing_data_is_one_line(tmp_path):
    result = run_train("--data-dir", str(tmp_path / "nowhere"), "--save-dir", str(tmp_path / "m"))
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert "MNIST not found" in result.stderr and "train-images-idx3-ubyte.gz" in result.stderr


def test_gpu_on_a_machine_without_one_is_one_line(tmp_path):
    import paddle
    if paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0:
        pytest.skip("this machine has a GPU")
    result = run_train("--device", "gpu", "--save-dir", str(tmp_path / "m"))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "train.py: error: --device gpu, but this machine has a CPU-only Paddle (for CUDA 12.6: "
        f"pip install paddlepaddle-gpu=={paddle.__version__} -i https://www.paddlepaddle.org.cn/"
        "packages/stable/cu126/; other CUDA versions: the README, \"With a GPU\"); use --device "
        "cpu."]


def train_in_process(*args):
    return cli.run(train.main, ["--model", "softmax", "--train-size", "640", *args],
                   prog="train.py", results_on_stdout=False)


def test_a_new_run_keeps_the_finished_model_aside_and_says_where(mnist_dir, tmp_path, capsys):
    """Run again into the same save dir: the model trained before is not lost, and the note
    names where it went; infer.py reads it there."""
    save_dir = tmp_path / "m"
    assert train_in_process("--epochs", "1", "--save-dir", str(save_dir),
                            "--data-dir", mnist_dir) == 0
    first = (save_dir / "model.pdiparams").read_bytes()
    capsys.readouterr()
    assert train_in_process("--epochs", "1", "--seed", "2", "--save-dir", str(save_dir),
                            "--data-dir", mnist_dir) == 0
    kept, = save_dir.glob("previous-*")
    note, = capsys.readouterr().err.splitlines()
    assert re.fullmatch(rf"train\.py: note: the model trained before in {re.escape(str(save_dir))} "
                        rf"\(softmax_regression, 1 epoch, \d+\.\d\d%\) is kept in "
                        rf"{re.escape(str(kept))}/; this run trains a new one\.", note)
    assert (kept / "model.pdiparams").read_bytes() == first
    assert sorted(os.listdir(kept)) == ["checkpoint.npz", "confusion.png", "cost.png",
                                        "model.json", "model.pdiparams", "model_info.json"]
    assert cli.run(infer.main, [INFER_3, "--model-dir", str(kept)], prog="infer.py") == 0


def test_flags_a_resumed_run_does_not_apply_are_named(mnist_dir, tmp_path, capsys):
    save_dir = str(tmp_path / "m")
    assert train_in_process("--epochs", "1", "--save-dir", save_dir, "--data-dir", mnist_dir) == 0
    capsys.readouterr()
    assert train_in_process("--epochs", "2", "--resume", "--lr", "0.5", "--batch-size", "32",
                            "--save-dir", save_dir, "--data-dir", mnist_dir) == 0
    assert capsys.readouterr().err == (
        "train.py: note: --resume carries on with the run's own settings: --batch-size 32, "
        "--lr 0.5 not applied.\n")


def test_training_with_stdout_closed_warns_and_saves_the_model(mnist_dir, tmp_path, monkeypatch,
                                                              capsys):
    """`train.py >&-`: the log is lost, the model is not."""
    monkeypatch.setattr(sys, "stdout", None)
    save_dir = tmp_path / "m"
    assert train_in_process("--epochs", "1", "--save-dir", str(save_dir),
                            "--data-dir", mnist_dir) == 0
    assert capsys.readouterr().err == (
        "train.py: warning: standard output is closed, so the log is lost; training goes on, and "
        "saves its model and checkpoints as usual.\n")
    assert (save_dir / "model.pdiparams").is_file()
