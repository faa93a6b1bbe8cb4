"""PQN as the window trains it: the same learner and Q(lambda) returns as ``PQNTrainer``, over
``num_envs`` games in Python envs of which the first is the one on screen.

Each ``step()`` moves every game one env step with one batched forward pass and returns what
the shown game did, as the one-env ``Trainer`` does, so the window plays, takes over and
trains a PQN agent through the same calls. A rollout's updates are spread over the steps of
the next rollout, one minibatch a step: no step waits seconds on a whole round of updates, so
a pause or a key takes effect within one minibatch. The learning rate stays where it is set
(the config's, or the fine-tuning rate of a loaded agent): the command line's ``PQNTrainer``
anneals it over a 10M-step run, which a live demo is not. (That trainer learns from each
rollout at once, in C++ vector envs.)
"""

from __future__ import annotations

from collections import deque

import numpy as np
import torch

from agent.config import DQNConfig
from agent.pqn import PQNLearner, Rollout
from agent.trainer import (
    RECENT_EPISODES,
    Evaluator,
    StepCounting,
    StepReport,
    Trainer,
    make_game_env,
)
from game.registry import GameSpec


class NoReplay:
    """PQN keeps no replay memory; the window's stats read these."""

    transitions = 0
    capacity = 0
    demo_count = 0

    def end_episode(self) -> None:
        pass


class LivePQNTrainer(StepCounting):
    """PQN over ``config.num_envs`` games, game 0 on screen; see the module docstring."""

    def __init__(self, game: GameSpec, config: DQNConfig, device: torch.device, seed: int = 0):
        self.game = game
        self.config = config
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        torch.manual_seed(seed)
        self.num_envs = config.num_envs
        self.envs = [make_game_env(game, config, train=True) for _ in range(self.num_envs)]
        self.env = self.envs[0]
        space = self.env.observation_space
        self.learner = PQNLearner(space.shape, int(self.env.action_space.n), config, device)
        self.replay = NoReplay()
        self.global_step = 0
        self.env_steps = 0  # of the game on screen
        self.episode = 0
        self.recent_returns: deque[float] = deque(maxlen=RECENT_EPISODES)
        self.last_loss: float | None = None
        self._all_obs = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(self.envs)])
        self._returns = np.zeros(self.num_envs)
        # Every step is a transition here: a game that ends is reset within its step.
        self._rollout = Rollout(config.rollout_steps, self.num_envs, space.shape, space.dtype)
        self._t = 0
        self._pending: deque[tuple[np.ndarray, np.ndarray, np.ndarray]] = deque()
        self._evaluator = Evaluator(game, config)

    @property
    def obs(self) -> np.ndarray:
        return self._all_obs[0]

    @property
    def episode_return(self) -> float:
        return float(self._returns[0])

    def frame(self) -> np.ndarray:
        return self.env.render()

    def step(
        self,
        *,
        learn: bool = True,
        epsilon: float | None = None,
        action: int | None = None,
        demo: bool = False,
    ) -> StepReport:
        """One env step of every game (of the shown one only when not learning); ``action``
        (a person's) overrides the agent's choice in the shown game."""
        eps = self.scheduled_epsilon if epsilon is None else epsilon
        playing = self.num_envs if learn else 1
        q_values = self.learner.learning_q_values(self._all_obs[:playing])
        actions = q_values.argmax(axis=1)
        explore = self.rng.random(playing) < eps
        actions[explore] = self.rng.integers(self.learner.n_actions, size=int(explore.sum()))
        greedy = not explore[0]
        if action is not None:
            actions[0], greedy = int(action), int(action) == int(q_values[0].argmax())
        if not learn:
            self._drop_rollout()  # the other games stood still: the rollout is broken
        t = self._t
        shown: tuple = ()
        for i in range(playing):
            obs = self._all_obs[i]
            next_obs, reward, terminated, truncated, info = self.envs[i].step(int(actions[i]))
            self._returns[i] += reward
            if learn:
                rollout = self._rollout
                rollout.obs[t, i] = obs
                rollout.actions[t, i] = actions[i]
                rollout.rewards[t, i] = (
                    np.clip(reward, -1, 1) if self.config.clip_rewards else reward
                )
                rollout.terminated[t, i], rollout.truncated[t, i] = terminated, truncated
                rollout.values[t, i] = q_values[i].max()
            finished = None
            if terminated or truncated:
                if truncated and learn:  # bootstraps from the game's last state, not the next
                    final = self.learner.learning_q_values(next_obs[None]).max()
                    self._rollout.final_values[t, i] = final
                if info.get("game_over", True):
                    finished = float(self._returns[i])
                    self._returns[i] = 0.0
                    self.recent_returns.append(finished)
                    self.episode += 1
                next_obs, _ = self.envs[i].reset()
            self._all_obs[i] = next_obs
            if i == 0:
                shown = (float(reward), bool(terminated), bool(truncated), finished)
        self.env_steps += 1
        loss = None
        if learn:
            self.global_step += self.num_envs
            loss = self._learn_a_little()
        return StepReport(
            global_step=self.global_step,
            episode=self.episode,
            action=int(actions[0]),
            q_values=tuple(float(q) for q in q_values[0]),
            greedy=greedy,
            reward=shown[0],
            terminated=shown[1],
            truncated=shown[2],
            episode_return=shown[3],
            loss=loss,
            epsilon=eps,
        )

    def _learn_a_little(self) -> float | None:
        """Close the rollout when it is full (its minibatches queue up), then one minibatch."""
        c = self.config
        self._t += 1
        if self._t == c.rollout_steps:
            # What the last rollout left unlearned goes first: the queue never outgrows one.
            while self._pending:
                self.last_loss = self.learner.update(*self._pending.popleft())
            self._rollout.values[-1] = self.learner.learning_q_values(self._all_obs).max(axis=1)
            # The minibatches are copies: the next rollout may overwrite the buffers at once.
            self._pending.extend(self._rollout.minibatches(c, self.rng))
            self._drop_rollout()
        if not self._pending:
            return None
        self.last_loss = self.learner.update(*self._pending.popleft())
        return self.last_loss

    def _drop_rollout(self) -> None:
        self._t = 0
        self._rollout.clear_values()

    def restart_episode(self) -> None:
        """Abandon the running episodes (their returns are not counted) and what was to be
        learned from them: after a load, the queued targets were another network's."""
        self._returns[:] = 0.0
        for i, env in enumerate(self.envs):
            self._all_obs[i], _ = env.reset()
        self._pending.clear()
        self._drop_rollout()

    def evaluate(self, episodes: int, seed: int, epsilon: float = 0.0) -> np.ndarray:
        return self._evaluator(self.learner, episodes, seed, epsilon)

    def close(self) -> None:
        for env in self.envs:
            env.close()


def make_live_trainer(
    game: GameSpec, config: DQNConfig, device: torch.device, seed: int = 0
) -> Trainer | LivePQNTrainer:
    """The trainer the window drives for ``config``'s algorithm."""
    if config.algorithm == "pqn":
        return LivePQNTrainer(game, config, device, seed=seed)
    return Trainer(game, config, device, seed=seed)
