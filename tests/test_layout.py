"""The layout the README draws: the chapter's modules at the top of recognize_digits/, importing
nothing from run/, images/ or serve/; small modules; train.py without the image-reading and
serving code; a package whose import changes nothing."""

import ast
import os
import subprocess
import sys

from conftest import ROOT

PACKAGE = os.path.join(ROOT, "recognize_digits")
CHAPTER = ("data", "readers", "models", "training", "inference", "plot")
SUBPACKAGES = ("run", "images", "serve")
MAX_LINES = 350


def imported_modules(path):
    """The modules a file imports, as dotted names (`from a import b` gives a and a.b)."""
    names = set()
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_chapter_imports_nothing_from_the_subpackages():
    for name in CHAPTER + ("__init__",):
        used = imported_modules(os.path.join(PACKAGE, f"{name}.py"))
        reached = sorted(m for m in used for sub in SUBPACKAGES
                         if m == f"recognize_digits.{sub}" or
                         m.startswith(f"recognize_digits.{sub}."))
        assert not reached, f"{name}.py imports {reached}"


def test_no_module_is_over_350_lines():
    for folder, _, names in os.walk(PACKAGE):
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as f:
                    lines = sum(1 for _ in f)
                assert lines <= MAX_LINES, f"{os.path.relpath(path, ROOT)}: {lines} lines"


def modules_loaded(*argv):
    """The modules a run of `python *argv` (in the project's root) imports."""
    result = subprocess.run([sys.executable, "-X", "importtime", *argv], capture_output=True,
                            text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
            if line.startswith("import time:")}


def test_train_py_loads_no_image_reading_or_serving_code():
    loaded = modules_loaded("train.py", "--help")
    assert "recognize_digits.training" in loaded  # the measurement works
    assert not [m for m in loaded if m.startswith(("recognize_digits.images",
                                                   "recognize_digits.serve"))]


def test_infer_py_reading_a_file_loads_no_serving_code(model_dir):
    loaded = modules_loaded("infer.py", "--model-dir", model_dir, "image/infer_3.png")
    assert "recognize_digits.images.number" in loaded  # the measurement works
    assert not [m for m in loaded if m.startswith("recognize_digits.serve")]


def test_importing_the_package_changes_nothing():
    """No environment variable, warning filter or logger level changes on import: a program
    asks for that with run.environment.prepare_paddle(). (Paddle and matplotlib, which change
    some as they load, are loaded first.)"""
    code = ("import logging, os, warnings, importlib\n"
            "import numpy, paddle, matplotlib.figure, PIL.Image\n"
            "before = (dict(os.environ), list(warnings.filters),"
            " logging.getLogger('matplotlib').level)\n"
            "import recognize_digits\n"
            f"for name in {CHAPTER!r}:\n"
            "    importlib.import_module('recognize_digits.' + name)\n"
            "after = (dict(os.environ), list(warnings.filters),"
            " logging.getLogger('matplotlib').level)\n"
            "print(before == after)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={k: v for k, v in os.environ.items()
                                 if k not in ("GLOG_minloglevel", "MKL_DEBUG_CPU_TYPE")},
                            timeout=300)
    assert result.stdout == "True\n", result.stderr
