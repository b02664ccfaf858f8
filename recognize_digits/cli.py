"""What train.py and infer.py share as command-line programs: flag types and error handling.

A user's mistake (a missing file, a bad flag, no trained model) gets one line on stderr that says
what is wrong and what to do, and a non-zero exit status: never a traceback.
"""

import argparse
import os
import sys

from recognize_digits import RecognizeDigitsError


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line (`prog: error: ...`) rather than usage plus error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}")
    return value


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def run(main, argv=None):
    """Run `main(argv)` and turn our errors and Ctrl-C into one line and an exit status."""
    prog = os.path.basename(sys.argv[0])
    try:
        return main(argv)
    except RecognizeDigitsError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
