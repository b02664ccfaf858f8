"""train.py data-parallel under paddle.distributed.launch: 2 CPU processes (gloo)."""

import os
import re
import subprocess
import sys

from conftest import ROOT


def accuracy(stdout):
    return float(re.search(r"The classification accuracy is ([\d.]+)%", stdout).group(1))


def test_two_processes_train_as_one_with_twice_the_batch(mnist_dir, tmp_path):
    """2 processes x batch 64 see, step by step, the same 128 images as 1 process x batch 128."""
    common = ["--model", "mlp", "--no-augment", "--epochs", "2", "--train-size", "6000",
              "--data-dir", mnist_dir]
    launched = subprocess.run(
        [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2",
         "--log_level", "WARNING", "--log_dir", str(tmp_path / "log"),
         os.path.join(ROOT, "train.py"), *common, "--batch-size", "64",
         "--save-dir", str(tmp_path / "two")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert launched.returncode == 0, launched.stderr[-3000:]
    lines = launched.stdout.splitlines()
    # One set of the chapter's log lines (rank 0's), and the check that both ranks agree.
    assert len([l for l in lines if l.startswith("Test with Epoch")]) == 2
    assert len([l for l in lines if l.startswith("Best pass is")]) == 1
    assert "The parameters are identical on all 2 processes." in lines
    assert "2 processes" in lines[0]
    # Rank 1 printed nothing of its own and wrote nothing.
    assert open(tmp_path / "log" / "workerlog.1").read().strip() == ""
    assert sorted(os.listdir(tmp_path)) == ["log", "two"]
    assert sorted(os.listdir(tmp_path / "two")) == [
        ".train.lock", "checkpoint.npz", "confusion.png", "cost.png", "model.json",
        "model.pdiparams", "model_info.json"]

    single = subprocess.run(
        [sys.executable, os.path.join(ROOT, "train.py"), *common, "--batch-size", "128",
         "--save-dir", str(tmp_path / "one")], capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr
    assert abs(accuracy(launched.stdout) - accuracy(single.stdout)) <= 0.5
