"""What a checkpoint must be before any of it is used: every array's type and size read from its
header before its data, every setting and number of its state in range, and every tensor the
model's own dtype and shape.

A checkpoint is a file anyone can hand a learner ("resume from mine"). Crafted, it must give one
line, never a traceback, a silently wrong run, or gigabytes of memory for arrays that claim huge
shapes in a small file.
"""

import math

import numpy as np
import paddle

from recognize_digits.models import MODELS

STATE = "state.json"  # the archive's JSON text: epoch, history, best pass, settings, EMA steps
# No tensor of the chapter's models is larger (the MLP's first layer: 784 x 200 = 156,800), nor
# is the JSON text of a 1,000-epoch run.
MAX_ARRAY_ELEMENTS = 1_000_000
MAX_STATE_CHARACTERS = 10_000_000
# The settings that shape a run: --resume takes them from the checkpoint, not the command line.
RUN_SETTINGS = ("model", "batch_size", "lr", "seed", "augment", "ema_decay", "train_size")
STATE_KEYS = ("epoch", "history", "best", "args", "ema_steps")
# The history's rows: [step, train cost]; [step, test cost, test accuracy]; [train s, test s].
HISTORY_ROWS = {"train": 2, "test": 3, "seconds": 2}


def array_problem(name, dtype, shape):
    """None if the archive's array `name`, as its header declares it, may be read; else what
    is wrong with it."""
    count = math.prod(shape)
    if name == STATE:
        if dtype.kind != "U" or shape != () or dtype.itemsize // 4 > MAX_STATE_CHARACTERS:
            return f"is damaged (its {STATE} is {dtype} {list(shape)}, not a text)"
        return None
    if dtype.kind != "f" or dtype.itemsize != 4:
        return f"is damaged (its array {name} is {dtype}, not float32)"
    if count > MAX_ARRAY_ELEMENTS:
        return f"is damaged (its array {name} claims {count:,} numbers, more than any model has)"
    return None


def state_problem(state):
    """None if the JSON `state` has all a resume needs, each value in range; else what is wrong,
    for a message."""
    if not isinstance(state, dict) or not all(isinstance(state.get(key, {}), dict)
                                              for key in ("args", "history")):
        return "is damaged (its state is not a JSON object of the expected shape)"
    missing = [key for key in STATE_KEYS if key not in state]
    missing += [f"the setting {name}" for name in RUN_SETTINGS + ("epochs",)
                if name not in state.get("args", {})]
    missing += [f"history/{key}" for key in HISTORY_ROWS if key not in state.get("history", {})]
    if missing:
        return f"lacks {missing[0]} (written by an older train.py, or damaged)"
    settings = state["args"]
    problem = settings_problem(settings)
    if problem:
        return f"is damaged (its setting {problem})"
    if not _whole(state["epoch"], 0, settings["epochs"] - 1):
        return f"is damaged (its epoch is {state['epoch']!r})"
    if not _whole(state["ema_steps"], 0):
        return f"is damaged (its ema_steps is {state['ema_steps']!r})"
    for key, width in HISTORY_ROWS.items():
        rows = state["history"][key]
        if not (isinstance(rows, list) and all(_numbers(row, width) for row in rows)):
            return f"is damaged (its history/{key} is not a list of rows of {width} numbers)"
    best = state["best"]
    if best is not None and not (isinstance(best, dict) and _whole(best.get("epoch"), 0)
                                 and _number(best.get("test_cost"))
                                 and _number(best.get("test_acc"))):
        return f"is damaged (its best pass is {best!r})"
    return None


def settings_problem(settings):
    """None if a run's settings are ones train.py's flags accept, else the first that is not:
    "lr is -1, not a positive number"."""
    value = settings["model"]
    if not (isinstance(value, str) and value in MODELS):
        return f"model is {value!r}, not one of {', '.join(sorted(MODELS))}"
    for name in ("epochs", "batch_size"):
        if not _whole(settings[name], 1):
            return f"{name} is {settings[name]!r}, not a positive whole number"
    if not (_number(settings["lr"]) and settings["lr"] > 0):
        return f"lr is {settings['lr']!r}, not a positive number"
    if not _whole(settings["seed"], 0, 2**64 - 1):
        return f"seed is {settings['seed']!r}, not a whole number from 0 to {2**64 - 1}"
    if not isinstance(settings["augment"], bool):
        return f"augment is {settings['augment']!r}, not true or false"
    if not (_number(settings["ema_decay"]) and 0 <= settings["ema_decay"] < 1):
        return f"ema_decay is {settings['ema_decay']!r}, not a number from 0 up to 1"
    if settings["train_size"] is not None and not _whole(settings["train_size"], 1):
        return f"train_size is {settings['train_size']!r}, not a positive whole number"
    return None


def tensors_problem(saved, model, parameter_of):
    """None if `saved` holds every tensor `model` needs, of its dtype and shape, and Adam's state
    for each trainable parameter; else what it lacks. `parameter_of(key, names)` tells which
    parameter an optimizer state belongs to."""
    for part, arrays in (("model", saved["model"]), ("ema", saved["ema"]["average"])):
        for name, value in model.state_dict().items():
            if part == "ema" and value.dtype != paddle.float32:
                continue  # the moving average keeps the float32 tensors only
            if name not in arrays or list(arrays[name].shape) != list(value.shape):
                return f"lacks {part}/{name} of shape {list(value.shape)}"
            if not np.isfinite(arrays[name]).all():
                return f"holds NaN or infinite numbers in {part}/{name}"
    # Adam's state: as many tensors for each trainable parameter (two moments of its shape, two
    # powers of beta of shape [1]).
    shapes = {name: list(p.shape) for name, p in model.named_parameters() if not p.stop_gradient}
    counts = dict.fromkeys(shapes, 0)
    for key, value in saved["optimizer"].items():
        owner = parameter_of(key, counts)
        if owner is None:
            return f"holds optimizer/{key}, of no parameter of this model"
        if list(value.shape) not in (shapes[owner], [1]) or not np.isfinite(value).all():
            return f"holds optimizer/{key} of shape {list(value.shape)}, not Adam's state of {owner}"
        counts[owner] += 1
    fewest = min(counts, key=counts.get)
    if counts[fewest] < max(counts.values()) or counts[fewest] == 0:
        return f"lacks some of the optimizer's state of {fewest}"
    return None


def _whole(value, low, high=None):
    return (isinstance(value, int) and not isinstance(value, bool) and value >= low
            and (high is None or value <= high))


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _numbers(row, width):
    return isinstance(row, list) and len(row) == width and all(_number(v) for v in row)
