"""The window's training sessions: one per game, made on first use and kept until the end."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from agent.config import load_config, overrides_for
from agent.live.agents import MINE
from agent.live.channels import KeepUnsaved, Mode
from agent.live.human_play import TAKEOVER_IDLE_S
from agent.live.session import TrainingSession
from game.registry import GAMES

# The window shares the machine with the user's desktop: 1M Breakout frames would take 6.6 GiB,
# so a DQN agent trained in the window keeps 250k (1.7 GiB, filled lazily). The command line
# keeps the full size. (PQN, Breakout's default learner, keeps no replay memory.)
APP_OVERRIDES: dict[str, dict[str, Any]] = {"breakout": {"dqn.buffer_size": 250_000}}
KEEP_WAIT_S = 10.0  # seconds the sessions may take to keep unsaved training on a SIGTERM


class SessionPool:
    """Makes each game's ``TrainingSession`` when first asked for and keeps it running;
    ``keep_dir`` is where a session keeps an agent's unsaved training before replacing it (the
    window's ``saves/mine/``)."""

    def __init__(
        self,
        device: torch.device,
        overrides: dict[str, dict[str, Any]] | None = None,
        seed: int = 0,
        takeover_idle_s: float = TAKEOVER_IDLE_S,
        keep_dir: Path = MINE,
    ) -> None:
        self.device = device
        self.keep_dir = Path(keep_dir)
        self.takeover_idle_s = takeover_idle_s
        self.overrides = {**APP_OVERRIDES, **(overrides or {})}
        self.seed = seed
        self.sessions: dict[str, TrainingSession] = {}

    def get(self, key: str, mode: Mode = Mode.AGENT, paused: bool = False) -> TrainingSession:
        """The session for game ``key``, started in ``mode`` if it is new."""
        session = self.sessions.get(key)
        if session is None:
            overrides = self.overrides.get(key, {})
            config = load_config(key)
            session = TrainingSession(
                GAMES[key],
                load_config(key, overrides=overrides_for(config.algorithm, overrides)),
                self.device,
                seed=self.seed,
                mode=mode,
                paused=paused,
                takeover_idle_s=self.takeover_idle_s,
                # A DQN agent loaded where the game trains PQN (Breakout) trains on with these.
                dqn_config=load_config(
                    key, overrides=overrides_for("dqn", overrides), algorithm="dqn"
                ),
                keep_dir=self.keep_dir,
            ).start()
            self.sessions[key] = session
        return session

    def keep_all_and_close(self, timeout: float = KEEP_WAIT_S) -> list[str]:
        """Quitting without a person to ask (SIGTERM): every session keeps its agent's unsaved
        training in ``keep_dir`` and stops, all within ``timeout`` seconds. Returns what the
        sessions said of it (where each agent went), or why one did not answer in time."""
        serials = {key: s.snapshot().message.serial for key, s in self.sessions.items()}
        for session in self.sessions.values():
            session.send(KeepUnsaved())
            session.send_shutdown()
        deadline = time.monotonic() + timeout
        said = []
        for key, session in self.sessions.items():
            session.close(max(0.0, deadline - time.monotonic()))
            message = session.snapshot().message
            if session.alive:
                said.append(f"{key}: still busy, its unsaved training may be lost")
            elif message.serial != serials[key] and "kept" in message.text:
                said.append(message.text)
        return said

    def close_all(self, timeout: float = 1.5) -> None:
        """Stop every session: all are asked at once, then each is waited for briefly."""
        for session in self.sessions.values():
            session.send_shutdown()
        for session in self.sessions.values():
            session.close(timeout / max(len(self.sessions), 1))
