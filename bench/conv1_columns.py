"""LeNet-5's first convolution as one matrix multiply over columns made beforehand: does it pay?

    python bench/conv1_columns.py

The first convolution reads the input images, which need no gradient: their 5x5 windows (the
"columns", [N, 25, 576]) could be cut out in numpy by the thread that already augments the next
batch, on the core the training step leaves idle. The convolution would then be one multiply by the
[20, 25] weights, and its weight gradient one more. Times, for a batch of 64, forward + backward
(the weight gradient only, as in training): `F.conv2d`; the multiply broadcast over the batch; the
multiply on [25, 64 x 576] columns and a transpose back to [64, 20, 24, 24]; and, apart, cutting
the columns in numpy (best of 3 runs of 200 calls each). Checks first that all give the same map.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import recognize_digits  # noqa: E402,F401  (MKL's code path on AMD; quiet Paddle)
import numpy as np  # noqa: E402
import paddle  # noqa: E402
import paddle.nn.functional as F  # noqa: E402
from machine import describe  # noqa: E402
from steps import ms_per_call  # noqa: E402

BATCH = 64


def columns(images):
    """The 5x5 windows of a batch [N, 1, 28, 28]: [N, 25, 576], as im2col lays them out."""
    windows = np.lib.stride_tricks.sliding_window_view(images[:, 0], (5, 5), axis=(1, 2))
    return np.ascontiguousarray(windows.transpose(0, 3, 4, 1, 2)).reshape(len(images), 25, 576)


def by_conv2d(x, weight):
    return F.conv2d(x, weight)


def by_batched_multiply(cols, weight):
    return paddle.matmul(weight.reshape([20, 25]), cols).reshape([BATCH, 20, 24, 24])


def by_one_multiply(flat_cols, weight):
    out = paddle.matmul(weight.reshape([20, 25]), flat_cols)  # [20, N x 576]
    return out.reshape([20, BATCH, 24, 24]).transpose([1, 0, 2, 3])


def forward_and_backward(conv, inputs, weight):
    conv(inputs, weight).sum().backward()
    weight.clear_gradient()


def main():
    print(f"Machine: {describe()}")
    images = np.random.default_rng(0).random((BATCH, 1, 28, 28)).astype(np.float32)
    cols = columns(images)
    weight = paddle.create_parameter([20, 1, 5, 5], "float32")
    ways = {
        "F.conv2d": (by_conv2d, paddle.to_tensor(images)),
        "multiply broadcast over the batch": (by_batched_multiply, paddle.to_tensor(cols)),
        "one multiply, then a transpose": (
            by_one_multiply, paddle.to_tensor(np.ascontiguousarray(cols.transpose(1, 0, 2))
                                              .reshape(25, BATCH * 576))),
    }
    reference = by_conv2d(ways["F.conv2d"][1], weight)
    for name, (conv, inputs) in ways.items():
        difference = float((conv(inputs, weight) - reference).abs().max())
        ms = min(ms_per_call(lambda: forward_and_backward(conv, inputs, weight), 200)
                 for _ in range(3))
        print(f"{name}: forward + backward {ms:.2f} ms (largest difference from F.conv2d "
              f"{difference:.1e})")
    ms = min(ms_per_call(lambda: columns(images), 200) for _ in range(3))
    print(f"cutting the columns in numpy: {ms:.2f} ms")


if __name__ == "__main__":
    main()
