"""What a session shows the window besides its counters: the last move, the learning curve, and
copies of the latest frame, observation, versus match and saliency map.

The session's thread fills a ``LiveView`` as it plays and reads it into each ``Snapshot``.
Everything handed out is a copy or immutable, so the window can keep it as long as it likes.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import deque

import numpy as np

from agent.live.channels import Mode
from agent.live.play import Move, Play
from agent.live.versus import VersusState

CURVE_POINTS = 10_000  # episode returns kept for the learning curve
SALIENCY_INTERVAL_S = 0.2  # seconds between saliency maps while the overlay is on


class LiveView:
    """The session's picture of the game on screen; see the module docstring."""

    def __init__(self) -> None:
        self.last: Move | None = None
        self.loss: float | None = None
        self._returns: deque[float] = deque(maxlen=CURVE_POINTS)
        self.returns: tuple[float, ...] = ()
        self.frame: np.ndarray | None = None
        self.frame_serial = 0
        self.obs: np.ndarray | None = None
        self.versus: VersusState | None = None
        self.saliency_on = False
        self.saliency: np.ndarray | None = None
        self.saliency_action: int | None = None
        self._saliency_at = -math.inf

    def record(self, move: Move) -> None:
        self.last = move
        if move.loss is not None:
            self.loss = move.loss
        if move.episode_return is not None:
            self._returns.append(move.episode_return)
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
            self.saliency, self.saliency_action = None, None

    def capture(self, play: Play | None, mode: Mode, paused: bool) -> None:
        """Copy the frame on screen and what goes with it. The saliency map is computed here,
        on the session's thread, only while the overlay is on and no more often than every
        ``SALIENCY_INTERVAL_S`` (every step while paused: steps come one at a time then)."""
        self.frame_serial += 1
        if play is None:
            return
        self.frame = _safely(lambda: _rgb_copy(play.frame(mode)))
        obs = play.obs(mode)
        self.obs = None if obs is None else np.array(obs, copy=True)
        self.versus = None
        if mode is Mode.VERSUS and play.match is not None:
            match = play.match
            self.versus = _safely(lambda: match.state(_rgb_copy(play.human_frame())))
        now = time.monotonic()
        if self.saliency_on and (paused or now - self._saliency_at >= SALIENCY_INTERVAL_S):
            self._saliency_at = now
            found = _safely(lambda: play.saliency(mode))
            self.saliency, self.saliency_action = found if found else (None, None)


def _safely(make):
    """``make()``, or None when it fails: a picture we cannot draw is never worth a crash."""
    with contextlib.suppress(Exception):
        return make()
    return None


def _rgb_copy(frame: np.ndarray | None) -> np.ndarray | None:
    return None if frame is None else np.array(frame[..., :3], dtype=np.uint8, copy=True)
