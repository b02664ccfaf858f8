"""Checkpoints: what train.py needs to carry on after an interruption, in one file.

After every epoch, train.py saves the model's and the optimiser's state (Adam's moments), the
moving average of the weights, the epoch, the settings and the cost/accuracy history into
`checkpoint.npz` in the save dir. It is one file written to a temporary name and renamed into
place, so the checkpoint on disk is always a whole one: the last completed epoch's.

The file is a numpy .npz archive: one array per tensor, and the settings and history as a JSON
text in the array `state.json`. It is read with `np.load(allow_pickle=False)` and `json.loads`,
which build arrays, numbers and strings and nothing else: a checkpoint, even one crafted by
someone else, cannot run code (`paddle.load` unpickles, and a pickle can).

Randomness needs no saved state: the initial weights are restored with the model, and each
epoch's shuffle and augmentation are drawn from generators seeded by (seed, epoch) alone. A
resumed run therefore repeats an uninterrupted one exactly.
"""

import argparse
import json
import os
import shlex
import subprocess
import zipfile
import zlib

import numpy as np
import paddle

from recognize_digits import RecognizeDigitsError, special_file
from recognize_digits.run.checkpoint_checks import (HISTORY_ROWS, RUN_SETTINGS, STATE,
                                                    array_problem, state_problem,
                                                    tensors_problem)
from recognize_digits.run.files import atomic_path

CHECKPOINT_FILE = "checkpoint.npz"
# paddle.save's checkpoint is a pickle: refused, since loading a pickle can run code.
PICKLED_CHECKPOINT_FILE = "checkpoint.pdckpt"
PARTS = ("model", "optimizer", "ema")  # tensors are stored as "PART/NAME" arrays


class CheckpointError(RecognizeDigitsError):
    """No usable checkpoint to resume from."""


def checkpoint_path(save_dir):
    return os.path.join(save_dir, CHECKPOINT_FILE)


def save_checkpoint(save_dir, model, optimizer, ema, state):
    """Save model, optimiser, moving average and `state` (plain Python values) atomically."""
    ema_state = ema.state_dict()
    arrays = {STATE: np.array(json.dumps({**state, "ema_steps": ema_state["steps"]}))}
    by_name = {p.name: name for name, p in model.named_parameters()}
    adam = {_renamed(key, by_name): value for key, value in optimizer.state_dict().items()}
    for part, tensors in (("model", model.state_dict()), ("optimizer", adam),
                          ("ema", ema_state["average"])):
        for name, value in tensors.items():
            arrays[f"{part}/{name}"] = np.asarray(value.numpy())
    with atomic_path(checkpoint_path(save_dir)) as tmp:
        with open(tmp, "wb") as f:  # a file object: np.savez would add ".npz" to a name
            np.savez(f, **arrays)


def read_checkpoint(save_dir):
    """The saved {"model", "optimizer", "ema": {"steps", "average"}, "state"}, tensors as numpy
    arrays, or None if the save dir has no checkpoint. CheckpointError if it cannot be used."""
    path = checkpoint_path(save_dir)
    if not os.path.lexists(path):
        pickled = os.path.join(save_dir, PICKLED_CHECKPOINT_FILE)
        if os.path.exists(pickled):
            raise CheckpointError(
                f"{pickled} was written by an older train.py "
                f"(a pickle, which this one does not load: loading it could run code): delete it "
                f"to start afresh.")
        return None
    try:
        kind = special_file(path)  # a FIFO would wait for a writer: not opened
        if kind is None:
            with open(path, "rb") as f:
                return _parse(path, f)
    except OSError as err:  # not damaged, perhaps: unreadable (permissions, a failing disk)
        raise CheckpointError(f"{path} cannot be read ({err.strerror or err}): make it readable, "
                              f"or move it away to start afresh.") from None
    raise CheckpointError(f"{path} is {kind}, not a checkpoint file: move it away to start "
                          f"afresh.")


def _parse(path, f):
    """The checkpoint in the open file `f`; CheckpointError naming what is wrong with it."""
    try:
        with np.load(f, allow_pickle=False) as archive:
            problem = next(filter(None, (array_problem(name, *_declared(archive, name))
                                         for name in archive.files)), None)
            if problem:
                raise CheckpointError(f"{path} {problem}: delete it to start afresh.")
            arrays = {name: archive[name] for name in archive.files}
        state = json.loads(str(arrays.pop(STATE)))
    except (ValueError, OSError, EOFError, KeyError, RecursionError, zipfile.BadZipFile,
            zlib.error) as err:
        raise CheckpointError(f"{path} is damaged ({type(err).__name__}): delete it to start "
                              f"afresh.") from None
    problem = state_problem(state)
    parts = {part: {} for part in PARTS}
    for name, value in arrays.items():
        part, _, key = name.partition("/")
        if part not in parts:
            problem = problem or f"is damaged (it holds an array {name!r})"
        parts.setdefault(part, {})[key] = value
    if problem:
        raise CheckpointError(f"{path} {problem}: delete it to start afresh.")
    return {"path": path, "model": parts["model"], "optimizer": parts["optimizer"],
            "ema": {"steps": state.pop("ema_steps"), "average": parts["ema"]}, "state": state}


def _declared(archive, name):
    """(dtype, shape) of the array `name` of an open .npz archive, from its header alone."""
    with archive.zip.open(name + ".npy") as member:
        version = np.lib.format.read_magic(member)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read_header(member)
    return dtype, shape


def read_for_resume(save_dir, args):
    """With --resume, the checkpoint in `save_dir` to continue; else None.

    Without --resume, an unfinished run's checkpoint is never overwritten by a new run. `args`
    is read, not changed: with_run_settings gives the resumed run's settings.
    """
    saved = read_checkpoint(save_dir)
    done = saved["state"]["epoch"] + 1 if saved else 0
    if not args.resume:
        if saved and done < saved["state"]["args"]["epochs"]:
            raise CheckpointError(
                f"{save_dir} holds an unfinished run ({done} of {saved['state']['args']['epochs']} "
                f"epochs): continue it with --resume, or train into another --save-dir.")
        return None
    if saved is None:
        raise CheckpointError(f"nothing to resume: {save_dir} holds no {CHECKPOINT_FILE}; "
                              f"start a run without --resume, or pass the run's --save-dir.")
    if done >= args.epochs:
        raise CheckpointError(f"the run in {save_dir} has already trained {done} epochs: pass "
                              f"--epochs N with a larger N to train it further.")
    if args.model is not None and args.model != saved["state"]["args"]["model"]:
        raise CheckpointError(f"the run in {save_dir} trains --model "
                              f"{saved['state']['args']['model']}, not {args.model}: resume it "
                              f"without --model, or pass another --save-dir.")
    return saved


def with_run_settings(args, saved):
    """The settings to train with: `args` as they are without a checkpoint; with one (`saved`),
    a copy of `args` holding the resumed run's own settings (RUN_SETTINGS). Also a note naming the
    flags given on the command line that this overrules, as a user would type them ("--lr 0.5"),
    or None.

    A run resumes with what it started with, so that it ends as an uninterrupted run would.
    Flags left out are None in `args`.
    """
    if saved is None:
        return args, None
    run = saved["state"]["args"]
    overruled = [_as_flag(name, getattr(args, name)) for name in RUN_SETTINGS
                 if getattr(args, name) is not None and getattr(args, name) != run[name]]
    note = (f"--resume carries on with the run's own settings: {', '.join(overruled)} not "
            f"applied." if overruled else None)
    return argparse.Namespace(**{**vars(args), **{name: run[name] for name in RUN_SETTINGS}}), note


def _as_flag(name, value):
    flag = "--" + name.replace("_", "-")
    if isinstance(value, bool):
        return flag if value else "--no-" + flag[2:]
    return f"{flag} {value}"


def restore(saved, model, optimizer, ema):
    """Put a checkpoint's weights, optimiser state and moving average back into the run.

    Returns where the run stands: (history, best pass, first epoch to train), those of a new run
    when `saved` is None.
    """
    if saved is None:
        return {key: [] for key in HISTORY_ROWS}, None, 0
    problem = tensors_problem(saved, model, _parameter_of)
    if problem:
        raise CheckpointError(f"{saved['path']} {problem} (damaged, or not of this model): "
                              f"delete it to start afresh.")
    model.set_state_dict({name: paddle.to_tensor(value) for name, value in saved["model"].items()})
    by_name = {name: p.name for name, p in model.named_parameters()}
    optimizer.set_state_dict({_renamed(key, by_name): paddle.to_tensor(value)
                              for key, value in saved["optimizer"].items()})
    ema.set_state_dict({"steps": saved["ema"]["steps"], "average": saved["ema"]["average"]})
    state = saved["state"]
    return state["history"], state["best"], state["epoch"] + 1


def _parameter_of(key, names):
    """Which of `names` the optimizer state `key` ("linear_0.w_0_moment1_0") belongs to, or None."""
    for name in sorted(names, key=len, reverse=True):
        if key.startswith(name + "_"):
            return name
    return None


def _renamed(key, names):
    """An optimizer state's `key`, a parameter's name then what it holds ("linear_0.w_0" +
    "_moment1_0"), with the parameter's name replaced by names[it].

    Adam keys its state by Paddle's unique parameter names ("linear_0.w_0"), which depend on how
    many layers the process built before; the checkpoint keys it by the model's own names
    ("1.weight"), the same in every process.
    """
    owner = _parameter_of(key, names)
    return key if owner is None else names[owner] + key[len(owner):]


def save_run(save_dir, model, optimizer, ema, args, epoch, history, best):
    """Checkpoint the run after `epoch`: what --resume needs to carry on exactly."""
    settings = {name: getattr(args, name) for name in RUN_SETTINGS + ("epochs",)}
    save_checkpoint(save_dir, model, optimizer, ema, {
        "epoch": epoch, "history": history, "best": best, "args": settings})


def resume_command(args, save_dir, world):
    """The command line that resumes this run, quoted for this OS's shell (a save dir may hold
    spaces): POSIX quoting, or on Windows the quoting cmd and PowerShell read."""
    launch = ["-m", "paddle.distributed.launch", "--nproc_per_node", str(world)]
    launch = launch if world > 1 else []
    words = ["python", *launch, "train.py", "--resume", "--save-dir", save_dir,
             "--epochs", str(args.epochs)]
    if args.data_dir:
        words += ["--data-dir", args.data_dir]
    return subprocess.list2cmdline(words) if os.name == "nt" else shlex.join(words)
