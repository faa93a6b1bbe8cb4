"""Where everything on the main screen goes, for a window size: one pure function."""

from __future__ import annotations

import pygame

from ui import theme
from ui.controls import ControlPanel
from ui.panels import QValuePanel, StatsPanel
from ui.toggles import STRIP_H
from ui.top_bar import STATUS_BAR, TOP_BAR

MIN_LAYOUT = (980, 640)  # smaller windows are laid out at this size and clipped
AGENT_VIEW_SHARE = 0.38  # of the left column, when the agent's view is shown
AGENT_VIEW_W = (250, 400)  # pixels, its narrowest and widest


def arcade_layout(
    size: tuple[int, int], n_actions: int, agent_view: bool
) -> dict[str, pygame.Rect]:
    """Rects of the main screen: on the left the game ``view`` (and the ``agent_view`` beside
    it when shown) over the ``toggles`` strip; on the right the ``q``-values, ``controls``,
    ``stats`` and learning ``curve``."""
    width, height = max(size[0], MIN_LAYOUT[0]), max(size[1], MIN_LAYOUT[1])
    gap = theme.GAP
    panel_w = min(max(int(width * 0.32), 380), 440)
    body_h = height - TOP_BAR - STATUS_BAR
    x = width - panel_w - gap
    q_h = QValuePanel.height(n_actions)
    controls_h = ControlPanel.height()
    stats_h = StatsPanel.height()
    y = TOP_BAR
    left_w = x - 2 * gap
    view_h = body_h - STRIP_H - gap // 2
    rects = {
        "view": pygame.Rect(gap, y, left_w, view_h),
        "toggles": pygame.Rect(gap, y + view_h + gap // 2, left_w, STRIP_H),
        "q": pygame.Rect(x, y, panel_w, q_h),
        "controls": pygame.Rect(x, y + q_h + gap, panel_w, controls_h),
        "stats": pygame.Rect(x, y + q_h + controls_h + 2 * gap, panel_w, stats_h),
    }
    if agent_view:
        side = min(max(int(left_w * AGENT_VIEW_SHARE), AGENT_VIEW_W[0]), AGENT_VIEW_W[1])
        rects["view"].width = left_w - side - gap
        rects["agent_view"] = pygame.Rect(rects["view"].right + gap, y, side, view_h)
    curve_y = rects["stats"].bottom + gap
    rects["curve"] = pygame.Rect(x, curve_y, panel_w, TOP_BAR + body_h - curve_y)
    return rects
