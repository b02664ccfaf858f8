"""Choosing where Paddle computes: the GPU when there is one, else the CPU."""

import paddle

from recognize_digits import RecognizeDigitsError

# Paddle 3's CUDA builds come from Paddle's own package index, one per CUDA version (cu118,
# cu126, cu129); PyPI's paddlepaddle-gpu stops at 2.6, which cannot load a Paddle 3 model.
GPU_INDEX = "https://www.paddlepaddle.org.cn/packages/stable/cu126/"


def gpu_install_command():
    """The command that installs this Paddle version's CUDA 12.6 build."""
    return f"pip install paddlepaddle-gpu=={paddle.__version__} -i {GPU_INDEX}"


def gpu_available():
    return paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0


def default_device():
    return "gpu" if gpu_available() else "cpu"


def set_device(name):
    """Make `name` ('cpu' or 'gpu') Paddle's device; a clear error if there is no GPU."""
    if name == "gpu" and not gpu_available():
        why = "has no usable GPU" if paddle.device.is_compiled_with_cuda() else (
            f"has a CPU-only Paddle (for CUDA 12.6: {gpu_install_command()}; other CUDA "
            f"versions: the README, \"With a GPU\")")
        raise RecognizeDigitsError(f"--device gpu, but this machine {why}; use --device cpu.")
    paddle.set_device(name)
    return name
