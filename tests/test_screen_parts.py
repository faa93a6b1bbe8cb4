"""Parts of the main screen drawn or worked out straight from snapshots: the Q-value labels keep
clear of the agent's-pick arrow, the learning curve's axis reads in round numbers, the layout
is whole from the minimum window up, Versus keeps its badges off the games' scores, and the
scoreboard counts every episode once, across a loaded checkpoint too."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pygame
import pytest

from agent.live.channels import Mode, Snapshot
from agent.live.versus import PLAYING, RewardCounts, Tally, VersusState
from game.registry import GAMES
from tests.support import snapshot_of, with_fields
from ui import theme
from ui.game_view import HEADER, GameView
from ui.layout import CURVE_MIN_H, MIN_LAYOUT, arcade_layout
from ui.learning_curve import nice_ticks, tick_label
from ui.q_panel import QValuePanel
from ui.scoreboard import Scoreboard, countdown_label
from ui.top_bar import STATUS_BAR, TOP_BAR
from ui.versus_view import LABEL_H, VersusView


@pytest.fixture(scope="module")
def surface():
    pygame.display.init()
    pygame.font.init()
    yield pygame.Surface((1240, 760))
    theme.clear_caches()
    pygame.quit()


def snapshot(game: str = "cartpole", **fields) -> Snapshot:
    values = dict(pace_hz=50.0, replay_capacity=10, device="CPU", frame_serial=1)
    return snapshot_of(game, **{**values, **fields})


def columns_with(surface: pygame.Surface, rect: pygame.Rect, colour, tolerance: int = 0):
    """x of every column in ``rect`` holding a pixel of ``colour`` (within ``tolerance``)."""
    pixels = pygame.surfarray.pixels3d(surface)[rect.left : rect.right, rect.top : rect.bottom]
    near = np.all(np.abs(pixels.astype(int) - np.array(colour)) <= tolerance, axis=-1)
    return rect.left + np.flatnonzero(near.any(axis=1))


@pytest.mark.parametrize("game", list(GAMES))
def test_every_bold_action_name_keeps_clear_of_the_agents_pick_arrow(surface, game):
    spec = GAMES[game]
    panel = QValuePanel()
    rect = pygame.Rect(0, 0, 380, QValuePanel.height(len(spec.action_names)))
    for action, name in enumerate(spec.action_names):
        surface.fill(theme.BACKGROUND)
        q_values = tuple(float(i == action) for i in range(len(spec.action_names)))
        shot = snapshot(game, action=action, agent_action=action, q_values=q_values)
        panel.draw(surface, rect, shot, spec)
        row_y = theme.PAD + 22 + action * 30
        row = pygame.Rect(theme.PAD, row_y, 140, 24)
        label = columns_with(surface, row, theme.TEXT, tolerance=60)  # bold, anti-aliased
        arrow = columns_with(surface, row, theme.ACCENT)
        assert len(label) and len(arrow), name
        assert arrow.min() - label.max() >= 6, f"{name}: {arrow.min() - label.max()} px"


def test_axis_ticks_are_round_numbers_that_span_the_values():
    ticks = nice_ticks(197.5, 255.5, 4)  # the issue's own example
    step = ticks[1] - ticks[0]
    assert ticks[0] <= 197.5 and ticks[-1] >= 255.5 and len(ticks) - 1 <= 4
    assert [tick_label(t, step) for t in ticks] == ["180", "200", "220", "240", "260"]
    for lo, hi, most in [(0, 1, 4), (-1, 1, 2), (-13.2, -2.1, 3), (0.031, 0.049, 3), (9, 501, 4)]:
        ticks = nice_ticks(lo, hi, most)
        step = ticks[1] - ticks[0]
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert round(mantissa, 9) in (1, 2, 5), (lo, hi, ticks)
        assert ticks[0] <= lo and ticks[-1] >= hi and len(ticks) - 1 <= most
        assert all(math.isclose(t / step, round(t / step), abs_tol=1e-9) for t in ticks)
        labels = [tick_label(t, step) for t in ticks]
        assert len(set(labels)) == len(labels) and "-0" not in labels, labels
    assert tick_label(0.5, 0.5) == "0.5" and tick_label(40_000, 20_000) == "40k"
    with pytest.raises(ValueError):
        nice_ticks(1.0, 1.0)


@pytest.mark.parametrize("agent_view", [False, True])
def test_the_layout_is_whole_from_the_minimum_window_up(agent_view):
    for width in range(MIN_LAYOUT[0], 1901, 80):
        for height in range(MIN_LAYOUT[1], 1201, 20):
            for spec in GAMES.values():
                rects = arcade_layout((width, height), len(spec.action_names), agent_view)
                body = pygame.Rect(0, TOP_BAR, width, height - TOP_BAR - STATUS_BAR)
                assert all(body.contains(r) for r in rects.values()), (width, height)
                names = list(rects)
                for i, first in enumerate(names):
                    for second in names[i + 1 :]:
                        assert not rects[first].colliderect(rects[second]), (first, second)
                assert rects["curve"].height >= CURVE_MIN_H, (width, height)
                assert rects["view"].height >= 300, (width, height)  # the game stays big


def versus_state(**fields) -> VersusState:
    values = dict(
        round=1, phase=PLAYING, seed=0, human_score=3.0, agent_score=5.0, human_done=True,
        agent_done=False, human_steps=10, agent_steps=10, human_action=0,
        human_frame=np.full((210, 160, 3), 90, np.uint8), tally=Tally(), last_result=None,
    )  # fmt: skip
    values.update(fields)
    return VersusState(**values)


def test_versus_keeps_game_over_and_paused_off_the_top_of_the_games(surface):
    surface.fill(theme.BACKGROUND)
    rect = pygame.Rect(12, 56, 800, 600)
    shot = snapshot(
        "breakout",
        mode=Mode.VERSUS,
        paused=True,
        frame=np.full((210, 160, 3), 90, np.uint8),
        versus=versus_state(),
    )
    placed = VersusView().draw(surface, rect, shot, GAMES["breakout"])
    for side, frame in placed.items():
        top = pygame.Rect(frame.x, frame.y, frame.width, frame.height // 4)  # the score digits
        assert len(columns_with(surface, top, theme.ORANGE)) == 0, side
    human = placed["human"]
    middle = pygame.Rect(human.x, human.centery - 30, human.width, 60)
    assert len(columns_with(surface, middle, theme.ORANGE)) > 20  # GAME OVER, mid-frame
    header = pygame.Rect(rect.x, rect.y, rect.width, HEADER)
    assert len(columns_with(surface, header, theme.ORANGE)) > 20  # PAUSED, in the header


def test_versus_fruit_labels_count_catches_and_misses_over_the_match(surface):
    surface.fill(theme.BACKGROUND)
    versus = versus_state(
        human_frame=np.full((240, 240, 3), 90, np.uint8),
        human_rewards=RewardCounts(7, 2),
        agent_rewards=RewardCounts(9, 0),
        human_done=False,
    )
    shot = snapshot("fruit", mode=Mode.VERSUS, frame=versus.human_frame, versus=versus)
    rect = pygame.Rect(12, 56, 800, 600)
    placed = VersusView().draw(surface, rect, shot, GAMES["fruit"])
    assert set(placed) == {"human", "agent"}
    label_row = pygame.Rect(rect.x, rect.y + HEADER, rect.width, LABEL_H)
    assert len(columns_with(surface, label_row, theme.TEXT, tolerance=40)) > 20


def test_the_scoreboard_counts_each_agent_episode_once_across_a_load():
    board = Scoreboard(GAMES["fruit"])
    history: list[float] = []
    episode = 0
    rng = np.random.default_rng(0)
    for burst in (0, 5, 1, 0, 40, 3):  # episodes between two looks, as fast training makes
        new = [float(rng.choice([-1.0, 1.0])) for _ in range(burst)]
        history += new
        episode += burst
        board.observe(snapshot("fruit", episode=episode, returns=tuple(history)), 0.016)
    expected = (sum(r > 0 for r in history), sum(r < 0 for r in history))
    assert (board.agent.caught, board.agent.missed) == expected
    # A checkpoint is loaded: its own (smaller) episode count, an empty history, then 2 more.
    board.observe(snapshot("fruit", episode=12, returns=(1.0, -1.0)), 0.016)
    assert (board.agent.caught, board.agent.missed) == (expected[0] + 1, expected[1] + 1)
    board.observe(snapshot("fruit", episode=12, returns=(1.0, -1.0)), 0.016)  # nothing new
    assert board.agent.episodes == len(history) + 2 and board.human.episodes == 0


def test_the_countdown_runs_on_the_windows_clock_and_stops_with_pause():
    board = Scoreboard(GAMES["cartpole"])
    board.observe(snapshot(mode=Mode.HUMAN, episode_return=0.0), 0.5)
    assert board.countdown_left() is None  # the first episode starts without one
    waiting = snapshot(mode=Mode.HUMAN, episode_return=0.0, human_episode=1)
    board.observe(waiting, 0.0)
    assert board.countdown_left() == 3.0 and countdown_label(3.0) == "3"
    board.observe(waiting, 1.2)
    assert countdown_label(board.countdown_left()) == "2"
    board.observe(dataclasses.replace(waiting, paused=True), 5.0)  # paused: the clock stops
    assert board.countdown_left() == pytest.approx(1.8)
    board.observe(waiting, 2.0)
    assert countdown_label(board.countdown_left()) == "GO"
    board.observe(with_fields(waiting, episode_return=1.0), 0.02)  # the first step
    assert board.countdown_left() is None
    assert Scoreboard(GAMES["fruit"]).countdown_left() is None


@pytest.mark.parametrize("width", [302, 420, 800])
def test_a_paused_narrow_view_keeps_paused_in_its_header_clear_of_the_title(surface, width):
    surface.fill(theme.BACKGROUND)
    rect = pygame.Rect(12, 56, width, 500)
    shot = snapshot(
        "breakout",
        mode=Mode.TRAIN,
        paused=True,
        speed=math.inf,
        frame=np.full((210, 160, 3), 90, np.uint8),
    )
    target = GameView().draw(surface, rect, shot, GAMES["breakout"])
    title_w = theme.text_surface("Breakout", "bold", 18, theme.TEXT).get_width()
    header = pygame.Rect(rect.x, rect.y, rect.width, target.y - rect.y)
    title = pygame.Rect(rect.x + theme.PAD, rect.y, title_w + 4, HEADER)
    assert len(columns_with(surface, header, theme.ORANGE)) > 20  # PAUSED is always shown
    assert len(columns_with(surface, title, theme.ORANGE)) == 0  # and never over the title
    assert len(columns_with(surface, target, theme.ORANGE)) == 0  # nor over the game


def test_the_stats_say_when_an_agent_keeps_no_replay_memory(surface, monkeypatch):
    from ui.stats_panel import StatsPanel

    written: list[str] = []
    draw_text = theme.draw_text

    def record(target, text, *args, **kwargs):
        written.append(text)
        return draw_text(target, text, *args, **kwargs)

    monkeypatch.setattr(theme, "draw_text", record)
    area = pygame.Rect(0, 0, 800, 120)
    StatsPanel().draw(surface, area, snapshot(has_replay=False, learner="pqn"))
    assert "none (PQN)" in written
    written.clear()
    training = dict(replay_size=5, replay_capacity=10)
    StatsPanel().draw(surface, area, snapshot(**training, trainer_ready=True))
    assert "5 / 10" in written and "none (PQN)" not in written
    written.clear()
    StatsPanel().draw(surface, area, snapshot(**training))  # a DQN agent that only plays yet
    assert "5 / 10" not in written and "none (PQN)" not in written


@pytest.mark.parametrize("width", [302, 552])
def test_a_persons_keys_fit_the_foot_of_a_narrow_view(surface, monkeypatch, width):
    shown: dict[str, pygame.Rect] = {}
    draw_text = theme.draw_text

    def record(target, text, *args, **kwargs):
        shown[text] = draw_text(target, text, *args, **kwargs)
        return shown[text]

    monkeypatch.setattr(theme, "draw_text", record)
    rect = pygame.Rect(12, 56, width, 500)
    shot = snapshot("breakout", mode=Mode.HUMAN, frame=np.full((210, 160, 3), 90, np.uint8))
    GameView().draw(surface, rect, shot, GAMES["breakout"])
    for move in GAMES["breakout"].action_names[1:]:  # FIRE, RIGHT, LEFT: every move is named
        assert move in shown and shown[move].right <= rect.right - theme.PAD, (move, width)
