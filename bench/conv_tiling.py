"""LeNet-5's second convolution with the batch tiled into fewer, taller images: does it pay?

    python bench/conv_tiling.py

Paddle's CPU convolution unfolds and multiplies one image at a time: for LeNet-5's second
convolution a [50, 500] x [500, 64] multiply per image. Stacking k images of 12x12 into one image
of 12k x 12 gives each multiply k times the columns (and wastes the windows that straddle two
images, about half as many again). Times the convolution, forward and forward + backward, for the
batch of 64 as 64 images and tiled into 8, 4, 2 and 1 (best of 3 runs of 30 calls each).
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


def forward_and_backward(x, weight, grad):
    F.conv2d(x, weight).backward(grad)
    weight.clear_gradient()
    x.clear_gradient()


def main():
    print(f"Machine: {describe()}")
    weight = paddle.create_parameter([50, 20, 5, 5], "float32")
    for images in (64, 8, 4, 2, 1):
        shape = [images, 20, 12 * 64 // images, 12]
        x = paddle.to_tensor(np.random.default_rng(0).normal(size=shape).astype(np.float32),
                             stop_gradient=False)
        grad = paddle.ones_like(F.conv2d(x, weight))
        with paddle.no_grad():
            forward = min(ms_per_call(lambda: F.conv2d(x, weight), 30) for _ in range(3))
        both = min(ms_per_call(lambda: forward_and_backward(x, weight, grad), 30)
                   for _ in range(3))
        print(f"{images:2d} images of {shape[2]}x12: forward {forward:.2f} ms, "
              f"forward + backward {both:.2f} ms")


if __name__ == "__main__":
    main()
