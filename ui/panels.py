"""The panels drawn by hand: live Q-values, the stats grid and the learning curve."""

from __future__ import annotations

import math

import numpy as np
import pygame

from agent.live.channels import Mode, Snapshot
from game.registry import GameSpec
from ui import theme

Q_ROWS = {False: 30, True: 24}  # pixels per action row: as a rule, and in a short window
NAME_MIN_W = 96  # pixels: the action-name column at its narrowest
MARKER_W = 14  # pixels: the agent's-pick arrow and its distance from the bar
MARKER_GAP = 8  # pixels between the longest (bold) action name and the arrow
BAR_STUB = 0.12  # share of the bar the worst action keeps
CURVE_WINDOW = 100  # episodes in the moving average, the same window as "mean (100)"
TICK_SPACING = 28  # pixels: the closest the curve's value lines come to each other


class QValuePanel:
    """One bar per action, the chosen one lit, greedy or random marked.

    Bars compare the actions with each other: the best is full length, the worst keeps a stub,
    so CartPole's 99.44 against 99.35 reads as clearly as fruit catch's -0.04 against -0.06;
    the numbers beside them are the Q-values themselves.
    """

    source = ""  # what the title line said of the agent, last drawn

    @staticmethod
    def height(n_actions: int, compact: bool = False) -> int:
        """Pixels the panel needs; ``compact``: with the shorter rows of a short window."""
        return 2 * theme.PAD + 22 + n_actions * Q_ROWS[compact]

    def draw(
        self, surface: pygame.Surface, rect: pygame.Rect, snapshot: Snapshot, game: GameSpec
    ) -> None:
        inner = theme.draw_card(surface, rect, "Q-values")
        marker = self._draw_marker(surface, rect, snapshot, game)
        # Which agent, or, while the session is busy (starting, loading, building a trainer),
        # what it is doing: the agent named may be on its way out.
        self.source = f"busy: {snapshot.busy}" if snapshot.busy else snapshot.training.agent_source
        self._draw_source(surface, rect, self.source, marker)
        q_values = snapshot.decision.q_values or (0.0,) * len(game.action_names)
        lo, hi = min(q_values), max(q_values)
        span = hi - lo
        name_w, value_w = self.name_width(game), 74
        bar_left = inner.x + name_w
        bar_w = max(10, inner.width - name_w - value_w)
        chosen_colour = self._chosen_colour(snapshot)
        n_actions = len(game.action_names)
        row_h = Q_ROWS[rect.height < self.height(n_actions)]
        for i, (name, q) in enumerate(zip(game.action_names, q_values, strict=False)):
            y = inner.y + i * row_h
            row = pygame.Rect(inner.x, y, inner.width, row_h - 6)
            chosen = snapshot.decision.action == i and bool(snapshot.decision.q_values)
            agent_pick = snapshot.decision.agent_action == i and bool(snapshot.decision.q_values)
            colour = theme.TEXT if chosen else theme.DIM
            theme.draw_text(
                surface,
                name,
                (row.x, row.centery),
                kind="bold" if chosen else "sans",
                size=13,
                colour=colour,
                anchor="midleft",
            )
            track = pygame.Rect(bar_left, row.y + 3, bar_w, row.height - 6)
            pygame.draw.rect(surface, theme.BACKGROUND, track, border_radius=4)
            share = (1.0 if span < 1e-9 else (q - lo) / span) if snapshot.decision.q_values else 0.0
            width = int(bar_w * (BAR_STUB + (1.0 - BAR_STUB) * share))
            bar = pygame.Rect(track.x, track.y, max(width, 4), track.height)
            pygame.draw.rect(
                surface, chosen_colour if chosen else theme.BAR_IDLE, bar, border_radius=4
            )
            if agent_pick and not chosen:
                pygame.draw.rect(surface, theme.ACCENT, bar, width=2, border_radius=4)
            if agent_pick:
                tip = (bar_left - MARKER_W + 6, row.centery)
                pygame.draw.polygon(
                    surface, theme.ACCENT, [(tip[0] - 6, tip[1] - 5), (tip[0] - 6, tip[1] + 5), tip]
                )
            text = f"{q:+.3f}" if snapshot.decision.q_values else "-"
            theme.draw_text(
                surface,
                text,
                (inner.right, row.centery),
                kind="mono",
                size=13,
                colour=colour,
                anchor="midright",
            )

    @staticmethod
    def name_width(game: GameSpec) -> int:
        """The action-name column: the longest name in bold (the chosen action's) keeps clear
        of the arrow that marks the agent's pick."""
        widest = max(
            theme.text_surface(n, "bold", 13, theme.TEXT).get_width() for n in game.action_names
        )
        return max(NAME_MIN_W, widest + MARKER_GAP + MARKER_W)

    @staticmethod
    def _chosen_colour(snapshot: Snapshot) -> theme.Colour:
        if _person_moved(snapshot):
            return theme.PURPLE
        return theme.GREEN if snapshot.decision.greedy else theme.ORANGE

    @staticmethod
    def _draw_marker(
        surface: pygame.Surface, rect: pygame.Rect, snapshot: Snapshot, game: GameSpec
    ) -> pygame.Rect | None:
        """The pill that says whose move it was; returns where it went (None: not drawn)."""
        if not snapshot.decision.q_values or snapshot.decision.action is None:
            return None
        anchor = (rect.right - theme.PAD, rect.y + theme.PAD + 7)
        if _person_moved(snapshot):
            verdict = "agrees" if snapshot.decision.greedy else "differs"
            text = f"agent {verdict}"
            return theme.draw_pill(
                surface, text, anchor, theme.PURPLE, anchor="midright", filled=False
            )
        if snapshot.decision.greedy:
            return theme.draw_pill(surface, "GREEDY", anchor, theme.GREEN, anchor="midright")
        return theme.draw_pill(
            surface,
            f"RANDOM  ε {snapshot.training.epsilon:.2f}",
            anchor,
            theme.ORANGE,
            anchor="midright",
        )

    @staticmethod
    def _draw_source(
        surface: pygame.Surface, rect: pygame.Rect, source: str, marker: pygame.Rect | None
    ) -> None:
        """Which agent these are the Q-values of (the shipped one, a loaded one and the
        updates made here since, or one trained here), beside the title, cut to fit."""
        if not source:
            return
        left = (
            rect.x + theme.PAD + theme.text_surface("Q-VALUES", "bold", 12, theme.DIM).get_width()
        )
        right = (marker.left if marker else rect.right - theme.PAD) - 8
        text, y = f"· {source}", rect.y + theme.PAD + 7
        while (
            len(text) > 3
            and theme.text_surface(text, "sans", 12, theme.DIM).get_width() > right - left - 8
        ):
            text = text[:-2] + "…"
        if right - left > 40:
            theme.draw_text(
                surface, text, (left + 8, y), size=12, colour=theme.DIM, anchor="midleft"
            )


def _person_moved(snapshot: Snapshot) -> bool:
    """The last move was a person's (Human mode or a takeover): the bars then show what the
    agent would have done instead."""
    return snapshot.mode is Mode.HUMAN or snapshot.control.controller == "human"


class StatsPanel:
    """Counters and running figures in a grid: two columns in the side panel, more in a wide
    strip (a short window puts it under the game)."""

    CELLS = 12
    ROW = 21  # pixels per row
    CELL_MIN_W = 150  # pixels: the widest label and value side by side ("replay 1,317 / 250k")
    COLUMN_CHOICES = (6, 4, 3, 2)  # divisors of CELLS, so every row is full
    cells: tuple[tuple[str, str], ...] = ()  # the labels and values last drawn
    note = ""  # the header's note on the games a person took part in, last drawn

    @classmethod
    def columns(cls, width: int) -> int:
        fits = (width - 2 * theme.PAD) // cls.CELL_MIN_W
        return next((c for c in cls.COLUMN_CHOICES if c <= fits), 2)

    @classmethod
    def height(cls, width: int) -> int:
        rows = -(-cls.CELLS // cls.columns(width))
        return 2 * theme.PAD + 22 + rows * cls.ROW

    def draw(self, surface: pygame.Surface, rect: pygame.Rect, snapshot: Snapshot) -> None:
        inner = theme.draw_card(surface, rect, "Live stats")
        training = snapshot.training
        # Compact, so a full memory ("250k / 250k") never runs into its label.
        fill = f"{theme.format_count(training.replay_size)} / "
        fill += theme.format_count(training.replay_capacity)
        none = f"none ({training.learner.upper()})"
        if not training.has_replay:  # it learns from its rollouts, keeping no replay memory
            fill = none
        elif not training.trainer_ready:
            fill = "-"  # nothing trains the agent yet, so it has no memory yet either
        share = f"{training.demo_fraction:.0%}" if training.demo_fraction else "uniform"
        if not training.demo_fraction_applies:
            share = none  # no memory to draw batches from
        # A person's steps: stored as demonstrations (DQN), or learned in the rollouts (PQN).
        demos = "demos" if training.has_replay else "your steps learned"
        cells = (
            ("step", theme.format_number(snapshot.training.global_step)),
            ("episode", theme.format_number(snapshot.training.episode)),
            ("last return", theme.format_number(snapshot.scores.last_return)),
            ("mean (100)", theme.format_number(snapshot.scores.mean_return)),
            ("loss", "-" if snapshot.training.loss is None else f"{snapshot.training.loss:.4f}"),
            ("env steps/s", f"{snapshot.training.steps_per_second:,.0f}"),
            ("updates", theme.format_number(snapshot.training.updates)),
            (
                "ε in use",
                "-" if snapshot.mode is Mode.HUMAN else f"{snapshot.training.epsilon:.3f}",
            ),
            ("replay", fill),
            ("device", snapshot.training.device),
            (demos, f"{snapshot.training.demo_count:,}"),
            ("demo share", share),
        )
        self.cells = cells
        self._draw_assisted(surface, rect, snapshot)
        columns = self.columns(rect.width)
        column = inner.width // columns
        for i, (label, value) in enumerate(cells):
            x = inner.x + (i % columns) * column
            y = inner.y + (i // columns) * self.ROW
            shown = theme.draw_text(surface, label, (x, y), size=13, colour=theme.DIM)
            right = x + column - (12 if i % columns < columns - 1 else 0)
            room = right - shown.right - 8
            value = _fit(value, room, "mono", 13)
            theme.draw_text(surface, value, (right, y + 1), kind="mono", size=13, anchor="topright")

    def _draw_assisted(
        self, surface: pygame.Surface, rect: pygame.Rect, snapshot: Snapshot
    ) -> None:
        """Apart from the agent's record (the cells count only the games it played alone): the
        games of its that a person took part in (a takeover, Teach), in the card's title line."""
        scores = snapshot.scores
        self.note = ""
        if not scores.assisted_games:
            return
        games = f"{scores.assisted_games:,} game{'s' if scores.assisted_games != 1 else ''}"
        self.note = f"your games with it: {games}"
        if scores.assisted_last_return is not None:
            self.note += f", last {theme.format_number(scores.assisted_last_return)}"
        left = (
            rect.x + theme.PAD + theme.text_surface("LIVE STATS", "bold", 12, theme.DIM).get_width()
        )
        room = rect.right - theme.PAD - left - 16
        theme.draw_text(
            surface,
            _fit(self.note, room, "sans", 12),
            (rect.right - theme.PAD, rect.y + theme.PAD + 7),
            size=12,
            colour=theme.PURPLE,
            anchor="midright",
        )


def _fit(text: str, width: int, kind: str, size: int) -> str:
    """``text``, cut short with an ellipsis where it is wider than ``width`` pixels."""
    if theme.text_surface(text, kind, size, theme.TEXT).get_width() <= width:
        return text
    while len(text) > 1:
        text = text[:-1]
        if theme.text_surface(text + "…", kind, size, theme.TEXT).get_width() <= width:
            break
    return text + "…"


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
        average = _trailing_mean(values, CURVE_WINDOW)
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
        step = ticks[1] - ticks[0]
        for tick in ticks:
            y = plot.bottom - int((tick - lo) / (hi - lo) * plot.height)
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
        _polyline(image, theme.ACCENT, _points(average, lo, hi, plot), 2)
        return image


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


def _trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
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


def _polyline(
    surface: pygame.Surface, colour: theme.Colour, points: list[tuple[int, int]], width: int
) -> None:
    if len(points) == 1:
        pygame.draw.circle(surface, colour, points[0], width + 1)
    elif points:
        pygame.draw.lines(surface, colour, False, points, width)
