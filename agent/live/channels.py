"""What travels between the window and a training session: commands one way, snapshots back.

Both are small frozen dataclasses, so neither side can change what the other holds: two narrow
channels, one way each (docs/architecture.md). The session lives in ``agent.live.session``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from agent.live.versus import VersusState

WATCH = 1.0  # speed multiplier: the game's natural pace
FAST = math.inf  # speed multiplier: flat out


class Mode(StrEnum):
    """Who plays: a person, the agent without learning, the agent while it learns, or the
    person against the agent, side by side from the same seed."""

    HUMAN = "human"
    AGENT = "agent"
    TRAIN = "train"
    VERSUS = "versus"


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
    """The action a person holds down; ``None``: no key held. In Agent and Train mode a held
    action takes over the agent's game (see ``HandBack``)."""

    action: int | None


@dataclass(frozen=True)
class HandBack:
    """End a takeover now: the agent plays again from the next step."""


@dataclass(frozen=True)
class SetTeach:
    """Human mode plays the agent's own game and stores the person's moves as demonstrations."""

    on: bool


@dataclass(frozen=True)
class SetDemoFraction:
    """Share of each training batch drawn from demonstrations while any are stored (0 to 1)."""

    value: float


@dataclass(frozen=True)
class SetSaliency:
    """Compute the saliency map of the agent's choice a few times a second (or stop)."""

    on: bool


@dataclass(frozen=True)
class NextRound:
    """Versus: start the round that is ready, or the next one once both games have ended."""


@dataclass(frozen=True)
class Save:
    path: Path


@dataclass(frozen=True)
class Load:
    """Play on with the agent in ``path``; ``if_fresh`` only in place of an agent that has not
    learned yet (how the shipped agent is offered without replacing live training); ``label``
    is the name the load list gives it. An agent that learned since its last save is first
    kept in saves/mine/."""

    path: Path
    if_fresh: bool = False
    label: str = ""


@dataclass(frozen=True)
class SetChallenger:
    """Versus's left side: a person (``path`` None) or the agent in ``path`` (any file the load
    list offers), named ``label``, against the session's agent."""

    path: Path | None
    label: str = ""


@dataclass(frozen=True)
class KeepUnsaved:
    """Save the agent into saves/mine/ if it learned since it was last saved (before a quit
    the person could not be asked about: SIGTERM)."""


@dataclass(frozen=True)
class NewAgent:
    """Put an untrained agent in the place of the current one (a fresh network, optimizer and
    replay memory), to train from scratch; the shipped agent comes back with ``Load``."""


@dataclass(frozen=True)
class Shutdown:
    pass


Command = (
    SetMode
    | SetEpsilon
    | Pause
    | Resume
    | Step
    | SetSpeed
    | HumanAction
    | HandBack
    | SetTeach
    | SetDemoFraction
    | SetSaliency
    | NextRound
    | Save
    | Load
    | SetChallenger
    | KeepUnsaved
    | NewAgent
    | Shutdown
)


# Snapshots, session -> UI: one frozen whole made of small frozen parts, one part per job.


@dataclass(frozen=True)
class Training:
    """The agent playing and how far it has learned."""

    global_step: int = 0  # learning steps: the epsilon schedule's clock
    env_steps: int = 0  # every step the agent's game has taken, learning or not
    episode: int = 0
    updates: int = 0
    epsilon: float = 0.0  # in use now (0 in Human mode)
    scheduled_epsilon: float = 1.0
    epsilon_overridden: bool = False
    loss: float | None = None
    steps_per_second: float = 0.0  # env steps a second, every game of the agent's together
    learner: str = "dqn"  # the algorithm that trains the agent
    trainer_ready: bool = False  # False until something trains: the agent only plays
    has_replay: bool = True  # False for a learner without a replay memory (PQN)
    replay_size: int = 0
    replay_capacity: int = 0
    demo_count: int = 0  # a person's steps learned from: in the replay memory, or in rollouts
    demo_fraction: float = 0.0
    demo_fraction_applies: bool = True  # False: the learner keeps no memory to draw batches from
    device: str = ""
    agent_source: str = ""  # which agent plays: a checkpoint's name or how it was trained
    unsaved_updates: int = 0  # learner updates since the agent was last saved, loaded or made


@dataclass(frozen=True)
class Scores:
    """Returns: the episode under way, the agent's recent ones, the person's last."""

    episode_return: float = 0.0  # the game on screen (the person's own game in Human mode)
    last_return: float | None = None
    mean_return: float | None = None
    returns: tuple[float, ...] = ()  # the learning curve: the agent's own games
    human_episode: int = 0
    human_last_return: float | None = None
    # Games of the agent's that a person took part in (a takeover, Teach): kept apart from
    # the agent's record.
    assisted_games: int = 0
    assisted_last_return: float | None = None


@dataclass(frozen=True)
class Decision:
    """The latest step: what was done and what the agent made of it. In Human mode (and
    during a takeover) ``q_values`` and ``agent_action`` are what the agent would do in the
    person's game, and ``greedy`` says whether the person did that."""

    action: int | None = None
    agent_action: int | None = None
    q_values: tuple[float, ...] = ()
    greedy: bool = True
    reward: float = 0.0


@dataclass(frozen=True)
class Control:
    """Who acts in the game on screen, and how a person is taking part."""

    controller: str = "agent"  # "agent" or "human"
    hand_back_in: float | None = None  # seconds until a takeover ends; None: no takeover
    teach: bool = False


@dataclass(frozen=True)
class Picture:
    """What to draw. ``serial`` grows by one with each new ``frame``, so a reader can tell new
    frames from old. ``obs`` is what the network receives now (a copy); ``saliency`` is
    |dQ/d obs| of the greedy action ``saliency_action`` on a recent ``obs``, scaled to [0, 1],
    while the overlay is on."""

    frame: np.ndarray | None = None
    serial: int = 0
    obs: np.ndarray | None = None
    saliency: np.ndarray | None = None
    saliency_action: int | None = None


@dataclass(frozen=True)
class Message:
    """The session's one-line message; ``serial`` grows by one with each new one."""

    text: str = ""
    serial: int = 0
    is_error: bool = False


@dataclass(frozen=True)
class Snapshot:
    """What the session looks like after its latest step; session -> UI, never mutated.
    In Versus mode ``picture`` and the Q-values are the agent's side; ``versus`` holds the rest
    of the match."""

    game: str
    ready: bool
    mode: Mode
    paused: bool
    speed: float
    pace_hz: float  # new frames a second at this mode and speed
    training: Training = Training()
    scores: Scores = Scores()
    decision: Decision = Decision()
    control: Control = Control()
    picture: Picture = Picture()
    message: Message = Message()
    versus: VersusState | None = None
    busy: str = ""  # what the session is doing that takes a while ("loading ..."); "" when idle
