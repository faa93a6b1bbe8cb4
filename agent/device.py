"""Where the networks run."""

from __future__ import annotations

import os
import platform
import time

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` takes CUDA, then Apple's MPS, then the CPU; a named device must be present."""
    if name not in DEVICE_CHOICES:
        raise ValueError(f"unknown device {name!r}; choose from {', '.join(DEVICE_CHOICES)}")
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        raise ValueError(f"device {name!r} is not available on this machine")
    return torch.device(name)


def describe_machine(device: torch.device) -> str:
    """Device plus CPU model and core count, for the record kept with results."""
    return f"{describe_device(device)}; {describe_cpu()}"


def describe_cpu() -> str:
    """Core count and CPU model, e.g. ``2 cores, AMD EPYC``."""
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores, {cpu}"


def describe_device(device: torch.device) -> str:
    """A short human name: ``CPU``, ``CUDA (NVIDIA H100)``, ``MPS``."""
    if device.type == "cuda":
        return f"CUDA ({torch.cuda.get_device_name(device)})"
    return device.type.upper()


def configure_threads(network: str) -> str | None:
    """Small networks run fastest on one thread (thread hand-offs cost more than the maths);
    the conv net for Atari uses every core that is free when the run starts: torch's threads
    wait for each other, so on a 2-core machine with one core busy elsewhere two threads run
    at half the speed of one (``benchmarks/pqn_threads.py --busy``). ``OMP_NUM_THREADS``, when
    set, is kept. Returns a line for the user when busy cores took threads away, else None."""
    if network in ("mlp", "fruit_conv"):
        torch.set_num_threads(1)
        return None
    if os.environ.get("OMP_NUM_THREADS"):
        return None
    cores = torch.get_num_threads()
    busy = busy_cores()
    threads = max(1, min(cores, cores - round(busy)))
    if threads == cores:
        return None
    torch.set_num_threads(threads)
    return (
        f"{busy:.1f} of {cores} cores busy elsewhere: training on {threads} torch "
        f"thread{'s' if threads > 1 else ''} (OMP_NUM_THREADS=N chooses)"
    )


def busy_cores(window: float = 0.25) -> float:
    """How many cores other programs keep busy now, read off ``/proc/stat`` over ``window``
    seconds; 0 where it cannot be read (not Linux)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields), idle

    try:
        total_before, idle_before = sample()
        time.sleep(window)
        total_after, idle_after = sample()
    except (OSError, ValueError, IndexError):
        return 0.0
    total = total_after - total_before
    if total <= 0:
        return 0.0
    return (os.cpu_count() or 1) * (1.0 - (idle_after - idle_before) / total)
