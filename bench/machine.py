"""One line describing the machine, printed beside every number the benchmarks report."""

import os
import platform
import warnings


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


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
