"""The one trainer interface, and what every trainer shares.

A trainer plays a game, learns, and says what each step did. The command line drives every
``Trainer`` the same way (``step()`` until the steps are done, ``state_dict`` to save, resume);
the window drives a ``LiveTrainer``, which also shows one game, lets a person act in it, and
plays without learning. Each learner implements both in full (DQN: agent/dqn_trainer.py; PQN:
agent/pqn_trainer.py and agent/pqn_live.py); ``agent.learners`` says which is which. What a
learner does not have is a field saying so: PQN's ``replay`` is None.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol

import gymnasium as gym
import numpy as np
import torch

from agent.config import AgentConfig
from agent.learner import Learner
from agent.replay import ReplayBuffer
from game.registry import GameSpec

RECENT_EPISODES = 100  # window of the "mean return" statistic


# -- schedules and small rules, each written once --------------------------------------------


def linear_epsilon(step: int, start: float, end: float, decay_steps: int) -> float:
    """Epsilon falls linearly from ``start`` to ``end`` over ``decay_steps``, then stays."""
    if decay_steps <= 0 or step >= decay_steps:
        return end
    return start + (end - start) * step / decay_steps


def scheduled_epsilon(config: AgentConfig, global_step: int) -> float:
    """The config's exploration rate after ``global_step`` env steps."""
    c = config
    return linear_epsilon(global_step, c.epsilon_start, c.epsilon_end, c.epsilon_decay_steps)


def stored_reward(config: AgentConfig, reward: np.ndarray | float) -> np.ndarray | float:
    """The reward a learner learns from: clipped to [-1, 1] where the config says (Atari:
    one scale for every game's points), else as the game gave it."""
    return np.clip(reward, -1.0, 1.0) if config.clip_rewards else reward


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


# -- what a step reports ---------------------------------------------------------------------


@dataclass(frozen=True)
class ShownStep:
    """What the game on screen did in a live trainer's step."""

    action: int
    q_values: tuple[float, ...]
    greedy: bool
    reward: float
    terminated: bool
    truncated: bool
    episode_return: float | None = None  # the game's score, when this step ended it


@dataclass(frozen=True)
class StepReport:
    """What one step of a trainer did: its counters after it, the whole games it ended (their
    unclipped scores and agent steps), the loss of its last update, if it made one. ``shown``
    is the game on screen's step; None from a trainer that shows none (the command line's)."""

    global_step: int
    episode: int
    epsilon: float
    loss: float | None
    episode_returns: tuple[float, ...] = ()
    episode_lengths: tuple[int, ...] = ()
    shown: ShownStep | None = None
    env_steps: int = 1  # env steps this step took, every game together


# -- the interface ---------------------------------------------------------------------------


class Trainer(Protocol):
    """A learner learning from a game; see the module docstring."""

    game: GameSpec
    config: AgentConfig
    seed: int
    global_step: int  # env steps that learned: the schedules' clock
    episode: int  # whole games finished
    recent_returns: deque[float]
    last_loss: float | None

    @property
    def learner(self) -> Learner: ...

    @property
    def replay(self) -> ReplayBuffer | None:
        """The replay memory; None for a learner that keeps none (PQN)."""
        ...

    @property
    def scheduled_epsilon(self) -> float: ...

    def step(self) -> StepReport:
        """One step of learning (one env step, or one whole iteration of many envs)."""
        ...

    def evaluate(self, episodes: int, seed: int, epsilon: float = 0.0) -> np.ndarray:
        """Returns of ``episodes`` whole games in evaluation envs; training is left alone."""
        ...

    def continue_counting(self, counters: dict[str, int]) -> None:
        """Take up a checkpoint's step and episode counters, so its schedules go on."""
        ...

    def state_dict(self) -> dict:
        """What a run needs, beyond the learner and the replay memory, to go on exactly."""
        ...

    def load_state_dict(self, state: dict, replay_kept: bool) -> None: ...

    def close(self) -> None: ...


class LiveTrainer(Trainer, Protocol):
    """A trainer the window drives: one game on screen, a person's actions, play without
    learning. ``demo_steps`` counts the person's steps it has learned from."""

    env_steps: int  # steps of the game on screen
    demo_steps: int

    @property
    def obs(self) -> np.ndarray: ...

    @property
    def episode_return(self) -> float: ...

    def step(
        self,
        *,
        learn: bool = True,
        epsilon: float | None = None,
        action: int | None = None,
        demo: bool = False,
    ) -> StepReport:
        """One step of the game on screen (and of the others, when learning). ``epsilon``
        overrides the schedule; ``action`` (a person's) overrides the agent's choice, whose
        Q-values are still reported; ``demo`` marks the step as the person's to learn from."""
        ...

    def frame(self) -> np.ndarray:
        """The game on screen as a person sees it, RGB."""
        ...

    def restart_episode(self) -> None:
        """Abandon the running game(s) and what was to be learned from them."""
        ...


# -- what every trainer counts ---------------------------------------------------------------


class Counting:
    """Counters, random generators and the state that lets a stopped run go on."""

    config: AgentConfig
    global_step: int
    episode: int
    rng: np.random.Generator
    recent_returns: deque[float]

    def _start_counting(self, seed: int, device: torch.device) -> None:
        self.seed = seed
        self.device = device
        self.rng = np.random.default_rng(seed)
        torch.manual_seed(seed)
        self.global_step = 0
        self.episode = 0
        self.recent_returns = deque(maxlen=RECENT_EPISODES)
        self.last_loss: float | None = None

    @property
    def scheduled_epsilon(self) -> float:
        return scheduled_epsilon(self.config, self.global_step)

    def continue_counting(self, counters: dict[str, int]) -> None:
        self.global_step = int(counters.get("global_step", self.global_step))
        self.episode = int(counters.get("episode", self.episode))

    def state_dict(self) -> dict:
        """The random generators (the GPU's too, on a GPU) and the recent returns; trainers
        that can also keep their games mid-play add them."""
        state = {
            "rng": self.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state().numpy(),
            "recent_returns": list(self.recent_returns),
        }
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device).numpy()
        return state

    def load_state_dict(self, state: dict, replay_kept: bool) -> None:
        """Go on from ``state_dict()``'s state; ``replay_kept`` says whether the replay memory
        saved with it was loaded too."""
        self.rng.bit_generator.state = state["rng"]
        torch.set_rng_state(torch.as_tensor(np.asarray(state["torch_rng"], dtype=np.uint8)))
        if "cuda_rng" in state and self.device.type == "cuda":
            cuda_state = torch.as_tensor(np.asarray(state["cuda_rng"], dtype=np.uint8))
            torch.cuda.set_rng_state(cuda_state, self.device)
        self.recent_returns.extend(float(r) for r in state["recent_returns"])
