"""The window's training sessions: one per game, made on first use and kept until the end."""

from __future__ import annotations

from typing import Any

import torch

from agent.config import load_config, overrides_for
from agent.live.channels import Mode
from agent.live.human_play import TAKEOVER_IDLE_S
from agent.live.session import TrainingSession
from game.registry import GAMES

# The window shares the machine with the user's desktop: 1M Breakout frames would take 6.6 GiB,
# so a DQN agent trained in the window keeps 250k (1.7 GiB, filled lazily). The command line
# keeps the full size. (PQN, Breakout's default learner, keeps no replay memory.)
APP_OVERRIDES: dict[str, dict[str, Any]] = {"breakout": {"dqn.buffer_size": 250_000}}


class SessionPool:
    """Makes each game's ``TrainingSession`` when first asked for and keeps it running."""

    def __init__(
        self,
        device: torch.device,
        overrides: dict[str, dict[str, Any]] | None = None,
        seed: int = 0,
        takeover_idle_s: float = TAKEOVER_IDLE_S,
    ) -> None:
        self.device = device
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
            ).start()
            self.sessions[key] = session
        return session

    def close_all(self, timeout: float = 1.5) -> None:
        """Stop every session: all are asked at once, then each is waited for briefly."""
        for session in self.sessions.values():
            session.send_shutdown()
        for session in self.sessions.values():
            session.close(timeout / max(len(self.sessions), 1))
