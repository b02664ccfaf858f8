"""What train.py and infer.py share as command-line programs: flags, errors, output, signals.

A user's mistake (a missing file, a bad flag, no trained model) gets one line on stderr that says
what is wrong and what to do, and a non-zero exit status: never a traceback. Ctrl-C during
training stops it between two steps (StopRequest), never in the middle of a save.
"""

import argparse
import os
import signal
import sys

from tqdm import tqdm

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
    except Interrupted as stopped:
        if stopped.message:
            print(stopped.message, file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `python train.py | head`: the reader has gone, so go quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


class Interrupted(Exception):
    """Training stopped between two steps because a StopRequest was set.

    `message` (None: stop quietly) is what run() prints: where the finished epochs are kept and
    the command that resumes them.
    """

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def stopped_message(signal_name, epoch, step, save_dir, resume):
    """The line that tells a user what an interrupted run kept, and how to go on."""
    if epoch == 0:
        kept = "no epoch had finished, so there is nothing to resume: run the same command again"
    else:
        kept = f"epochs 0-{epoch - 1} are kept in {save_dir}; resume with: {resume}"
    return f"Stopped by {signal_name} in pass {epoch}, batch {step}: {kept}"


class Console:
    """A run's output: printed by the main process only (with several processes, the others
    keep quiet), and on a terminal a progress bar below the log lines."""

    def __init__(self, enabled=True):
        self.enabled = enabled

    def print(self, line):
        if self.enabled:
            tqdm.write(line)  # above the progress bar, which stays at the bottom

    def progress(self, batches, desc):
        """`batches` with a progress bar (speed, ETA) on a terminal; piped to a file, none."""
        return tqdm(batches, total=len(batches), desc=desc, unit="batch", leave=False,
                    dynamic_ncols=True, disable=not (self.enabled and sys.stderr.isatty()))


class StopRequest:
    """Set when the user presses Ctrl-C (SIGINT) or the system asks to stop (SIGTERM).

    Within `with StopRequest() as stop:`, those signals only set it: the training loop checks it
    between steps and stops there, so an interrupt never cuts a checkpoint or a model in half. A
    second Ctrl-C stops at once, as usual. A repeated SIGTERM does not: paddle.distributed.launch,
    told to stop, sends its processes three SIGTERMs 0.2 s apart and then gives them 30 s; taken
    as "at once", they would leave one process waiting for the other's gradients.
    """

    def __init__(self):
        self.signal = None
        self._previous = {}

    def __bool__(self):
        return self.signal is not None

    def __enter__(self):
        self._previous = {s: signal.signal(s, self._handle)
                          for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc):
        for s, handler in self._previous.items():
            signal.signal(s, handler)

    def _handle(self, signum, frame):
        if self and signum == signal.SIGINT:  # Ctrl-C twice: the user means it
            raise KeyboardInterrupt
        self.signal = self.signal or signal.Signals(signum).name
