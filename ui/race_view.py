"""The race screen: two new agents learn fruit catch or CartPole side by side from one seed, alike
but for one setting the person picks (``agent.live.race.CHOICES``), each in a process of its own;
both learning curves in one chart, each side's steps and seconds, until both solve the game or
the time limit passes; then who solved first, in how many steps and seconds.

The window only reads ``race_state()`` a few times a second, so it draws smoothly while the two
processes train. Keys: 1 and 2 pick the game, the arrows the setting, T the time limit, Enter
starts (and races again with the next seed); Esc stops the race and goes back. Everything can
be clicked as well.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

import pygame

from agent.live.race import CHOICES, Race, RaceState
from game.registry import GAMES
from ui import theme
from ui.race_cards import clock, draw_side_card, draw_summary_card
from ui.race_chart import RaceChart
from ui.race_parts import (
    DEFAULT_LIMIT,
    RACE_GAMES,
    SIDE_COLOURS,
    TIME_LIMITS,
    Choice,
    race_layout,
    side_names,
)
from ui.race_setup import draw_setup
from ui.screen import Screen
from ui.top_bar import BAR_HEIGHT, GAMES_X, draw_status_bar, draw_top_bar

POLL_S = 0.25  # seconds between two reads of the race's state


class RaceLike(Protocol):
    """What the screen needs of a race: ``agent.live.race.Race``, or a stand-in in tests."""

    def race_state(self) -> RaceState: ...

    def stop(self, timeout: float = ...) -> None: ...


MakeRace = Callable[..., RaceLike]


class RaceScreen(Screen):
    """See the module docstring. ``make_race`` starts a race (``Race``, or a stand-in)."""

    def __init__(self, make_race: MakeRace = Race) -> None:
        super().__init__()
        self.make_race = make_race
        self.game_key = RACE_GAMES[0]
        self.setting = next(iter(CHOICES))
        self.limit = TIME_LIMITS[DEFAULT_LIMIT]
        self.seed = 0
        self.race: RaceLike | None = None
        self.state: RaceState | None = None
        self.raced: tuple[str, str, float, int] | None = None  # the last race's game, setting...
        self.chart = RaceChart()
        self.buttons: list[tuple[pygame.Rect, Choice]] = []
        self.summary_lines: list[str] = []  # the finished race's card, as last drawn
        self.message = ""
        self.error = False
        self.fps = 0.0
        self.background: Screen | None = None
        self.pointer = (-1, -1)
        self._since_poll = 0.0
        self._stoppers: list[threading.Thread] = []

    # -- the race -----------------------------------------------------------------------------

    @property
    def racing(self) -> bool:
        """A race runs now (started and not over)."""
        return self.race is not None and not (self.state is not None and self.state.over)

    def start(self) -> None:
        """Start a race with the choices on the card; after one, the next seed."""
        if self.racing:
            return
        if self.raced is not None:
            self.seed += 1
        self._stop_race()
        game = GAMES[self.game_key]
        try:
            self.race = self.make_race(game, self.setting, seed=self.seed, time_limit_s=self.limit)
        except (OSError, RuntimeError, ValueError) as error:
            self._say(f"cannot start the race: {error}", error=True)
            return
        self.state = None
        self.raced = (self.game_key, self.setting, self.limit, self.seed)
        self._since_poll = POLL_S  # read it on the next update
        first, second = side_names(self.setting)
        self._say(
            f"Racing: {first} against {second} learn {game.title} from seed {self.seed}, "
            f"one process each. Esc stops the race and goes back."
        )

    def _stop_race(self) -> None:
        """End the race (if any) without making the window wait for its processes."""
        race, self.race = self.race, None
        if race is None:
            return
        stopper = threading.Thread(target=race.stop, name="race-stop", daemon=True)
        stopper.start()
        self._stoppers = [t for t in self._stoppers if t.is_alive()] + [stopper]

    def close(self, timeout: float = 3.0) -> None:
        """The window closes: the race's processes end before it does."""
        self._stop_race()
        for stopper in self._stoppers:
            stopper.join(timeout)

    def _choose(self, choice: Choice) -> None:
        if choice.kind == "start":
            self.start()
            return
        if self.racing:
            self._say("The race is on: Esc stops it and goes back.", error=True)
            return
        if choice.kind == "game" and choice.value != self.game_key:
            self.game_key, self.seed, self.raced = str(choice.value), 0, None
        elif choice.kind == "setting" and choice.value != self.setting:
            self.setting, self.seed, self.raced = str(choice.value), 0, None
        elif choice.kind == "limit":
            self.limit = float(choice.value)
        self._say(self._ready_note())

    def _ready_note(self) -> str:
        first, second = side_names(self.setting)
        return (
            f"{GAMES[self.game_key].title}: {first} against {second}. Enter starts the race; "
            "Esc goes back."
        )

    def _say(self, text: str, error: bool = False) -> None:
        self.message, self.error = text, error

    # -- the screen ---------------------------------------------------------------------------

    def startup(self, persist: dict[str, Any]) -> None:
        super().startup(persist)
        self.background = persist.get("background")
        self.next = persist.get("return_to", "arcade")
        self._say(
            "Two new agents learn one game from one seed, alike but for the setting you pick. "
            + self._ready_note()
        )

    def cleanup(self) -> dict[str, Any]:
        """Leaving the screen, however, ends the race."""
        self._stop_race()
        self.state = None
        return super().cleanup()

    def leave(self) -> None:
        self._stop_race()
        self.done = True

    def handle_event(self, event: pygame.event.Event) -> None:
        if event.type == pygame.KEYDOWN:
            self._key(event)
        elif event.type == pygame.MOUSEMOTION:
            self.pointer = tuple(event.pos)
        elif event.type == pygame.MOUSEBUTTONUP and getattr(event, "button", 1) == 1:
            pos = getattr(event, "pos", self.pointer)
            for rect, choice in self.buttons:
                if rect.collidepoint(pos):
                    self._choose(choice)
                    break
        elif event.type in (pygame.KEYUP, pygame.WINDOWFOCUSLOST) and self.background:
            self.background.handle_event(event)  # let go of game keys held on the way in

    def _key(self, event: pygame.event.Event) -> None:
        key = event.key
        settings = list(CHOICES)
        if key == pygame.K_ESCAPE:
            self.leave()
        elif key in (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE):
            self.start()
        elif key in (pygame.K_1, pygame.K_2):
            self._choose(Choice("game", RACE_GAMES[key - pygame.K_1]))
        elif key in (pygame.K_LEFT, pygame.K_RIGHT, pygame.K_UP, pygame.K_DOWN):
            step = 1 if key in (pygame.K_RIGHT, pygame.K_DOWN) else -1
            index = (settings.index(self.setting) + step) % len(settings)
            self._choose(Choice("setting", settings[index]))
        elif key == pygame.K_t:
            index = (TIME_LIMITS.index(self.limit) + 1) % len(TIME_LIMITS)
            self._choose(Choice("limit", TIME_LIMITS[index]))

    def update(self, dt: float) -> None:
        if dt > 0:
            self.fps = 1.0 / dt if self.fps == 0 else 0.9 * self.fps + 0.1 / dt
        if self.race is None or (self.state is not None and self.state.over):
            return
        self._since_poll += dt
        if self._since_poll < POLL_S:
            return
        self._since_poll = 0.0
        self.state = self.race.race_state()
        if self.state.over:
            headline, _, lines = self.summary(self.state)
            self._say(f"{headline} ({'; '.join(lines)}). Enter races again; Esc goes back.")

    # -- drawing ------------------------------------------------------------------------------

    def draw(self, surface: pygame.Surface) -> None:
        surface.fill(theme.BACKGROUND)
        draw_top_bar(surface)
        middle = BAR_HEIGHT // 2
        title = theme.draw_text(
            surface, "Race", (GAMES_X, middle), kind="bold", size=20, anchor="midleft"
        )
        theme.draw_text(
            surface,
            "two new agents, one setting apart, learn side by side",
            (title.right + 14, middle),
            size=14,
            colour=theme.DIM,
            anchor="midleft",
        )
        width = surface.get_width()
        theme.draw_pill(
            surface, "Esc: back", (width - theme.GAP, middle), theme.BAR_IDLE, anchor="midright"
        )
        rects = race_layout(surface.get_size())
        self.buttons = []
        draw_setup(self, surface, rects["setup"])
        game = GAMES[self.raced[0] if self.raced and self.state else self.game_key]
        self.chart.draw(surface, rects["chart"], self.state, game, self._side_labels())
        for i in range(2):
            side = self.state.sides[i] if self.state else None
            label = self._side_labels()[i]
            draw_side_card(surface, rects[f"side{i}"], label, SIDE_COLOURS[i], side)
        self.summary_lines = []
        if self.state is not None and self.state.over:
            headline, first, lines = self.summary(self.state)
            colour = theme.DIM if first is None else SIDE_COLOURS[first]
            footer = f"Enter: race again (seed {self.seed + 1})  ·  Esc: back"
            self.summary_lines = [headline, *lines, footer]
            draw_summary_card(surface, self.chart.plot, headline, colour, lines, footer)
        colour = theme.ORANGE if self.error else theme.TEXT
        draw_status_bar(surface, self.message, colour, f"{self.fps:4.0f} fps   Esc back")

    def _side_labels(self) -> tuple[str, str]:
        return side_names(self.raced[1] if self.raced and self.state else self.setting)

    def summary(self, state: RaceState) -> tuple[str, int | None, list[str]]:
        """The finished race: the headline, the index of the side that solved first (None:
        neither did), and a line for each side."""
        labels = self._side_labels()
        solved = [s for s in state.sides if s.solved_seconds is not None]
        first = None
        headline = "Neither side solved it in time"
        if solved:
            first = state.sides.index(min(solved, key=lambda s: s.solved_seconds or 0.0))
            headline = f"{labels[first]} solved first"
        limit = self.raced[2] if self.raced else self.limit
        lines = []
        for label, side in zip(labels, state.sides, strict=True):
            if side.error:
                lines.append(f"{label}: stopped: {side.error}")
            elif side.solved_steps is not None:
                seconds = side.solved_seconds or 0.0
                lines.append(f"{label}: {side.solved_steps:,} steps, {seconds:.1f} s")
            else:
                lines.append(f"{label}: not in {clock(limit)} ({side.steps:,} steps)")
        return headline, first, lines
