"""prepare_paddle(): what train.py and infer.py do first, before Paddle loads.

Paddle is noisy: its C++ log (glog), and a few Python warnings it raises on import or on every
training step that say nothing actionable to a learner. A user should see our output, not the
framework's. On an AMD CPU, Paddle's MKL also needs telling that it may use the CPU's AVX2 or
AVX-512 units. Both are settings read when Paddle loads, so this is one explicit call a program
makes before `import paddle`; importing the package itself changes nothing.
"""

import logging
import os
import signal
import sys
import warnings

from recognize_digits import RecognizeDigitsError
from recognize_digits.run.signals import exit_on_sigterm

# Warnings Paddle raises that a user can do nothing about.
PADDLE_WARNINGS = (
    "No ccache found",  # raised by `import paddle` (C++ extension tooling we never use)
    "When training, we now always track global mean and variance",  # every BatchNorm step
)


def prepare_paddle(prog=None):
    """Quiet Paddle's log and warnings, choose MKL's code for this CPU, then load Paddle. Call it
    before `import paddle`; a user's own GLOG_minloglevel or MKL_DEBUG_CPU_TYPE wins.

    Paddle cannot even load without a current folder and a home folder (it keeps a cache in
    ~/.cache/paddle): where one is missing, a program (`prog`) exits with one line that says so;
    without `prog`, RecognizeDigitsError. A program's SIGTERM then ends it with one line
    (signals.exit_on_sigterm), from before Paddle loads: held back while it loads and installs a
    handler of its own, which prints a C++ crash report.
    """
    problem = environment_problem()
    if problem and prog:
        sys.exit(f"{prog}: error: {problem}")
    if problem:
        raise RecognizeDigitsError(problem)
    quiet_paddle()
    if prog is None:
        return
    exit_on_sigterm(prog)
    hold = hasattr(signal, "pthread_sigmask")  # POSIX; Windows' Paddle installs no handler
    if hold:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        import paddle  # noqa: F401  (loaded here, under our SIGTERM handler)
    finally:
        exit_on_sigterm(prog)
        if hold:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


def quiet_paddle():
    """The settings Paddle reads as it loads: its log, its warnings, MKL's code path."""
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


def environment_problem():
    """What in the process's surroundings keeps Paddle from loading, or None."""
    try:
        os.getcwd()
    except OSError:
        return ("the current folder no longer exists (it was deleted or moved): cd into a "
                "folder that exists and run the command again.")
    home = os.path.expanduser("~")
    if not os.path.isdir(home):
        return (f"the home folder {home} is not a folder, and Paddle keeps its files in "
                f"~/.cache/paddle: set HOME (on Windows, USERPROFILE) to a folder you can write "
                f"to, e.g. HOME=/tmp/home python ...")
    return None


def mkl_code_path_for_amd():
    """The MKL_DEBUG_CPU_TYPE that lets Paddle's MKL use this CPU's vector units, or None.

    Paddle's CPU wheel multiplies matrices (the fully connected layers, the convolutions) with
    the MKL 2019 it bundles, which checks the CPU's vendor, not its features: on an AMD CPU it
    runs its generic code, without AVX. MKL_DEBUG_CPU_TYPE (honoured up to MKL 2020.0) names the
    code to run instead: 7 for AVX-512, 5 for AVX2, chosen here only if this CPU has them. A
    matrix multiply then runs 2.5-5x faster on an AMD EPYC (docs/speed.md, "What made training
    faster"); the results are the same up to float rounding. Linux tells the CPU's flags in
    /proc/cpuinfo; elsewhere (Windows, macOS) this returns None and MKL chooses for itself.
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
