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

from collections import deque
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agent.config import DQNConfig
from agent.q_learner import QLearner
from agent.trainer import RECENT_EPISODES, Evaluator, StepCounting, agent_spaces
from agent.vector_trainer import GameOverTally, VectorStepReport
from game.registry import GameSpec


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
        self, config: DQNConfig, rng: np.random.Generator
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(observations, actions, Q(lambda) returns) of ``update_epochs`` passes over the
        valid transitions in ``minibatches`` shuffled minibatches each."""
        values = self.values.copy()
        truncated = ~np.isnan(self.final_values)
        values[1:][truncated] = self.final_values[truncated]
        returns = q_lambda_returns(
            self.rewards, self.terminated, self.truncated, self.valid, values,
            config.gamma, config.q_lambda,
        )  # fmt: skip
        valid = np.flatnonzero(self.valid.reshape(-1))
        obs = self.obs.reshape((-1,) + self.obs.shape[2:])
        actions, returns = self.actions.reshape(-1), returns.reshape(-1)
        for _ in range(config.update_epochs):
            for batch in np.array_split(rng.permutation(valid), config.minibatches):
                yield obs[batch], actions[batch], returns[batch]


class PQNLearner(QLearner):
    """The Q-network and its optimizer; acts epsilon-greedily, learns from rollout minibatches.
    It offers what ``DQNLearner`` offers to checkpoints, scoring and play."""

    def __init__(
        self,
        obs_shape: tuple[int, ...],
        n_actions: int,
        config: DQNConfig,
        device: torch.device,
    ) -> None:
        super().__init__(obs_shape, n_actions, config, device)
        self.target = self.online  # PQN has none; checkpoints keep the one network in both places
        self.optimizer = torch.optim.RAdam(self.online.parameters(), lr=config.learning_rate)
        self.updates = 0

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q-values of a batch of observations, float32 numpy."""
        with torch.inference_mode():
            q = self.online(torch.as_tensor(obs, device=self.device))
        return q.float().cpu().numpy()

    def learning_q_values(self, obs: np.ndarray) -> np.ndarray:
        """``q_values`` for acting and bootstrapping while learning, in bf16 where it is native."""
        with torch.inference_mode(), self._autocast():
            q = self.online(torch.as_tensor(obs, device=self.device))
        return q.float().cpu().numpy()

    def set_learning_rate(self, rate: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = rate

    def update(self, obs: np.ndarray, actions: np.ndarray, returns: np.ndarray) -> float:
        """One gradient step regressing Q(obs, actions) on ``returns``; returns the MSE loss."""
        device = self.device
        obs_t = torch.as_tensor(obs, device=device)
        actions_t = torch.as_tensor(actions, device=device)
        returns_t = torch.as_tensor(returns, device=device)
        with self._autocast():
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

    def sync_target(self) -> None:
        """Nothing to sync: PQN learns without a target network."""


class PQNTrainer(StepCounting):
    """PQN on ``num_envs`` copies of one game stepped together. Each ``step()`` is one whole
    iteration, a rollout and the updates that learn from it, so a run stops, saves and resumes
    only between iterations. Headless: it shows no frames."""

    def __init__(
        self,
        game: GameSpec,
        config: DQNConfig,
        device: torch.device,
        num_envs: int | None = None,
        seed: int = 0,
    ) -> None:
        if game.make_train_vector is None:
            raise ValueError(f"{game.title} has no vector env to train PQN from")
        self.game = game
        self.config = config
        self.num_envs = num_envs or config.num_envs
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        torch.manual_seed(seed)
        # The games step on as many threads as torch uses: a run given one core keeps to it.
        self.envs = game.make_train_vector(self.num_envs, num_threads=torch.get_num_threads())
        obs_space, n_actions = agent_spaces(
            self.envs.single_observation_space, self.envs.single_action_space
        )
        self.learner = PQNLearner(obs_space.shape, n_actions, config, device)
        self.global_step = 0
        self.episode = 0
        self.recent_returns: deque[float] = deque(maxlen=RECENT_EPISODES)
        self.last_loss: float | None = None
        self._tally = GameOverTally(self.num_envs)
        self._rollout = Rollout(
            config.rollout_steps, self.num_envs, obs_space.shape, obs_space.dtype
        )
        self.obs, _ = self.envs.reset(seed=seed)  # sub-env i is seeded seed + i
        self._evaluator = Evaluator(game, config)

    def continue_counting(self, counters: dict[str, int]) -> None:
        """Take up a checkpoint's counters; the games start afresh, seeded from the step, so a
        resumed run is as repeatable as one that never stopped."""
        super().continue_counting(counters)
        self.obs, _ = self.envs.reset(seed=self.seed + self.global_step)
        self._tally = GameOverTally(self.num_envs)

    def step(self) -> VectorStepReport:
        """One iteration: a rollout of every env, then the updates it is learned from."""
        c = self.config
        first_step = self.global_step
        finished: list[float] = []
        lengths: list[int] = []
        epsilon = self.scheduled_epsilon
        rollout = self._rollout
        for t in range(c.rollout_steps):
            epsilon = self.scheduled_epsilon
            q_values = self.learner.learning_q_values(self.obs)
            rollout.values[t] = q_values.max(axis=1)
            actions = q_values.argmax(axis=1)
            explore = self.rng.random(self.num_envs) < epsilon
            actions[explore] = self.rng.integers(self.learner.n_actions, size=int(explore.sum()))
            next_obs, reward, terminated, truncated, info = self.envs.step(actions)
            rollout.obs[t] = self.obs
            rollout.actions[t] = info.get("action", actions)  # the game may press a key itself
            rollout.rewards[t] = np.clip(reward, -1.0, 1.0) if c.clip_rewards else reward
            rollout.terminated[t] = terminated
            rollout.truncated[t] = truncated
            rollout.valid[t] = ~self._tally.resetting
            scores, steps = self._tally.update(reward, terminated | truncated, info)
            finished += scores
            lengths += steps
            self.obs = next_obs
            self.global_step += self.num_envs
        rollout.values[-1] = self.learner.learning_q_values(self.obs).max(axis=1)
        self.recent_returns.extend(finished)
        self.episode += len(finished)
        if c.anneal_lr:
            left = max(0.0, 1.0 - first_step / c.total_steps)
            self.learner.set_learning_rate(c.learning_rate * left)
        self.last_loss = self._learn()
        return VectorStepReport(
            global_step=self.global_step,
            episode=self.episode,
            episode_returns=tuple(finished),
            loss=self.last_loss,
            epsilon=epsilon,
            episode_lengths=tuple(lengths),
        )

    def _learn(self) -> float:
        """``update_epochs`` passes over the rollout's transitions in shuffled minibatches."""
        loss = 0.0
        for batch in self._rollout.minibatches(self.config, self.rng):
            loss = self.learner.update(*batch)
        return loss

    def evaluate(self, episodes: int, seed: int, epsilon: float = 0.0) -> np.ndarray:
        """Returns of ``episodes`` whole games in the one-env evaluation envs the app plays in."""
        return self._evaluator(self.learner, episodes, seed, epsilon)

    def close(self) -> None:
        self.envs.close()
