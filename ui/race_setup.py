"""The race screen's setup card: the game, time limit and setting chips, the two sides, the seed
and the start button with the race's clock. Drawn from the screen's choices, apart from its
logic in ``ui.race_view``; each chip drawn is a button the screen's clicks look up."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pygame

from agent.live.race import CHOICES
from game.registry import GAMES
from ui import theme
from ui.race_cards import clock
from ui.race_parts import (
    CHIP_H,
    LABEL_W,
    RACE_GAMES,
    ROW,
    SETTING_NAMES,
    SIDE_COLOURS,
    START_W,
    TIME_LIMITS,
    Choice,
    side_names,
)

if TYPE_CHECKING:
    from ui.race_view import RaceScreen


def _chip(
    screen: RaceScreen, surface: pygame.Surface, x: int, y: int, text: str, choice: Choice, on: bool
) -> pygame.Rect:
    """A choice's chip at (x, y): lit when chosen, faint while a race runs."""
    image_w = theme.text_surface(text, "bold", 13, theme.TEXT).get_width()
    rect = pygame.Rect(x, y, image_w + 24, CHIP_H)
    locked = screen.racing
    fill = theme.ACCENT if on else theme.BAR_IDLE
    if locked and on:
        fill = theme.FAINT
    pygame.draw.rect(surface, fill, rect, border_radius=CHIP_H // 2)
    if not locked and not on and rect.collidepoint(screen.pointer):
        pygame.draw.rect(surface, theme.ACCENT, rect, width=1, border_radius=CHIP_H // 2)
    colour = theme.BACKGROUND if on else (theme.FAINT if locked else theme.TEXT)
    theme.draw_text(
        surface, text, rect.center, kind="bold", size=13, colour=colour, anchor="center"
    )
    screen.buttons.append((rect, choice))
    return rect


def _key_hint(surface: pygame.Surface, keys: str, x: int, row: int) -> None:
    """The keys that also pick a row's chips, after its last chip."""
    at = (x + 4, row + CHIP_H // 2)
    theme.draw_text(surface, keys, at, kind="mono", size=12, colour=theme.DIM, anchor="midleft")


def draw_setup(screen: RaceScreen, surface: pygame.Surface, rect: pygame.Rect) -> None:
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
        chip = _chip(screen, surface, x, rows[0], text, Choice("game", key), key == screen.game_key)
        x = chip.right + 8
    limit_x = label("TIME LIMIT", x + 28, rows[0]).right + 12
    for limit in TIME_LIMITS:
        text = f"{limit / 60:g} min"
        chip = _chip(
            screen, surface, limit_x, rows[0], text, Choice("limit", limit), limit == screen.limit
        )
        limit_x = chip.right + 8
    _key_hint(surface, "T", limit_x, rows[0])
    label("SETTING", inner.x, rows[1])
    x = inner.x + LABEL_W
    for setting in CHOICES:
        chip = _chip(
            screen,
            surface,
            x,
            rows[1],
            SETTING_NAMES[setting],
            Choice("setting", setting),
            setting == screen.setting,
        )
        x = chip.right + 8
    _key_hint(surface, "← →", x, rows[1])
    label("SIDES", inner.x, rows[2])
    x = inner.x + LABEL_W
    middle = rows[2] + CHIP_H // 2
    for i, name in enumerate(side_names(screen.setting)):
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
    seed = screen.seed + (1 if screen.raced and not screen.racing else 0)
    theme.draw_text(
        surface,
        f"seed {screen.seed if screen.racing else seed}",
        (x + 18, middle),
        size=13,
        colour=theme.DIM,
        anchor="midleft",
    )
    _draw_start(screen, surface, pygame.Rect(inner.right - START_W, rows[2], START_W, CHIP_H))


def _draw_start(screen: RaceScreen, surface: pygame.Surface, rect: pygame.Rect) -> None:
    """The start button, and left of it the race's clock."""
    if screen.racing:
        text, fill = "Racing…", theme.FAINT
    elif screen.raced is not None:
        text, fill = "Race again · Enter", theme.GREEN
    else:
        text, fill = "Start · Enter", theme.GREEN
    pygame.draw.rect(surface, fill, rect, border_radius=CHIP_H // 2)
    if not screen.racing and rect.collidepoint(screen.pointer):
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
    screen.buttons.append((rect, Choice("start")))
    if screen.race is None:
        return
    seconds = max((side.seconds for side in screen.state.sides), default=0.0) if screen.state else 0
    limit = screen.raced[2] if screen.raced else screen.limit
    time = f"{clock(seconds)} of {clock(limit)}"
    shown = theme.draw_text(
        surface, time, (rect.x - 14, rect.centery), kind="mono", size=15, anchor="midright"
    )
    bar = pygame.Rect(shown.x, shown.bottom + 2, shown.width, 3)
    pygame.draw.rect(surface, theme.GRID, bar)
    done = min(1.0, seconds / max(limit, 1e-9))
    pygame.draw.rect(surface, theme.ACCENT, (bar.x, bar.y, int(bar.width * done), bar.height))
