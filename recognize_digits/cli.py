"""What train.py and infer.py share as command-line programs: flag types, errors, signals.

A user's mistake (a missing file, a bad flag, no trained model) gets one line on stderr that says
what is wrong and what to do, and a non-zero exit status: never a traceback. Ctrl-C during
training stops it between two steps (stop_on_signals), never in the middle of a save.
"""

import argparse
import contextlib
import os
import signal
import sys

from recognize_digits import RecognizeDigitsError


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line (`prog: error: ...`) rather than usage plus error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _number(text, convert, is_valid, what):
    """`text` as a number of type `convert` for which `is_valid` holds, else argparse's error."""
    try:
        value = convert(text)
    except ValueError:
        value = None
    if value is None or not is_valid(value):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return value


def positive_int(text):
    return _number(text, int, lambda value: value > 0, "a positive whole number")


def positive_float(text):
    return _number(text, float, lambda value: 0 < value < float("inf"), "a positive number")


def fraction(text):
    return _number(text, float, lambda value: 0 <= value < 1,
                   "a number from 0 up to (not including) 1")


def run(main, argv=None, prog=None):
    """Run `main(argv)` and turn our errors and Ctrl-C into one line and an exit status."""
    prog = prog or os.path.basename(sys.argv[0])
    try:
        return main(argv)
    except RecognizeDigitsError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `python train.py | head`: the reader has gone, so go quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


class Interrupted(Exception):
    """Training stopped between two steps because a StopRequest was set."""

    def __init__(self, epoch, step, signal_name):
        super().__init__(epoch, step, signal_name)
        self.epoch, self.step, self.signal_name = epoch, step, signal_name

    def message(self, save_dir, resume):
        if self.epoch == 0:
            kept = "no epoch had finished, so there is nothing to resume: run the same command again"
        else:
            kept = (f"epochs 0-{self.epoch - 1} are kept in {save_dir}; "
                    f"resume with: {resume}")
        return (f"Stopped by {self.signal_name} in pass {self.epoch}, batch {self.step}: {kept}")


class StopRequest:
    """Set when the user presses Ctrl-C (SIGINT) or the system asks to stop (SIGTERM)."""

    def __init__(self):
        self.signal = None

    def __bool__(self):
        return self.signal is not None


@contextlib.contextmanager
def stop_on_signals():
    """Within this block, SIGINT and SIGTERM only set the StopRequest it yields.

    The training loop checks it between steps (with several processes, every few steps, all
    together) and stops there, so an interrupt never cuts a checkpoint or a model in half. A
    second Ctrl-C stops at once, as usual. A repeated SIGTERM does not: paddle.distributed.launch,
    told to stop, sends its processes three SIGTERMs 0.2 s apart and then gives them 30 s; taken
    as "at once", they would leave one process waiting for the other's gradients.
    """
    stop = StopRequest()

    def handler(signum, frame):
        if stop and signum == signal.SIGINT:  # Ctrl-C twice: the user means it
            raise KeyboardInterrupt
        stop.signal = stop.signal or signal.Signals(signum).name

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
