"""DQN's trainer: plays one game an env step at a time, remembers, learns, and says what
happened. The same trainer runs in the window (each step shown) and on the command line
(flat out): it is both a ``Trainer`` and a ``LiveTrainer`` (agent/training.py)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

from agent.config import AgentConfig
from agent.dqn import DQNLearner
from agent.evaluation import Evaluator, make_game_env
from agent.replay import ReplayBuffer
from agent.training import (
    Counting,
    ShownStep,
    StepReport,
    agent_spaces,
    multiples_crossed,
    stored_reward,
)
from game.registry import GameSpec, rendered
from game.snapshot import env_state, restore_env_state


class MemoryBudgetError(RuntimeError):
    """The replay memory asked for would not fit in the memory this machine has free."""


def available_memory_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (Linux); None where it cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def make_replay(game: GameSpec, config: AgentConfig, obs_space: gym.spaces.Box) -> ReplayBuffer:
    """The config's replay memory for ``game``'s observations; raises ``MemoryBudgetError``
    rather than take most of the machine's memory."""
    settings = config.dqn
    needed = ReplayBuffer.bytes_needed(
        settings.buffer_size, obs_space.shape, obs_space.dtype, game.frame_stack
    )
    free = available_memory_bytes()
    if free is not None and needed > 0.8 * free:
        raise MemoryBudgetError(
            f"a replay memory of {settings.buffer_size:,} transitions needs "
            f"{needed / 2**30:.1f} GiB but only {free / 2**30:.1f} GiB is free; "
            "lower buffer_size (--set buffer_size=N)"
        )
    return ReplayBuffer(
        settings.buffer_size,
        obs_space.shape,
        obs_space.dtype,
        frame_stack=game.frame_stack,
        gamma=config.gamma,
        n_step=settings.n_step,
    )


def replay_warm(replay: ReplayBuffer, config: AgentConfig) -> bool:
    """Whether the memory holds enough to learn from. A resumed or loaded agent starts with an
    empty memory: it refills the same warm-up first, so its first updates do not overfit a
    handful of transitions."""
    s = config.dqn
    return replay.transitions >= max(s.batch_size + 1, min(s.learning_starts, s.buffer_size))


class DQNTrainer(Counting):
    """DQN on one game: env, replay memory, learner, counters."""

    def __init__(
        self,
        game: GameSpec,
        config: AgentConfig,
        device: torch.device,
        seed: int = 0,
    ) -> None:
        self.game, self.config = game, config
        self.env = make_game_env(game, config, train=True)
        self.env.action_space.seed(seed)
        self._start_counting(seed, device)
        obs_space, n_actions = agent_spaces(self.env.observation_space, self.env.action_space)
        self.replay = make_replay(game, config, obs_space)
        self.learner = DQNLearner(obs_space.shape, n_actions, config, device)
        self._evaluator = Evaluator(game, config)
        self.env_steps = 0
        self.demo_steps = 0
        self._episode_return = 0.0
        self.episode_length = 0  # agent steps of the running game
        self._obs, _ = self.env.reset(seed=seed)
        self._stored_last_step = True

    @property
    def obs(self) -> np.ndarray:
        return self._obs

    @property
    def episode_return(self) -> float:
        return self._episode_return

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
        """One env step (``LiveTrainer.step``). Only learning steps count towards
        ``global_step`` (and so the epsilon schedule)."""
        memory = self.replay
        if learn and not self._stored_last_step:
            # Steps played without learning left a gap: the memory's last transition has lost
            # its next observation, so it must not be joined to this one.
            memory.end_episode()
        self._stored_last_step = learn
        eps = self.scheduled_epsilon if epsilon is None else epsilon
        decision = self.learner.policy.act(self._obs, eps, self.rng).taken_over(action)
        chosen, greedy = decision.action, decision.greedy
        next_obs, reward, terminated, truncated, info = self.env.step(chosen)
        reward = float(reward)
        if learn:
            clipped = float(stored_reward(self.config, reward))
            memory.add(self._obs, chosen, clipped, next_obs, terminated, truncated, demo)
            self.demo_steps += int(demo)
        self.global_step += int(learn)
        self.env_steps += 1
        self._episode_return += reward
        self.episode_length += 1

        loss = self._learn(self.global_step - 1) if learn else None
        finished: tuple[float, ...] = ()
        lengths: tuple[int, ...] = ()
        if terminated or truncated:
            if info.get("game_over", True):
                finished, lengths = (self._episode_return,), (self.episode_length,)
                self.recent_returns.append(self._episode_return)
                self._episode_return, self.episode_length = 0.0, 0
                self.episode += 1
            next_obs, _ = self.env.reset()
        self._obs = next_obs
        shown = ShownStep(
            action=chosen,
            q_values=tuple(float(q) for q in decision.q_values),
            greedy=greedy,
            reward=reward,
            terminated=bool(terminated),
            truncated=bool(truncated),
            episode_return=finished[0] if finished else None,
        )
        return StepReport(
            global_step=self.global_step,
            episode=self.episode,
            epsilon=eps,
            loss=loss,
            episode_returns=finished,
            episode_lengths=lengths,
            shown=shown,
        )

    def _learn(self, before: int) -> float | None:
        """DQN's schedule: the updates that fell due as the step counter moved on from
        ``before`` (``gradient_steps`` batches every ``train_frequency`` env steps, once past
        ``learning_starts`` and the memory is warm), then the target sync, if one fell due.
        Returns the last update's loss; None if none was made."""
        s, step, memory = self.config.dqn, self.global_step, self.replay
        due = multiples_crossed(max(before, s.learning_starts - 1), step, s.train_frequency)
        loss = None
        if due > 0 and replay_warm(memory, self.config):
            for _ in range(due * s.gradient_steps):
                batch = memory.sample(s.batch_size, self.rng, s.demo_fraction)
                loss = self.learner.update(batch)
            self.last_loss = loss
        if multiples_crossed(before, step, s.target_update_interval):
            self.learner.sync_target()
        return loss

    def evaluate(self, episodes: int, seed: int, epsilon: float = 0.0) -> np.ndarray:
        return self._evaluator(self.learner.policy, episodes, seed, epsilon)

    def state_dict(self) -> dict:
        """Also the game mid-play and the running episode: a resumed run goes on exactly."""
        return {
            **super().state_dict(),
            "env": env_state(self.env),
            "obs": np.asarray(self._obs),
            "episode_return": self._episode_return,
            "episode_length": self.episode_length,
            "env_steps": self.env_steps,
            "stored_last_step": self._stored_last_step,
        }

    def load_state_dict(self, state: dict, replay_kept: bool) -> None:
        """Without the replay memory it was saved with (``replay_kept`` false), the game starts
        afresh: an episode joined midway would fill the empty memory with frame stacks that
        repeat its first frame. So does a state saved by a trainer that kept no game mid-play."""
        super().load_state_dict(state, replay_kept)
        if "env" not in state or not replay_kept:
            return
        restore_env_state(self.env, state["env"])
        self._obs = np.asarray(state["obs"]).copy()
        self._episode_return = float(state["episode_return"])
        self.episode_length = int(state.get("episode_length", 0))  # saved since 2026-12
        self.env_steps = int(state["env_steps"])
        self._stored_last_step = bool(state["stored_last_step"]) and replay_kept

    def restart_episode(self) -> None:
        """Abandon the running episode (its return is not counted) and start a new one."""
        self.replay.end_episode()
        self._episode_return, self.episode_length = 0.0, 0
        self._obs, _ = self.env.reset()

    def close(self) -> None:
        self.env.close()
