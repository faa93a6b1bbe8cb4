"""The trainer: plays a game one env step at a time, remembers, learns, and says what happened.

Each ``step()`` returns a ``StepReport`` so that the window can show every step and the command
line can run flat out through the same code.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from agent.config import DQNConfig
from agent.dqn import DQNLearner, linear_epsilon
from agent.q_learner import QLearner
from agent.replay import ReplayBuffer
from game.registry import GameSpec, rendered
from game.snapshot import env_state, restore_env_state

RECENT_EPISODES = 100  # window of the "mean return" statistic


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


def game_env_settings(game: GameSpec, config: DQNConfig) -> dict[str, int]:
    """The config's settings for the game's env (fruit catch's grid size)."""
    return {key: getattr(config, key) for key in game.env_config_keys}


def make_game_env(game: GameSpec, config: DQNConfig, *, train: bool, human: bool = False):
    """The game's env with the config's env settings."""
    return game.make_env(train=train, human=human, **game_env_settings(game, config))


def scheduled_epsilon(config: DQNConfig, global_step: int) -> float:
    """The config's exploration rate after ``global_step`` env steps."""
    c = config
    return linear_epsilon(global_step, c.epsilon_start, c.epsilon_end, c.epsilon_decay_steps)


def multiples_crossed(before: int, after: int, every: int) -> int:
    """How many multiples of ``every`` lie in (before, after]: the events a schedule has due
    when a step counter moves on, by one step or by the steps of many envs at once."""
    return after // every - before // every if every > 0 else 0


def agent_spaces(
    observation_space: gym.spaces.Space, action_space: gym.spaces.Space
) -> tuple[gym.spaces.Box, int]:
    """The observations (arrays of one shape) and the number of actions (numbered 0 to n - 1)
    of a game, the kind every learner here plays."""
    assert isinstance(observation_space, gym.spaces.Box), observation_space
    assert isinstance(action_space, gym.spaces.Discrete), action_space
    return observation_space, int(action_space.n)


def score_summary(returns: np.ndarray) -> dict[str, Any]:
    """Mean, spread and range of evaluation returns, as logs and checkpoints record them."""
    empty = returns.size == 0
    return {
        "eval_mean": None if empty else float(returns.mean()),
        "eval_std": None if empty else float(returns.std()),
        "eval_min": None if empty else float(returns.min()),
        "eval_max": None if empty else float(returns.max()),
        "eval_episodes": int(returns.size),
    }


def make_replay(
    game: GameSpec, config: DQNConfig, obs_space: gym.spaces.Box, num_envs: int = 1
) -> ReplayBuffer:
    """The config's replay memory for ``game``'s observations (``num_envs`` interleaved
    streams); raises ``MemoryBudgetError`` rather than take most of the machine's memory."""
    needed = ReplayBuffer.bytes_needed(
        config.buffer_size, obs_space.shape, obs_space.dtype, game.frame_stack
    )
    free = available_memory_bytes()
    if free is not None and needed > 0.8 * free:
        raise MemoryBudgetError(
            f"a replay memory of {config.buffer_size:,} transitions needs "
            f"{needed / 2**30:.1f} GiB but only {free / 2**30:.1f} GiB is free; "
            "lower buffer_size (--set buffer_size=N)"
        )
    return ReplayBuffer(
        config.buffer_size,
        obs_space.shape,
        obs_space.dtype,
        frame_stack=game.frame_stack,
        gamma=config.gamma,
        n_step=config.n_step,
        num_envs=num_envs,
    )


def replay_warm(replay: ReplayBuffer, config: DQNConfig) -> bool:
    """Whether the memory holds enough to learn from. A resumed or loaded agent starts with an
    empty memory: it refills the same warm-up first, so its first updates do not overfit a
    handful of transitions."""
    return replay.transitions >= max(
        config.batch_size + 1, min(config.learning_starts, config.buffer_size)
    )


@dataclass(frozen=True)
class StepReport:
    """What one env step did. ``episode_return`` is set when a whole game ended."""

    global_step: int
    episode: int
    action: int
    q_values: tuple[float, ...]
    greedy: bool
    reward: float
    terminated: bool
    truncated: bool
    episode_return: float | None
    loss: float | None
    epsilon: float
    episode_length: int | None = None  # agent steps of the game that ended, if one did

    @property
    def episode_returns(self) -> tuple[float, ...]:
        """Returns of the whole games that ended on this step (none or one)."""
        return () if self.episode_return is None else (self.episode_return,)

    @property
    def episode_lengths(self) -> tuple[int, ...]:
        return () if self.episode_length is None else (self.episode_length,)


class StepCounting:
    """What every trainer counts: env steps that learned (the schedule's clock) and episodes,
    and the state that lets a stopped run go on."""

    config: DQNConfig
    global_step: int
    episode: int
    rng: np.random.Generator
    recent_returns: deque[float]

    @property
    def scheduled_epsilon(self) -> float:
        return scheduled_epsilon(self.config, self.global_step)

    def continue_counting(self, counters: dict[str, int]) -> None:
        """Take up a checkpoint's step and episode counters (so its schedule goes on)."""
        self.global_step = int(counters.get("global_step", self.global_step))
        self.episode = int(counters.get("episode", self.episode))

    def state_dict(self) -> dict:
        """What a checkpoint needs, beyond the learner, the counters and the replay memory,
        for the run to go on as if it had never stopped: here the random generators and the
        recent returns; trainers that can also keep their games mid-play add them."""
        return {
            "rng": self.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state().numpy(),
            "recent_returns": list(self.recent_returns),
        }

    def load_state_dict(self, state: dict, replay_kept: bool) -> None:
        """Go on from ``state_dict()``'s state; ``replay_kept`` says whether the replay memory
        saved with it was loaded too."""
        self.rng.bit_generator.state = state["rng"]
        torch.set_rng_state(torch.as_tensor(np.asarray(state["torch_rng"], dtype=np.uint8)))
        self.recent_returns.extend(float(r) for r in state["recent_returns"])


class DQNTraining(StepCounting):
    """What the one-env and the vector DQN trainers share: how they are set up around their
    env(s), and DQN's learning schedule."""

    game: GameSpec
    replay: ReplayBuffer
    learner: DQNLearner
    last_loss: float | None

    def _set_up(
        self,
        game: GameSpec,
        config: DQNConfig,
        device: torch.device,
        seed: int,
        spaces: tuple[gym.spaces.Space, gym.spaces.Space],
        num_envs: int = 1,
    ) -> None:
        """The replay memory, learner, counters and evaluator for envs of these ``spaces``
        (observation, action), seeded from ``seed``."""
        self.game, self.config, self.seed = game, config, seed
        self.rng = np.random.default_rng(seed)
        torch.manual_seed(seed)
        obs_space, n_actions = agent_spaces(*spaces)
        self.replay = make_replay(game, config, obs_space, num_envs)
        self.learner = DQNLearner(obs_space.shape, n_actions, config, device)
        self.global_step = 0
        self.episode = 0
        self.recent_returns = deque(maxlen=RECENT_EPISODES)
        self.last_loss = None
        self._evaluator = Evaluator(game, config)

    def _learn(self, before: int) -> float | None:
        """DQN's schedule, for one env or many: the updates that fell due as the step counter
        moved on from ``before`` (one of ``gradient_steps`` batches every ``train_frequency``
        env steps, once past ``learning_starts`` and the memory is warm), then the target sync,
        if one fell due. Returns the last update's loss; None if none was made.

        With N envs the counter moves N at a time, so a sync may come up to
        N / train_frequency - 1 updates late: a small fraction of the interval."""
        c, step = self.config, self.global_step
        due = multiples_crossed(max(before, c.learning_starts - 1), step, c.train_frequency)
        loss = None
        if due > 0 and replay_warm(self.replay, c):
            for _ in range(due * c.gradient_steps):
                batch = self.replay.sample(c.batch_size, self.rng, c.demo_fraction)
                loss = self.learner.update(batch)
            self.last_loss = loss
        if multiples_crossed(before, step, c.target_update_interval):
            self.learner.sync_target()
        return loss

    def evaluate(self, episodes: int, seed: int, epsilon: float = 0.0) -> np.ndarray:
        """Returns of ``episodes`` whole games of (near-)greedy play, run side by side in
        one-env evaluation envs seeded ``seed``, ``seed + 1``, ...; training is left alone."""
        return self._evaluator(self.learner, episodes, seed, epsilon)


class Trainer(DQNTraining):
    """DQN on one game: env, replay memory, learner, counters."""

    def __init__(
        self,
        game: GameSpec,
        config: DQNConfig,
        device: torch.device,
        seed: int = 0,
    ) -> None:
        self.env = make_game_env(game, config, train=True)
        self.env.action_space.seed(seed)
        self._set_up(
            game, config, device, seed, (self.env.observation_space, self.env.action_space)
        )
        self.env_steps = 0
        self.episode_return = 0.0
        self.episode_length = 0  # agent steps of the running game
        self.obs, _ = self.env.reset(seed=seed)
        self._stored_last_step = True

    def frame(self) -> np.ndarray:
        """The game as a person sees it, RGB."""
        return rendered(self.env)

    def step(
        self,
        *,
        learn: bool = True,
        epsilon: float | None = None,
        action: int | None = None,
        demo: bool = False,
    ) -> StepReport:
        """One env step. ``epsilon`` overrides the schedule; ``action`` (a human's) overrides the
        agent's choice, whose Q-values are still reported; ``demo`` marks the transition.
        Only learning steps count towards ``global_step`` (and so the epsilon schedule)."""
        if learn and not self._stored_last_step:
            # Steps played without learning left a gap: the memory's last transition has lost
            # its next observation, so it must not be joined to this one.
            self.replay.end_episode()
        self._stored_last_step = learn
        eps = self.scheduled_epsilon if epsilon is None else epsilon
        chosen, q_values, greedy = self.learner.act(self.obs, eps, self.rng, learning=learn)
        if action is not None:
            chosen, greedy = int(action), int(action) == int(q_values.argmax())
        next_obs, reward, terminated, truncated, info = self.env.step(chosen)
        reward = float(reward)
        stored_reward = float(np.clip(reward, -1.0, 1.0)) if self.config.clip_rewards else reward
        if learn:
            self.replay.add(self.obs, chosen, stored_reward, next_obs, terminated, truncated, demo)
        self.global_step += int(learn)
        self.env_steps += 1
        self.episode_return += reward
        self.episode_length += 1

        loss = None
        if learn:
            loss = self._learn(self.global_step - 1)
        episode_return = episode_length = None
        if terminated or truncated:
            if info.get("game_over", True):
                episode_return, episode_length = self.episode_return, self.episode_length
                self.recent_returns.append(episode_return)
                self.episode_return, self.episode_length = 0.0, 0
                self.episode += 1
            next_obs, _ = self.env.reset()
        self.obs = next_obs
        return StepReport(
            global_step=self.global_step,
            episode=self.episode,
            action=chosen,
            q_values=tuple(float(q) for q in q_values),
            greedy=greedy,
            reward=reward,
            terminated=bool(terminated),
            truncated=bool(truncated),
            episode_return=episode_return,
            loss=loss,
            epsilon=eps,
            episode_length=episode_length,
        )

    def state_dict(self) -> dict:
        """Also the game mid-play and the running episode: a resumed run goes on exactly."""
        return {
            **super().state_dict(),
            "env": env_state(self.env),
            "obs": np.asarray(self.obs),
            "episode_return": self.episode_return,
            "episode_length": self.episode_length,
            "env_steps": self.env_steps,
            "stored_last_step": self._stored_last_step,
        }

    def load_state_dict(self, state: dict, replay_kept: bool) -> None:
        """Without the replay memory it was saved with (``replay_kept`` false), the game starts
        afresh: an episode joined midway would fill the empty memory with frame stacks that
        repeat its first frame. So does a state saved by a trainer that kept no game mid-play
        (several envs, PQN)."""
        super().load_state_dict(state, replay_kept)
        if "env" not in state or not replay_kept:
            return
        restore_env_state(self.env, state["env"])
        self.obs = np.asarray(state["obs"]).copy()
        self.episode_return = float(state["episode_return"])
        self.episode_length = int(state.get("episode_length", 0))  # saved since 2026-12
        self.env_steps = int(state["env_steps"])
        self._stored_last_step = bool(state["stored_last_step"]) and replay_kept

    def restart_episode(self) -> None:
        """Abandon the running episode (its return is not counted) and start a new one."""
        self.replay.end_episode()
        self.episode_return, self.episode_length = 0.0, 0
        self.obs, _ = self.env.reset()

    def close(self) -> None:
        self.env.close()


class Evaluator:
    """A trainer's evaluation envs, made once and reseeded: making one costs more than a game."""

    def __init__(self, game: GameSpec, config: DQNConfig) -> None:
        self.game = game
        self.config = config
        self._envs: list[gym.Env] = []
        self._vector: gym.vector.VectorEnv | None = None

    def __call__(
        self, learner: QLearner, episodes: int, seed: int, epsilon: float = 0.0
    ) -> np.ndarray:
        """Returns of ``episodes`` whole games, in envs seeded ``seed``, ``seed + 1``, ..."""
        if self.game.make_vector is not None:
            if self._vector is None or self._vector.num_envs != episodes:
                self._vector = self.game.make_vector(
                    episodes, **game_env_settings(self.game, self.config)
                )
            return evaluate_vector(self._vector, learner, seed, epsilon)
        while len(self._envs) < episodes:
            self._envs.append(make_game_env(self.game, self.config, train=False))
        envs = self._envs[:episodes]
        return evaluate_policy(self.game, self.config, learner, episodes, seed, epsilon, envs)


def evaluate_policy(
    game: GameSpec,
    config: DQNConfig,
    learner: QLearner,
    episodes: int,
    seed: int,
    epsilon: float = 0.0,
    envs: list[gym.Env] | None = None,
) -> np.ndarray:
    """Play ``episodes`` games at once, one batched forward pass a step; return each score.
    Uses ``envs`` when given (and leaves them open), else makes and closes its own."""
    own_envs = envs is None
    if envs is None:
        envs = [make_game_env(game, config, train=False) for _ in range(episodes)]
    rng = np.random.default_rng(seed)
    obs = [env.reset(seed=seed + i)[0] for i, env in enumerate(envs)]
    returns = np.zeros(episodes)
    running = list(range(episodes))
    while running:
        actions = policy_actions(learner, np.stack([obs[i] for i in running]), epsilon, rng)
        still = []
        for i, action in zip(running, actions, strict=True):
            obs[i], reward, terminated, truncated, _ = envs[i].step(int(action))
            returns[i] += reward
            if not (terminated or truncated):
                still.append(i)
        running = still
    if own_envs:
        for env in envs:
            env.close()
    return returns


def evaluate_vector(
    vector_env: gym.vector.VectorEnv, learner: QLearner, seed: int, epsilon: float = 0.0
) -> np.ndarray:
    """The first episode's return in each sub-env of a vector env seeded from ``seed``."""
    rng = np.random.default_rng(seed)
    obs, _ = vector_env.reset(seed=seed)
    returns = np.zeros(vector_env.num_envs)
    running = np.ones(vector_env.num_envs, dtype=bool)
    while running.any():
        actions = policy_actions(learner, obs, epsilon, rng)
        obs, reward, terminated, truncated, _ = vector_env.step(actions)
        returns += np.where(running, reward, 0.0)  # sub-envs past their episode are ignored
        running &= ~(terminated | truncated)
    return returns


def policy_actions(
    learner: QLearner,
    obs: np.ndarray,
    epsilon: float,
    rng: np.random.Generator,
    learning: bool = False,
) -> np.ndarray:
    """Greedy actions for a batch of observations, each random with probability epsilon;
    ``learning`` takes the Q-values from ``learner.learning_q_values``."""
    q_values = (learner.learning_q_values if learning else learner.q_values)(obs)
    actions = q_values.argmax(axis=1)
    explore = rng.random(len(actions)) < epsilon
    actions[explore] = rng.integers(learner.n_actions, size=int(explore.sum()))
    return actions
