"""The chapter as a notebook (notebooks/), in English and Chinese: each runs top to bottom in a
fresh kernel with MNIST_DIR set, as a learner runs it; its training is train.py's; the two say the
same in code; each committed .ipynb holds its .pct.py's cells and the outputs of a run."""

import ast
import os
import re
import subprocess
import sys
import time

import nbformat
import pytest

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "notebooks"))
import build_notebooks  # noqa: E402

NOTEBOOKS = build_notebooks.NOTEBOOKS
# The lines of the chapter's log, which train.py and the notebook print alike.
CHAPTER_LINE = re.compile(r"(Training |Pass |Test with Epoch |Best pass is |The classification "
                          r"accuracy is ).*")


def text_outputs(nb):
    """All the text a run printed, cell by cell, as one string."""
    return "".join(output.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                   for output in cell.outputs if output.output_type == "stream")


def figures(nb):
    """The number of PNG images among the notebook's outputs."""
    return sum("image/png" in output.get("data", {}) for cell in nb.cells
               if cell.cell_type == "code" for output in cell.outputs)


def code_cell(nb, text):
    """The first code cell whose source holds `text`."""
    return next(cell for cell in nb.cells if cell.cell_type == "code" and text in cell.source)


def code_spans(markdown):
    """The `code` spans of a Markdown cell, each on one line."""
    return {" ".join(span.split()) for span in re.findall(r"`[^`]+`", markdown)}


def without_docstrings(source):
    """A code cell's syntax tree, without its comments and docstrings (what a translation may
    change), as a string to compare."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                and isinstance(first.value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


@pytest.fixture(scope="module", params=NOTEBOOKS)
def executed(request, mnist_dir, tmp_path_factory):
    """(name, the notebook run from its .pct.py in a fresh kernel, seconds the run took).

    The kernel starts in an empty folder (where the notebook saves its model), with the repository
    importable and MNIST_DIR set; nbclient raises CellExecutionError if a cell fails.
    """
    name = request.param
    nb = build_notebooks.read_source(name)
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")
    cwd = str(tmp_path_factory.mktemp(name.replace(".", "_")))
    started = time.perf_counter()
    build_notebooks.execute(nb, cwd, build_notebooks.kernel_environment(mnist_dir))
    return name, nb, time.perf_counter() - started


def test_notebook_runs_top_to_bottom_and_tells_the_chapter(executed):
    name, nb, seconds = executed
    streams = [output for cell in nb.cells if cell.cell_type == "code"
               for output in cell.outputs if output.output_type == "stream"]
    assert [s.text for s in streams if s.name == "stderr"] == [], \
        "a normal run prints no warnings, and none of Paddle's log"
    text = text_outputs(nb)
    for line in ("softmax_regression (--model softmax): 7,850 parameters",
                 "multilayer_perceptron (--model mlp): 199,210 parameters",
                 "convolutional_neural_network (--model cnn): 33,620 parameters",
                 "Pass 0, Batch 0, Cost ", "Test with Epoch 0, avg_cost: ",
                 "Inference result of image/infer_3.png is: 3",
                 "Inference result of the 7 drawn here is: 7"):
        assert line in text, f"{name}: no {line!r} in its output"
    # The quick default: one epoch, a few thousand images, done in under two minutes.
    assert "The same run in a terminal: python train.py --epochs 1 --train-size 5000" in text
    assert seconds < 120, f"{name} ran for {seconds:.0f} s"
    accuracy = float(re.search(r"The classification accuracy is ([\d.]+)%", text).group(1))
    assert accuracy >= 85.0, f"{name}: the quick run reached {accuracy}%"
    # Paddle Inference, running the exported best pass, reads the test set as the loop tested it.
    exported = float(re.search(r"Paddle Inference reads [\d,]+ of the 10,000 test digits right: "
                               r"([\d.]+)%", text).group(1))
    assert abs(exported - accuracy) <= 0.02, (exported, accuracy)
    # The digit grid, the cost curves (the placeholder replaced by the figure after the epoch),
    # the confusion matrix, and the images the model saw.
    assert figures(nb) == 4
    training = code_cell(nb, "for epoch in range(args.epochs):")
    assert [set(o.data) for o in training.outputs if o.output_type == "display_data"] == \
        [{"image/png", "text/plain"}]


@pytest.fixture(scope="module")
def train_py_log(mnist_dir, tmp_path_factory):
    """log(flags): the chapter's lines `python train.py FLAGS` prints (run once per flags)."""
    logs = {}

    def log(flags):
        if flags not in logs:
            save_dir = tmp_path_factory.mktemp("train_py") / "model"
            result = subprocess.run(
                [sys.executable, os.path.join(ROOT, "train.py"), *flags.split(),
                 "--data-dir", mnist_dir, "--save-dir", str(save_dir)],
                capture_output=True, text=True, timeout=600, cwd=ROOT)
            assert result.returncode == 0, result.stderr
            logs[flags] = [l for l in result.stdout.splitlines() if CHAPTER_LINE.fullmatch(l)]
        return logs[flags]

    return log


def test_notebook_trains_as_train_py_does(executed, train_py_log):
    """The same settings and seed give the same log, bit for bit: the first cost (the same
    initial weights, batch and augmentation), every logged cost, the test and the best pass."""
    name, nb, _ = executed
    text = text_outputs(nb)
    flags = re.search(r"The same run in a terminal: python train.py(.*)", text).group(1).strip()
    notebook_lines = [l for l in text.splitlines() if CHAPTER_LINE.fullmatch(l)]
    train_py_lines = train_py_log(flags)
    assert notebook_lines[1].startswith("Pass 0, Batch 0, Cost ")
    assert notebook_lines[1] == train_py_lines[1], "the first logged cost differs from train.py's"
    assert notebook_lines == train_py_lines
    assert len(notebook_lines) == 12  # Training, 8 x Pass, Test with, Best pass, accuracy


def test_setup_cell_finds_the_repository_and_full_run_is_train_pys_default():
    """Opened in notebooks/ with nothing on the path, the first cell finds the repository;
    FULL_RUN = True runs train.py with no flag: its defaults, the chapter's 5 epochs."""
    source = build_notebooks.read_source(NOTEBOOKS[0])
    full_run = code_cell(source, "FULL_RUN = False")
    full_run.source = full_run.source.replace("FULL_RUN = False", "FULL_RUN = True")
    cells = [next(c for c in source.cells if c.cell_type == "code"), full_run,
             code_cell(source, "prepare_paddle()"), code_cell(source, "flags = "),
             nbformat.v4.new_code_cell("print(ROOT, sys.path[0], train_py.__file__, args.epochs, "
                                       "args.train_size, args.model)")]
    nb = nbformat.v4.new_notebook(cells=cells, metadata=source.metadata)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    build_notebooks.execute(nb, os.path.join(ROOT, "notebooks"), env)
    text = text_outputs(nb)
    assert "The same run in a terminal: python train.py\n" in text
    root = os.path.realpath(ROOT)
    assert text.splitlines()[-1] == f"{root} {root} {os.path.join(root, 'train.py')} 5 None cnn"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_is_its_source_with_the_outputs_of_a_run(name):
    """notebooks/build_notebooks.py wrote the .ipynb from the .pct.py: the same cells, and the
    outputs of a run (GitHub shows them, figures included)."""
    source = build_notebooks.read_source(name)
    committed = nbformat.read(build_notebooks.notebook_path(name), as_version=4)
    assert [(c.cell_type, c.source) for c in committed.cells] == \
        [(c.cell_type, c.source) for c in source.cells], \
        f"{name}.ipynb is not {name}.pct.py: run python notebooks/build_notebooks.py"
    assert committed.metadata.kernelspec.name == "python3"
    code = [c for c in committed.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert figures(committed) == 4
    assert not any(o.output_type == "error" for c in code for o in c.outputs)


def test_english_and_chinese_notebooks_have_the_same_cells():
    english, chinese = (build_notebooks.read_source(name) for name in NOTEBOOKS)
    assert [c.cell_type for c in english.cells] == [c.cell_type for c in chinese.cells]
    for en, cn in zip(english.cells, chinese.cells):
        if en.cell_type == "code":  # the same code; comments and docstrings translated
            assert without_docstrings(en.source) == without_docstrings(cn.source), en.source
        else:  # the same text, translated: Chinese prose around the same code names
            assert re.search(r"[\u4e00-\u9fff]", cn.source), cn.source
            assert code_spans(en.source) == code_spans(cn.source), (en.source, cn.source)
