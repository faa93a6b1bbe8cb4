"""The stats panel: the grid of training numbers for the agent on screen (steps, updates, games,
epsilon, losses and the rest) and the note beneath it."""

from __future__ import annotations

import pygame

from agent.live.channels import Mode, Snapshot
from ui import theme


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
            value = theme.fit_text(value, room, 13, "mono")
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
            theme.fit_text(self.note, room, 12),
            (rect.right - theme.PAD, rect.y + theme.PAD + 7),
            size=12,
            colour=theme.PURPLE,
            anchor="midright",
        )
