"""What every learner offers the games, the window and checkpoints: a Q-network and the
epsilon-greedy rule that acts on it. ``DQNLearner`` and ``PQNLearner`` differ in how they
learn, not in how they play."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch

from agent.config import DQNConfig
from agent.networks import QNetwork, build_q_network


def bf16_supported(device: torch.device) -> bool:
    """Whether bf16 maths runs natively here (CPUs with AVX-512 BF16/AMX, CUDA since Ampere)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        try:  # a private op of torch's: where a release drops it, float32 it is
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False
    return False


class QLearner:
    """The online Q-network, built from the config; subclasses add how it learns and the two
    ways to read Q-values: ``q_values`` (for play and scores) and ``learning_q_values`` (while
    learning)."""

    # What every subclass keeps besides: the network its targets come from (PQN: the online
    # one), its optimizer and how many updates it has made.
    target: QNetwork
    optimizer: Any
    updates: int

    def __init__(
        self,
        obs_shape: tuple[int, ...],
        n_actions: int,
        config: DQNConfig,
        device: torch.device,
    ) -> None:
        self.config = config
        self.device = device
        self.obs_shape = tuple(obs_shape)
        self.n_actions = n_actions
        self.online: QNetwork = build_q_network(
            config.network, obs_shape, n_actions, config.hidden_sizes, config.dueling
        ).to(device)
        # bf16 cuts a conv net's update time by a third to a half on CPUs with native bf16 (AMX,
        # AVX-512 BF16) and on GPUs. Scores and play act in float32.
        self.autocast_bf16 = config.mixed_precision and bf16_supported(device)
        # The mean Q-value of the actions taken in the last update's batch (a tensor: reading
        # it waits for the update, so it is read only when logged).
        self._q_taken: torch.Tensor | None = None

    def mean_q_taken(self) -> float | None:
        """The mean Q-value the last update gave the actions taken; None before any update."""
        return None if self._q_taken is None else float(self._q_taken)

    def set_learning_rate(self, rate: float) -> None:
        raise NotImplementedError

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def learning_q_values(self, obs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.autocast_bf16:
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def act(
        self, obs: np.ndarray, epsilon: float, rng: np.random.Generator, learning: bool = False
    ) -> tuple[int, np.ndarray, bool]:
        """(action, Q-values of every action, whether the action was the greedy one);
        ``learning`` takes the Q-values from ``learning_q_values``."""
        q = (self.learning_q_values if learning else self.q_values)(obs[None])[0]
        if rng.random() < epsilon:
            return int(rng.integers(self.n_actions)), q, False
        return int(q.argmax()), q, True
