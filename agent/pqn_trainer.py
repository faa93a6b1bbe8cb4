"""PQN as the command line trains it: ``num_envs`` copies of one game in the game's C++ vector
env (Breakout: ALE's, with its preprocessing), one whole iteration a ``step()``: a rollout of
every env, then the updates that learn from it. A run stops, saves and resumes only between
iterations. Headless: it shows no frames (the window's PQN is agent/pqn_live.py)."""

from __future__ import annotations

import numpy as np
import torch

from agent.config import AgentConfig
from agent.evaluation import Evaluator
from agent.policy import epsilon_greedy
from agent.pqn import PQNLearner, Rollout, annealed_learning_rate
from agent.training import Counting, StepReport, agent_spaces, stored_reward
from game.registry import GameSpec


class GameOverTally:
    """Adds up each env's unclipped score and reports the whole games that end. A lost life
    terminates (for bootstrapping) but only a game over ends an episode; an env whose game
    ended autoresets on its next step, which ignores the action and scores nothing."""

    def __init__(self, num_envs: int) -> None:
        self.returns = np.zeros(num_envs)  # of the games running
        self.lengths = np.zeros(num_envs, dtype=np.int64)  # agent steps of the games running
        self.resetting = np.zeros(num_envs, dtype=bool)  # envs whose next step is an autoreset

    def update(
        self, reward: np.ndarray, done: np.ndarray, info: dict
    ) -> tuple[list[float], list[int]]:
        """Count one vector step; returns the scores and lengths of the games it ended."""
        playing = ~self.resetting
        self.returns += np.where(playing, reward, 0.0)
        self.lengths += playing
        game_over = playing & info.get("game_over", done)
        scores = [float(r) for r in self.returns[game_over]]
        lengths = [int(n) for n in self.lengths[game_over]]
        self.returns[game_over] = 0.0
        self.lengths[game_over] = 0
        self.resetting = game_over
        return scores, lengths


class PQNTrainer(Counting):
    """PQN on ``num_envs`` copies of one game stepped together (``Trainer``)."""

    def __init__(
        self,
        game: GameSpec,
        config: AgentConfig,
        device: torch.device,
        seed: int = 0,
        env_threads: int | None = None,
    ) -> None:
        """``env_threads``: threads that step the games (default: as many as torch uses)."""
        if game.make_train_vector is None:
            raise ValueError(f"{game.title} has no vector env to train PQN from")
        self.game, self.config = game, config
        self.num_envs = config.pqn.num_envs
        self._start_counting(seed, device)
        # By default the games step on as many threads as torch uses: a run given one core
        # keeps to it.
        threads = env_threads or torch.get_num_threads()
        self.envs = game.make_train_vector(self.num_envs, num_threads=threads)
        obs_space, n_actions = agent_spaces(
            self.envs.single_observation_space, self.envs.single_action_space
        )
        self.learner = PQNLearner(obs_space.shape, n_actions, config, device)
        self.replay = None  # PQN keeps no replay memory
        self._tally = GameOverTally(self.num_envs)
        self._rollout = Rollout(
            config.pqn.rollout_steps, self.num_envs, obs_space.shape, obs_space.dtype
        )
        self.obs, _ = self.envs.reset(seed=seed)  # sub-env i is seeded seed + i
        self._evaluator = Evaluator(game, config)

    def continue_counting(self, counters: dict[str, int]) -> None:
        """Take up a checkpoint's counters; the games start afresh, seeded from the step, so a
        resumed run is as repeatable as one that never stopped."""
        super().continue_counting(counters)
        self.obs, _ = self.envs.reset(seed=self.seed + self.global_step)
        self._tally = GameOverTally(self.num_envs)

    def step(self) -> StepReport:
        """One iteration: a rollout of every env, then the updates it is learned from."""
        first_step = self.global_step
        finished: list[float] = []
        lengths: list[int] = []
        epsilon = self.scheduled_epsilon
        rollout = self._rollout
        for t in range(self.config.pqn.rollout_steps):
            epsilon = self.scheduled_epsilon
            q_values = self.learner.acting_q_values(self.obs)
            rollout.values[t] = q_values.max(axis=1)
            actions, _ = epsilon_greedy(q_values, epsilon, self.rng)
            next_obs, reward, terminated, truncated, info = self.envs.step(actions)
            rollout.obs[t] = self.obs
            rollout.actions[t] = info.get("action", actions)  # the game may press a key itself
            rollout.rewards[t] = stored_reward(self.config, reward)
            rollout.terminated[t] = terminated
            rollout.truncated[t] = truncated
            rollout.valid[t] = ~self._tally.resetting
            scores, steps = self._tally.update(reward, terminated | truncated, info)
            finished += scores
            lengths += steps
            self.obs = next_obs
            self.global_step += self.num_envs
        rollout.values[-1] = self.learner.acting_q_values(self.obs).max(axis=1)
        self.recent_returns.extend(finished)
        self.episode += len(finished)
        self.learner.set_learning_rate(annealed_learning_rate(self.config, first_step))
        for batch in rollout.minibatches(self.config, self.rng):
            self.last_loss = self.learner.update(*batch)
        return StepReport(
            global_step=self.global_step,
            episode=self.episode,
            epsilon=epsilon,
            loss=self.last_loss,
            episode_returns=tuple(finished),
            episode_lengths=tuple(lengths),
            env_steps=self.global_step - first_step,
        )

    def evaluate(self, episodes: int, seed: int, epsilon: float = 0.0) -> np.ndarray:
        """Returns of ``episodes`` whole games in the one-env evaluation envs the app plays in."""
        return self._evaluator(self.learner.policy, episodes, seed, epsilon)

    def close(self) -> None:
        self.envs.close()
