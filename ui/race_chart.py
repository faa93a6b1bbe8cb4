"""The race screen's chart: both sides' learning curves in one picture, cached until a side has
new games. Kept apart from the screen's logic in ``ui.race_view``."""

from __future__ import annotations

import numpy as np
import pygame

from agent.live.race import SOLVE_WINDOW, RaceState, SideState
from game.registry import GameSpec
from ui import theme
from ui.learning_curve import draw_value_grid, nice_ticks, polyline, trailing_mean, value_y
from ui.race_parts import SIDE_COLOURS


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
        draw_value_grid(image, plot, ticks)
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
        solved_y = value_y(game.solved_score, lo, hi, plot)
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
            line = _series(trailing_mean(values, SOLVE_WINDOW), games, lo, hi, plot)
            polyline(image, colour, line, 2)
            if side.solved_steps is not None:
                pygame.draw.circle(image, colour, line[-1], 6)
                pygame.draw.circle(image, theme.CARD, line[-1], 3)
        return image


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
