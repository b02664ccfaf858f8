"""Ctrl-C and SIGTERM stop training between two steps, never in the middle of a save; outside
training, SIGTERM stops a program with one line instead of Paddle's crash report.

Windows has no SIGTERM from outside (closing the console, `taskkill`, end the process at once);
its Ctrl-Break (SIGBREAK) is taken as Ctrl-C is.
"""

import functools
import signal
import sys

# The keys a user presses to stop: Ctrl-C, and on Windows Ctrl-Break.
KEYS = (signal.SIGINT,) + ((signal.SIGBREAK,) if hasattr(signal, "SIGBREAK") else ())


def exit_on_sigterm(prog):
    """From now on, SIGTERM (`kill`, `timeout`, `docker stop`) ends the program with one line on
    stderr and exit status 143, as a program that says nothing more would. Paddle's own handler,
    installed as it loads, prints a C++ crash report on standard output instead
    (environment.prepare_paddle installs this one in its place). SystemExit unwinds the program:
    `finally` blocks and `with` exits run, lines already printed are flushed whole."""
    signal.signal(signal.SIGTERM, functools.partial(_exit, prog))


def _exit(prog, signum, frame):
    print(f"{prog}: stopped by {signal.Signals(signum).name}", file=sys.stderr, flush=True)
    raise SystemExit(128 + signum)


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


class StopRequest:
    """Set when the user presses Ctrl-C (SIGINT; on Windows also Ctrl-Break) or the system asks to
    stop (SIGTERM).

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
        self._previous = {s: signal.signal(s, self._handle) for s in KEYS + (signal.SIGTERM,)}
        return self

    def __exit__(self, *exc):
        for s, handler in self._previous.items():
            signal.signal(s, handler)

    def _handle(self, signum, frame):
        if self and signum in KEYS:  # Ctrl-C twice: the user means it
            raise KeyboardInterrupt
        self.signal = self.signal or signal.Signals(signum).name
