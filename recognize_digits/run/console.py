"""A run's output: the log lines, and on a terminal a progress bar below them."""

import sys

from tqdm import tqdm

from recognize_digits.run.cli import discard_stdout


class Console:
    """A run's output: printed by the main process only (with several processes, the others
    keep quiet), and on a terminal a progress bar below the log lines.

    A log that cannot be written (`train.py > log` on a full disk) stops the log, with one
    warning on stderr, not the training: the model and checkpoints are saved as usual.
    """

    def __init__(self, enabled=True, prog="train.py"):
        self.enabled, self.prog = enabled, prog

    def print(self, line):
        if not self.enabled:
            return
        try:
            tqdm.write(line)  # above the progress bar, which stays at the bottom
            sys.stdout.flush()  # each line as it comes, to a file too (`tail -f log`)
        except BrokenPipeError:  # `| head`: run() stops quietly
            raise
        except OSError as err:
            self.enabled = False
            print(f"{self.prog}: warning: could not write to standard output "
                  f"({err.strerror or err}): the rest of the log is lost; training goes on, "
                  f"and saves its model and checkpoints as usual.", file=sys.stderr)
            discard_stdout()

    def note(self, message):
        """`message` (if any) on stderr, as a note: something the user should know, which the
        log's lines on stdout are not for."""
        if self.enabled and message:
            print(f"{self.prog}: note: {message}", file=sys.stderr)

    def progress(self, batches, desc):
        """`batches` with a progress bar (speed, ETA) on a terminal; piped to a file, none."""
        return tqdm(batches, total=len(batches), desc=desc, unit="batch", leave=False,
                    dynamic_ncols=True, disable=not (self.enabled and sys.stderr.isatty()))
