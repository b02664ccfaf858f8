"""The model folder, safely: an export written aside, checked, then renamed into place; a folder
checked against what train.py wrote before infer.py loads it.

A model folder (train.py's --save-dir) holds:
    model.json, model.pdiparams   the inference model (inference.save_inference_model)
    model_info.json               what infer.py needs to know: model name, epoch, accuracy, the
                                  input's scaling, and the size and sha256 of the two model files

A model is never replaced by a worse one: an export is checked before it is renamed into place,
and a model whose files are not those model_info.json records is refused, not run.
"""

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time

import numpy as np
import paddle

from recognize_digits.inference import (MODEL_INPUT, MODEL_PREFIX, ModelError, Predictor,
                                        save_inference_model)
from recognize_digits.models import with_softmax
from recognize_digits.run.files import (check_paddle_cache, check_save_dir, fsync, is_utf8,
                                       lock_save_dir, remove_temporary_files, shown, write_json)

MODEL_FILES = (MODEL_PREFIX + ".pdiparams", MODEL_PREFIX + ".json")  # renamed in this order
INFO_FILE = "model_info.json"
MAX_INFO_BYTES = 1024 * 1024  # train.py's is under 1 kB
# What a run writes beside its model, kept with it when a new run takes the save dir.
KEPT_WITH_THE_MODEL = ("cost.png", "confusion.png", "checkpoint.npz")
EXPORT_PREFIX = ".export-"  # the temporary folder an export is written into, in the save dir
# An export must give the trained model's probabilities on these few images (uniform noise:
# every weight counts) to within this much: Paddle Inference's oneDNN kernels round a little
# differently from the dynamic graph's.
PROBE_IMAGES = np.random.default_rng(0).uniform(-1, 1, (8, 1, 28, 28)).astype(np.float32)
PROBE_TOLERANCE = 1e-4


def claim_save_dir(save_dir):
    """Before training, on the main process: prove the save dir, and Paddle's cache under HOME,
    can be written; take the save dir for this run (a lock, released when the returned object is
    closed or the process ends); and remove what a killed run left there."""
    check_save_dir(save_dir)
    check_paddle_cache()
    lock = lock_save_dir(save_dir)
    remove_leftovers(save_dir)
    return lock


def keep_previous_model(save_dir):
    """Before a new run trains into `save_dir`: move the model already there, if any (with its
    plots and finished checkpoint), into a folder of its own, `previous-YYYYmmdd-HHMMSS/`, so
    that no finished model is ever replaced unseen. Returns a note saying where it is, or None.
    Each file is moved by a rename: a run killed meanwhile leaves every file in one of the two
    folders."""
    if not os.path.isfile(os.path.join(save_dir, INFO_FILE)):
        return None
    try:
        info = _load_info(os.path.join(save_dir, INFO_FILE))
    except ModelError:
        info = {}
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder, n = os.path.join(save_dir, f"previous-{stamp}"), 1
    while os.path.lexists(folder):
        n += 1
        folder = os.path.join(save_dir, f"previous-{stamp}-{n}")
    os.mkdir(folder)
    for name in MODEL_FILES + (INFO_FILE,) + KEPT_WITH_THE_MODEL:
        if os.path.isfile(os.path.join(save_dir, name)):
            os.replace(os.path.join(save_dir, name), os.path.join(folder, name))
    return (f"the model trained before in {save_dir} ({_described(info)}) is kept in "
            f"{folder}{os.sep}; this run trains a new one.")


def _described(info):
    """"convolutional_neural_network, 5 epochs, 99.39%": a model, from its model_info.json."""
    words = [str(info["builder"])] if isinstance(info.get("builder"), str) else []
    if isinstance(info.get("epochs"), int):
        words.append(f"{info['epochs']} epoch{'s' if info['epochs'] != 1 else ''}")
    if isinstance(info.get("test_acc"), (int, float)):
        words.append(f"{info['test_acc']:.2%}")
    return ", ".join(words) or "its model_info.json unreadable"


class ExportError(OSError):
    """The exported files are not the trained model (a full disk, mostly): nothing was replaced.

    An OSError, like the write errors of a full disk it usually stands for: train.py's
    files.writing() says it in one line.
    """


def export_model(save_dir, model, info):
    """Export `model` to `save_dir` with `info` beside it: checked, then renamed into place.

    save_inference_model writes into a temporary folder inside `save_dir`, and model_info.json
    goes beside it with the size and sha256 of each file. paddle.jit.save does not raise when the
    disk fills: it leaves a truncated model.pdiparams. So before anything is renamed, the export
    is checked (check_whole, check_reloaded): if it fails, ExportError, and the model already
    there is kept. Then the files are renamed into place: the weights, the program,
    model_info.json last. A process killed between two renames leaves the new model_info.json
    in the temporary folder: read_info uses it, and the next train.py run puts it in place
    (remove_leftovers).
    """
    os.makedirs(save_dir, exist_ok=True)
    tmp_dir = tempfile.mkdtemp(dir=save_dir, prefix=EXPORT_PREFIX)
    try:
        save_inference_model(tmp_dir, model)
        check_whole(tmp_dir, model)
        write_json(os.path.join(tmp_dir, INFO_FILE),
                   {**info, "input": MODEL_INPUT, "files": file_records(tmp_dir)})
        check_reloaded(tmp_dir, model)
        for name in MODEL_FILES:  # on the disk before the renames make them visible
            fsync(os.path.join(tmp_dir, name))
        for name in MODEL_FILES + (INFO_FILE,):
            os.replace(os.path.join(tmp_dir, name), os.path.join(save_dir, name))
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def check_whole(folder, model):
    """ExportError unless the files paddle.jit.save wrote in `folder` for `model` are whole:
    model.pdiparams of exactly the size its tensors take (params_file_bytes), model.json
    complete JSON."""
    params, expected = os.path.join(folder, MODEL_FILES[0]), params_file_bytes(model)
    if os.path.getsize(params) != expected:
        raise ExportError(f"the exported {MODEL_FILES[0]} came out {os.path.getsize(params):,} "
                          f"bytes, not the {expected:,} its weights take: is the disk full?")
    try:
        with open(os.path.join(folder, MODEL_FILES[1])) as f:
            json.load(f)
    except ValueError:
        raise ExportError(f"the exported {MODEL_FILES[1]} came out cut short: is the disk "
                          f"full?") from None


def check_reloaded(folder, model):
    """ExportError unless Paddle Inference, loading the model in `folder`, gives `model`'s
    probabilities on PROBE_IMAGES."""
    try:
        exported = Predictor(folder)(PROBE_IMAGES)
    except ModelError as err:
        raise ExportError(f"the exported model does not load ({err})") from None
    was_training = model.training
    model.eval()
    with paddle.no_grad():
        trained = with_softmax(model)(paddle.to_tensor(PROBE_IMAGES)).numpy()
    if was_training:
        model.train()
    difference = float(np.abs(exported - trained).max())
    if not difference <= PROBE_TOLERANCE:
        raise ExportError(f"the exported model's probabilities differ from the trained model's "
                          f"by up to {difference:.3g}: it was not written whole")


def params_file_bytes(model):
    """The size of the model.pdiparams paddle.jit.save writes for `model`.

    The file is Paddle's tensor format, one record per tensor of the state dict: a 20-byte
    header (a format version, the LoD level, 0, a tensor version, the length of what follows),
    a protobuf TensorDesc (data type, 2 bytes; each dimension, a tag byte and a varint), then
    the data. A file of another size was not written whole: paddle.jit.save does not say so.
    """
    size = 0
    for value in model.state_dict().values():
        dims = sum(1 + max(1, -(-int(d).bit_length() // 7)) for d in value.shape)
        size += 20 + 2 + dims + value.numpy().nbytes
    return size


def file_records(folder):
    """{name: {"bytes": size, "sha256": hex digest}} of the model files in `folder`."""
    records = {}
    for name in MODEL_FILES:
        path = os.path.join(folder, name)
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
        records[name] = {"bytes": os.path.getsize(path), "sha256": digest.hexdigest()}
    return records


def files_problem(info, model_dir):
    """None if the model files in `model_dir` are those `info` records, else a message saying
    which one differs and how."""
    records = info.get("files")
    if not (isinstance(records, dict) and all(isinstance(records.get(n), dict)
                                              for n in MODEL_FILES)):
        return (f"{os.path.join(model_dir, INFO_FILE)} records no size and sha256 of the model "
                f"files (it was written by an older train.py, or not by train.py): train the "
                f"model again with `python train.py`.")
    try:
        found = file_records(model_dir)
    except OSError as err:  # missing, or unreadable (permissions, a failing disk)
        return (f"{shown(err.filename or model_dir)} cannot be read ({err.strerror or err}): "
                f"make it readable, or train the model again with `python train.py`.")
    for name in MODEL_FILES:
        path, recorded = os.path.join(model_dir, name), records[name]
        size = recorded.get("bytes")
        if found[name]["bytes"] != size:
            return (f"{path} is {found[name]['bytes']:,} bytes, but {INFO_FILE} records "
                    f"{f'{size:,}' if isinstance(size, int) else repr(size)}: it is truncated "
                    f"or was changed since train.py wrote it; train the model again with "
                    f"`python train.py`.")
        if found[name]["sha256"] != recorded.get("sha256"):
            return (f"{path} is not the file train.py wrote (its sha256 differs from the one "
                    f"{INFO_FILE} records): it is damaged or was changed; train the model again "
                    f"with `python train.py`.")
    return None


def read_info(model_dir):
    """The model_info.json of a model folder whose files are those it records; ModelError if
    the folder holds no complete model, or files that differ from what train.py wrote, or a
    model that takes its input scaled otherwise than infer.py scales it."""
    if not os.path.isdir(model_dir):
        raise ModelError(
            f"no trained model in {shown(model_dir)}: run `python train.py` first "
            f"(or pass --model-dir FOLDER written by train.py)."
        )
    if not is_utf8(os.path.abspath(model_dir)):
        raise ModelError(f"cannot load the model in {shown(model_dir)}: Paddle Inference "
                         f"cannot open a path that is not valid UTF-8; rename the folder.")
    missing = [name for name in (MODEL_FILES[1], MODEL_FILES[0], INFO_FILE)
               if not os.path.isfile(os.path.join(model_dir, name))]
    if missing:
        raise ModelError(
            f"{model_dir} holds no complete trained model (missing {', '.join(missing)}): "
            f"run `python train.py` first, or pass --model-dir FOLDER written by train.py."
        )
    info = _load_info(os.path.join(model_dir, INFO_FILE))
    problem = files_problem(info, model_dir)
    if problem:
        pending = interrupted_export_info(model_dir)
        if pending is None:
            raise ModelError(problem)
        info = _load_info(pending)
    scaling = info["input"].get("scaling") if isinstance(info.get("input"), dict) else None
    if scaling != MODEL_INPUT["scaling"]:
        raise ModelError(f"{os.path.join(model_dir, INFO_FILE)} says the model takes its input "
                         f"scaled as {scaling!r}, but infer.py scales images as "
                         f"{MODEL_INPUT['scaling']!r}: pass the --model-dir of a train.py run.")
    return info


def _load_info(path):
    try:
        if os.path.getsize(path) > MAX_INFO_BYTES:
            raise ModelError(f"{path} is over {MAX_INFO_BYTES:,} bytes: it is not a "
                             f"model_info.json written by train.py.")
        with open(path, "rb") as f:
            info = json.load(f)
    except (OSError, ValueError) as err:
        raise ModelError(f"{path} is unreadable ({err}).") from None
    except RecursionError:  # JSON nested thousands deep: crafted, not written by train.py
        raise ModelError(f"{path} is not a model_info.json written by train.py (it is nested "
                         f"too deep to read).") from None
    if not isinstance(info, dict):
        raise ModelError(f"{path} is not a model_info.json written by train.py.")
    return info


def interrupted_export_info(model_dir):
    """The model_info.json of an export killed between its renames, if it describes the model
    files now in `model_dir` (it is still in the export's temporary folder); else None."""
    for name in sorted(os.listdir(model_dir)):
        path = os.path.join(model_dir, name, INFO_FILE)
        if name.startswith(EXPORT_PREFIX) and os.path.isfile(path):
            with contextlib.suppress(ModelError):
                if files_problem(_load_info(path), model_dir) is None:
                    return path
    return None


def remove_leftovers(save_dir):
    """Tidy up a save dir after a run that was killed: its exports' temporary folders
    (`.export-*/`) and its temporary files (`*.tmp`). An export killed between its renames is
    finished first: its model_info.json is put in place. Call it only while holding the save
    dir's lock (files.lock_save_dir): another run's temporary files are not leftovers."""
    pending = interrupted_export_info(save_dir)
    if pending:
        os.replace(pending, os.path.join(save_dir, INFO_FILE))
    for name in os.listdir(save_dir):
        path = os.path.join(save_dir, name)
        if name.startswith(EXPORT_PREFIX) and os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
    remove_temporary_files(save_dir)
