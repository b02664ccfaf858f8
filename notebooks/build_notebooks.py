"""Write the notebooks from their text sources and run them, their outputs in the .ipynb.

    python notebooks/build_notebooks.py                      # both, after editing a .pct.py
    python notebooks/build_notebooks.py recognize_digits.cn  # one of them

Each notebook is kept twice (docs/notebooks.md says why): `X.pct.py`, the source one edits and
reviews (jupytext's percent format: cells between `# %%` lines), and `X.ipynb`, the same cells
with the outputs of a run, which GitHub shows with its figures. This script reads each .pct.py,
runs its cells from a fresh kernel, as a learner does, and writes the .ipynb.
tests/test_notebooks.py runs them the same way (`execute`) and checks that each .ipynb holds its
.pct.py's cells.

Needs requirements-dev.txt (jupytext, nbclient, ipykernel) and MNIST: $MNIST_DIR, else Paddle's
cache (downloading there).
"""

import os
import sys
import tempfile
import time

import jupytext
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from traitlets import default

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NOTEBOOKS = ("recognize_digits", "recognize_digits.cn")  # English, Chinese: X.pct.py -> X.ipynb
CELL_TIMEOUT = 1800  # seconds: a cell of the full run (FULL_RUN = True) trains 5 epochs


class _ThisPython(KernelSpecManager):
    """Kernel specs that start every kernel on this interpreter: the notebooks run with the
    packages of the environment that runs this script (or the tests), whatever kernel named
    "python3" the machine's Jupyter holds."""

    def get_kernel_spec(self, kernel_name):
        return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f",
                                "{connection_file}"],
                          display_name="Python 3 (ipykernel)", language="python")


class ThisPythonKernelManager(AsyncKernelManager):
    @default("kernel_spec_manager")
    def _default_kernel_spec_manager(self):
        return _ThisPython()


def source_path(name):
    return os.path.join(HERE, name + ".pct.py")


def notebook_path(name):
    return os.path.join(HERE, name + ".ipynb")


def read_source(name):
    """The notebook `name` as its .pct.py holds it: cells, no outputs."""
    return jupytext.read(source_path(name))


def execute(nb, cwd, env=None):
    """Run the cells of `nb` in a fresh kernel started in `cwd`, in place; returns `nb`.

    `env` is the kernel's environment (default: this process's). A cell that raises stops the run
    with nbclient's CellExecutionError, which shows the cell and its traceback.
    """
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            kernel_manager_class=ThisPythonKernelManager,
                            resources={"metadata": {"path": cwd}},
                            # the kernel's own log (a note that it listens on a local TCP port)
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    client.execute(env=dict(os.environ) if env is None else env)
    return nb


def kernel_environment(mnist_dir=None):
    """This process's environment, with the repository importable (the notebook's own setup
    cell finds it only from a folder inside the repository) and MNIST_DIR if given."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    if mnist_dir:
        env["MNIST_DIR"] = mnist_dir
    return env


def build(name):
    """Run the notebook `name` from its .pct.py in a temporary folder; write its .ipynb."""
    nb = read_source(name)
    with tempfile.TemporaryDirectory() as cwd:  # what the run saves (its model) is not kept
        started = time.perf_counter()
        execute(nb, cwd, kernel_environment())
        seconds = time.perf_counter() - started
    for number, cell in enumerate(nb.cells):  # the same file when nothing changed:
        cell.id = f"cell-{number}"  # ids by place (jupytext draws random ones)
        cell.metadata.pop("execution", None)  # and no note of when each cell ran
    jupytext.write(nb, notebook_path(name))
    return seconds


def main(names):
    unknown = [name for name in names if name not in NOTEBOOKS]
    if unknown:
        sys.exit(f"build_notebooks.py: no notebook {unknown[0]!r}; the notebooks: "
                 f"{', '.join(NOTEBOOKS)}")
    for name in names or NOTEBOOKS:
        seconds = build(name)
        print(f"{os.path.relpath(notebook_path(name), ROOT)}: ran in {seconds:.1f} s, written")


if __name__ == "__main__":
    main(sys.argv[1:])
