"""Data-parallel fine-tuning across processes: torchrun + DistributedDataParallel (DDP).

torchrun (``python -m torch.distributed.run``) starts one process per device and gives each the
``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK`` / ``MASTER_ADDR`` / ``MASTER_PORT`` variables.
:func:`process_group` joins them for the length of a ``with`` block (backend nccl on CUDA, each
rank on ``cuda:LOCAL_RANK``; gloo on the CPU) and is a no-op outside torchrun, so the same code
runs in one process or many. :func:`world` tells the training loop (models/sentiment/finetune.py)
which rank it is without passing it through every call: rank 0 of 1 outside a process group.

The wrappers of ``torch.distributed`` the loop needs live here too (:func:`data_parallel`,
:func:`sum_across`, :func:`any_across`, :func:`gather`), each the identity in a single process.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

TORCHRUN_MODULE = "torch.distributed.run"


@dataclass(frozen=True)
class World:
    """This process's rank among ``size`` training processes."""

    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that logs, writes checkpoints and the version folder."""
        return self.rank == 0


def world() -> World:
    """The process group this process is in (rank 0 of 1 when there is none)."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size())
    return World()


def launched_by_torchrun() -> bool:
    """Started by torchrun as one of more than one processes (``WORLD_SIZE`` > 1)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


@contextmanager
def process_group(device: str | None = None) -> Iterator[str | None]:
    """Join torchrun's process group for the block; yields the device this rank trains on.

    Outside torchrun (or with one process) nothing happens and ``device`` comes back as given.
    Under torchrun a CUDA device (``device`` None with CUDA available, or any ``cuda...``) becomes
    ``cuda:LOCAL_RANK`` with backend nccl; otherwise the CPU with backend gloo."""
    if not launched_by_torchrun():
        yield device
        return
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = device.startswith("cuda") if device is not None else torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(local_rank)
        device, backend = f"cuda:{local_rank}", "nccl"
    else:
        device, backend = "cpu", "gloo"
    dist.init_process_group(backend)
    try:
        yield device
    finally:
        dist.destroy_process_group()


def data_parallel(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` wrapped in DDP in a process group of more than one (rank 0's weights are broadcast
    at once; gradients are averaged across ranks during ``backward``), else ``model`` itself.

    ``static_graph``: the same parameters take part in every step, and some never do (a BERT
    pooler the mean-pooling classifier ignores), which DDP then tolerates without searching the
    graph each step."""
    if world().size == 1:
        return model
    device = next(model.parameters()).device
    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                   static_graph=True)


def sum_across(values: torch.Tensor) -> torch.Tensor:
    """``values`` summed over the ranks (every rank gets the sum); ``values`` itself in one process."""
    if world().size == 1:
        return values
    summed = values.clone()
    dist.all_reduce(summed, op=dist.ReduceOp.SUM)
    return summed


def any_across(flag: bool, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on any (a decision all ranks must take together,
    e.g. stopping at a time budget: one rank alone leaving the loop would hang the others)."""
    if world().size == 1:
        return flag
    return bool(sum_across(torch.tensor([float(flag)], device=device)).item() > 0)


def gather(value: Any) -> list[Any]:
    """Every rank's ``value`` (picklable), in rank order, on every rank; ``[value]`` in one process."""
    size = world().size
    if size == 1:
        return [value]
    out: list[Any] = [None] * size
    dist.all_gather_object(out, value)
    return out


def torchrun_command(nproc: int, module: str, args: Sequence[str]) -> list[str]:
    """The command line running ``python -m module args`` as ``nproc`` processes on this machine
    (torchrun ``--standalone``: a local rendezvous on a free port)."""
    return [sys.executable, "-m", TORCHRUN_MODULE, "--standalone", f"--nproc-per-node={nproc}",
            "-m", module, *args]
