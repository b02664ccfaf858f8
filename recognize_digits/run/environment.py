"""prepare_paddle(): what train.py and infer.py do first, before Paddle loads.

Paddle is noisy: its C++ log (glog), and a few Python warnings it raises on import or on every
training step that say nothing actionable to a learner. A user should see our output, not the
framework's. On an AMD CPU, Paddle's MKL also needs telling that it may use the CPU's AVX2 or
AVX-512 units. Both are settings read when Paddle loads, so this is one explicit call a program
makes before `import paddle`; importing the package itself changes nothing.
"""

import logging
import os
import warnings

# Warnings Paddle raises that a user can do nothing about.
PADDLE_WARNINGS = (
    "No ccache found",  # raised by `import paddle` (C++ extension tooling we never use)
    "When training, we now always track global mean and variance",  # every BatchNorm step
)


def prepare_paddle():
    """Quiet Paddle's log and warnings, and choose MKL's code for this CPU. Call it before
    `import paddle`; a user's own GLOG_minloglevel or MKL_DEBUG_CPU_TYPE wins."""
    # glog reads this when paddle's core library loads: keep only errors. A user who wants the
    # framework's log can still ask for it (GLOG_minloglevel=0 python train.py ...).
    os.environ.setdefault("GLOG_minloglevel", "2")
    code_path = mkl_code_path_for_amd()
    if code_path:
        os.environ.setdefault("MKL_DEBUG_CPU_TYPE", code_path)
    for message in PADDLE_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
    # matplotlib's notes (building its font cache on first use; a read-only HOME, which train.py
    # reports in its own words): Paddle sets up logging at INFO, which would show them.
    logging.getLogger("matplotlib").setLevel(logging.ERROR)


def mkl_code_path_for_amd():
    """The MKL_DEBUG_CPU_TYPE that lets Paddle's MKL use this CPU's vector units, or None.

    Paddle's CPU wheel multiplies matrices (the fully connected layers, the convolutions) with
    the MKL 2019 it bundles, which checks the CPU's vendor, not its features: on an AMD CPU it
    runs its generic code, without AVX. MKL_DEBUG_CPU_TYPE (honoured up to MKL 2020.0) names the
    code to run instead: 7 for AVX-512, 5 for AVX2, chosen here only if this CPU has them. A
    matrix multiply then runs 2.5-5x faster on an AMD EPYC (docs/speed.md, "What made training
    faster"); the results are the same up to float rounding. Linux tells the CPU's flags in /proc/cpuinfo;
    elsewhere (Windows, macOS) this returns None and MKL chooses for itself.
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
