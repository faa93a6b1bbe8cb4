"""PQN (Gallici et al. 2024, "Simplifying Deep Temporal Difference Learning"): Q-learning from
short rollouts of many envs, with no replay memory and no target network.

One iteration: every env plays ``rollout_steps`` epsilon-greedy steps, remembering the greedy
value max_a Q(s, a) of each state it acted in; Q(lambda) returns are built backwards from those
values; then ``update_epochs`` passes over the rollout in ``minibatches`` shuffled minibatches
regress Q(s, a) on the returns (MSE), with RAdam and gradient-norm clipping. LayerNorm in the
network keeps this stable without a target network. The Q-network is the same kind DQN uses
(with LayerNorm), so playing, scoring and the Q-value panel treat a PQN agent as any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agent.config import AgentConfig
from agent.learner import bf16_autocast, bf16_supported, build_online
from agent.networks import QNetwork
from agent.policy import Policy


def q_lambda_returns(
    rewards: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    valid: np.ndarray,
    values: np.ndarray,
    gamma: float,
    q_lambda: float,
) -> np.ndarray:
    """Q(lambda) returns of a rollout, arrays (T, N) with ``values`` (T + 1, N).

    ``values[t]`` is max_a Q(s_t, a); ``values[T]`` that of the state after the last step.
    G_t = r_t + gamma * (1 - terminated_t) * (lambda * G_{t+1} + (1 - lambda) * values[t+1]).
    The next return is mixed in only where it continues the same game: not after a truncation
    (the game's final state still bootstraps from its value) and not into a step that is not a
    transition (``valid`` false: an env's autoreset step, which ignored its action).
    """
    steps = len(rewards)
    returns = np.zeros_like(rewards, dtype=np.float32)
    following = values[steps]
    for t in reversed(range(steps)):
        bootstrap = values[t + 1]
        if t + 1 < steps:
            mix = np.where(valid[t + 1] & ~truncated[t], q_lambda, 0.0)
            bootstrap = mix * following + (1.0 - mix) * bootstrap
        returns[t] = rewards[t] + gamma * (1.0 - terminated[t]) * bootstrap
        following = returns[t]
    return returns


class Rollout:
    """One rollout's storage, ``steps`` env steps of ``num_envs`` games, and the minibatches
    learned from it. ``valid`` is false where a step was an env's autoreset (not a
    transition); ``final_values``, where not NaN, is what a truncated game bootstraps from
    when the next state stored is already the next game's."""

    def __init__(self, steps: int, num_envs: int, obs_shape: tuple[int, ...], obs_dtype) -> None:
        shape = (steps, num_envs)
        self.obs = np.zeros(shape + tuple(obs_shape), dtype=obs_dtype)
        self.actions = np.zeros(shape, dtype=np.int64)
        self.rewards = np.zeros(shape, dtype=np.float32)
        self.terminated = np.zeros(shape, dtype=bool)
        self.truncated = np.zeros(shape, dtype=bool)
        self.valid = np.ones(shape, dtype=bool)
        self.values = np.zeros((steps + 1, num_envs), dtype=np.float32)  # max_a Q of each state
        self.final_values = np.full(shape, np.nan, dtype=np.float32)

    def clear_values(self) -> None:
        self.values[:] = 0.0
        self.final_values[:] = np.nan

    def minibatches(
        self, config: AgentConfig, rng: np.random.Generator
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(observations, actions, Q(lambda) returns) of ``update_epochs`` passes over the
        valid transitions in ``minibatches`` shuffled minibatches each."""
        settings = config.pqn
        values = self.values.copy()
        truncated = ~np.isnan(self.final_values)
        values[1:][truncated] = self.final_values[truncated]
        returns = q_lambda_returns(
            self.rewards, self.terminated, self.truncated, self.valid, values,
            config.gamma, settings.q_lambda,
        )  # fmt: skip
        valid = np.flatnonzero(self.valid.reshape(-1))
        obs = self.obs.reshape((-1,) + self.obs.shape[2:])
        actions, returns = self.actions.reshape(-1), returns.reshape(-1)
        for _ in range(settings.update_epochs):
            for batch in np.array_split(rng.permutation(valid), settings.minibatches):
                yield obs[batch], actions[batch], returns[batch]


def annealed_learning_rate(config: AgentConfig, global_step: int) -> float:
    """PQN's learning rate after ``global_step`` env steps: with ``anneal_lr``, falling
    linearly to 0 at ``total_steps`` but not below ``min_learning_rate_share`` of its start."""
    settings = config.pqn
    if not settings.anneal_lr:
        return config.learning_rate
    left = max(1.0 - global_step / config.total_steps, settings.min_learning_rate_share)
    return config.learning_rate * left


class PQNLearner:
    """The Q-network and RAdam, no target network (``Learner``); learns from rollout
    minibatches."""

    def __init__(
        self,
        obs_shape: tuple[int, ...],
        n_actions: int,
        config: AgentConfig,
        device: torch.device,
    ) -> None:
        self.config = config
        self.device = device
        self.online: QNetwork = build_online(config, obs_shape, n_actions, device)
        self.target: QNetwork | None = None  # PQN learns without one
        self.policy = Policy(self.online, device)
        # bf16 where it is native; emulated elsewhere, it would be slower than float32.
        self.autocast_bf16 = config.mixed_precision and bf16_supported(device)
        self.optimizer = self.make_optimizer(self.online.parameters())
        self.updates = 0
        self._q_taken: torch.Tensor | None = None  # read only when logged: reading waits

    def make_optimizer(self, parameters: Iterable[nn.Parameter]) -> torch.optim.RAdam:
        return torch.optim.RAdam(parameters, lr=self.config.learning_rate)

    def mean_q_taken(self) -> float | None:
        return None if self._q_taken is None else float(self._q_taken)

    def acting_q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q-values for acting and bootstrapping while learning: in bf16 where it is native
        (exploration dwarfs its rounding); play and scores read ``policy`` in float32."""
        with torch.inference_mode(), bf16_autocast(self.autocast_bf16, self.device):
            q = self.online(torch.as_tensor(obs, device=self.device))
        return q.float().cpu().numpy()

    def reset_optimizer(self) -> None:
        self.optimizer = self.make_optimizer(self.online.parameters())

    def set_learning_rate(self, rate: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = rate

    def update(self, obs: np.ndarray, actions: np.ndarray, returns: np.ndarray) -> float:
        """One gradient step regressing Q(obs, actions) on ``returns``; returns the MSE loss."""
        device = self.device
        obs_t = torch.as_tensor(obs, device=device)
        actions_t = torch.as_tensor(actions, device=device)
        returns_t = torch.as_tensor(returns, device=device)
        with bf16_autocast(self.autocast_bf16, device):
            q = self.online(obs_t).float()
        q_taken = q.gather(1, actions_t[:, None]).squeeze(1)
        loss = F.mse_loss(q_taken, returns_t)
        self._q_taken = q_taken.detach().mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.max_grad_norm > 0:
            nn.utils.clip_grad_norm_(self.online.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        self.updates += 1
        return float(loss.detach())
