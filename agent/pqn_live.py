"""PQN as the window trains it: the same learner and Q(lambda) returns as ``PQNTrainer``, over
``num_envs`` games in Python envs of which the first is the one on screen.

Each ``step()`` moves every game one env step with one batched forward pass and returns what
the shown game did, as DQN's trainer does, so the window plays, takes over and
trains a PQN agent through the same calls. A rollout's updates are spread over the steps of
the next rollout, one minibatch a step: no step waits seconds on a whole round of updates, so
a pause or a key takes effect within one minibatch. A person's steps in the shown game (a
takeover in Train mode, Teach) enter the rollout like the agent's: Q(lambda) learns from
whatever actions were taken, and the person's are counted in ``demo_steps``. The learning
rate stays where it is set (the config's, or the fine-tuning rate of a loaded agent): the
command line's ``PQNTrainer`` anneals it over a 10M-step run, which a live demo is not. (That
trainer learns from each rollout at once, in C++ vector envs.)
"""

from __future__ import annotations

from collections import deque

import numpy as np
import torch

from agent.config import AgentConfig
from agent.evaluation import Evaluator, make_game_env
from agent.policy import epsilon_greedy
from agent.pqn import PQNLearner, Rollout
from agent.training import Counting, ShownStep, StepReport, stored_reward
from game.registry import GameSpec, rendered


class LivePQNTrainer(Counting):
    """PQN over ``pqn.num_envs`` games, game 0 on screen; see the module docstring."""

    def __init__(
        self, game: GameSpec, config: AgentConfig, device: torch.device, seed: int = 0
    ) -> None:
        self.game, self.config = game, config
        self._start_counting(seed, device)
        self.num_envs = config.pqn.num_envs
        self.envs = [make_game_env(game, config, train=True) for _ in range(self.num_envs)]
        self.env = self.envs[0]
        space = self.env.observation_space
        self.learner = PQNLearner(space.shape, int(self.env.action_space.n), config, device)
        self.replay = None  # PQN keeps no replay memory
        self.env_steps = 0  # of the game on screen
        self.demo_steps = 0  # a person's steps that entered a rollout
        self._all_obs = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(self.envs)])
        self._returns = np.zeros(self.num_envs)
        self._lengths = np.zeros(self.num_envs, dtype=np.int64)
        # Every step is a transition here: a game that ends is reset within its step.
        self._rollout = Rollout(config.pqn.rollout_steps, self.num_envs, space.shape, space.dtype)
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
        return rendered(self.env)

    def step(
        self,
        *,
        learn: bool = True,
        epsilon: float | None = None,
        action: int | None = None,
        demo: bool = False,
    ) -> StepReport:
        """One env step of every game (of the shown one only when not learning); ``action``
        (a person's) overrides the agent's choice in the shown game, and with ``demo`` counts
        as the person's step learned from."""
        eps = self.scheduled_epsilon if epsilon is None else epsilon
        playing = self.num_envs if learn else 1
        q_values = (
            self.learner.acting_q_values(self._all_obs)
            if learn
            else self.learner.policy.q_values(self._all_obs[:1])
        )
        actions, kept_greedy = epsilon_greedy(q_values, eps, self.rng)
        greedy = bool(kept_greedy[0])
        if action is not None:
            actions[0], greedy = int(action), int(action) == int(q_values[0].argmax())
            self.demo_steps += int(learn and demo)
        if not learn:
            self._drop_rollout()  # the other games stood still: the rollout is broken
        t = self._t
        shown = ShownStep(0, (), False, 0.0, False, False)
        finished_returns: list[float] = []
        finished_lengths: list[int] = []
        for i in range(playing):
            ended_game = False
            obs = self._all_obs[i]
            next_obs, reward, terminated, truncated, info = self.envs[i].step(int(actions[i]))
            self._returns[i] += reward
            self._lengths[i] += 1
            if learn:
                rollout = self._rollout
                rollout.obs[t, i] = obs
                rollout.actions[t, i] = actions[i]
                rollout.rewards[t, i] = stored_reward(self.config, reward)
                rollout.terminated[t, i], rollout.truncated[t, i] = terminated, truncated
                rollout.values[t, i] = q_values[i].max()
            if terminated or truncated:
                if truncated and learn:  # bootstraps from the game's last state, not the next
                    final = self.learner.acting_q_values(next_obs[None]).max()
                    self._rollout.final_values[t, i] = final
                if info.get("game_over", True):
                    ended_game = True
                    finished_returns.append(float(self._returns[i]))
                    finished_lengths.append(int(self._lengths[i]))
                    self.recent_returns.append(float(self._returns[i]))
                    self._returns[i], self._lengths[i] = 0.0, 0
                    self.episode += 1
                next_obs, _ = self.envs[i].reset()
            self._all_obs[i] = next_obs
            if i == 0:
                shown = ShownStep(
                    action=int(actions[0]),
                    q_values=tuple(float(q) for q in q_values[0]),
                    greedy=greedy,
                    reward=float(reward),
                    terminated=bool(terminated),
                    truncated=bool(truncated),
                    episode_return=finished_returns[-1] if ended_game else None,
                )
        self.env_steps += 1
        loss = None
        if learn:
            self.global_step += self.num_envs
            loss = self._learn_a_little()
        return StepReport(
            global_step=self.global_step,
            episode=self.episode,
            epsilon=eps,
            loss=loss,
            episode_returns=tuple(finished_returns),
            episode_lengths=tuple(finished_lengths),
            shown=shown,
            env_steps=playing,
        )

    def _learn_a_little(self) -> float | None:
        """Close the rollout when it is full (its minibatches queue up), then one minibatch."""
        c = self.config
        self._t += 1
        if self._t == c.pqn.rollout_steps:
            # What the last rollout left unlearned goes first: the queue never outgrows one.
            while self._pending:
                self.last_loss = self.learner.update(*self._pending.popleft())
            self._rollout.values[-1] = self.learner.acting_q_values(self._all_obs).max(axis=1)
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
        self._lengths[:] = 0
        for i, env in enumerate(self.envs):
            self._all_obs[i], _ = env.reset()
        self._pending.clear()
        self._drop_rollout()

    def evaluate(self, episodes: int, seed: int, epsilon: float = 0.0) -> np.ndarray:
        return self._evaluator(self.learner.policy, episodes, seed, epsilon)

    def close(self) -> None:
        for env in self.envs:
            env.close()
