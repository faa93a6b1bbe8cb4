"""What every learner is to the rest of the app: a Q-network it learns, the ``Policy`` that
acts on it, an optimizer, and the counts a checkpoint keeps. ``DQNLearner`` (agent/dqn.py) and
``PQNLearner`` (agent/pqn.py) differ in how they learn, not in how they play or are saved."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any, Protocol

import torch

from agent.config import AgentConfig
from agent.networks import QNetwork, build_q_network
from agent.policy import Policy


class Optimizer(Protocol):
    """The optimizer calls a checkpoint makes (torch.optim's and agent.adam's)."""

    defaults: dict[str, Any]

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: dict[str, Any]) -> None: ...


class Learner(Protocol):
    """A Q-network and how it learns. ``target`` is None for a learner without a target
    network (PQN): checkpoints then keep only the online weights."""

    config: AgentConfig
    device: torch.device
    online: QNetwork
    policy: Policy
    updates: int

    @property
    def target(self) -> QNetwork | None: ...

    @property
    def optimizer(self) -> Optimizer: ...

    def make_optimizer(self, parameters: Iterable[torch.nn.Parameter]) -> Optimizer:
        """A fresh optimizer of this learner's kind and settings over ``parameters``."""
        ...

    def reset_optimizer(self) -> None:
        """Forget what the optimizer has learned (its moments): a new agent's weights."""
        ...

    def set_learning_rate(self, rate: float) -> None: ...

    def mean_q_taken(self) -> float | None:
        """The mean Q-value the last update gave the actions taken; None before any."""
        ...


def build_online(
    config: AgentConfig, obs_shape: tuple[int, ...], n_actions: int, device: torch.device
) -> QNetwork:
    """The config's Q-network for a game's observations and actions, on ``device``."""
    network = build_q_network(
        config.network, obs_shape, n_actions, config.hidden_sizes, config.dueling
    )
    return network.to(device)


def bf16_supported(device: torch.device) -> bool:
    """Whether bf16 maths runs natively here (CPUs with AVX-512 BF16/AMX, CUDA since Ampere);
    elsewhere it is emulated, several times slower than float32."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        try:  # a private op of torch's: where a release drops it, float32 it is
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False
    return False


def compute_path(config: AgentConfig, device: torch.device) -> str:
    """The path a run takes on ``device``: bf16 where the config asks for it and it is native,
    else float32; on a CPU, how many threads torch uses (``benchmarks/pqn_threads.py`` says
    which split of the cores is fastest on a given CPU)."""
    if config.mixed_precision and bf16_supported(device):
        precision = "bf16 (native here)"
    else:
        precision = "float32" + (" (no native bf16 here)" if config.mixed_precision else "")
    count = torch.get_num_threads()
    threads = f", {count} torch thread{'s' if count > 1 else ''}" if device.type == "cpu" else ""
    return f"{device.type.upper()}, {precision}{threads}"


def bf16_autocast(enabled: bool, device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on ``device`` when ``enabled``, else nothing."""
    if enabled:
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
