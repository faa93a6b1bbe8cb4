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
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pygame

from agent.live.race import CHOICES, SOLVE_WINDOW, Race, RaceState, SideState
from game.registry import GAMES, GameSpec
from ui import theme
from ui.layout import MIN_LAYOUT
from ui.panels import _polyline, _trailing_mean, nice_ticks, tick_label
from ui.screen import Screen
from ui.top_bar import BAR_HEIGHT, GAMES_X, STATUS_BAR, TOP_BAR, draw_status_bar, draw_top_bar

RACE_GAMES = ("fruit", "cartpole")  # games a race can be run on: each side solves them in minutes
TIME_LIMITS = (60.0, 180.0, 300.0)  # seconds a side may take
DEFAULT_LIMIT = 1  # index into TIME_LIMITS
POLL_S = 0.25  # seconds between two reads of the race's state
SIDE_COLOURS = (theme.ACCENT, theme.ORANGE)
SETTING_NAMES = {
    "target network": "Target network",
    "double dqn": "Double DQN",
    "learning rate": "Learning rate",
    "replay memory": "Replay memory",
    "learner": "Learner",
}
# How the screen names a side where the race's own label is terse ("with", "a tenth").
SIDE_NAMES = {
    ("target network", "with"): "With target network",
    ("target network", "without"): "Without target network",
    ("learning rate", "as tuned"): "Rate as tuned",
    ("learning rate", "a tenth"): "A tenth the rate",
    ("replay memory", "as tuned"): "Memory as tuned",
    ("replay memory", "1,000"): "Memory of 1,000",
}
ROW = 38  # pixels per row of the setup card
CHIP_H = 28  # pixels
LABEL_W = 96  # pixels: a setup row's label column
SIDE_W = (260, 340)  # pixels: the side cards' narrowest and widest
START_W = 170  # pixels: the start button


class RaceLike(Protocol):
    """What the screen needs of a race: ``agent.live.race.Race``, or a stand-in in tests."""

    def race_state(self) -> RaceState: ...

    def stop(self, timeout: float = ...) -> None: ...


MakeRace = Callable[..., RaceLike]


@dataclass(frozen=True)
class Choice:
    """A clickable thing on the setup card: what it sets (``kind``) to which ``value``."""

    kind: str  # "game", "setting", "limit" or "start"
    value: Any = None


def race_layout(size: tuple[int, int]) -> dict[str, pygame.Rect]:
    """Rects of the race screen: the ``setup`` card across the top, the ``chart`` below it
    and the two ``side0`` / ``side1`` cards beside the chart."""
    width, height = max(size[0], MIN_LAYOUT[0]), max(size[1], MIN_LAYOUT[1])
    gap = theme.GAP
    setup = pygame.Rect(gap, TOP_BAR, width - 2 * gap, 2 * theme.PAD + 3 * ROW - (ROW - CHIP_H))
    top = setup.bottom + gap
    rest = height - STATUS_BAR - top
    side_w = min(max(int(width * 0.26), SIDE_W[0]), SIDE_W[1])
    chart = pygame.Rect(gap, top, width - 3 * gap - side_w, rest)
    side_h = (rest - gap) // 2
    return {
        "setup": setup,
        "chart": chart,
        "side0": pygame.Rect(chart.right + gap, top, side_w, side_h),
        "side1": pygame.Rect(chart.right + gap, top + side_h + gap, side_w, rest - side_h - gap),
    }


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
        self._pointer = (-1, -1)
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
            self._pointer = tuple(event.pos)
        elif event.type == pygame.MOUSEBUTTONUP and getattr(event, "button", 1) == 1:
            pos = getattr(event, "pos", self._pointer)
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
        self._draw_setup(surface, rects["setup"])
        game = GAMES[self.raced[0] if self.raced and self.state else self.game_key]
        self.chart.draw(surface, rects["chart"], self.state, game, self._side_labels())
        for i in range(2):
            side = self.state.sides[i] if self.state else None
            self._draw_side(surface, rects[f"side{i}"], i, side, game)
        self.summary_lines = []
        if self.state is not None and self.state.over:
            self._draw_summary(surface, self.chart.plot, self.state)
        colour = theme.ORANGE if self.error else theme.TEXT
        draw_status_bar(surface, self.message, colour, f"{self.fps:4.0f} fps   Esc back")

    def _side_labels(self) -> tuple[str, str]:
        return side_names(self.raced[1] if self.raced and self.state else self.setting)

    def _chip(
        self, surface: pygame.Surface, x: int, y: int, text: str, choice: Choice, on: bool
    ) -> pygame.Rect:
        """A choice's chip at (x, y): lit when chosen, faint while a race runs."""
        image_w = theme.text_surface(text, "bold", 13, theme.TEXT).get_width()
        rect = pygame.Rect(x, y, image_w + 24, CHIP_H)
        locked = self.racing
        fill = theme.ACCENT if on else theme.BAR_IDLE
        if locked and on:
            fill = theme.FAINT
        pygame.draw.rect(surface, fill, rect, border_radius=CHIP_H // 2)
        if not locked and not on and rect.collidepoint(self._pointer):
            pygame.draw.rect(surface, theme.ACCENT, rect, width=1, border_radius=CHIP_H // 2)
        colour = theme.BACKGROUND if on else (theme.FAINT if locked else theme.TEXT)
        theme.draw_text(
            surface, text, rect.center, kind="bold", size=13, colour=colour, anchor="center"
        )
        self.buttons.append((rect, choice))
        return rect

    def _draw_setup(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        inner = theme.draw_card(surface, rect)
        rows = [inner.y + i * ROW for i in range(3)]

        def label(text: str, x: int, y: int) -> pygame.Rect:
            return theme.draw_text(
                surface,
                text,
                (x, y + CHIP_H // 2),
                kind="bold",
                size=12,
                colour=theme.DIM,
                anchor="midleft",
            )

        label("GAME", inner.x, rows[0])
        x = inner.x + LABEL_W
        for number, key in enumerate(RACE_GAMES, start=1):
            text = f"{number}  {GAMES[key].title}"
            chip = self._chip(surface, x, rows[0], text, Choice("game", key), key == self.game_key)
            x = chip.right + 8
        limit_x = label("TIME LIMIT", x + 28, rows[0]).right + 12
        for limit in TIME_LIMITS:
            text = f"{limit / 60:g} min"
            chip = self._chip(
                surface, limit_x, rows[0], text, Choice("limit", limit), limit == self.limit
            )
            limit_x = chip.right + 8
        theme.draw_text(
            surface,
            "T",
            (limit_x + 4, rows[0] + CHIP_H // 2),
            kind="mono",
            size=12,
            colour=theme.DIM,
            anchor="midleft",
        )
        label("SETTING", inner.x, rows[1])
        x = inner.x + LABEL_W
        for setting in CHOICES:
            chip = self._chip(
                surface,
                x,
                rows[1],
                SETTING_NAMES[setting],
                Choice("setting", setting),
                setting == self.setting,
            )
            x = chip.right + 8
        theme.draw_text(
            surface,
            "← →",
            (x + 4, rows[1] + CHIP_H // 2),
            kind="mono",
            size=12,
            colour=theme.DIM,
            anchor="midleft",
        )
        label("SIDES", inner.x, rows[2])
        x = inner.x + LABEL_W
        middle = rows[2] + CHIP_H // 2
        for i, name in enumerate(side_names(self.setting)):
            if i:
                x = (
                    theme.draw_text(
                        surface,
                        "against",
                        (x + 10, middle),
                        size=13,
                        colour=theme.DIM,
                        anchor="midleft",
                    ).right
                    + 10
                )
            pygame.draw.line(surface, SIDE_COLOURS[i], (x, middle), (x + 18, middle), 3)
            x = theme.draw_text(
                surface, name, (x + 24, middle), kind="bold", size=14, anchor="midleft"
            ).right
        seed = self.seed + (1 if self.raced and not self.racing else 0)
        theme.draw_text(
            surface,
            f"seed {self.seed if self.racing else seed}",
            (x + 18, middle),
            size=13,
            colour=theme.DIM,
            anchor="midleft",
        )
        self._draw_start(surface, pygame.Rect(inner.right - START_W, rows[2], START_W, CHIP_H))

    def _draw_start(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        """The start button, and left of it the race's clock."""
        if self.racing:
            text, fill = "Racing…", theme.FAINT
        elif self.raced is not None:
            text, fill = "Race again · Enter", theme.GREEN
        else:
            text, fill = "Start · Enter", theme.GREEN
        pygame.draw.rect(surface, fill, rect, border_radius=CHIP_H // 2)
        if not self.racing and rect.collidepoint(self._pointer):
            pygame.draw.rect(surface, theme.TEXT, rect, width=1, border_radius=CHIP_H // 2)
        theme.draw_text(
            surface,
            text,
            rect.center,
            kind="bold",
            size=14,
            colour=theme.BACKGROUND,
            anchor="center",
        )
        self.buttons.append((rect, Choice("start")))
        if self.race is None:
            return
        seconds = max((side.seconds for side in self.state.sides), default=0.0) if self.state else 0
        limit = self.raced[2] if self.raced else self.limit
        clock = f"{_clock(seconds)} of {_clock(limit)}"
        shown = theme.draw_text(
            surface, clock, (rect.x - 14, rect.centery), kind="mono", size=15, anchor="midright"
        )
        bar = pygame.Rect(shown.x, shown.bottom + 2, shown.width, 3)
        pygame.draw.rect(surface, theme.GRID, bar)
        done = min(1.0, seconds / max(limit, 1e-9))
        pygame.draw.rect(surface, theme.ACCENT, (bar.x, bar.y, int(bar.width * done), bar.height))

    def _draw_side(
        self,
        surface: pygame.Surface,
        rect: pygame.Rect,
        index: int,
        side: SideState | None,
        game: GameSpec,
    ) -> None:
        """One side's card: its label in its colour, its steps, seconds, games, recent mean and
        where it stands."""
        inner = theme.draw_card(surface, rect)
        label = self._side_labels()[index]
        colour = SIDE_COLOURS[index]
        pygame.draw.rect(surface, colour, (rect.x, rect.y + 10, 4, rect.height - 20))
        theme.draw_text(
            surface, _fit(label, inner.width, 17, "bold"), inner.topleft, kind="bold", size=17
        )
        state, state_colour = _standing(side)
        if state:
            theme.draw_pill(surface, state, (inner.x, inner.y + 28), state_colour, filled=False)
        recent = side.returns[-SOLVE_WINDOW:] if side else ()
        mean = sum(recent) / len(recent) if recent else None
        rows = (
            ("env steps", f"{side.steps:,}" if side else "-"),
            ("seconds", f"{side.seconds:.1f}" if side else "-"),
            ("games", f"{len(side.returns):,}" if side else "-"),
            (f"mean of last {SOLVE_WINDOW}", theme.format_number(mean)),
            ("solved at", _solved_text(side)),
        )
        y = inner.y + 54
        line = max(20, min(26, (inner.bottom - y) // len(rows)))
        for text, value in rows:
            if y + 16 > inner.bottom:
                break
            theme.draw_text(surface, text, (inner.x, y), size=13, colour=theme.DIM)
            theme.draw_text(
                surface, value, (inner.right, y), kind="mono", size=14, anchor="topright"
            )
            y += line
        if side is not None and side.error and y + 16 <= inner.bottom:
            theme.draw_text(
                surface, _fit(side.error, inner.width, 12), (inner.x, y), size=12, colour=theme.RED
            )

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
                lines.append(f"{label}: not in {_clock(limit)} ({side.steps:,} steps)")
        return headline, first, lines

    def _draw_summary(self, surface: pygame.Surface, plot: pygame.Rect, state: RaceState) -> None:
        """Who solved first, in how many steps and seconds, over the chart."""
        headline, first, lines = self.summary(state)
        colour = theme.DIM if first is None else SIDE_COLOURS[first]
        footer = f"Enter: race again (seed {self.seed + 1})  ·  Esc: back"
        self.summary_lines = [headline, *lines, footer]
        width = min(plot.width - 16, 500)
        height = 2 * 14 + 40 + 26 * len(lines) + 30
        card = pygame.Rect(0, 0, max(width, 200), min(height, plot.height))
        # Top left, under the line that solves the game: where the early games left room (the
        # curves climb from the bottom left to the top right).
        card.topleft = (
            plot.x + min(24, plot.width - card.width),
            plot.y + max(24, plot.height // 8),
        )
        card.bottom = min(card.bottom, plot.bottom)
        theme.draw_overlay_card(surface, card, colour, border_width=2)
        y = card.y + 14
        theme.draw_text(
            surface,
            _fit(headline, card.width - 16, 24, "bold"),
            (card.centerx, y),
            kind="bold",
            size=24,
            colour=colour,
            anchor="midtop",
        )
        y += 40
        for line in lines:
            theme.draw_text(
                surface,
                _fit(line, card.width - 16, 15, "mono"),
                (card.centerx, y),
                kind="mono",
                size=15,
                anchor="midtop",
            )
            y += 26
        theme.draw_text(
            surface,
            _fit(footer, card.width - 16, 13),
            (card.centerx, y + 4),
            size=13,
            colour=theme.DIM,
            anchor="midtop",
        )


class RaceChart:
    """Both sides' returns in one chart: each game faint, the mean of the last
    ``SOLVE_WINDOW`` bright, in the side's colour; the score that solves the game dashed across.
    Redrawn only when a side has new games."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._image: pygame.Surface | None = None
        self.plot = pygame.Rect(0, 0, 0, 0)  # where the plot went, last drawn
        self.points = (0, 0)  # games drawn of each side, last drawn

    def draw(
        self,
        surface: pygame.Surface,
        rect: pygame.Rect,
        state: RaceState | None,
        game: GameSpec,
        labels: tuple[str, str],
    ) -> None:
        sides = state.sides if state else None
        key = (
            rect.size,
            game.key,
            labels,
            tuple((len(s.returns), s.solved_steps) for s in sides) if sides else None,
        )
        if key != self._key or self._image is None:
            self._image = self._render(rect.size, sides, game, labels)
            self._key = key
        surface.blit(self._image, rect)
        self.plot = self._plot.move(rect.topleft)

    def _render(
        self,
        size: tuple[int, int],
        sides: tuple[SideState, SideState] | None,
        game: GameSpec,
        labels: tuple[str, str],
    ) -> pygame.Surface:
        image = pygame.Surface(size, pygame.SRCALPHA)
        inner = theme.draw_card(image, image.get_rect(), f"Learning curves · {game.title}")
        legend_y = theme.PAD + 7
        x = size[0] - theme.PAD
        for label, colour in reversed(list(zip(labels, SIDE_COLOURS, strict=True))):
            shown = theme.draw_text(
                image, label, (x, legend_y), size=12, colour=theme.TEXT, anchor="midright"
            )
            pygame.draw.line(image, colour, (shown.x - 22, legend_y), (shown.x - 6, legend_y), 3)
            x = shown.x - 36
        theme.draw_text(
            image,
            f"mean of {SOLVE_WINDOW}:",
            (x, legend_y),
            size=12,
            colour=theme.DIM,
            anchor="midright",
        )
        axis_w = 44
        plot = pygame.Rect(inner.x + axis_w, inner.y + 8, inner.width - axis_w, inner.height - 28)
        self._plot = plot
        returns = [np.asarray(s.returns, dtype=np.float64) for s in sides] if sides else []
        self.points = (len(returns[0]), len(returns[1])) if returns else (0, 0)
        if not any(len(r) for r in returns):
            waiting = "each side starts in a process of its own..." if sides else ""
            text = waiting or "pick a game and a setting, then Enter"
            theme.draw_text(image, text, plot.center, size=14, colour=theme.FAINT, anchor="center")
            return image
        if plot.width < 10 or plot.height < 10:
            return image
        values = np.concatenate([r for r in returns if len(r)])
        lo = min(float(values.min()), game.solved_score)
        hi = max(float(values.max()), game.solved_score)
        if hi - lo < 1e-9:
            lo, hi = lo - 1.0, hi + 1.0
        ticks = nice_ticks(lo, hi, max(1, min(5, plot.height // 40)))
        lo, hi = ticks[0], ticks[-1]
        step = ticks[1] - ticks[0]
        for tick in ticks:
            y = _y(tick, lo, hi, plot)
            pygame.draw.line(image, theme.GRID, (plot.x, y), (plot.right, y))
            theme.draw_text(
                image,
                tick_label(tick, step),
                (plot.x - 6, y),
                kind="mono",
                size=11,
                colour=theme.DIM,
                anchor="midright",
            )
        games = max(len(r) for r in returns)
        theme.draw_text(
            image,
            f"{games:,} games",
            (plot.right, plot.bottom + 4),
            size=11,
            colour=theme.DIM,
            anchor="topright",
        )
        theme.draw_text(image, "0", (plot.x, plot.bottom + 4), size=11, colour=theme.DIM)
        solved_y = _y(game.solved_score, lo, hi, plot)
        for x in range(plot.x, plot.right, 10):
            pygame.draw.line(image, theme.GREEN, (x, solved_y), (min(x + 5, plot.right), solved_y))
        theme.draw_text(
            image,
            f"solved: {theme.format_number(game.solved_score)}",
            (plot.x + 6, solved_y - 2),
            size=11,
            colour=theme.GREEN,
            anchor="bottomleft",
        )
        assert sides is not None
        for values, side, colour in zip(returns, sides, SIDE_COLOURS, strict=True):
            if not len(values):
                continue
            faint = (*colour, 70)
            for px, py in _series(values, games, lo, hi, plot):
                pygame.draw.rect(image, faint, (px - 1, py - 1, 2, 2))
            line = _series(_trailing_mean(values, SOLVE_WINDOW), games, lo, hi, plot)
            _polyline(image, colour, line, 2)
            if side.solved_steps is not None:
                pygame.draw.circle(image, colour, line[-1], 6)
                pygame.draw.circle(image, theme.CARD, line[-1], 3)
        return image


def side_names(setting: str) -> tuple[str, str]:
    """The two sides of a race over ``setting``, as the screen names them."""
    (first, _), (second, _) = CHOICES[setting]
    return SIDE_NAMES.get((setting, first), first), SIDE_NAMES.get((setting, second), second)


def _y(value: float, lo: float, hi: float, plot: pygame.Rect) -> int:
    return plot.bottom - int((value - lo) / (hi - lo) * plot.height)


def _series(
    values: np.ndarray, games: int, lo: float, hi: float, plot: pygame.Rect
) -> list[tuple[int, int]]:
    """Screen points of one side's ``values`` on an axis of ``games`` games shared by both
    sides; more games than pixel columns are drawn as the mean of each column's games."""
    n = len(values)
    per_column = max(1, -(-games // max(plot.width, 1)))
    if per_column > 1:
        edges = np.arange(0, n, per_column)
        values = np.add.reduceat(values, edges) / np.diff(np.append(edges, n))
        positions = edges + (np.diff(np.append(edges, n)) - 1) / 2
    else:
        positions = np.arange(n, dtype=np.float64)
    xs = plot.x + (positions * (plot.width - 1) / max(games - 1, 1)).astype(int)
    ys = plot.bottom - ((values - lo) / (hi - lo) * plot.height).astype(int)
    return list(zip(xs.tolist(), ys.tolist(), strict=True))


def _standing(side: SideState | None) -> tuple[str, theme.Colour]:
    """Where a side stands, in words and a colour."""
    if side is None:
        return "", theme.DIM
    if side.error:
        return "STOPPED", theme.RED
    if side.solved_steps is not None:
        return "SOLVED", theme.GREEN
    if side.finished:
        return "TIME'S UP", theme.ORANGE
    if side.steps == 0:
        return "STARTING", theme.DIM
    return "LEARNING", theme.ACCENT


def _solved_text(side: SideState | None) -> str:
    if side is None or side.solved_steps is None:
        return "-"
    return f"{theme.format_count(side.solved_steps)} · {side.solved_seconds or 0:.1f} s"


def _clock(seconds: float) -> str:
    """0:42, 3:00."""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _fit(text: str, width: int, size: int, kind: str = "sans") -> str:
    """``text``, cut short with an ellipsis where it is wider than ``width`` pixels."""
    if theme.text_surface(text, kind, size, theme.TEXT).get_width() <= width:
        return text
    while len(text) > 1:
        text = text[:-1]
        if theme.text_surface(text + "…", kind, size, theme.TEXT).get_width() <= width:
            break
    return text + "…"
