"""What train.py and infer.py share as command-line programs: their flags, and `run`, which
turns every way a run can end into one line and an exit status.

A user's mistake (a missing file, a bad flag, no trained model) gets one line on stderr that says
what is wrong and what to do, and a non-zero exit status: never a traceback.
"""

import argparse
import codecs
import contextlib
import os
import sys

from recognize_digits import RecognizeDigitsError, first_line
from recognize_digits.run.signals import Interrupted

# The error handler of standard output: a character the console cannot encode (a Chinese file name
# on a cp1252 console, any non-ASCII one with PYTHONIOENCODING=ascii) is written as an escape,
# \u4e09, and the bytes of a file name that is not valid UTF-8 as they are.
ESCAPE = "recognize_digits.escape"


def _escape(err):
    try:
        return codecs.lookup_error("surrogateescape")(err)  # a name's undecodable bytes
    except UnicodeError:
        return codecs.lookup_error("backslashreplace")(err)


codecs.register_error(ESCAPE, _escape)


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


def seed(text):
    """A random seed: what Paddle's and numpy's generators take, a whole number 0 to 2**64 - 1."""
    return _number(text, int, lambda value: 0 <= value < 2**64,
                   f"a whole number from 0 to {2**64 - 1}")


def top_k(text):
    """How many of the ten digits to list: 1 to 10."""
    return _number(text, int, lambda value: 1 <= value <= 10, "a whole number from 1 to 10")


def add_device_argument(parser, verb):
    """--device {cpu,gpu}, which train.py and infer.py share (device.default_device when unset)."""
    parser.add_argument("--device", choices=["cpu", "gpu"], default=None,
                        help=f"where to {verb} (default: gpu when Paddle has one, else cpu)")


def run(main, argv=None, prog=None, results_on_stdout=True):
    """Run `main(argv)` and turn our errors and Ctrl-C into one line and an exit status.

    Standard output is part of the deal: closed from the start (`>&-`), it is an error before
    any work is done where it carries the results (infer.py), a warning where it only carries a
    log (train.py: the model goes to its save dir); a full disk or /dev/full is an error when
    it is met (train.py's log only warns: see Console.print); what the console cannot encode is
    escaped (ESCAPE).
    """
    prog = prog or os.path.basename(sys.argv[0])
    if sys.stdout is None and results_on_stdout:
        print(f"{prog}: error: standard output is closed, so the results would be lost: send "
              f"them to a file (> results.txt), or to /dev/null.", file=sys.stderr)
        return 1
    if sys.stdout is None:
        print(f"{prog}: warning: standard output is closed, so the log is lost; training goes "
              f"on, and saves its model and checkpoints as usual.", file=sys.stderr)
        sys.stdout = open(os.devnull, "w")
    stdout = sys.stdout
    with contextlib.suppress(AttributeError, ValueError):
        stdout.reconfigure(errors=ESCAPE)
    sys.stdout = CheckedOutput(stdout)
    try:
        status = main(argv)
        sys.stdout.flush()  # a full disk shows here at the latest, while it can still be said
        return status
    except RecognizeDigitsError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    except MemoryError as err:  # Paddle's ResourceExhausted on the CPU is a MemoryError too
        print(f"{prog}: error: out of memory ({first_line(err)}): try a smaller --batch-size.",
              file=sys.stderr)
        return 1
    except Interrupted as stopped:
        if stopped.message:
            print(stopped.message, file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `python train.py | head`: the reader has gone, so go quietly
        discard_stdout()
        return 141
    except OutputError as err:
        print(f"{prog}: error: could not write to standard output ({err.strerror}): the output "
              f"is lost.", file=sys.stderr)
        discard_stdout()
        return 1
    finally:
        sys.stdout = stdout


class OutputError(OSError):
    """Standard output could not be written: a full disk, /dev/full, an I/O error."""


class CheckedOutput:
    """sys.stdout within run(): the same stream, whose write errors are OutputErrors, so that
    they are not taken for some other file's. (A closed pipe stays a BrokenPipeError.)"""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as err:
            raise OutputError(err.errno, err.strerror or str(err)) from None

    def flush(self):
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as err:
            raise OutputError(err.errno, err.strerror or str(err)) from None

    def __getattr__(self, name):  # fileno, isatty, encoding, ...: the stream's own
        return getattr(self.stream, name)


def discard_stdout():
    """Send the rest of standard output, what is buffered included, to /dev/null: it cannot be
    written, and Python would otherwise complain once more, at exit."""
    with contextlib.suppress(OSError, ValueError):  # a stream with no file descriptor
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
