"""What the benchmarks share: `describe()`, one line naming the machine (its CPU's widest vector
unit too: two AMD EPYCs, with and without AVX-512, train at different speeds and round
differently), and the timed training step of the speed benchmarks: train.py's step, n times, in
images/s.

    python bench/steps.py        # the machine line

    timer = StepTimer(models.build("cnn"), fixed_batch(images, labels))
    speeds = alternately({"ours": timer, "theirs": other_timer}, steps=100)  # name -> images/s
    print(ratio_summary(speeds["ours"], speeds["theirs"]))   # 1.12 (median of 3, spread 1.04-1.21)

Timing two ways alternately in one process, A B A B ..., lets a busy machine slow both alike, so
that their ratio holds where their images/s do not.
"""

import itertools
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()  # before Paddle loads: MKL's code path on AMD, Paddle's log kept quiet
import numpy as np  # noqa: E402
import paddle  # noqa: E402

from recognize_digits import readers, training  # noqa: E402


class StepTimer:
    """`timer(n)`: images/s over n more training steps of 64, each the step train.py's train()
    takes (train_program, backward, Adam, the moving average's update), on `batches` (an endless
    iterator of (images, labels) tensors). A few steps are run first, untimed, to warm up."""

    def __init__(self, model, batches, optimizer=None, ema_decay=0.0,
                 forward=training.train_program, warm_up=5):
        self.model, self.batches, self.forward = model, batches, forward
        self.optimizer = optimizer or training.optimizer_program(model.parameters())
        self.ema = training.ExponentialMovingAverage(model, ema_decay)
        model.train()
        self(warm_up)

    def step(self):
        """One training step; returns its cost (a tensor: reading it waits for the step)."""
        images, labels = next(self.batches)
        cost, _ = self.forward(self.model, images, labels, with_accuracy=False)
        cost.backward()
        self.optimizer.step()
        self.optimizer.clear_grad()
        self.ema.update()
        return cost

    def __call__(self, n):
        start = time.perf_counter()
        for _ in range(n):
            cost = self.step()
        float(cost)  # the steps run asynchronously on a GPU: wait for the last one
        return 64 * n / (time.perf_counter() - start)


def ms_per_call(function, calls, warm_up=5):
    """Milliseconds per call of `function()`, over `calls` calls after `warm_up` untimed ones."""
    for _ in range(warm_up):
        function()
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1000


def fixed_batch(images, labels):
    """The first 64 images and labels as tensors, over and over: the step alone, no input."""
    return itertools.repeat((paddle.to_tensor(images[:64]), paddle.to_tensor(labels[:64])))


def random_batch(seed=0):
    """fixed_batch of 64 random images in [-1, 1] and random labels: no MNIST needed."""
    rng = np.random.default_rng(seed)
    return fixed_batch(rng.uniform(-1, 1, (64, 1, 28, 28)).astype("float32"),
                       rng.integers(0, 10, 64))


def pipeline_batches(images, labels, augment):
    """train.py's input pipeline (readers.TrainingBatches), epoch after epoch, as tensors."""
    for epoch in itertools.count():
        for x, y in readers.TrainingBatches(images, labels, 64, 0, epoch, augment):
            yield paddle.to_tensor(x), paddle.to_tensor(y)


def alternately(runs, steps, rounds=3):
    """Time each of `runs` (name -> run(n) returning images/s) for `steps` steps, one after the
    other, `rounds` times over. Returns name -> [images/s of each round]."""
    speeds = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            speeds[name].append(run(steps))
    return speeds


def ratio_summary(numerators, denominators):
    """`1.12 (median of 3, spread 1.04-1.21)`: the ratios of two runs' speeds, round by round."""
    ratios = [a / b for a, b in zip(numerators, denominators)]
    return (f"{statistics.median(ratios):.2f} (median of {len(ratios)}, spread "
            f"{min(ratios):.2f}-{max(ratios):.2f})")


def cpu_model():
    """The CPU's name and its widest vector unit: "AMD EPYC (AVX-512)". Two CPUs of one name
    may differ in it, and with it MKL's speed and the float rounding of a training run."""
    try:
        with open("/proc/cpuinfo") as f:
            cpuinfo = f.read(1 << 16)
    except OSError:
        return platform.processor() or platform.machine()
    fields = {}
    for line in cpuinfo.splitlines():  # the first CPU's lines: the read may cut a later one
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else None
    name = fields.get("model name") or platform.processor() or platform.machine()
    return f"{name} ({vector})" if vector else name


def describe():
    """One line describing the machine, printed beside every number the benchmarks report."""
    return (f"{cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}, Paddle {paddle.__version__}")


if __name__ == "__main__":
    print(describe())
