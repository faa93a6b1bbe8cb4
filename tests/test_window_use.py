"""The window as a user found it, driven headless with real pygame events: an overlay stops a
person's game and gives it back; the panels stay readable at the smallest window; Breakout fills
its pane, crisply; a GIF plays at the game's own pace; Versus says what a round needs now and
keeps its cards off CartPole's carts."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pygame
import pytest
from PIL import Image, ImageSequence

from agent.live.channels import FAST, Mode
from tests.support import with_fields
from tests.test_app import (
    assert_whole,
    hold,
    let_go,
    post,
    press,
    run_until,
    tick,
    train_a_little,
)
from ui.app import MIN_SIZE, App
from ui.game_view import FOOTER, HEADER

ROOT = Path(__file__).resolve().parent.parent


def tick_for(app: App, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        tick(app)


@pytest.mark.slow
def test_the_help_pauses_a_persons_game_and_gives_it_back_on_close(make_app):
    app = make_app(start_mode=Mode.HUMAN)  # fruit catch: a fruit falls whatever the person does
    run_until(app, lambda s: s.ready and s.mode is Mode.HUMAN and s.picture.serial > 2)
    board = app.arcade.dispatcher.games["fruit"].board
    press(app, pygame.K_F1)
    assert app.screen_name == "help"
    shot = run_until(app, lambda s: s.paused)
    serial, missed = shot.picture.serial, board.human.missed
    tick_for(app, 1.5)  # seven steps at the person's pace, had it gone on
    assert app.arcade.snapshot.picture.serial == serial and board.human.missed == missed
    press(app, pygame.K_F1)
    assert app.screen_name == "arcade"
    run_until(app, lambda s: not s.paused and s.picture.serial > serial + 2)

    press(app, pygame.K_p)  # paused by the person: the help leaves it paused
    run_until(app, lambda s: s.paused)
    press(app, pygame.K_F1)
    press(app, pygame.K_ESCAPE)
    assert app.screen_name == "arcade"
    tick_for(app, 0.5)
    assert app.arcade.snapshot.paused


@pytest.mark.slow
def test_the_help_pauses_a_versus_round_but_not_the_agents_own_play(make_app):
    app = make_app()
    shot = run_until(app, lambda s: s.ready and s.mode is Mode.AGENT and s.picture.serial > 2)
    press(app, pygame.K_F1)
    run_until(app, lambda s, n=shot.picture.serial: s.picture.serial > n + 4)  # plays on
    assert not app.arcade.snapshot.paused
    press(app, pygame.K_F1)

    press(app, pygame.K_v)
    run_until(app, lambda s: s.mode is Mode.VERSUS and s.versus is not None)
    press(app, pygame.K_RETURN)
    run_until(app, lambda s: s.versus.phase == "playing")
    press(app, pygame.K_F1)
    shot = run_until(app, lambda s: s.paused)
    tick_for(app, 1.0)
    assert app.arcade.snapshot.versus.agent_steps == shot.versus.agent_steps
    press(app, pygame.K_F1)
    run_until(app, lambda s: not s.paused and s.versus.agent_steps > shot.versus.agent_steps)


@pytest.mark.slow
def test_the_quit_dialog_pauses_a_persons_game_and_cancel_gives_it_back(make_app):
    app = make_app()
    train_a_little(app)  # something unsaved: Esc asks
    press(app, pygame.K_f, mod=pygame.KMOD_LSHIFT)
    press(app, pygame.K_h)
    run_until(app, lambda s: s.mode is Mode.HUMAN)
    hold(app, pygame.K_LEFT)
    let_go(app, pygame.K_LEFT)
    post(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, unicode="\x1b", scancode=0)
    tick(app, 2)
    assert app.arcade.guard.asking
    shot = run_until(app, lambda s: s.paused)
    tick_for(app, 1.0)
    assert app.arcade.snapshot.picture.serial == shot.picture.serial
    press(app, pygame.K_ESCAPE)  # Cancel
    assert not app.arcade.guard.asking
    run_until(app, lambda s: not s.paused and s.picture.serial > shot.picture.serial)


@pytest.mark.slow
@pytest.mark.parametrize("agent_view", [False, True])
def test_every_panel_stays_readable_in_the_smallest_window(make_app, agent_view):
    app = make_app("breakout", size=MIN_SIZE)  # four actions: the tallest Q-value panel
    run_until(app, lambda s: s.ready)
    if agent_view:
        press(app, pygame.K_w)
    tick(app, 2)
    assert app.surface.get_size() == MIN_SIZE
    assert_whole(app)
    rects, arcade = app.arcade.rects, app.arcade
    returns = tuple(float((i * 7) % 37) for i in range(300))
    arcade.curve.draw(app.surface, rects["curve"], with_fields(arcade.snapshot, returns=returns))
    assert arcade.curve.plot_size[1] >= 90, arcade.curve.plot_size  # a plot, not a strip
    assert len(arcade.curve.ticks) >= 3  # at least three value lines to read it by
    widgets = [w.rect for w in arcade.controls.widgets]
    assert all(w.height >= 20 for w in widgets)
    for i, first in enumerate(widgets):  # the compact rows keep every control apart
        assert first.collidelist(widgets[i + 1 :]) == -1, first
    assert rects["q"].height >= 2 * 12 + 22 + 4 * 24  # a row of 24 px or more per action
    assert rects["view"].height >= 300  # the game stays big


@pytest.mark.slow
@pytest.mark.parametrize("size", [(1400, 900), (1240, 760), MIN_SIZE])
def test_breakout_fills_its_pane_with_crisp_pixels(make_app, size):
    app = make_app("breakout", size=size)
    shot = run_until(app, lambda s: s.ready and s.picture.frame is not None)
    tick(app, 2)
    view, frame = app.arcade.rects["view"], app.arcade.frame_rect
    box = pygame.Rect(view.x + 6, view.y + HEADER, view.width - 12, view.height - HEADER - FOOTER)
    assert box.contains(frame)
    assert max(frame.height / box.height, frame.width / box.width) >= 0.97, (frame, box)
    assert abs(frame.width / frame.height - 160 / 210) < 0.01  # not stretched
    # Nearest neighbour: every pixel on screen is one of the frame's own colours, none blended.
    source = {tuple(c) for c in app.arcade.snapshot.picture.frame.reshape(-1, 3)}
    shown = pygame.surfarray.array3d(app.surface.subsurface(frame)).reshape(-1, 3)
    assert {tuple(c) for c in np.unique(shown, axis=0)} <= source
    assert shot.picture.frame.shape[:2] == (210, 160)


def gif_frames(path) -> tuple[int, list[int]]:
    """The GIF's frame count and each frame's duration in ms, as a viewer reads them."""
    with Image.open(path) as gif:
        durations = [frame.info["duration"] for frame in ImageSequence.Iterator(gif)]
    return len(durations), durations


@pytest.mark.slow
def test_a_gif_recorded_at_fast_plays_at_the_games_own_pace(make_app, tmp_path):
    app = make_app()  # fruit catch, the agent: 8 steps a second at its own pace
    run_until(app, lambda s: s.ready and s.picture.frame is not None)
    for _ in range(4):
        press(app, pygame.K_f)
    run_until(app, lambda s: s.speed == FAST)
    press(app, pygame.K_p)
    first = run_until(app, lambda s: s.paused).picture.serial
    press(app, pygame.K_r)
    press(app, pygame.K_p)
    run_until(app, lambda s: s.speed == 1.0 and not s.paused)  # held at the game's own pace
    began = time.monotonic()
    tick_for(app, 3.0)
    press(app, pygame.K_f)  # a faster speed waits for the recording's end
    assert app.arcade.snapshot.speed == 1.0 and "after it" in app.arcade.message
    tick_for(app, 1.0)
    press(app, pygame.K_p)
    last = run_until(app, lambda s: s.paused).picture.serial
    seconds = time.monotonic() - began
    press(app, pygame.K_r)
    press(app, pygame.K_p)
    run_until(app, lambda s: s.speed == FAST and not s.paused)  # the speed comes back
    (gif,) = (tmp_path / "recordings").glob("fruit-agent-*.gif")
    count, durations = gif_frames(gif)
    assert set(durations) == {120}  # 1/8 s in GIF's 10 ms steps, every frame alike
    assert count == 1 + int((last - first) * 125 / 120 + 1e-6)  # 125 ms of play a step
    assert abs(count * 0.12 - seconds) < 0.2 * seconds  # it plays as long as it was played
    assert f"({count} frames)" in app.arcade.message


@pytest.mark.slow
def test_a_gif_of_breakout_played_by_hand_samples_its_60_steps_a_second_evenly(make_app, tmp_path):
    app = make_app("breakout", start_mode=Mode.HUMAN)
    run_until(app, lambda s: s.ready and s.picture.frame is not None and s.pace_hz == 60)
    press(app, pygame.K_p)
    first = run_until(app, lambda s: s.paused).picture.serial
    press(app, pygame.K_r)
    press(app, pygame.K_p)
    tick_for(app, 2.0)
    press(app, pygame.K_p)
    last = run_until(app, lambda s: s.paused).picture.serial
    press(app, pygame.K_r)
    (gif,) = (tmp_path / "recordings").glob("breakout-human-*.gif")
    count, durations = gif_frames(gif)
    assert set(durations) == {20}  # as fast as GIF viewers go
    assert count == 1 + int((last - first) * (1000 / 60) / 20 + 1e-6)  # five frames in six steps


@pytest.mark.slow
def test_versus_says_what_the_round_needs_now_not_how_to_start_one(make_app, tmp_path):
    (tmp_path / "saves").mkdir()
    shutil.copy(ROOT / "saves" / "fruit.pt", tmp_path / "saves" / "fruit.pt")
    app = make_app()  # Agent mode: the shipped agent loads, so Versus has nothing else to say
    run_until(app, lambda s: s.message.text.startswith("loaded"))
    press(app, pygame.K_v)
    run_until(app, lambda s: s.mode is Mode.VERSUS and s.versus is not None)
    tick(app, 2)
    assert "Enter starts round 1" in app.arcade.message
    press(app, pygame.K_RETURN)
    run_until(app, lambda s: s.versus.phase == "playing")
    tick(app, 2)
    assert "Enter starts" not in app.arcade.message and "Round 1" in app.arcade.message
    assert app.arcade.toggles.action.text == "Round 1 on"
    over = run_until(app, lambda s: s.versus.phase == "over", timeout=20)
    tick(app, 2)
    assert app.arcade.message == f"Round {over.versus.round} is over. Enter starts the next."


def carts_and_poles(frame: pygame.Rect) -> pygame.Rect:
    """Where CartPole's cart and upright pole are on its frame: the pole's tip at 0.42 of the
    height, the cart's foot at 0.79."""
    top, bottom = frame.y + int(0.42 * frame.height), frame.y + int(0.79 * frame.height)
    return pygame.Rect(frame.x, top, frame.width, bottom - top)


@pytest.mark.slow
@pytest.mark.parametrize("size", [MIN_SIZE, (1240, 760)])
def test_versus_cards_keep_off_cartpoles_carts_with_the_agents_view_open(make_app, size):
    app = make_app("cartpole", start_mode=Mode.VERSUS, size=size)
    run_until(app, lambda s: s.versus is not None and s.versus.phase == "ready")
    press(app, pygame.K_w)  # the agent's view takes a third of the width
    versus = app.arcade.play_area.versus
    hold(app, pygame.K_LEFT)  # the person pushes one way: their pole falls at once
    for phase, key in (("ready", None), ("over", pygame.K_RETURN)):
        if key is not None:
            press(app, key)
            run_until(app, lambda s, p=phase: s.versus.phase == p, timeout=30)
        tick(app, 3)
        assert versus.card is not None and len(versus.frames) == 2, phase
        for side, frame in versus.frames.items():
            play = carts_and_poles(frame)
            assert not versus.card.colliderect(play), (phase, side, versus.card, play)
            band = app.surface.subsurface(play)  # and the black cart shows there
            assert (pygame.surfarray.array3d(band).max(axis=-1) < 30).any(), (phase, side)
    let_go(app, pygame.K_LEFT)
