"""The window, headless: every game in every mode draws; the controls work when clicked with
real pygame events; save, load and record leave the right files; a long random stream of input
neither raises nor hangs."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pygame
import pytest
import torch

from agent.checkpoint import load_into, read_checkpoint
from agent.config import load_config
from agent.dqn import DQNLearner
from agent.live.channels import FAST, Mode, Snapshot
from game.registry import GAMES
from tests.support import SMALL
from ui import theme
from ui.app import MIN_SIZE, App, PointerManager
from ui.layout import CURVE_MIN_H
from ui.saves import checkpoint_path
from ui.scoreboard import countdown_label
from ui.top_bar import STATUS_BAR, TOP_BAR

ROOT = Path(__file__).resolve().parent.parent
MODE_KEYS = {
    Mode.HUMAN: pygame.K_h,
    Mode.AGENT: pygame.K_g,
    Mode.TRAIN: pygame.K_t,
    Mode.VERSUS: pygame.K_v,
}
GAME_KEYS = {"fruit": pygame.K_1, "cartpole": pygame.K_2, "breakout": pygame.K_3}


def post(event_type: int, **attrs) -> None:
    pygame.event.post(pygame.event.Event(event_type, **attrs))


def tick(app: App, times: int = 1) -> None:
    for _ in range(times):
        assert app.tick(), "the window closed"
        time.sleep(0.004)


def run_until(app: App, predicate: Callable[[Snapshot], bool], timeout: float = 30.0) -> Snapshot:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tick(app)
        if predicate(app.arcade.snapshot):
            return app.arcade.snapshot
    snapshot = app.arcade.snapshot
    raise AssertionError(
        f"timed out: {snapshot.game} {snapshot.mode} step "
        f"{snapshot.training.global_step} paused {snapshot.paused} {app.arcade.message!r}"
    )


def press(app: App, key: int, unicode: str = "", mod: int = 0) -> None:
    post(pygame.KEYDOWN, key=key, mod=mod, unicode=unicode, scancode=0)
    post(pygame.KEYUP, key=key, mod=mod, unicode=unicode, scancode=0)
    tick(app, 2)


def click(app: App, pos: tuple[int, int]) -> None:
    """Move there, press and release the left button, as a person's mouse would."""
    post(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0))
    tick(app)
    post(pygame.MOUSEBUTTONDOWN, pos=pos, button=1)
    tick(app)
    post(pygame.MOUSEBUTTONUP, pos=pos, button=1)
    tick(app, 3)  # the widget's own event arrives on the next pass


@pytest.mark.slow
def test_every_game_in_every_mode_draws(make_app):
    app = make_app()
    for game, game_key in GAME_KEYS.items():
        press(app, game_key)
        for mode, mode_key in MODE_KEYS.items():
            press(app, mode_key)
            run_until(
                app,
                lambda s, g=game, m=mode: s.game == g
                and s.mode is m
                and s.ready
                and s.picture.frame is not None,
            )
            tick(app, 3)
            view = app.arcade.rects["view"]
            points = [view.center]
            if mode is Mode.VERSUS:  # two games side by side, the gap between them in the middle
                points = [(view.x + view.width // 4, view.centery), (view.right - 60, view.centery)]
            for point in points:
                assert app.surface.get_at(point)[:3] != theme.CARD  # the frame is there
            assert app.arcade.snapshot.picture.serial > 0


def drag_left(app: App, slider, *, real_pointer: bool) -> None:
    """Drag ``slider``'s grip to its left end with posted events; with ``real_pointer`` the
    system pointer moves along, as under a person's hand."""
    grip = slider.sliding_button.rect.center
    post(pygame.MOUSEMOTION, pos=grip, rel=(0, 0), buttons=(0, 0, 0))
    tick(app)
    post(pygame.MOUSEBUTTONDOWN, pos=grip, button=1)
    tick(app)
    for x in range(grip[0], slider.rect.x - 5, -10):
        if real_pointer:
            pygame.mouse.set_pos((x, grip[1]))
        post(pygame.MOUSEMOTION, pos=(x, grip[1]), rel=(-10, 0), buttons=(1, 0, 0))
        tick(app)
    post(pygame.MOUSEBUTTONUP, pos=(slider.rect.x - 5, grip[1]), button=1)
    tick(app, 3)


def test_widgets_follow_the_real_mouse_if_pygame_gui_drops_the_pointer_hook(make_app, monkeypatch):
    # A pygame_gui release without the private hook PointerManager overrides: the manager's own
    # pointer reading (pygame.mouse) is all that runs.
    monkeypatch.delattr(PointerManager, "_update_mouse_position")
    app = make_app()
    click(app, app.arcade.top.mode_buttons[Mode.TRAIN].rect.center)  # clicks carry their place
    run_until(app, lambda s: s.mode is Mode.TRAIN and s.ready)
    slider = app.arcade.controls.epsilon
    pygame.mouse.set_pos((5, 5))
    drag_left(app, slider, real_pointer=False)  # posted moves alone no longer drag
    assert slider.get_current_value() > 0.9  # (it follows the schedule, still near 1)
    drag_left(app, slider, real_pointer=True)  # a person's drag still does
    run_until(app, lambda s: s.training.epsilon_overridden and s.training.epsilon < 0.05)


@pytest.mark.slow
def test_clicking_train_pause_and_step(make_app):
    app = make_app()
    top, controls = app.arcade.top, app.arcade.controls
    click(app, top.mode_buttons[Mode.TRAIN].rect.center)
    run_until(app, lambda s: s.mode is Mode.TRAIN and s.training.global_step > 0)
    click(app, controls.pause.rect.center)
    paused = run_until(app, lambda s: s.paused)
    tick(app, 5)
    step = app.arcade.snapshot.training.global_step
    assert step in (paused.training.global_step, paused.training.global_step + 1)
    click(app, controls.step.rect.center)
    run_until(app, lambda s: s.training.global_step == step + 1)
    click(app, controls.step.rect.center)
    run_until(app, lambda s: s.training.global_step == step + 2)
    assert controls.pause.text == "Resume"
    click(app, controls.pause.rect.center)
    run_until(app, lambda s: not s.paused and s.training.global_step > step + 2)


@pytest.mark.slow
def test_dragging_the_epsilon_slider_sets_epsilon_and_schedule_hands_it_back(make_app):
    app = make_app()
    press(app, pygame.K_t)
    run_until(app, lambda s: s.mode is Mode.TRAIN and s.ready)
    drag_left(app, app.arcade.controls.epsilon, real_pointer=False)  # all the way: epsilon 0
    snapshot = run_until(app, lambda s: s.training.epsilon_overridden and s.training.epsilon < 0.05)
    assert snapshot.training.scheduled_epsilon > 0.5  # the schedule itself is untouched
    click(app, app.arcade.controls.schedule.rect.center)
    snapshot = run_until(app, lambda s: not s.training.epsilon_overridden)
    assert snapshot.training.epsilon == pytest.approx(snapshot.training.scheduled_epsilon)
    press(app, pygame.K_RIGHTBRACKET)
    assert run_until(app, lambda s: s.training.epsilon_overridden).training.epsilon <= 1.0


@pytest.mark.slow
def test_save_writes_a_loadable_file_and_load_restores_it(make_app, tmp_path: Path):
    app = make_app()
    press(app, pygame.K_t)
    for _ in range(4):
        press(app, pygame.K_f)  # watch -> 2x -> 4x -> 8x -> fast
    assert app.arcade.dispatcher.speed_index == 4
    run_until(app, lambda s: s.speed == FAST and s.training.updates > 5)
    click(app, app.arcade.controls.pause.rect.center)
    run_until(app, lambda s: s.paused)
    app.arcade.controls.name.set_text("my agent")
    click(app, app.arcade.controls.save.rect.center)
    saved = run_until(app, lambda s: s.message.text.startswith("saved"))
    path = checkpoint_path(tmp_path / "saves", "fruit", "my agent")
    assert path.is_file() and app.arcade.message.endswith("fruit-my-agent.pt")
    assert read_checkpoint(path)["counters"]["global_step"] == saved.training.global_step
    learner = DQNLearner(
        (1, 15, 15), 3, load_config("fruit", overrides=SMALL["fruit"]), torch.device("cpu")
    )
    load_into(path, "fruit", learner)  # loadable by the engine itself

    press(app, pygame.K_p)
    run_until(app, lambda s: s.training.global_step > saved.training.global_step + 20)
    press(app, pygame.K_p)
    run_until(app, lambda s: s.paused)
    tick(app, 3)
    assert app.arcade.controls.selected_save() == path  # the list was refreshed
    click(app, app.arcade.controls.load.rect.center)
    assert app.arcade.replace_dialog is not None  # 20 steps learned since the save: asked
    press(app, pygame.K_d)
    loaded = run_until(app, lambda s: s.message.text.startswith("loaded"))
    assert loaded.training.global_step == saved.training.global_step

    junk = tmp_path / "saves" / "fruit-junk.pt"
    junk.write_bytes(b"\x00garbage")
    app.arcade.controls.set_saves([junk, path], "fruit-junk.pt")
    press(app, pygame.K_l)
    run_until(app, lambda s: "fruit-junk.pt" in s.message.text)
    assert app.arcade.status.error and app.running


@pytest.mark.slow
def test_recording_writes_one_gif_frame_per_step(make_app, tmp_path: Path):
    app = make_app()
    run_until(app, lambda s: s.ready and s.picture.frame is not None)
    press(app, pygame.K_p)
    run_until(app, lambda s: s.paused)
    click(app, app.arcade.controls.record.rect.center)
    desk = app.arcade.dispatcher
    run_until(app, lambda s: desk.recording is not None and desk.recording.frames == 1)
    for count in range(2, 5):
        press(app, pygame.K_n)
        run_until(app, lambda s, c=count: desk.recording.frames == c)
    press(app, pygame.K_r)
    assert desk.recording is None and "(4 frames)" in app.arcade.message
    gifs = list((tmp_path / "recordings").glob("fruit-agent-*.gif"))
    assert len(gifs) == 1
    frames = imageio.mimread(gifs[0])
    assert len(frames) == 4
    assert frames[0].shape[:2] == (480, 480 + 320)  # the frame at 2x, the Q-values beside it

    press(app, pygame.K_q)  # without the Q-value panel this time
    press(app, pygame.K_r)
    press(app, pygame.K_n)
    run_until(app, lambda s: desk.recording.frames == 2)
    press(app, pygame.K_r)
    newest = max((tmp_path / "recordings").glob("*.gif"), key=lambda p: p.stat().st_mtime_ns)
    assert imageio.mimread(newest)[0].shape[:2] == (480, 480)


@pytest.mark.slow
def test_help_overlay_opens_and_closes(make_app):
    app = make_app()
    press(app, pygame.K_F1)
    assert app.screen_name == "help"
    tick(app, 3)
    press(app, pygame.K_SLASH, unicode="?", mod=pygame.KMOD_LSHIFT)
    assert app.screen_name == "arcade"
    click(app, app.arcade.top.help_button.rect.center)
    assert app.screen_name == "help"
    click(app, (5, 5))
    assert app.screen_name == "arcade"


def assert_whole(app: App) -> None:
    """Every card on screen, none over another or the bars, every widget inside its card, and
    a learning curve tall enough to read."""
    width, height = app.surface.get_size()
    body = pygame.Rect(0, TOP_BAR, width, height - TOP_BAR - STATUS_BAR)
    rects = app.arcade.rects
    for name, rect in rects.items():
        assert body.contains(rect), (name, rect, body)
    names = list(rects)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            assert not rects[first].colliderect(rects[second]), (first, second)
    assert rects["curve"].height >= CURVE_MIN_H
    for widget in app.arcade.controls.widgets:
        assert rects["controls"].contains(widget.rect), widget
    for widget in app.arcade.toggles.widgets:
        assert rects["toggles"].contains(widget.rect), widget
        label = theme.text_surface(widget.text, "bold", 14, theme.TEXT).get_width()
        assert label + 8 <= widget.rect.width, widget.text  # no label cut off
    buttons = [*app.arcade.top.game_buttons.values(), *app.arcade.top.mode_buttons.values()]
    for button in [*buttons, app.arcade.top.help_button]:
        assert button.rect.x >= 0 and button.rect.right <= width


@pytest.mark.slow
def test_resizing_lays_everything_out_again_and_never_below_the_minimum(make_app):
    app = make_app()
    for size in ((1000, 660), (1600, 1000), (400, 300), (979, 900), (1240, 760), MIN_SIZE):
        post(pygame.VIDEORESIZE, w=size[0], h=size[1], size=size)
        tick(app, 2)
        expected = (max(size[0], MIN_SIZE[0]), max(size[1], MIN_SIZE[1]))
        assert app.surface.get_size() == expected  # grown back: the minimum is enforced
        for game_key in GAME_KEYS.values():
            press(app, game_key)
            for _ in range(2):
                press(app, pygame.K_w)  # with and without the agent's view
                assert_whole(app)


@pytest.mark.slow
def test_escape_closes_the_help_a_text_box_and_a_list_before_it_quits(make_app):
    app = make_app()
    run_until(app, lambda s: s.ready)
    press(app, pygame.K_F1)
    assert app.screen_name == "help"
    press(app, pygame.K_ESCAPE)
    assert app.screen_name == "arcade" and app.running

    controls = app.arcade.controls
    click(app, controls.name.rect.center)
    assert controls.typing
    press(app, pygame.K_ESCAPE)
    assert not controls.typing and app.running

    click(app, controls.saves.rect.center)
    assert controls.menu_open
    press(app, pygame.K_ESCAPE)
    assert not controls.menu_open and app.running

    assert app.arcade.snapshot.training.updates == 0  # nothing learned: no question, quits at once
    post(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, unicode="\x1b", scancode=0)
    assert not app.tick()


def train_a_little(app: App) -> Snapshot:
    press(app, pygame.K_t)
    for _ in range(4):
        press(app, pygame.K_f)
    return run_until(app, lambda s: s.training.updates > 0)


@pytest.mark.slow
def test_quitting_with_unsaved_training_asks_once_and_discard_quits_at_once(make_app):
    app = make_app()
    train_a_little(app)
    press(app, pygame.K_ESCAPE)
    guard = app.arcade.guard
    assert guard.asking and app.running
    assert "Fruit catch" in guard.dialog.labels[1].text
    press(app, pygame.K_ESCAPE)  # Esc in the dialog: Cancel
    assert not guard.asking and app.running
    press(app, pygame.K_1)  # the window works as before
    post(pygame.QUIT)  # the window's close button asks too
    tick(app, 2)
    assert guard.asking and app.running
    post(pygame.QUIT)  # asked once: a second close waits for the answer
    tick(app, 2)
    assert guard.asking and app.running
    click(app, guard.dialog.buttons["cancel"].rect.center)
    assert not guard.asking
    press(app, pygame.K_ESCAPE)
    post(pygame.KEYDOWN, key=pygame.K_d, mod=0, unicode="d", scancode=0)
    assert not app.tick()
    began = time.monotonic()
    app.close()
    assert time.monotonic() - began < 1.5
    assert not any(s.alive for s in app.pool.sessions.values())
    assert not list(app.arcade.dispatcher.saves_dir.rglob("*.pt"))  # nothing was saved


@pytest.mark.slow
def test_save_in_the_quit_dialog_saves_each_agent_that_learned_then_quits(make_app, tmp_path):
    app = make_app()
    train_a_little(app)
    press(app, pygame.K_3)  # Breakout: opened, but its agent has learned nothing
    run_until(app, lambda s: s.game == "breakout" and s.ready)
    press(app, pygame.K_ESCAPE)
    guard = app.arcade.guard
    assert guard.asking and "Breakout" not in guard.dialog.labels[1].text
    # Clicked by hand: the window may close within the click's own frames once saved.
    where = guard.dialog.buttons["save"].rect.center
    post(pygame.MOUSEMOTION, pos=where, rel=(0, 0), buttons=(0, 0, 0))
    tick(app)
    post(pygame.MOUSEBUTTONDOWN, pos=where, button=1)
    tick(app)
    post(pygame.MOUSEBUTTONUP, pos=where, button=1)
    deadline = time.monotonic() + 30
    while app.tick():
        assert time.monotonic() < deadline, "the saves never finished"
        time.sleep(0.004)
    saved = list((tmp_path / "saves").rglob("*.pt"))
    assert [p.name.split("-")[0] for p in saved] == ["fruit"]
    assert read_checkpoint(saved[0])["counters"]["updates"] > 0


@pytest.mark.slow
def test_after_a_save_with_nothing_learned_since_esc_quits_at_once(make_app):
    app = make_app()
    train_a_little(app)
    press(app, pygame.K_p)
    run_until(app, lambda s: s.paused)
    press(app, pygame.K_s)
    run_until(app, lambda s: s.message.text.startswith("saved"))
    tick(app, 2)
    post(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, unicode="\x1b", scancode=0)
    assert not app.tick()


@pytest.mark.slow
def test_a_long_random_stream_of_input_neither_raises_nor_hangs(make_app):
    app = make_app()
    rng = random.Random(7)
    keys = [
        pygame.K_1,
        pygame.K_2,
        pygame.K_3,
        pygame.K_h,
        pygame.K_g,
        pygame.K_t,
        pygame.K_v,
        pygame.K_w,
        pygame.K_o,
        pygame.K_c,
        pygame.K_p,
        pygame.K_n,
        pygame.K_f,
        pygame.K_e,
        pygame.K_l,
        pygame.K_r,
        pygame.K_q,
        pygame.K_LEFTBRACKET,
        pygame.K_RIGHTBRACKET,
        pygame.K_F1,
        pygame.K_LEFT,
        pygame.K_RIGHT,
        pygame.K_UP,
        pygame.K_SPACE,
        pygame.K_a,
        pygame.K_d,
        pygame.K_x,
        pygame.K_RETURN,
        pygame.K_BACKSPACE,
        pygame.K_TAB,
    ]
    worst = 0.0
    events = 0
    seen: set[tuple[str, str]] = set()
    while events < 1000:
        width, height = app.surface.get_size()
        pos = (rng.randrange(width), rng.randrange(height))
        kind = rng.random()
        if kind < 0.40:
            key = rng.choice(keys)
            shift = pygame.KMOD_LSHIFT if rng.random() < 0.1 else 0
            post(pygame.KEYDOWN, key=key, mod=shift, unicode=pygame.key.name(key)[:1], scancode=0)
            if rng.random() < 0.8:
                post(pygame.KEYUP, key=key, mod=shift, unicode="", scancode=0)
            events += 2
        elif kind < 0.75:
            post(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0))
            post(pygame.MOUSEBUTTONDOWN, pos=pos, button=rng.choice((1, 1, 1, 3)))
            post(pygame.MOUSEBUTTONUP, pos=pos, button=1)
            events += 3
        elif kind < 0.90:
            post(pygame.MOUSEBUTTONDOWN, pos=pos, button=1)
            x, y = pos
            for _ in range(4):
                x, y = x + rng.randint(-80, 80), y + rng.randint(-30, 30)
                post(pygame.MOUSEMOTION, pos=(x, y), rel=(0, 0), buttons=(1, 0, 0))
            post(pygame.MOUSEBUTTONUP, pos=(x, y), button=1)
            events += 6
        elif kind < 0.95:
            post(
                pygame.MOUSEWHEEL,
                x=0,
                y=rng.choice((-1, 1)),
                flipped=False,
                precise_x=0.0,
                precise_y=0.0,
                touch=False,
            )
            post(pygame.TEXTINPUT, text=rng.choice("abc?[] 1"))
            events += 2
        else:
            size = (rng.randint(300, 1700), rng.randint(250, 1100))
            post(pygame.VIDEORESIZE, w=size[0], h=size[1], size=size)
            events += 1
        began = time.perf_counter()
        assert app.tick()
        worst = max(worst, time.perf_counter() - began)
        seen.add((app.arcade.dispatcher.game_key, app.arcade.dispatcher.mode.value))
    tick(app, 10)
    assert {game for game, _ in seen} == set(GAMES) and len(seen) >= 7  # it went everywhere
    assert {mode for _, mode in seen} == {mode.value for mode in Mode}
    assert app.running and all(s.alive for s in app.pool.sessions.values())
    assert worst < 2.0, f"a frame took {worst:.2f} s"


@pytest.mark.skipif(sys.platform != "linux", reason="elsewhere SDL finds a real display")
@pytest.mark.slow
def test_without_a_display_it_says_so_in_one_line_and_exits_1():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")
    }
    code = "import sys; from ui.app import run_app; sys.exit(run_app())"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0, done.stderr  # one line, nothing from SDL
    assert "cannot open the window" in done.stderr and "no display" in done.stderr


def hold(app: App, key: int) -> None:
    post(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0)
    tick(app, 2)


def let_go(app: App, key: int) -> None:
    post(pygame.KEYUP, key=key, mod=0, unicode="", scancode=0)
    tick(app, 2)


@pytest.mark.slow
def test_a_versus_round_through_the_window_ends_with_a_summary_and_the_tally(make_app):
    app = make_app()
    press(app, pygame.K_v)
    ready = run_until(app, lambda s: s.mode is Mode.VERSUS and s.versus is not None)
    assert ready.versus.phase == "ready" and ready.versus.human_frame is not None
    action = app.arcade.toggles.action
    assert action.is_enabled and "Start round" in action.text
    hold(app, pygame.K_RIGHT)  # the person plays while the round runs
    press(app, pygame.K_RETURN)
    playing = run_until(app, lambda s: s.versus.phase == "playing" and s.decision.q_values != ())
    assert len(playing.decision.q_values) == 3  # the agent's Q-values stay live
    over = run_until(app, lambda s: s.versus.phase == "over", timeout=20)
    let_go(app, pygame.K_RIGHT)
    result = over.versus.last_result
    assert result is not None and over.versus.tally.rounds == 1
    assert {result.human_score, result.agent_score} <= {-1.0, 1.0}
    assert over.versus.human_score == result.human_score
    tick(app, 3)
    assert "Next round" in action.text and action.is_enabled
    click(app, action.rect.center)  # the button does what Enter does
    run_until(app, lambda s: s.versus.round == 2 and s.versus.phase == "playing")
    press(app, pygame.K_RETURN)  # ignored while a round runs
    assert app.arcade.snapshot.versus.round == 2


@pytest.mark.slow
def test_a_takeover_through_the_window_hands_back_when_idle_and_on_backspace(make_app):
    app = make_app(takeover_idle_s=0.4)
    run_until(app, lambda s: s.ready and s.mode is Mode.AGENT)
    hold(app, pygame.K_LEFT)
    taken = run_until(app, lambda s: s.control.controller == "human" and s.decision.action == 0)
    assert taken.control.hand_back_in is not None
    assert app.arcade.toggles.action.is_enabled  # Hand back
    let_go(app, pygame.K_LEFT)
    run_until(app, lambda s: s.control.controller == "agent", timeout=5)
    hold(app, pygame.K_d)
    run_until(app, lambda s: s.control.controller == "human" and s.decision.action == 2)
    press(app, pygame.K_BACKSPACE)
    back = run_until(app, lambda s: s.control.controller == "agent", timeout=5)
    assert back.control.hand_back_in is None
    let_go(app, pygame.K_d)


@pytest.mark.slow
def test_teaching_through_the_window_stores_demonstrations(make_app):
    app = make_app()
    press(app, pygame.K_h)
    press(app, pygame.K_c)
    run_until(app, lambda s: s.mode is Mode.HUMAN and s.control.teach)
    hold(app, pygame.K_RIGHT)
    taught = run_until(app, lambda s: s.training.demo_count >= 3 and s.decision.action == 2)
    let_go(app, pygame.K_RIGHT)
    assert taught.training.replay_size >= 3 and taught.training.global_step >= 3
    click(app, app.arcade.toggles.buttons["demo_share"].rect.center)
    run_until(app, lambda s: s.training.demo_fraction == 0.25)
    press(app, pygame.K_c, mod=pygame.KMOD_LSHIFT)
    run_until(app, lambda s: s.training.demo_fraction == 0.0)


@pytest.mark.slow
def test_the_agents_view_and_the_saliency_overlay_draw_for_every_game(make_app):
    app = make_app()
    press(app, pygame.K_w)
    press(app, pygame.K_o)
    assert "agent_view" in app.arcade.rects
    for game, key in GAME_KEYS.items():
        press(app, key)
        shown = run_until(
            app,
            lambda s, g=game: s.game == g
            and s.picture.saliency is not None
            and s.picture.obs is not None,
        )
        assert shown.picture.saliency.shape == (
            shown.picture.obs.shape[1:] if shown.picture.obs.ndim == 3 else (4,)
        )
        tick(app, 2)
        card = app.arcade.rects["agent_view"]
        body = pygame.Rect(card.x + 20, card.y + 60, card.width - 40, 60)
        colours = {
            tuple(app.surface.get_at((x, y)))[:3]
            for x in range(body.x, body.right, 3)
            for y in range(body.y, body.bottom, 6)
        }
        assert len(colours) > 3, game  # tiles, cells or bars, not an empty card
    press(app, pygame.K_w)
    assert "agent_view" not in app.arcade.rects
    tick(app, 3)  # CartPole's numbers then lie over its picture


def frames_over(app: App, seconds: float) -> list:
    """The frames the window shows for ``seconds``, one per new frame."""
    frames, serial = [], -1
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        tick(app)
        shot = app.arcade.snapshot
        if shot.picture.serial != serial and shot.picture.frame is not None:
            frames.append(shot.picture.frame)
            serial = shot.picture.serial
    return frames


@pytest.mark.slow
def test_in_human_breakout_the_ball_waits_for_space(make_app):
    app = make_app("breakout", start_mode=Mode.HUMAN)
    run_until(app, lambda s: s.ready and s.picture.frame is not None and s.pace_hz == 60)
    waiting = frames_over(app, 1.5)
    assert len(waiting) > 20
    assert all(np.array_equal(frame, waiting[-1]) for frame in waiting[1:])  # nothing moves
    press(app, pygame.K_SPACE)  # serve
    served = frames_over(app, 1.5)
    assert sum(not np.array_equal(a, b) for a, b in zip(served, served[1:], strict=False)) > 10


@pytest.mark.slow
def test_human_cartpole_counts_down_between_episodes_and_shows_the_time_balanced(make_app):
    app = make_app("cartpole", start_mode=Mode.HUMAN)
    board = app.arcade.dispatcher.games["cartpole"].board
    run_until(app, lambda s: s.ready and s.scores.episode_return > 0)  # the first starts at once
    assert app.arcade.snapshot.pace_hz == 50.0
    for episode in (1, 2):
        fell = run_until(
            app, lambda s, e=episode: s.scores.human_episode == e, timeout=30
        )  # no key
        last = fell.scores.human_last_return
        assert last is not None and board.human_best == max(last, board.human_best)
        best = board.human_best
        began = time.monotonic()
        labels = set()
        while (
            app.arcade.snapshot.scores.episode_return == 0
        ):  # the game stands still, counting down
            tick(app)
            left = board.countdown_left()
            labels.add(countdown_label(left) if left is not None else None)
            if left is not None and left < 2.5:
                shown = board.header_fields(app.arcade.snapshot)
                assert shown == [("balanced", "0.0 s"), ("best", f"{best / 50:.1f} s")]
            assert time.monotonic() - began < 8, "the countdown never ended"
        waited = time.monotonic() - began
        assert 2.6 < waited < 6.0  # three seconds of steps at 50 Hz (later on a busy machine)
        assert {"3", "2", "1"} <= labels
        tick(app, 2)
        playing = app.arcade.snapshot
        assert board.countdown_left() is None
        assert board.header_fields(playing)[0] == (
            "balanced",
            f"{playing.scores.episode_return / 50:.1f} s",
        )


@pytest.mark.slow
def test_fruit_catch_counts_catches_and_misses_since_the_game_was_opened(make_app):
    app = make_app(start_mode=Mode.HUMAN)
    board = app.arcade.dispatcher.games["fruit"].board
    returns: dict[int, float] = {}
    hold(app, pygame.K_LEFT)  # a person who only walks left catches some and misses some
    while len(returns) < 3:
        tick(app)
        shot = app.arcade.snapshot
        if shot.scores.human_episode and shot.scores.human_last_return is not None:
            returns[shot.scores.human_episode] = shot.scores.human_last_return
    let_go(app, pygame.K_LEFT)
    caught = sum(r > 0 for r in returns.values())
    assert (board.human.caught, board.human.missed) == (caught, 3 - caught)
    fields = board.header_fields(app.arcade.snapshot)
    assert fields == [("caught", str(caught)), ("missed", str(3 - caught))]  # not per fruit

    press(app, pygame.K_g)  # the agent, flat out: many fruits between two looks
    for _ in range(4):
        press(app, pygame.K_f)
    shot = run_until(app, lambda s: s.mode is Mode.AGENT and s.training.episode > 400, timeout=60)
    press(app, pygame.K_p)
    shot = run_until(app, lambda s: s.paused)
    tick(app, 2)
    shot = app.arcade.snapshot
    assert board.agent.episodes == shot.training.episode  # every one since the game was opened
    assert board.agent.caught == sum(r > 0 for r in shot.scores.returns)
    assert board.header_fields(shot)[0] == ("agent caught", f"{board.agent.caught:,}")
    assert board.human.episodes == 3  # the person's stay theirs


@pytest.mark.slow
def test_in_versus_a_person_whose_game_is_over_can_end_the_round_with_enter(make_app, tmp_path):
    (tmp_path / "saves").mkdir()
    shutil.copy(ROOT / "saves" / "cartpole.pt", tmp_path / "saves" / "cartpole.pt")
    app = make_app("cartpole", start_mode=Mode.VERSUS)
    run_until(app, lambda s: s.message.text.startswith("loaded") and s.versus is not None)
    hold(app, pygame.K_LEFT)  # the person only pushes left: the pole falls at once
    press(app, pygame.K_RETURN)
    out = run_until(app, lambda s: s.versus.human_done, timeout=20)
    let_go(app, pygame.K_LEFT)
    assert out.versus.phase == "playing" and not out.versus.agent_done
    tick(app, 3)
    action = app.arcade.toggles.action
    assert "End round" in action.text and action.is_enabled
    later = run_until(app, lambda s: s.versus.agent_steps > out.versus.agent_steps + 20)
    assert later.versus.phase == "playing"  # the agent plays on while the person watches
    press(app, pygame.K_RETURN)
    over = run_until(app, lambda s: s.versus.phase == "over", timeout=5)
    result = over.versus.last_result
    assert result is not None and result.winner == "agent"
    assert over.versus.tally.agent == 1 and not over.versus.agent_done  # ended early


def orange_pixels(surface: pygame.Surface, rect: pygame.Rect) -> int:
    pixels = pygame.surfarray.pixels3d(surface)
    area = pixels[rect.left : rect.right, rect.top : rect.bottom]
    return int(np.all(area == np.array(theme.ORANGE), axis=-1).sum())


@pytest.mark.slow
def test_the_paused_badge_sits_in_the_header_not_over_breakouts_score(make_app):
    app = make_app("breakout")
    run_until(app, lambda s: s.ready and s.picture.frame is not None)
    press(app, pygame.K_p)
    run_until(app, lambda s: s.paused)
    tick(app, 3)
    frame = app.arcade.frame_rect
    view = app.arcade.rects["view"]
    header = pygame.Rect(view.x, view.y, view.width, frame.y - view.y)
    assert orange_pixels(app.surface, frame) == 0  # the score digits stay clear
    assert orange_pixels(app.surface, header) > 50  # the badge is there, above
