"""Where everything on the main screen goes, for a window size: one pure function."""

from __future__ import annotations

import pygame

from game.registry import GAMES
from ui import theme
from ui.controls import ControlPanel
from ui.q_panel import QValuePanel
from ui.stats_panel import StatsPanel
from ui.toggles import STRIP_H
from ui.top_bar import STATUS_BAR, TOP_BAR

MIN_LAYOUT = (980, 640)  # pixels: the window's minimum size, where the layout is still whole
AGENT_VIEW_SHARE = 0.38  # of the left column, when the agent's view is shown
AGENT_VIEW_W = (250, 400)  # pixels, its narrowest and widest
# Pixels: the learning curve's card at its shortest, a plot about 100 px tall; to keep it,
# Live Stats moves under the game, then the Q-values and controls take shorter rows.
CURVE_MIN_H = 160
MOST_ACTIONS = max(len(game.action_names) for game in GAMES.values())


def arcade_layout(
    size: tuple[int, int], n_actions: int, agent_view: bool
) -> dict[str, pygame.Rect]:
    """Rects of the main screen: on the left the game ``view`` (and the ``agent_view`` beside
    it when shown) over the ``toggles`` strip; on the right the ``q``-values, ``controls``,
    ``stats`` and learning ``curve``. A window too short for all four on the right puts
    ``stats`` in a wide strip under the toggles, and a shorter one gives the ``q``-values and
    ``controls`` compact rows, so the curve keeps ``CURVE_MIN_H``; the choices depend on the
    size alone, so switching games never moves the panels about."""
    width, height = max(size[0], MIN_LAYOUT[0]), max(size[1], MIN_LAYOUT[1])
    gap = theme.GAP
    panel_w = min(max(int(width * 0.32), 380), 440)
    body_h = height - TOP_BAR - STATUS_BAR
    x = width - panel_w - gap
    left_w = x - 2 * gap
    side_stats_h = StatsPanel.height(panel_w)
    worst_side = QValuePanel.height(MOST_ACTIONS) + ControlPanel.height() + 2 * gap
    stats_beside = body_h - worst_side - side_stats_h - gap >= CURVE_MIN_H
    compact = body_h - worst_side < CURVE_MIN_H
    q_h = QValuePanel.height(n_actions, compact)
    controls_h = ControlPanel.height(compact)
    stats_h = side_stats_h if stats_beside else StatsPanel.height(left_w)
    y = TOP_BAR
    under_view = 0 if stats_beside else stats_h + gap
    view_h = body_h - STRIP_H - gap // 2 - under_view
    rects = {
        "view": pygame.Rect(gap, y, left_w, view_h),
        "toggles": pygame.Rect(gap, y + view_h + gap // 2, left_w, STRIP_H),
        "q": pygame.Rect(x, y, panel_w, q_h),
        "controls": pygame.Rect(x, y + q_h + gap, panel_w, controls_h),
    }
    if stats_beside:
        rects["stats"] = pygame.Rect(x, rects["controls"].bottom + gap, panel_w, stats_h)
    else:
        rects["stats"] = pygame.Rect(gap, rects["toggles"].bottom + gap, left_w, stats_h)
    if agent_view:
        side = min(max(int(left_w * AGENT_VIEW_SHARE), AGENT_VIEW_W[0]), AGENT_VIEW_W[1])
        rects["view"].width = left_w - side - gap
        rects["agent_view"] = pygame.Rect(rects["view"].right + gap, y, side, view_h)
    above_curve = rects["stats"] if stats_beside else rects["controls"]
    curve_y = above_curve.bottom + gap
    rects["curve"] = pygame.Rect(x, curve_y, panel_w, TOP_BAR + body_h - curve_y)
    return rects
