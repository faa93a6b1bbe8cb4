"""What a session shows the window besides its counters: the last decision, the learning curve,
the picture (copies of the latest frame, observation and saliency map) and the versus match.

The session's thread fills a ``LiveView`` as it plays and hands its frozen parts (``decision``,
``picture``) to each ``Snapshot``. Everything handed out is a copy or immutable, so the window
can keep it as long as it likes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections import deque

import numpy as np

from agent.live.channels import Decision, Mode, Picture
from agent.live.play import Move, Play
from agent.live.versus import VersusState

CURVE_POINTS = 10_000  # episode returns kept for the learning curve
SALIENCY_INTERVAL_S = 0.2  # seconds between saliency maps while the overlay is on


class LiveView:
    """The session's picture of the game on screen; see the module docstring."""

    def __init__(self) -> None:
        self.decision = Decision()
        self.loss: float | None = None
        self._returns: deque[float] = deque(maxlen=CURVE_POINTS)
        self.returns: tuple[float, ...] = ()
        self.picture = Picture()
        self.versus: VersusState | None = None
        self.saliency_on = False
        self._saliency_at = -math.inf

    def record(self, move: Move) -> None:
        self.decision = Decision(
            action=move.action,
            agent_action=move.agent_action,
            q_values=move.q_values,
            greedy=move.greedy,
            reward=move.reward,
        )
        if move.loss is not None:
            self.loss = move.loss
        if move.agent_returns:
            self._returns.extend(move.agent_returns)
            self.returns = tuple(self._returns)

    def forget_progress(self) -> None:
        """A checkpoint was loaded: its curve and loss are not this agent's history."""
        self._returns.clear()
        self.returns = ()
        self.loss = None

    def show_saliency(self, on: bool) -> None:
        self.saliency_on = on
        self._saliency_at = -math.inf
        if not on:
            self.picture = dataclasses.replace(self.picture, saliency=None, saliency_action=None)

    def capture(self, play: Play | None, mode: Mode, paused: bool) -> None:
        """Copy the frame on screen and what goes with it. The saliency map is computed here,
        on the session's thread, only while the overlay is on and no more often than every
        ``SALIENCY_INTERVAL_S`` (every step while paused: steps come one at a time then)."""
        serial = self.picture.serial + 1
        if play is None:
            self.picture = dataclasses.replace(self.picture, serial=serial)
            return
        frame = _safely(lambda: _rgb_copy(play.frame(mode)))
        obs = play.obs(mode)
        self.versus = None
        if mode is Mode.VERSUS and play.match is not None:
            self.versus = _safely(play.versus_state)
        saliency, saliency_action = self.picture.saliency, self.picture.saliency_action
        now = time.monotonic()
        if self.saliency_on and (paused or now - self._saliency_at >= SALIENCY_INTERVAL_S):
            self._saliency_at = now
            found = _safely(lambda: play.saliency(mode))
            saliency, saliency_action = found if found else (None, None)
        self.picture = Picture(
            frame=frame,
            serial=serial,
            obs=None if obs is None else np.array(obs, copy=True),
            saliency=saliency,
            saliency_action=saliency_action,
        )


def _safely(make):
    """``make()``, or None when it fails: a picture we cannot draw is never worth a crash."""
    with contextlib.suppress(Exception):
        return make()
    return None


def _rgb_copy(frame: np.ndarray | None) -> np.ndarray | None:
    return None if frame is None else np.array(frame[..., :3], dtype=np.uint8, copy=True)
