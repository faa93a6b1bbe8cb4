"""A policy: a Q-network and how it acts on it, inference only.

Playing, scoring, recording, Versus, the Q-value panel and saliency need nothing more: loading
an agent file to play builds a ``Policy`` and no optimizer. A learner keeps a ``Policy`` over
its online network, so what it learns shows in play at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from agent.networks import QNetwork, numpy_forward


def epsilon_greedy(
    q_values: np.ndarray, epsilon: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's greedy action, replaced by a random one with probability ``epsilon``; and
    which rows kept the greedy action. The one place the app explores."""
    actions = q_values.argmax(axis=1)
    explore = rng.random(len(actions)) < epsilon
    actions[explore] = rng.integers(q_values.shape[1], size=int(explore.sum()))
    return actions, ~explore


@dataclass(frozen=True)
class Decision:
    """What a policy chose for one observation: the action, every action's Q-value, and
    whether the action was the greedy one."""

    action: int
    q_values: np.ndarray
    greedy: bool

    def taken_over(self, action: int | None) -> Decision:
        """The step a person's ``action`` replaces this choice with (``None``: none does):
        the same Q-values, greedy only if the person chose the greedy action."""
        if action is None:
            return self
        chosen = int(action)
        return Decision(chosen, self.q_values, chosen == int(self.q_values.argmax()))


class Policy:
    """``network``'s Q-values and epsilon-greedy actions, for one observation or a batch."""

    def __init__(self, network: QNetwork, device: torch.device) -> None:
        self.network = network
        self.device = device
        # Small MLPs act several times faster in numpy (one observation at every env step).
        self._numpy_forward = numpy_forward(network)

    @property
    def n_actions(self) -> int:
        return int(self.network.n_actions)

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q-values of a batch of observations, float32 numpy, shape (batch, actions)."""
        if self._numpy_forward is not None:
            return self._numpy_forward(obs)
        with torch.inference_mode():
            q = self.network(torch.as_tensor(obs, device=self.device))
        return q.float().cpu().numpy()

    def actions(self, obs: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
        """Epsilon-greedy actions for a batch of observations."""
        return epsilon_greedy(self.q_values(obs), epsilon, rng)[0]

    def act(self, obs: np.ndarray, epsilon: float, rng: np.random.Generator) -> Decision:
        """The epsilon-greedy action for one observation, with its Q-values."""
        q_values = self.q_values(obs[None])
        actions, greedy = epsilon_greedy(q_values, epsilon, rng)
        return Decision(int(actions[0]), q_values[0], bool(greedy[0]))
