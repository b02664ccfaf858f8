"""The "Recognize Digits" chapter of the PaddlePaddle book (MNIST) on Paddle 3.

The modules at the top are the chapter: data, readers, models, training, inference, plot. The
subpackages hold what a real program needs beyond it, and the chapter's modules import none of
them: run/ (running a program safely: flags, one-line errors, signals, safe writes, checkpoints,
several processes), images/ (reading a user's own photo or drawing of a digit or a number) and
serve/ (`infer.py --serve`, the page to draw a digit on).

Importing the package changes nothing: a program quiets Paddle with one explicit call,
`recognize_digits.run.environment.prepare_paddle()`, before it imports Paddle.
"""

import os
import stat


class RecognizeDigitsError(Exception):
    """A problem the user can fix (missing data, bad image, bad flag).

    The scripts print its message as one line on stderr and exit non-zero, without a traceback.
    """


def first_line(err):
    """The first line of an exception's message (Paddle's run to dozens), or its type's name."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def special_file(path):
    """What `path` is when it is not a regular file ("a folder", "a FIFO (named pipe)", "a
    device", "a socket"), else None. It is asked before a file is opened: opening a FIFO waits
    for a writer, and reading a device may never end."""
    mode = os.stat(path).st_mode
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a socket"
