"""The race screen's cards over and beside the chart: each side's card (its steps, seconds, games
and where it stands) and the finished race's card (who solved first). Pure drawing from a
``SideState`` and text, kept apart from the screen's logic in ``ui.race_view``."""

from __future__ import annotations

import pygame

from agent.live.race import SOLVE_WINDOW, SideState
from ui import theme


def draw_side_card(
    surface: pygame.Surface,
    rect: pygame.Rect,
    label: str,
    colour: theme.Colour,
    side: SideState | None,
) -> None:
    """One side's card: its label in its colour, its steps, seconds, games, recent mean and
    where it stands."""
    inner = theme.draw_card(surface, rect)
    pygame.draw.rect(surface, colour, (rect.x, rect.y + 10, 4, rect.height - 20))
    theme.draw_text(
        surface, theme.fit_text(label, inner.width, 17, "bold"), inner.topleft, kind="bold", size=17
    )
    state, state_colour = standing(side)
    if state:
        theme.draw_pill(surface, state, (inner.x, inner.y + 28), state_colour, filled=False)
    recent = side.returns[-SOLVE_WINDOW:] if side else ()
    mean = sum(recent) / len(recent) if recent else None
    rows = (
        ("env steps", f"{side.steps:,}" if side else "-"),
        ("seconds", f"{side.seconds:.1f}" if side else "-"),
        ("games", f"{len(side.returns):,}" if side else "-"),
        (f"mean of last {SOLVE_WINDOW}", theme.format_number(mean)),
        ("solved at", solved_text(side)),
    )
    y = inner.y + 54
    line = max(20, min(26, (inner.bottom - y) // len(rows)))
    for text, value in rows:
        if y + 16 > inner.bottom:
            break
        theme.draw_text(surface, text, (inner.x, y), size=13, colour=theme.DIM)
        theme.draw_text(surface, value, (inner.right, y), kind="mono", size=14, anchor="topright")
        y += line
    if side is not None and side.error and y + 16 <= inner.bottom:
        theme.draw_text(
            surface,
            theme.fit_text(side.error, inner.width, 12),
            (inner.x, y),
            size=12,
            colour=theme.RED,
        )


def draw_summary_card(
    surface: pygame.Surface,
    plot: pygame.Rect,
    headline: str,
    colour: theme.Colour,
    lines: list[str],
    footer: str,
) -> None:
    """Who solved first, in how many steps and seconds (``lines``), over the chart's ``plot``."""
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
        theme.fit_text(headline, card.width - 16, 24, "bold"),
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
            theme.fit_text(line, card.width - 16, 15, "mono"),
            (card.centerx, y),
            kind="mono",
            size=15,
            anchor="midtop",
        )
        y += 26
    theme.draw_text(
        surface,
        theme.fit_text(footer, card.width - 16, 13),
        (card.centerx, y + 4),
        size=13,
        colour=theme.DIM,
        anchor="midtop",
    )


def standing(side: SideState | None) -> tuple[str, theme.Colour]:
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


def solved_text(side: SideState | None) -> str:
    if side is None or side.solved_steps is None:
        return "-"
    return f"{theme.format_count(side.solved_steps)} · {side.solved_seconds or 0:.1f} s"


def clock(seconds: float) -> str:
    """0:42, 3:00."""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
