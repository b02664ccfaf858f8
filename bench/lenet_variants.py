"""LeNet-5 built in different ways that compute the same thing, trained alternately.

    python bench/lenet_variants.py

1. One max-pool, forward + backward, on the first convolution's output [64, 20, 24, 24]:
   `nn.MaxPool2D`, the same with `return_mask=True` (Paddle's max_pool2d_with_index, whose
   gradient scatters by the kept index), and a reshape to [64, 20, 12, 2, 12, 2] + max (whose
   gradient goes to every tied maximum, unlike the max-pool's: not the same maths on ties).
2. LeNet-5 training steps of 64 (forward, backward, Adam) for each variant, alternately in this
   process, 5 rounds: images/s (median) and the ratio to the first variant (median and spread).
"""

import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()  # before Paddle loads: MKL's code path on AMD, Paddle's log kept quiet
import paddle  # noqa: E402
import paddle.nn.functional as F  # noqa: E402
from paddle import nn  # noqa: E402
from steps import describe  # noqa: E402
from steps import StepTimer, alternately, ms_per_call, random_batch, ratio_summary  # noqa: E402
from recognize_digits import models  # noqa: E402
from speed import lenet_as_first_built  # noqa: E402


class BiasAsCHW(nn.Conv2D):
    """nn.Conv2D adding its bias as [C, 1, 1] (this project's FastBiasConv2D until the pool
    moved before the bias)."""

    def forward(self, x):
        return F.conv2d(x, self.weight) + self.bias.reshape([-1, 1, 1])


class MaxPoolWithIndex(nn.Layer):
    def forward(self, x):
        return F.max_pool2d(x, 2, 2, return_mask=True)[0]


class ReshapeMax(nn.Layer):
    def forward(self, x):
        n, c, h, w = x.shape
        return x.reshape([n, c, h // 2, 2, w // 2, 2]).max(axis=[3, 5])


class PoolFirstPlainPool(models.SimpleImgConvPool):
    """SimpleImgConvPool's order (pool, then bias and ReLU) with the plain max-pool."""

    def forward(self, x):
        out = F.max_pool2d(F.conv2d(x, self.weight), 2, 2)
        return F.relu(out + self.bias.reshape([-1, 1, 1]))


def chapter_order(conv, pool):
    return nn.Sequential(conv(1, 20, 5), nn.ReLU(), pool(), nn.BatchNorm2D(20),
                         conv(20, 50, 5), nn.ReLU(), pool(), nn.Flatten(), nn.Linear(800, 10))


def pool_first(block):
    return nn.Sequential(block(1, 20, 5), nn.BatchNorm2D(20), block(20, 50, 5), nn.Flatten(),
                         nn.Linear(800, 10))


VARIANTS = {
    "plain nn layers (as first built)": lenet_as_first_built,
    "bias as [C, 1, 1] (FastBiasConv2D)":
        lambda: chapter_order(BiasAsCHW, lambda: nn.MaxPool2D(2, 2)),
    "  + max-pool keeping its index": lambda: chapter_order(BiasAsCHW, MaxPoolWithIndex),
    "  + max-pool as reshape + max": lambda: chapter_order(BiasAsCHW, ReshapeMax),
    "pool before bias and ReLU": lambda: pool_first(PoolFirstPlainPool),
    "  + keeping the index (SimpleImgConvPool)": models.convolutional_neural_network,
}


def training_run(build):
    """A StepTimer for a LeNet-5 from `build`, on a fixed batch of random images."""
    paddle.seed(0)
    return StepTimer(build(), random_batch())


def pool_ms(pool, repeats=50):
    x = paddle.rand([64, 20, 24, 24])
    x.stop_gradient = False
    grad = paddle.rand([64, 20, 12, 12])
    return ms_per_call(lambda: pool(x).backward(grad), repeats, warm_up=1)


def main():
    print(f"Machine: {describe()}\n")
    print("1. One max-pool 2x2/2 on [64, 20, 24, 24], forward + backward")
    for name, pool in (("nn.MaxPool2D", nn.MaxPool2D(2, 2)),
                       ("return_mask=True", MaxPoolWithIndex()),
                       ("reshape + max", ReshapeMax())):
        print(f"   {name:18s} {statistics.median(pool_ms(pool) for _ in range(3)):.2f} ms")
    print("\n2. LeNet-5 training, steps of 64, alternately (5 rounds of 40 steps)")
    speeds = alternately({name: training_run(build) for name, build in VARIANTS.items()}, 40,
                         rounds=5)
    first = speeds[next(iter(speeds))]
    for name, values in speeds.items():
        print(f"   {name:44s} {statistics.median(values):6,.0f} images/s  "
              f"x{ratio_summary(values, first)}")


if __name__ == "__main__":
    main()
