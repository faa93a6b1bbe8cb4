"""The window's second pass, through real pygame events: nothing lost (a question before unsaved
training is replaced, keys pressed while a session is busy, unsaved training kept on SIGTERM)
and nothing false on screen (busy is said, the agent's record apart from a person's games,
PQN's Teach and its demo share, env steps/s, friendly names for the agents loaded)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pygame
import pytest

from agent.live import agents
from agent.live.channels import Mode
from tests.test_app import click, hold, let_go, post, press, run_until, tick, train_a_little
from ui.shortcuts import Act

ROOT = Path(__file__).resolve().parent.parent


def _with_shipped(tmp_path: Path, game: str) -> Path:
    (tmp_path / "saves").mkdir(exist_ok=True)
    return Path(shutil.copy(ROOT / "saves" / f"{game}.pt", tmp_path / "saves" / f"{game}.pt"))


def _kept(tmp_path: Path, game: str = "fruit") -> list[Path]:
    return sorted((tmp_path / "saves" / "mine").glob(f"{game}-unsaved-*.pt"))


@pytest.mark.slow
def test_replacing_unsaved_training_asks_save_discard_or_cancel(make_app, tmp_path):
    shipped = _with_shipped(tmp_path, "fruit")
    app = make_app("fruit", start_mode=Mode.TRAIN)
    train_a_little(app)
    screen, controls = app.arcade, app.arcade.controls

    click(app, controls.new_agent.rect.center)
    assert screen.replace_dialog is not None and not screen.guard.asking
    assert "a new agent" in screen.replace_dialog.window.window_display_title
    assert "Fruit catch" in screen.replace_dialog.labels[1].text
    assert "saves/mine/" in screen.replace_dialog.labels[2].text
    press(app, pygame.K_ESCAPE)  # Cancel: nothing happens
    assert screen.replace_dialog is None and "not replaced" in screen.message
    kept = run_until(app, lambda s: s.training.unsaved_updates > 0)
    assert kept.training.agent_source.startswith("trained here")

    click(app, controls.new_agent.rect.center)
    press(app, pygame.K_d)  # Discard: replaced, a copy kept in the window's saves/mine/
    fresh = run_until(app, lambda s: s.message.text.startswith("a new agent"))
    assert (
        fresh.training.unsaved_updates == 0 and "unsaved training is kept in" in fresh.message.text
    )
    assert len(_kept(tmp_path)) == 1  # in the window's saves folder, not the repo's

    run_until(app, lambda s: s.training.unsaved_updates > 0, timeout=60)
    controls.set_save_name("before shipped")
    click(app, controls.shipped_agent.rect.center)
    assert "Shipped agent" in screen.replace_dialog.window.window_display_title
    press(app, pygame.K_s)  # Save: saved under the save box's name, then replaced
    back = run_until(app, lambda s: s.training.agent_source.startswith("Shipped agent"))
    assert (tmp_path / "saves" / "mine" / "fruit-before-shipped.pt").is_file()
    assert len(_kept(tmp_path)) == 1  # saved first: nothing left to keep
    assert back.training.unsaved_updates == 0

    run_until(app, lambda s: s.training.unsaved_updates > 0, timeout=60)
    post(pygame.DROPFILE, file=str(shipped))  # a dropped file asks the same
    tick(app, 2)
    assert screen.replace_dialog is not None
    press(app, pygame.K_ESCAPE)
    assert screen.replace_dialog is None


@pytest.mark.slow
def test_a_busy_session_says_so_and_keeps_the_keys_pressed_meanwhile(make_app, monkeypatch):
    built = agents.LiveAgent.trainer

    def slow_trainer(self):
        if self.trainer_built is None:
            time.sleep(2.0)  # a trainer that takes a while to build (Breakout's, a big memory)
        return built(self)

    monkeypatch.setattr(agents.LiveAgent, "trainer", slow_trainer)
    app = make_app("fruit", start_mode=Mode.AGENT)
    run_until(app, lambda s: s.ready and s.picture.frame is not None)
    press(app, pygame.K_t)
    busy = run_until(app, lambda s: bool(s.busy), timeout=5)
    assert not busy.ready and busy.busy.startswith("preparing training")
    assert app.arcade.status_text.startswith("busy: preparing training")
    assert app.arcade.q_panel.source.startswith("busy: preparing training")
    assert "untrained" not in app.arcade.status_text
    hold(app, pygame.K_LEFT)  # while it is busy: a takeover once it is ready
    press(app, pygame.K_f)  # and faster
    assert app.arcade.snapshot.busy  # all of it sent while the session was busy
    taken = run_until(app, lambda s: s.ready and s.control.controller == "human", timeout=10)
    assert taken.mode is Mode.TRAIN and taken.speed == 2.0
    assert not app.arcade.status_text.startswith("busy")
    let_go(app, pygame.K_LEFT)


@pytest.mark.slow
def test_the_stats_keep_a_persons_games_apart_from_the_agents_record(make_app, tmp_path):
    _with_shipped(tmp_path, "fruit")
    app = make_app("fruit", start_mode=Mode.AGENT)
    run_until(app, lambda s: s.training.agent_source.startswith("Shipped agent"))
    own = run_until(app, lambda s: s.scores.last_return is not None, timeout=30)
    assert app.arcade.stats.note == ""  # no games with a person yet: no note
    hold(app, pygame.K_LEFT)  # take the agent's game over until a game ends
    with_person = run_until(app, lambda s: s.scores.assisted_games >= 1, timeout=30)
    let_go(app, pygame.K_LEFT)
    tick(app, 2)
    note = app.arcade.stats.note
    last = with_person.scores.assisted_last_return
    assert note.startswith("your games with it: 1 game") and f"last {last:.0f}" in note
    cells = dict(app.arcade.stats.cells)
    assert cells["last return"] != "-"  # the agent's own record is still there, apart
    assert own.scores.returns == with_person.scores.returns[: len(own.scores.returns)]


@pytest.mark.slow
def test_breakout_pqn_teaches_without_a_demo_share_and_counts_env_steps(make_app):
    app = make_app("breakout", start_mode=Mode.HUMAN)
    run_until(app, lambda s: s.ready and s.training.learner == "pqn")
    demos = app.arcade.toggles.buttons[Act.DEMO_SHARE]
    assert not demos.is_enabled  # PQN has no replay memory to draw a share from
    post(pygame.MOUSEMOTION, pos=demos.rect.center, rel=(0, 0), buttons=(0, 0, 0))
    tick(app, 2)
    assert "PQN has no replay memory" in app.arcade.status_text  # its reason, on hover
    post(pygame.MOUSEMOTION, pos=(5, 5), rel=(0, 0), buttons=(0, 0, 0))
    press(app, pygame.K_c, mod=pygame.KMOD_LSHIFT)  # Shift+C says why instead
    assert "No demo share" in app.arcade.message and app.arcade.status.error

    press(app, pygame.K_c)  # Teach: the agent learns the person's steps in its rollouts
    run_until(app, lambda s: s.control.teach and s.training.trainer_ready, timeout=60)
    assert "learns each of your steps" in app.arcade.message
    press(app, pygame.K_SPACE)
    hold(app, pygame.K_RIGHT)
    taught = run_until(app, lambda s: s.training.demo_count > 0, timeout=60)
    let_go(app, pygame.K_RIGHT)
    cells = dict(app.arcade.stats.cells)
    assert cells["your steps learned"] != "0" and "demos" not in cells
    assert cells["replay"] == "none (PQN)" and cells["demo share"] == "none (PQN)"
    assert "env steps/s" in cells and "steps/s" not in cells
    assert taught.training.demo_fraction_applies is False


@pytest.mark.slow
def test_loads_name_the_agent_as_the_load_list_does(make_app, tmp_path):
    shipped = _with_shipped(tmp_path, "fruit")
    app = make_app("fruit", start_mode=Mode.AGENT)
    first = run_until(app, lambda s: s.message.text.startswith("loaded"))
    name = "Shipped agent, 24 s of CPU training"  # fruit.pt's info: 24 s on a CPU
    assert first.training.agent_source == name and name in first.message.text
    tick(app, 2)
    assert app.arcade.q_panel.source == name
    assert list(app.arcade.controls._save_paths)[0] == name
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dropped = Path(shutil.copy(shipped, elsewhere / "fruit.pt"))
    post(pygame.DROPFILE, file=str(dropped))  # not the shipped one: named by its file
    tick(app, 2)
    run_until(app, lambda s: s.training.agent_source == "fruit.pt")
    click(app, app.arcade.controls.shipped_agent.rect.center)
    run_until(app, lambda s: s.training.agent_source == name)


SIGTERM_WINDOW = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from agent.live import agents
    from agent.live.channels import Mode
    from tests.support import SMALL
    from ui.app import App
    from ui.shortcuts import Act, Intent

    if {slow_keep!r}:
        agents.LiveAgent.keep_unsaved = lambda self, folder: time.sleep(60)
    saves = Path(sys.argv[1])
    app = App("fruit", "cpu", saves_dir=saves, recordings_dir=saves.parent / "rec",
              overrides=SMALL, start_mode=Mode.TRAIN)
    app.arcade.perform(Intent(Act.SPEED, 4))
    deadline = time.monotonic() + 120
    while app.arcade.snapshot.training.unsaved_updates == 0 and time.monotonic() < deadline:
        app.tick()
        time.sleep(0.01)
    print("unsaved", flush=True)
    sys.exit(app.run())
    """
)


def _window_in_a_subprocess(tmp_path: Path, slow_keep: bool) -> subprocess.Popen:
    script = tmp_path / "window.py"
    script.write_text(SIGTERM_WINDOW.format(root=str(ROOT), slow_keep=slow_keep))
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    window = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "saves")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert window.stdout is not None
    assert window.stdout.readline().strip() == "unsaved"
    time.sleep(0.3)  # the loop of run() has started
    return window


@pytest.mark.slow
def test_sigterm_keeps_unsaved_training_says_where_and_exits_0(tmp_path):
    window = _window_in_a_subprocess(tmp_path, slow_keep=False)
    window.send_signal(signal.SIGTERM)  # SDL would make it a close event: the quit dialog
    try:
        _, stderr = window.communicate(timeout=40)
    finally:
        window.kill()
    assert window.returncode == 0, stderr
    kept = _kept(tmp_path)
    assert len(kept) == 1
    lines = [line for line in stderr.splitlines() if "SIGTERM" in line]
    assert len(lines) == 1 and "unsaved training is kept in" in lines[0]
    assert kept[0].name in lines[0]


@pytest.mark.slow
def test_a_second_sigterm_quits_at_once(tmp_path):
    window = _window_in_a_subprocess(tmp_path, slow_keep=True)  # keeping takes a minute
    window.send_signal(signal.SIGTERM)
    time.sleep(1.0)
    start = time.monotonic()
    window.send_signal(signal.SIGTERM)
    try:
        window.communicate(timeout=20)
    finally:
        window.kill()
    assert window.returncode == 128 + signal.SIGTERM
    assert time.monotonic() - start < 5
