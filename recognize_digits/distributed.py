"""Data-parallel training on paddle.distributed, when train.py runs under its launcher.

    python -m paddle.distributed.launch --nproc_per_node 2 train.py ...

starts one process per device (or per CPU process, over gloo), each with its rank in the
environment. Run plainly, there is one process and nothing here sets up anything.
"""

import contextlib
import io
import os

import numpy as np
import paddle


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


def all_sum(values, world):
    """Sum a list of numbers over all processes (the numbers themselves when alone)."""
    if world == 1:
        return list(values)
    import paddle.distributed as dist

    tensor = paddle.to_tensor(np.asarray(values, dtype=np.float64))
    dist.all_reduce(tensor)
    return tensor.numpy().tolist()


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
