"""The learner's wait: wall time of `python train.py` (the README's run: 5 epochs of LeNet-5), as
the code is now against an earlier commit, alternately on this machine.

    python bench/train_wall.py --before 53923e0            # 1 round: before, now
    python bench/train_wall.py --before 53923e0 --rounds 2 --epochs 1

The earlier commit's files are taken with `git archive` into a temporary folder (the work tree
and the index are left alone) and run with the same Python. Each run saves into its own
temporary folder and reads MNIST from --data-dir or $MNIST_DIR. Prints each run's wall time,
start-up included, and train.py's own last line (seconds per epoch, test loop included).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_train(tree, epochs, data_dir, train_size):
    with tempfile.TemporaryDirectory() as save_dir:
        command = [sys.executable, "train.py", "--epochs", str(epochs), "--save-dir",
                   os.path.join(save_dir, "model")]
        if data_dir:
            command += ["--data-dir", data_dir]
        if train_size:
            command += ["--train-size", str(train_size)]
        start = time.perf_counter()
        result = subprocess.run(command, cwd=tree, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if result.returncode:
        sys.exit(f"train.py failed in {tree}:\n{result.stderr[-2000:]}")
    last = [line for line in result.stdout.splitlines() if line.startswith("Trained")]
    accuracy = [line for line in result.stdout.splitlines() if "classification accuracy" in line]
    return seconds, (last or [""])[-1], (accuracy or [""])[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", required=True, help="the earlier commit to compare with")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--train-size", type=int, default=None, help="for a quick check only")
    args = parser.parse_args()
    sys.path.insert(0, HERE)
    from machine import describe

    print(f"Machine: {describe()}")
    with tempfile.TemporaryDirectory() as before_tree:
        archive = subprocess.run(["git", "archive", args.before], cwd=ROOT, capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", before_tree], input=archive, check=True)
        # The earlier code must not get this one's MKL setting from the environment.
        os.environ.pop("MKL_DEBUG_CPU_TYPE", None)
        walls = {"before": [], "now": []}
        for _ in range(args.rounds):
            for name, tree in (("before", before_tree), ("now", ROOT)):
                seconds, last, accuracy = run_train(tree, args.epochs, args.data_dir,
                                                    args.train_size)
                walls[name].append(seconds)
                print(f"{name:6s} ({args.before if name == 'before' else 'work tree'}): "
                      f"python train.py --epochs {args.epochs}: {seconds:.1f} s wall. {accuracy}. "
                      f"{last.split(';')[0]}", flush=True)
    before, now = (statistics.median(walls[name]) for name in ("before", "now"))
    print(f"median wall: before {before:.1f} s, now {now:.1f} s: {before / now:.2f}x faster")


if __name__ == "__main__":
    main()
