"""What a game's header shows beyond one snapshot: each side's catches and misses since the game
was opened, the person's best episode, and the countdown before their next one.

A snapshot holds only the latest state, so a ``Scoreboard`` watches the stream of them:
- the person's episodes end seconds apart, so each one is seen, with its return;
- the agent's may end thousands a second (fast training), but each one's return is in the
  learning curve's history, so the new ones are the history's newest entries;
- the countdown between the person's episodes is the game's own length
  (``GameSpec.human_countdown_s``); it runs on the window's clock from when their next episode
  is seen standing at its start, and stops with pause. CartPole scores a point every step, so
  after a finished episode a score of 0 means the next one has not begun.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from agent.live.channels import Mode, Snapshot
from game.registry import GameSpec
from ui.theme import format_number


@dataclass
class Outcomes:
    """Finished episodes by how they went: fruit catch's catches (return above 0) and misses."""

    caught: int = 0
    missed: int = 0

    def add(self, episode_return: float) -> None:
        self.caught += episode_return > 0
        self.missed += episode_return < 0

    @property
    def episodes(self) -> int:
        return self.caught + self.missed


class Scoreboard:
    """One game's running records, kept from its snapshots; see the module docstring."""

    def __init__(self, game: GameSpec) -> None:
        self.game = game
        self.human = Outcomes()
        self.agent = Outcomes()
        self.human_best: float | None = None  # the best return of the person's episodes
        self._human_episode: int | None = None
        self._agent_episode: int | None = None
        self._waited: float | None = None  # seconds of the current countdown seen; None: none

    def observe(self, snapshot: Snapshot, dt: float) -> None:
        """Take in the latest snapshot, ``dt`` seconds after the last one looked at."""
        if not snapshot.ready or snapshot.game != self.game.key:
            return
        self._count_human(snapshot)
        self._count_agent(snapshot)
        if self._waiting(snapshot):
            self._waited = (self._waited or 0.0) + (0.0 if snapshot.paused else dt)
        else:
            self._waited = None

    def _count_human(self, snapshot: Snapshot) -> None:
        seen, self._human_episode = self._human_episode, snapshot.scores.human_episode
        if (
            seen is None
            or snapshot.scores.human_episode <= seen
            or snapshot.scores.human_last_return is None
        ):
            return
        last = snapshot.scores.human_last_return
        self.human.add(last)
        self.human_best = last if self.human_best is None else max(self.human_best, last)

    def _count_agent(self, snapshot: Snapshot) -> None:
        seen, self._agent_episode = self._agent_episode, snapshot.training.episode
        new = snapshot.training.episode - (seen if seen is not None else 0)
        history = snapshot.scores.returns
        if new == 0:
            return
        # A loaded checkpoint moves the counter to its own and starts the history again, so
        # then the whole (new) history is what happened since the last look.
        fresh = history[-new:] if 0 < new <= len(history) else history
        # With Teach on, the person plays the agent's own game: those episodes are theirs.
        side = self.human if snapshot.mode is Mode.HUMAN else self.agent
        for episode_return in fresh:
            side.add(episode_return)

    def _waiting(self, snapshot: Snapshot) -> bool:
        own_game = snapshot.mode is Mode.HUMAN and not snapshot.control.teach
        between = snapshot.scores.human_episode > 0 and snapshot.scores.episode_return == 0
        return own_game and self.game.human_countdown_s > 0 and between

    def countdown_left(self) -> float | None:
        """Seconds until the person's next episode starts (0: any moment); None: it is on."""
        if self._waited is None:
            return None
        return max(0.0, self.game.human_countdown_s - self._waited)

    def header_fields(self, snapshot: Snapshot) -> list[tuple[str, str]]:
        """The (label, value) pairs the game header shows after the title, most important
        first: catches and misses in fruit catch, the time balanced in a person's CartPole,
        else the episode's score and the episode."""
        human = snapshot.mode is Mode.HUMAN
        if self.game.counts_catches and snapshot.mode is not Mode.VERSUS:
            side, who = (self.human, "") if human else (self.agent, "agent ")
            return [(f"{who}caught", f"{side.caught:,}"), ("missed", f"{side.missed:,}")]
        if self.game.human_score_in_seconds and human and not snapshot.control.teach:
            fps = self.game.human_fps
            best = "-" if self.human_best is None else f"{self.human_best / fps:.1f} s"
            return [("balanced", f"{snapshot.scores.episode_return / fps:.1f} s"), ("best", best)]
        episode = (
            snapshot.scores.human_episode
            if human and not snapshot.control.teach
            else snapshot.training.episode
        )
        return [
            ("score", format_number(snapshot.scores.episode_return)),
            ("episode", format_number(episode)),
        ]


def countdown_label(seconds_left: float) -> str:
    """3, 2, 1, then GO while the first step is on its way."""
    return str(math.ceil(seconds_left)) if seconds_left > 0 else "GO"
