"""The "Recognize Digits" chapter of the PaddlePaddle book (MNIST) on Paddle 3.

Importing this package first quiets the framework, so that a user sees our output and not
Paddle's: its C++ log (glog) and a few Python warnings it raises on import or on every
training step that say nothing actionable to a learner. On an AMD CPU it also lets Paddle's
MKL use the CPU's AVX2 or AVX-512 units, which it would not by itself.
"""

import os
import warnings

# glog reads these when paddle's core library loads: keep only errors. setdefault, so a user
# who wants the framework's log can still ask for it (GLOG_v=3 python train.py ...).
os.environ.setdefault("GLOG_minloglevel", "2")


def _mkl_code_path_for_amd():
    """The MKL_DEBUG_CPU_TYPE that lets Paddle's MKL use this CPU's vector units, or None.

    Paddle's CPU wheel multiplies matrices (the fully connected layers, the convolutions) with
    the MKL 2019 it bundles, which checks the CPU's vendor, not its features: on an AMD CPU it
    runs its generic code, without AVX. MKL_DEBUG_CPU_TYPE (honoured up to MKL 2020.0) names the
    code to run instead: 7 for AVX-512, 5 for AVX2, chosen here only if this CPU has them. A
    matrix multiply then runs 2.5-5x faster on an AMD EPYC (`python bench/mkl_cpu.py`, and
    docs/speed.md); the results are the same up to float rounding.
    """
    try:
        with open("/proc/cpuinfo") as f:
            cpuinfo = f.read(1 << 16)
    except OSError:
        return None
    if "AuthenticAMD" not in cpuinfo:
        return None
    flags = set(next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines()
                      if line.startswith("flags")), []))
    if flags >= {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}:
        return "7"
    if flags >= {"avx2", "fma"}:
        return "5"
    return None


# MKL reads it at its first matrix multiply, so it is set here, before any; a user's own wins.
if "MKL_DEBUG_CPU_TYPE" not in os.environ:
    _code_path = _mkl_code_path_for_amd()
    if _code_path:
        os.environ["MKL_DEBUG_CPU_TYPE"] = _code_path

for message in (
    "No ccache found",  # raised by `import paddle` (C++ extension tooling we never use)
    "When training, we now always track global mean and variance",  # every BatchNorm step
):
    warnings.filterwarnings("ignore", message=message)


class RecognizeDigitsError(Exception):
    """A problem the user can fix (missing data, bad image, bad flag).

    The scripts print its message as one line on stderr and exit non-zero, without a traceback.
    """
