"""Checkpoints: what train.py needs to carry on after an interruption, in one file.

After every epoch, train.py saves the model's and the optimiser's state (Adam's moments), the
moving average of the weights, the epoch, the settings and the cost/accuracy history into
`checkpoint.pdckpt` in the save dir. It is one file written to a temporary name and renamed into
place, so the checkpoint on disk is always a whole one: the last completed epoch's.

Randomness needs no saved state: the initial weights are restored with the model, and each
epoch's shuffle and augmentation are drawn from generators seeded by (seed, epoch) alone. A
resumed run therefore repeats an uninterrupted one exactly.
"""

import os

import paddle

from recognize_digits import RecognizeDigitsError
from recognize_digits.files import atomic_path

CHECKPOINT_FILE = "checkpoint.pdckpt"


class CheckpointError(RecognizeDigitsError):
    """No usable checkpoint to resume from."""


def checkpoint_path(save_dir):
    return os.path.join(save_dir, CHECKPOINT_FILE)


def save_checkpoint(save_dir, model, optimizer, ema, state):
    """Save model, optimiser, moving average and `state` (plain Python values) atomically."""
    with atomic_path(checkpoint_path(save_dir)) as tmp:
        paddle.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                     "ema": ema.state_dict(), "state": state}, tmp)


def read_checkpoint(save_dir):
    """The saved dict {"model", "optimizer", "ema", "state"}, or None if the save dir has none."""
    path = checkpoint_path(save_dir)
    if not os.path.exists(path):
        return None
    try:
        checkpoint = paddle.load(path)
        checkpoint["state"]["epoch"]  # noqa: B018  (a checkpoint must say which epoch it holds)
    except Exception as err:  # pickle, EOF or Paddle's own errors for a damaged file
        raise CheckpointError(f"{path} is damaged ({type(err).__name__}): delete it to start "
                              f"afresh.") from None
    if "ema" not in checkpoint:
        raise CheckpointError(f"{path} was written by an older train.py, which kept no moving "
                              f"average of the weights: delete it to start afresh.")
    return checkpoint


def restore(checkpoint, model, optimizer, ema):
    """Load a checkpoint's weights, optimiser state and moving average."""
    model.set_state_dict(checkpoint["model"])
    optimizer.set_state_dict(checkpoint["optimizer"])
    ema.set_state_dict(checkpoint["ema"])
