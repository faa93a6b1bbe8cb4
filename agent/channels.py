"""What travels between the window and a training session: commands one way, snapshots back.

Both are small frozen dataclasses, so neither side can change what the other holds (see
STYLE.md, "two narrow channels, one way each"). The session lives in ``agent.session``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

WATCH = 1.0  # speed multiplier: the game's natural pace
FAST = math.inf  # speed multiplier: flat out


class Mode(StrEnum):
    """Who plays: a person, the agent without learning, or the agent while it learns."""

    HUMAN = "human"
    AGENT = "agent"
    TRAIN = "train"


# Commands, UI -> session. Each is small, frozen and handled between two env steps.


@dataclass(frozen=True)
class SetMode:
    mode: Mode


@dataclass(frozen=True)
class SetEpsilon:
    """``None`` hands epsilon back to the schedule (Train) or to greedy play (Agent)."""

    value: float | None


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class Step:
    """One step of the current mode, while paused."""


@dataclass(frozen=True)
class SetSpeed:
    """A multiplier of the game's natural pace: ``WATCH`` (1.0), 2.0, ... or ``FAST``; the
    strings ``"watch"`` and ``"fast"`` are accepted too."""

    speed: float | str

    def __post_init__(self) -> None:
        named = {"watch": WATCH, "fast": FAST}
        speed = named.get(self.speed, self.speed) if isinstance(self.speed, str) else self.speed
        if not isinstance(speed, (int, float)) or not speed > 0:
            raise ValueError(f"speed must be 'watch', 'fast' or a positive number, not {speed!r}")
        object.__setattr__(self, "speed", float(speed))


@dataclass(frozen=True)
class HumanAction:
    """The action a person holds down; ``None``: no key held."""

    action: int | None


@dataclass(frozen=True)
class Save:
    path: Path


@dataclass(frozen=True)
class Load:
    """Load weights and counters; ``if_fresh`` only into an agent that has not learned yet
    (how the shipped checkpoint is offered without overwriting live training)."""

    path: Path
    if_fresh: bool = False


@dataclass(frozen=True)
class Shutdown:
    pass


Command = (
    SetMode | SetEpsilon | Pause | Resume | Step | SetSpeed | HumanAction | Save | Load | Shutdown
)


@dataclass(frozen=True)
class Snapshot:
    """What the session looks like after its latest step; session -> UI, never mutated.

    ``frame_serial`` grows by one each time a new ``frame`` is published, so a reader can tell
    new frames from old. ``message_serial`` does the same for ``message``. In Human mode
    ``q_values`` and ``agent_action`` are what the agent would do in the person's game, and
    ``greedy`` says whether the person did that.
    """

    game: str
    ready: bool
    mode: Mode
    paused: bool
    speed: float
    pace_hz: float  # new frames a second at this mode and speed
    global_step: int  # learning steps: the epsilon schedule's clock
    env_steps: int  # every step the agent's game has taken, learning or not
    episode: int
    updates: int
    epsilon: float
    scheduled_epsilon: float
    epsilon_overridden: bool
    action: int | None
    agent_action: int | None
    q_values: tuple[float, ...]
    greedy: bool
    reward: float
    episode_return: float
    last_return: float | None
    mean_return: float | None
    human_episode: int
    human_last_return: float | None
    loss: float | None
    steps_per_second: float
    replay_size: int
    replay_capacity: int
    device: str
    frame: np.ndarray | None
    frame_serial: int
    returns: tuple[float, ...]
    message: str
    message_serial: int
