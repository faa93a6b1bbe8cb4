"""The window reopens where the user left it; a settings file it cannot use is set aside with
one line, never a crash."""

from __future__ import annotations

import json

import pygame
import pytest

from agent.live.channels import Mode
from tests.test_app import press, run_until
from ui.settings import WindowSettings, load_settings, save_settings


def test_settings_round_trip_and_bad_values_are_left_aside(tmp_path):
    path = tmp_path / "cfg" / "settings.json"
    assert load_settings(path) == (WindowSettings(), None)  # nothing saved yet: no note
    wanted = WindowSettings("breakout", "train", 3, 0.25, (1300, 800), False)
    assert save_settings(wanted, path) is None
    assert load_settings(path) == (wanted, None)
    data = json.loads(path.read_text())
    data.update(game="pong", speed_index=99, epsilon=-1)
    path.write_text(json.dumps(data))
    settings, note = load_settings(path)
    assert settings == WindowSettings("fruit", "train", 0, None, (1300, 800), False)
    assert "epsilon, game, speed_index" in note and "\n" not in note
    path.write_text("{not json")
    settings, note = load_settings(path)
    assert settings == WindowSettings() and "could not be read" in note
    assert path.with_name("settings.json.bad").read_text() == "{not json"  # kept, not lost


def test_a_settings_file_that_cannot_be_written_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")  # a file where the folder should go
    note = save_settings(WindowSettings(), blocker / "settings.json")
    assert note is not None and note.startswith("Settings not saved") and "\n" not in note


@pytest.mark.slow
def test_the_window_opens_where_it_was_left_and_remembers_where_it_is(make_app, tmp_path):
    path = tmp_path / "settings.json"
    start = WindowSettings("cartpole", "human", 2, None, (1100, 700), False)
    app = make_app(settings=start, settings_file=path)
    shot = run_until(app, lambda s: s.ready)
    assert shot.game == "cartpole" and shot.mode is Mode.HUMAN
    assert app.arcade.dispatcher.speed_index == 2 and not app.arcade.dispatcher.with_q
    assert app.surface.get_size() == (1100, 700)
    press(app, pygame.K_3)  # Breakout,
    press(app, pygame.K_g)  # Agent mode,
    press(app, pygame.K_RIGHTBRACKET)  # epsilon up from greedy
    run_until(app, lambda s: s.game == "breakout" and s.training.epsilon_overridden)
    app.close()
    saved, note = load_settings(path)
    assert note is None
    assert (saved.game, saved.mode, saved.speed_index, saved.size) == (
        "breakout",
        "agent",
        2,
        (1100, 700),
    )
    assert saved.epsilon is not None and saved.epsilon > 0
