"""The race screen's choices and where its cards go: the games, time limits and settings a race
can be run with, the names the screen gives them, and the screen's layout. Kept apart from the
screen so its cards' drawing and its logic can share them without importing each other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pygame

from agent.live.race import CHOICES
from ui import theme
from ui.layout import MIN_LAYOUT
from ui.top_bar import STATUS_BAR, TOP_BAR

RACE_GAMES = ("fruit", "cartpole")  # games a race can be run on: each side solves them in minutes
TIME_LIMITS = (60.0, 180.0, 300.0)  # seconds a side may take
DEFAULT_LIMIT = 1  # index into TIME_LIMITS
SIDE_COLOURS = (theme.ACCENT, theme.ORANGE)  # each side's colour: its card, its curves
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


def side_names(setting: str) -> tuple[str, str]:
    """The two sides of a race over ``setting``, as the screen names them."""
    (first, _), (second, _) = CHOICES[setting]
    return SIDE_NAMES.get((setting, first), first), SIDE_NAMES.get((setting, second), second)
