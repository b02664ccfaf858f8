"""Data-parallel training on paddle.distributed, when train.py runs under its launcher.

    python -m paddle.distributed.launch --nproc_per_node 2 train.py ...

starts one process per device (or per CPU process, over gloo), each with its rank in the
environment. Run plainly, there is one process and nothing here sets up anything.
"""

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

    dist.init_parallel_env()
    return dist.get_rank(), dist.get_world_size()


def shard(order, rank, world):
    """This rank's share of an epoch's order (or of any sequence): every world-th item from the
    rank-th.

    The shards are disjoint and together the whole order. All shards get the same length (at
    most world - 1 images at the end of the order are left out; none for MNIST's 60,000 and 2,
    3, 4, 5, 6 or 8 processes), so every process takes the same number of steps.
    """
    usable = len(order) - len(order) % world
    return order[:usable][rank::world]


def all_sum(values, world):
    """Sum a list of numbers over all processes (the numbers themselves when alone)."""
    if world == 1:
        return list(values)
    import paddle.distributed as dist

    tensor = paddle.to_tensor(np.asarray(values, dtype=np.float64))
    dist.all_reduce(tensor)
    return tensor.numpy().tolist()
