"""What every learner offers the games, the window and checkpoints: a Q-network and the
epsilon-greedy rule that acts on it. ``DQNLearner`` and ``PQNLearner`` differ in how they
learn, not in how they play."""

from __future__ import annotations

import contextlib

import numpy as np
import torch


class QLearner:
    """Subclasses set ``device``, ``n_actions``, ``autocast_bf16`` and the two ways to read
    Q-values: ``q_values`` (for play and scores) and ``learning_q_values`` (while learning)."""

    device: torch.device
    n_actions: int
    autocast_bf16: bool

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
