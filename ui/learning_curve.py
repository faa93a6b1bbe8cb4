"""The learning curve: each game's return and the moving average of the last ``CURVE_WINDOW``,
with the axis helpers (tick values and labels, the trailing mean, the polyline) that the race
screen's chart (``ui.race_chart``) draws with as well."""

from __future__ import annotations

import math

import numpy as np
import pygame

from agent.live.channels import Snapshot
from ui import theme

CURVE_WINDOW = 100  # episodes in the moving average, the same window as "mean (100)"
TICK_SPACING = 28  # pixels: the closest the curve's value lines come to each other


class LearningCurve:
    """Episode returns (faint) and their moving average (bright), redrawn only on change."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._image: pygame.Surface | None = None
        self.ticks: tuple[float, ...] = ()  # the value lines of the last plot drawn
        self.plot_size = (0, 0)  # its size in pixels

    def draw(self, surface: pygame.Surface, rect: pygame.Rect, snapshot: Snapshot) -> None:
        if rect.height < 60 or rect.width < 80:
            return
        returns = snapshot.scores.returns
        key = (rect.size, len(returns), returns[-1] if returns else None, snapshot.game)
        if key != self._key or self._image is None:
            self._image = self._render(rect.size, returns)
            self._key = key
        surface.blit(self._image, rect)

    def _render(self, size: tuple[int, int], returns: tuple[float, ...]) -> pygame.Surface:
        image = pygame.Surface(size, pygame.SRCALPHA)
        inner = theme.draw_card(image, image.get_rect(), "Learning curve")
        legend_y = theme.PAD + 7
        x = size[0] - theme.PAD
        label = theme.draw_text(
            image,
            f"mean of {CURVE_WINDOW}",
            (x, legend_y),
            size=12,
            colour=theme.DIM,
            anchor="midright",
        )
        pygame.draw.line(image, theme.ACCENT, (label.x - 22, legend_y), (label.x - 6, legend_y), 3)
        label = theme.draw_text(
            image, "return", (label.x - 32, legend_y), size=12, colour=theme.DIM, anchor="midright"
        )
        for x in range(label.x - 20, label.x - 6, 5):
            image.fill(theme.FAINT, (x, legend_y - 1, 2, 2))
        if not returns:
            theme.draw_text(
                image,
                "no finished episodes yet",
                inner.center,
                size=13,
                colour=theme.FAINT,
                anchor="center",
            )
            return image
        values = np.asarray(returns, dtype=np.float64)
        average = trailing_mean(values, CURVE_WINDOW)
        lo, hi = float(values.min()), float(values.max())
        if hi - lo < 1e-9:
            lo, hi = lo - 1.0, hi + 1.0
        axis_w = 44
        plot = pygame.Rect(inner.x + axis_w, inner.y + 4, inner.width - axis_w, inner.height - 22)
        if plot.width < 10 or plot.height < 10:
            return image
        ticks = nice_ticks(lo, hi, max(1, min(4, plot.height // TICK_SPACING)))
        self.ticks, self.plot_size = ticks, plot.size
        lo, hi = ticks[0], ticks[-1]  # the plot spans whole ticks, so its lines are round
        draw_value_grid(image, plot, ticks)
        count = f"{len(values):,} episode{'s' if len(values) != 1 else ''}"
        theme.draw_text(
            image,
            count,
            (plot.right, plot.bottom + 4),
            size=11,
            colour=theme.DIM,
            anchor="topright",
        )
        for point in _points(values, lo, hi, plot):
            image.fill(theme.FAINT, (point[0] - 1, point[1] - 1, 2, 2))
        polyline(image, theme.ACCENT, _points(average, lo, hi, plot), 2)
        return image


def value_y(value: float, lo: float, hi: float, plot: pygame.Rect) -> int:
    """The row of ``plot`` where ``value`` lies on an axis from ``lo`` (bottom) to ``hi``."""
    return plot.bottom - int((value - lo) / (hi - lo) * plot.height)


def draw_value_grid(image: pygame.Surface, plot: pygame.Rect, ticks: tuple[float, ...]) -> None:
    """A grid line and a label at each tick; the axis runs from the first tick to the last."""
    lo, hi, step = ticks[0], ticks[-1], ticks[1] - ticks[0]
    for tick in ticks:
        y = value_y(tick, lo, hi, plot)
        pygame.draw.line(image, theme.GRID, (plot.x, y), (plot.right, y))
        at = (plot.x - 6, y)
        label = tick_label(tick, step)
        theme.draw_text(image, label, at, kind="mono", size=11, colour=theme.DIM, anchor="midright")


def nice_ticks(lo: float, hi: float, most: int = 4) -> tuple[float, ...]:
    """Round values for an axis over [lo, hi]: 1, 2 or 5 times a power of ten apart, the
    first at or below ``lo``, the last at or above ``hi``, at most ``most`` steps between."""
    if not hi > lo:
        raise ValueError(f"need lo < hi, got {lo} and {hi}")
    most = max(1, most)
    magnitude = 10.0 ** math.floor(math.log10((hi - lo) / most))
    for multiple in (1, 2, 5, 10, 20, 50):
        step = multiple * magnitude
        first, last = math.floor(lo / step), math.ceil(hi / step)
        if last - first <= most:
            break
    return tuple(round(i * step, 12) for i in range(first, last + 1))


def tick_label(value: float, step: float) -> str:
    """A tick's value with the decimals its step needs (200, 0.5, 0.05); 20k for big ones."""
    if abs(value) >= 10_000 and step >= 1000:
        return theme.format_count(int(round(value)))
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    text = f"{value:,.{decimals}f}"
    return text.lstrip("-") if float(text.replace(",", "")) == 0 else text  # never "-0"


def trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values at each point (fewer at the start)."""
    sums = np.cumsum(np.insert(values, 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def _points(values: np.ndarray, lo: float, hi: float, plot: pygame.Rect) -> list[tuple[int, int]]:
    """Screen points, at most one per pixel column (each column shows its bin's mean)."""
    n = len(values)
    if n > plot.width:
        edges = np.linspace(0, n, plot.width + 1).astype(int)
        sums = np.add.reduceat(values, edges[:-1])
        values = sums / np.maximum(np.diff(edges), 1)
        n = len(values)
    xs = plot.x + (np.arange(n) * (plot.width - 1) / max(n - 1, 1)).astype(int)
    ys = plot.bottom - ((values - lo) / (hi - lo) * plot.height).astype(int)
    return list(zip(xs.tolist(), ys.tolist(), strict=True))


def polyline(
    surface: pygame.Surface, colour: theme.Colour, points: list[tuple[int, int]], width: int
) -> None:
    if len(points) == 1:
        pygame.draw.circle(surface, colour, points[0], width + 1)
    elif points:
        pygame.draw.lines(surface, colour, False, points, width)
