"""Which agent a session plays, and its files: the first one (an early ``Load`` or a new one),
a file loaded, a new agent, saves, the unsaved training kept in saves/mine/ before an agent is
replaced, and its trainer, built only when something trains.

The session's thread owns the seat. It talks back through two callbacks, the message line and
what takes a while (``Snapshot.busy``), so loading and building show while they happen.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import torch

from agent.checkpoint import CheckpointError
from agent.config import AgentConfig
from agent.live.agents import MINE, LiveAgent
from agent.live.channels import Command, Load
from agent.messages import first_line
from game.registry import GameSpec


class AgentSeat:
    """The session's agent; ``config`` makes new agents, ``configs`` (by learner) are what a
    loaded agent trains on with. ``say(text, error)`` and ``busy(text)`` report."""

    def __init__(
        self,
        game: GameSpec,
        config: AgentConfig,
        configs: dict[str, AgentConfig],
        device: torch.device,
        seed: int,
        say: Callable[[str, bool], None],
        busy: Callable[[str], None],
    ) -> None:
        self.game, self.config, self.configs = game, config, configs
        self.device, self.seed = device, seed
        self._say, self._busy = say, busy
        self.keep_dir = MINE  # where unsaved training is kept
        self.agent: LiveAgent | None = None
        self.demo_fraction: float | None = None  # the person's choice, for every DQN agent

    @property
    def current(self) -> LiveAgent:
        assert self.agent is not None, "the session has not started"
        return self.agent

    # -- agents made or loaded ----------------------------------------------------------------

    def first(self, early: list[Command]) -> LiveAgent:
        """The agent a fresh session plays: the one an early ``Load(if_fresh)`` names (taken
        out of ``early``), read straight away, else a new one. Building a new network first
        only to replace it would cost Breakout a second."""
        for command in early:
            if isinstance(command, Load) and command.if_fresh:
                early.remove(command)
                with contextlib.suppress(CheckpointError):
                    path, label = Path(command.path), command.label
                    self.agent = self._read(path, label)
                    self._say(loaded_note(self.agent, path, label), False)
                    return self.agent
                early.insert(0, command)  # handled as usual: its error becomes the message
                break
        self.agent = self.new_agent()
        return self.agent

    def load(self, path: Path, if_fresh: bool, label: str) -> LiveAgent | None:
        """The agent in ``path``, or None: an ``if_fresh`` offer declined (the agent has
        learned, or came from a file), or a file that cannot be used (said)."""
        current = self.current
        if if_fresh and (current.updates > 0 or current.origin.name):
            return None
        self._busy(f"loading {label or path.name}")
        try:
            return self._read(path, label)
        except CheckpointError as error:
            self._say(str(error), True)
            return None
        finally:
            self._busy("")

    def _read(self, path: Path, label: str) -> LiveAgent:
        configs, device = self.configs, self.device
        return LiveAgent.load(self.game, path, configs, device, self.seed, label=label)

    def new_agent(self) -> LiveAgent:
        """An untrained agent of the game's own configuration."""
        return LiveAgent.new(self.game, self.config, self.device, self.seed)

    def take(self, agent: LiveAgent) -> str | None:
        """Seat ``agent`` once the current one's unsaved training is kept; returns what to say
        of that ("" for nothing), or None when it could not be kept: the current one stays.
        The old trainer is closed first, as two replay memories may not fit."""
        kept = self.keep_unsaved()
        if kept is None:
            agent.close()
            return None
        old, self.agent = self.agent, agent
        self._apply_demo_fraction(agent)
        if old is not None:
            with contextlib.suppress(Exception):  # closing is best effort
                old.close()
        return kept

    # -- files --------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        try:
            saved = self.current.save(path)
        except CheckpointError as error:
            self._say(str(error), True)
            return
        self._say(f"saved {short(saved)}", False)

    def keep_unsaved(self) -> str | None:
        """Keep the agent's unsaved training in ``keep_dir``. Returns what to tell the person
        ("" when there was nothing to keep), or None when it could not be kept (said)."""
        if self.agent is None:
            return ""
        try:
            kept = self.agent.keep_unsaved(self.keep_dir)
        except CheckpointError as error:
            self._say(f"the agent stays: its unsaved training could not be kept ({error})", True)
            return None
        return "" if kept is None else f"your unsaved training is kept in {short(kept)}"

    # -- training -----------------------------------------------------------------------------

    def trainer_ready(self, purpose: str) -> str:
        """Build the agent's trainer if it has none yet, busy meanwhile; returns "" when it is
        ready, else why it cannot be built (said too)."""
        agent = self.current
        if agent.trainer_built is not None:
            return ""
        self._busy(f"preparing {purpose}: building the {agent.config.algorithm.upper()} trainer")
        try:
            agent.trainer()
        except Exception as error:  # noqa: BLE001 - no memory, the emulator: one line
            problem = f"cannot start {purpose}: {first_line(error)}"
            self._say(problem, True)
            return problem
        finally:
            self._busy("")
        return ""

    def set_demo_fraction(self, fraction: float) -> None:
        algorithm = self.current.config.algorithm
        if algorithm != "dqn":
            self._say(
                f"{algorithm.upper()} keeps no replay memory to draw demos from: "
                "it learns your steps in its rollouts as you play them",
                True,
            )
            return
        self.demo_fraction = fraction
        self._apply_demo_fraction(self.current)

    def _apply_demo_fraction(self, agent: LiveAgent) -> None:
        if self.demo_fraction is None or agent.config.algorithm != "dqn":
            return
        agent.config = agent.config.with_settings(demo_fraction=self.demo_fraction)
        trainer = agent.trainer_built
        if trainer is not None:
            trainer.config = agent.config  # read at each training round

    def close(self) -> None:
        if self.agent is not None:
            self.agent.close()


def loaded_note(agent: LiveAgent, path: Path, label: str) -> str:
    return f"loaded {label or short(path)} (trained {agent.global_step:,} steps)"


def short(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
