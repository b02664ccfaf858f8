"""Choosing where Paddle computes: the GPU when there is one, else the CPU."""

import paddle

from recognize_digits import RecognizeDigitsError


def gpu_available():
    return paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0


def default_device():
    return "gpu" if gpu_available() else "cpu"


def set_device(name):
    """Make `name` ('cpu' or 'gpu') Paddle's device; a clear error if there is no GPU."""
    if name == "gpu" and not gpu_available():
        why = "has no usable GPU" if paddle.device.is_compiled_with_cuda() else (
            "has a CPU-only Paddle (pip install paddlepaddle-gpu for CUDA)")
        raise RecognizeDigitsError(f"--device gpu, but this machine {why}; use --device cpu.")
    paddle.set_device(name)
    return name
