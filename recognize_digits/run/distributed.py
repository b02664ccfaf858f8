"""Data-parallel training on paddle.distributed, when train.py runs under its launcher.

    python -m paddle.distributed.launch --nproc_per_node 2 train.py ...

starts one process per device (or per CPU process, over gloo), each with its rank in the
environment. Run plainly, there is one process and nothing here sets up anything.
"""

import contextlib
import io
import os

import paddle

from recognize_digits import RecognizeDigitsError
from recognize_digits.run.signals import Interrupted, StopRequest, stopped_message
from recognize_digits.training import all_sum

# With several processes, how often they agree on whether to stop: an all-reduce costs about as
# much as an MLP step, and 20 steps are under a second of LeNet-5 training.
STOP_CHECK_STEPS = 20


def world_size():
    """How many processes train together (1 unless started by paddle.distributed.launch)."""
    return int(os.environ.get("PADDLE_TRAINERS_NUM", "1"))


def init():
    """Join the process group if launched as several processes; return (rank, world_size)."""
    if world_size() == 1:
        return 0, 1
    import paddle.distributed as dist

    # init_parallel_env lists every non-default Paddle flag on stderr (the launcher sets some):
    # framework chatter, kept from the user.
    with contextlib.redirect_stderr(io.StringIO()):
        dist.init_parallel_env()
    return dist.get_rank(), dist.get_world_size()


def parameters_agree(network, world):
    """True if every trainable parameter is bit-identical on all processes.

    Data parallelism keeps one model on every process by averaging the gradients; this checks
    it, with one element-wise max and one min over the processes.
    """
    if world == 1:
        return True
    import paddle.distributed as dist

    flat = paddle.concat([p.detach().flatten() for p in network.parameters()
                          if not p.stop_gradient])
    high, low = flat.clone(), flat.clone()
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    return bool((high == low).all())


def check_parameters_agree(network, world):
    """A line saying the parameters are identical on all processes; an error if they are not."""
    if not parameters_agree(network, world):
        raise RecognizeDigitsError(f"the parameters differ between the {world} processes")
    return f"The parameters are identical on all {world} processes."


class StopTogether(StopRequest):
    """Ctrl-C (SIGINT) or SIGTERM stops training between two steps, on every process at once.

    Within `with StopTogether(...) as stop:`, a signal only sets the request (StopRequest), and
    `stop.check(epoch, step)` after each step raises signals.Interrupted once it is set. Several
    processes must stop at the same step, or one would wait forever for the others' gradients:
    every STOP_CHECK_STEPS steps they add up their requests, and all stop if any process had one.
    Outside a `with` block no signal reaches it, and check() never stops.
    """

    def __init__(self, world, save_dir=None, resume_command=None, quiet=False):
        super().__init__()
        self.world, self.save_dir, self.resume_command = world, save_dir, resume_command
        self.quiet = quiet  # the processes other than the main one stop without a word

    def check(self, epoch, step):
        if self.world == 1:
            stopping = bool(self)
        else:  # how many processes were asked to stop, added up every STOP_CHECK_STEPS steps
            stopping = step % STOP_CHECK_STEPS == 0 and \
                all_sum([float(bool(self))], self.world)[0] > 0
        if stopping:
            raise Interrupted(None if self.quiet else stopped_message(
                self.signal or "another process's signal", epoch, step, self.save_dir,
                self.resume_command))
