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
# The settings that shape a run: --resume takes them from the checkpoint, not the command line.
RUN_SETTINGS = ("model", "batch_size", "lr", "seed", "augment", "ema_decay")


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


def read_for_resume(args, save_dir):
    """With --resume, the checkpoint to continue, its settings put into `args`; else None.

    Without --resume, an unfinished run's checkpoint is never overwritten by a new run.
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
    if args.model_given and args.model != saved["state"]["args"]["model"]:
        raise CheckpointError(f"the run in {save_dir} trains --model "
                              f"{saved['state']['args']['model']}, not {args.model}: resume it "
                              f"without --model, or pass another --save-dir.")
    for name in RUN_SETTINGS:
        setattr(args, name, saved["state"]["args"][name])
    return saved


def restore(saved, model, optimizer, ema):
    """Put a checkpoint's weights, optimiser state and moving average back into the run.

    Returns where the run stands: (history, best pass, first epoch to train), those of a new run
    when `saved` is None.
    """
    if saved is None:
        return {"train": [], "test": [], "seconds": []}, None, 0
    model.set_state_dict(saved["model"])
    optimizer.set_state_dict(saved["optimizer"])
    ema.set_state_dict(saved["ema"])
    state = saved["state"]
    return state["history"], state["best"], state["epoch"] + 1


def save_run(save_dir, model, optimizer, ema, args, epoch, history, best):
    """Checkpoint the run after `epoch`: what --resume needs to carry on exactly."""
    settings = {name: getattr(args, name) for name in RUN_SETTINGS + ("epochs",)}
    save_checkpoint(save_dir, model, optimizer, ema, {
        "epoch": epoch, "history": history, "best": best, "args": settings})


def resume_command(args, save_dir, world):
    """The command line that resumes this run."""
    launch = ["-m", "paddle.distributed.launch", "--nproc_per_node", str(world)]
    launch = launch if world > 1 else []
    words = ["python", *launch, "train.py", "--resume", "--save-dir", save_dir,
             "--epochs", str(args.epochs)]
    if args.data_dir:
        words += ["--data-dir", args.data_dir]
    return " ".join(words)
