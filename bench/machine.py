"""One line describing the machine, printed beside every number the benchmarks report."""

import os
import platform
import warnings


def cpu_model():
    """The CPU's name and its widest vector unit: "AMD EPYC (AVX-512)". Two CPUs of one name
    may differ in it, and with it MKL's speed and the float rounding of a training run."""
    try:
        with open("/proc/cpuinfo") as f:
            cpuinfo = f.read(1 << 16)
    except OSError:
        return platform.processor() or platform.machine()
    fields = {}
    for line in cpuinfo.splitlines():  # the first CPU's lines: the read may cut a later one
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else None
    name = fields.get("model name") or platform.processor() or platform.machine()
    return f"{name} ({vector})" if vector else name


def describe():
    # Not `import recognize_digits` (which quiets Paddle) here: on an AMD CPU it also sets
    # MKL_DEBUG_CPU_TYPE, which bench/train_wall.py's run of an earlier commit must not inherit.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Paddle's import-time remark on ccache
        import paddle

    return (f"{cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}, Paddle {paddle.__version__}")


if __name__ == "__main__":
    print(describe())
