"""Training from many envs at once: one batched forward pass picks every env's action.

A vector env steps N copies of the game together (Breakout: ALE's C++ vector env, autoreset on
the next step); each vector step writes one entry per env into an interleaved replay memory and
makes the updates that have come due. Everything the algorithm schedules counts env steps, all
N envs together, as the one-env ``Trainer`` does: one update of ``batch_size`` every
``train_frequency`` env steps (N / train_frequency a vector step, the remainder carried to the
next), a target sync every ``target_update_interval``, epsilon on the same linear schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from agent.config import DQNConfig
from agent.trainer import DQNTraining, policy_actions
from game.registry import GameSpec


@dataclass(frozen=True)
class VectorStepReport:
    """What one step of all envs did; ``episode_returns`` are the whole games it ended and
    ``episode_lengths`` how many agent steps each took."""

    global_step: int
    episode: int
    episode_returns: tuple[float, ...]
    loss: float | None
    epsilon: float
    episode_lengths: tuple[int, ...]


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


class VectorTrainer(DQNTraining):
    """DQN on ``num_envs`` copies of one game stepped together: vector env, interleaved replay
    memory, learner, counters. Headless: it shows no frames."""

    def __init__(
        self,
        game: GameSpec,
        config: DQNConfig,
        device: torch.device,
        num_envs: int,
        seed: int = 0,
    ) -> None:
        if game.make_train_vector is None:
            raise ValueError(f"{game.title} has no vector env to train from")
        self.num_envs = num_envs
        self.envs = game.make_train_vector(num_envs)
        spaces = (self.envs.single_observation_space, self.envs.single_action_space)
        self._set_up(game, config, device, seed, spaces, num_envs)
        self.obs, _ = self.envs.reset(seed=seed)  # sub-env i is seeded seed + i
        self._tally = GameOverTally(num_envs)

    def continue_counting(self, counters: dict[str, int]) -> None:
        """Take up a checkpoint's counters. The games start afresh (a vector env cannot be
        saved mid-play), seeded from the step, so a resumed run is repeatable."""
        super().continue_counting(counters)
        self.obs, _ = self.envs.reset(seed=self.seed + self.global_step)
        self._tally = GameOverTally(self.num_envs)

    def load_state_dict(self, state: dict, replay_kept: bool) -> None:
        super().load_state_dict(state, replay_kept)
        self.replay.end_episode()  # the saved streams' games did not go on

    def step(self) -> VectorStepReport:
        """Step every env once with epsilon-greedy actions, remember, learn as due."""
        c = self.config
        epsilon = self.scheduled_epsilon
        actions = policy_actions(self.learner, self.obs, epsilon, self.rng, learning=True)
        next_obs, reward, terminated, truncated, info = self.envs.step(actions)
        actions = info.get("action", actions)  # the game may press a key for the agent
        stored_reward = np.clip(reward, -1.0, 1.0) if c.clip_rewards else reward
        # An env that autoresets on this step ignored its action: its observation was its
        # episode's final one, stored to bootstrap from, starting no transition.
        self.replay.add_lockstep(
            self.obs, actions, stored_reward, terminated, self._tally.resetting
        )
        finished, lengths = self._tally.update(reward, terminated | truncated, info)
        self.recent_returns.extend(finished)
        self.episode += len(finished)
        self.obs = next_obs

        before = self.global_step
        self.global_step += self.num_envs
        loss = self._learn(before)
        return VectorStepReport(
            global_step=self.global_step,
            episode=self.episode,
            episode_returns=tuple(finished),
            loss=loss,
            epsilon=epsilon,
            episode_lengths=tuple(lengths),
        )

    def close(self) -> None:
        self.envs.close()
