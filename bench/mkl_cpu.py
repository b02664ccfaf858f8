"""Which code MKL runs on this CPU: matrix multiplies and training steps under each setting of
MKL_DEBUG_CPU_TYPE (see recognize_digits/run/environment.py, which picks one on AMD CPUs).

    python bench/mkl_cpu.py

Paddle's CPU wheel bundles MKL 2019 (libmklml_intel.so), which picks its code by the CPU's vendor:
on an AMD CPU its generic code, unless MKL_DEBUG_CPU_TYPE names another (5: AVX2, 7: AVX-512).
An empty value leaves MKL to choose, as it would without this project. Each setting runs in a
fresh process (MKL reads it once); the settings take turns, 3 rounds, medians printed.
"""

import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The matrix multiplies of the models' steps of 64, [m, k] x [k, n]: the MLP's first layer and
# LeNet-5's second convolution, one image's (as Paddle's CPU convolution does it) and all 64 at
# once.
SHAPES = [(64, 784, 200), (50, 500, 64), (4096, 500, 50)]

CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[1] + "/bench")
from recognize_digits.run.environment import prepare_paddle
prepare_paddle()
import paddle, numpy as np
from recognize_digits import models, training
out = []
for m, k, n in %r:
    a, b = paddle.rand([m, k]), paddle.rand([k, n])
    for _ in range(20): paddle.matmul(a, b)
    reps = max(20, int(2e9 / (2 * m * k * n)))
    start = time.perf_counter()
    for _ in range(reps): paddle.matmul(a, b)
    out.append(2 * m * k * n * reps / (time.perf_counter() - start) / 1e9)
for name, steps in (("mlp", 200), ("cnn", 30)):
    paddle.seed(0)
    model = models.build(name)
    optimizer = training.optimizer_program(model.parameters())
    x = paddle.uniform([64, 1, 28, 28], min=-1, max=1)
    y = paddle.randint(0, 10, [64])
    for i in range(steps + 5):
        if i == 5: start = time.perf_counter()
        cost, _ = training.train_program(model, x, y, with_accuracy=False)
        cost.backward(); optimizer.step(); optimizer.clear_grad()
    float(cost)
    out.append(64 * steps / (time.perf_counter() - start))
print(" ".join(str(v) for v in out))
""" % (SHAPES,)


def measure(setting):
    env = dict(os.environ, MKL_DEBUG_CPU_TYPE=setting)
    result = subprocess.run([sys.executable, "-c", CHILD, ROOT], env=env, capture_output=True,
                            text=True, check=True)
    return [float(v) for v in result.stdout.split()]


def main():
    sys.path.insert(0, HERE)
    from steps import describe

    print(f"Machine: {describe()}")
    settings = {"": "MKL's own choice", "5": "AVX2", "7": "AVX-512"}
    runs = {setting: [] for setting in settings}
    for _ in range(3):
        for setting in settings:
            runs[setting].append(measure(setting))
    shapes = "".join(f"{f'{m}x{k}x{n}':>13s}" for m, k, n in SHAPES)
    print(f"{'MKL_DEBUG_CPU_TYPE':26s}{'SGEMM GFLOP/s:':>15s}{shapes}   training images/s: "
          f"{'MLP':>7s} {'LeNet-5':>7s}")
    for setting, name in settings.items():
        medians = [statistics.median(values) for values in zip(*runs[setting])]
        gemm = "".join(f"{v:13.0f}" for v in medians[:len(SHAPES)])
        print(f"{setting or '(empty)':8s}{name:33s}{gemm}{' ' * 22}{medians[-2]:7,.0f} "
              f"{medians[-1]:7,.0f}")


if __name__ == "__main__":
    main()
