"""A person at the keys: the action they hold, a takeover of the agent's game, their own game.

All three are plain objects that the session's thread owns; time comes in as an argument, so
tests can drive them without sleeping.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from game.registry import rendered

TAKEOVER_IDLE_S = 3.0  # seconds without a game key before a takeover hands control back


class HumanInput:
    """The game key a person holds, and a tap that must not be lost.

    Steps come a few times a second (fruit catch: 5), so a key pressed and let go between two
    steps would never act; the last press is kept until one step has used it.
    """

    def __init__(self, idle_action: int | None) -> None:
        self.idle_action = idle_action  # None: repeat the last action (CartPole's push)
        self.held: int | None = None
        self._tap: int | None = None
        self._last = idle_action if idle_action is not None else 0

    def hold(self, action: int | None) -> None:
        self.held = action
        if action is not None:
            self._tap = action

    def clear(self) -> None:
        self.held = None
        self._tap = None

    def take(self) -> int:
        """The action for the next step: the held key, else an unused tap, else idling."""
        if self.held is not None:
            action = self.held
        elif self._tap is not None:
            action = self._tap
        elif self.idle_action is not None:
            action = self.idle_action
        else:
            action = self._last
        self._tap = None
        self._last = action
        return action


class Takeover:
    """Who controls the agent's game: a game key hands it to the person at once; after
    ``idle_s`` seconds with no key held, or on ``hand_back()``, the agent has it again."""

    def __init__(self, idle_s: float = TAKEOVER_IDLE_S) -> None:
        if idle_s < 0:
            raise ValueError(f"idle_s must not be negative, got {idle_s}")
        self.idle_s = idle_s
        self._active = False
        self._held = False
        self._released_at = 0.0

    def hold(self, action: int | None, now: float) -> None:
        """A key went down (``action``) or the last one came up (``None``) at ``now``."""
        if action is not None:
            self._active = self._held = True
        elif self._held:
            self._held = False
            self._released_at = now

    def hand_back(self) -> None:
        self._active = self._held = False

    def active(self, now: float) -> bool:
        if self._active and not self._held and now - self._released_at >= self.idle_s:
            self._active = False
        return self._active

    def seconds_left(self, now: float) -> float | None:
        """Seconds until control goes back (the full idle time while a key is held)."""
        if not self.active(now):
            return None
        return self.idle_s if self._held else max(0.0, self.idle_s - (now - self._released_at))


class HumanGame:
    """The person's own game in Human mode: its env, observation, score and episodes.

    With ``countdown_steps``, each episode after the first begins only after that many steps
    have passed with the game standing still, so a person can get ready again instead of
    meeting an instant restart; the env is reset at once, so the screen shows the start they
    will play from.
    """

    def __init__(self, env: gym.Env, seed: int, countdown_steps: int = 0) -> None:
        if countdown_steps < 0:
            raise ValueError(f"countdown_steps must not be negative, got {countdown_steps}")
        self.env = env
        self.obs, _ = env.reset(seed=seed)
        self.score = 0.0
        self.episode = 0
        self.last_return: float | None = None
        self.countdown_steps = countdown_steps
        self.steps_to_start = 0  # the first episode starts when the person chose to play

    def agent_obs(self) -> np.ndarray:
        """The person's game as the agent was trained to see it (Breakout: frames 4 apart,
        though the person plays every frame), for the agent's opinion of it."""
        view = getattr(self.env, "agent_view", None)
        return view() if view is not None else self.obs

    @property
    def counting_down(self) -> bool:
        return self.steps_to_start > 0

    def wait(self) -> None:
        """One step of the countdown passes; the game stands still."""
        self.steps_to_start = max(0, self.steps_to_start - 1)

    def step(self, action: int) -> tuple[float, bool]:
        """Play ``action``; returns the reward and whether an episode ended (and restarted)."""
        obs, reward, terminated, truncated, _ = self.env.step(action)
        self.score += float(reward)
        ended = bool(terminated or truncated)
        if ended:
            self.last_return = self.score
            self.episode += 1
            self.score = 0.0
            self.steps_to_start = self.countdown_steps
            obs, _ = self.env.reset()
        self.obs = obs
        return float(reward), ended

    def frame(self) -> np.ndarray | None:
        return rendered(self.env)

    def close(self) -> None:
        self.env.close()
