"""An experiment, not used by the project: LeNet-5's convolutions on two cores, each batch cut in
two halves, one computed in a second Python thread (Paddle releases the GIL inside its kernels).

    python bench/two_core_conv.py

A convolution treats each image on its own, so the two halves' outputs, put back together, are the
same numbers, bit for bit; the weight gradient is the sum of the halves' (the same up to float
rounding). Here as an autograd function (`paddle.autograd.PyLayer`) around `_C_ops.conv2d` and
`_C_ops.conv2d_grad`, used in place of `F.conv2d` in models.SimpleImgConvPool. Prints how equal the
results are, then LeNet-5 training with train.py's input pipeline (plain batches, and augmented
ones made by a background thread, LeNet-5's default), both models alternately, 5 rounds.
"""

import os
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import recognize_digits  # noqa: E402,F401
import numpy as np  # noqa: E402
import paddle  # noqa: E402
import paddle.nn.functional as F  # noqa: E402
from paddle import _C_ops, nn  # noqa: E402
from paddle.autograd import PyLayer  # noqa: E402
from machine import describe  # noqa: E402
from steps import StepTimer, alternately, pipeline_batches, ratio_summary  # noqa: E402
from recognize_digits import cli, data, models  # noqa: E402

SECOND_CORE = ThreadPoolExecutor(max_workers=1)
CONV = ([1, 1], [0, 0], "EXPLICIT", [1, 1], 1, "NCHW")  # stride, padding, ..., groups, layout


class TwoCoreConv2D(PyLayer):
    @staticmethod
    def forward(ctx, x, weight):
        ctx.input_grad = not x.stop_gradient
        x, weight = x.detach(), weight.detach()
        half = x.shape[0] // 2
        second = SECOND_CORE.submit(_C_ops.conv2d, x[half:], weight, *CONV)
        first = _C_ops.conv2d(x[:half], weight, *CONV)
        ctx.save_for_backward(x, weight)
        return paddle.concat([first, second.result()])

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensor()
        half = x.shape[0] // 2
        second = SECOND_CORE.submit(_C_ops.conv2d_grad, x[half:], weight, grad[half:], *CONV)
        dx1, dw1 = _C_ops.conv2d_grad(x[:half], weight, grad[:half], *CONV)
        dx2, dw2 = second.result()
        return (paddle.concat([dx1, dx2]) if ctx.input_grad else None), dw1 + dw2


class TwoCoreConvPool(models.SimpleImgConvPool):
    def forward(self, x):
        out = TwoCoreConv2D.apply(x, self.weight)
        out, _ = F.max_pool2d(out, self.pool_size, self.pool_stride, return_mask=True)
        return F.relu(out + self.bias.reshape([-1, 1, 1]))


def two_core_lenet():
    return nn.Sequential(TwoCoreConvPool(1, 20, 5), nn.BatchNorm2D(20), TwoCoreConvPool(20, 50, 5),
                         nn.Flatten(), nn.Linear(800, 10))


def training_run(build, images, labels, augment):
    """A StepTimer for a LeNet-5 from `build`, on train.py's input pipeline."""
    paddle.seed(0)
    return StepTimer(build(), pipeline_batches(images, labels, augment))


def main(argv=None):
    print(f"Machine: {describe()}\n")
    images, labels = data.load_mnist("train", None)
    paddle.seed(0)
    ours, two = models.convolutional_neural_network(), two_core_lenet()
    two.set_state_dict(ours.state_dict())
    x, y = paddle.to_tensor(images[:64]), paddle.to_tensor(labels[:64])
    costs = [F.cross_entropy(model(x), y) for model in (ours, two)]
    for cost in costs:
        cost.backward()
    gaps = [float(np.abs(a.grad.numpy() - b.grad.numpy()).max())
            for a, b in zip(ours.parameters(), two.parameters()) if a.grad is not None]
    print(f"same cost: {float(costs[0]) == float(costs[1])}; largest gradient difference "
          f"{max(gaps):.1e}\n")
    for augment in (False, True):
        runs = {"one core (SimpleImgConvPool)": training_run(
                    models.convolutional_neural_network, images, labels, augment),
                "convolutions on two cores": training_run(two_core_lenet, images, labels, augment)}
        one, both = alternately(runs, 60, rounds=5).values()
        print(f"augmentation {'on ' if augment else 'off'}: one core {statistics.median(one):6,.0f} "
              f"images/s, two {statistics.median(both):6,.0f}: x{ratio_summary(both, one)}",
              flush=True)


if __name__ == "__main__":
    sys.exit(cli.run(main))
