"""Where the networks run."""

from __future__ import annotations

import os
import platform

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


def configure_threads(network: str) -> None:
    """Small networks run fastest on one thread (thread hand-offs cost more than the maths);
    the conv net for Atari uses every core."""
    if network in ("mlp", "fruit_conv"):
        torch.set_num_threads(1)
