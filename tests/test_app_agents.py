"""Which agent the window plays, through real clicks: the shipped one by default (its Q-values
beside a person's play too), a new untrained one to train from scratch, and the shipped one
back in one click."""

from __future__ import annotations

import shutil
from pathlib import Path

import pygame
import pytest

from agent.checkpoint import read_checkpoint
from agent.live.channels import Mode
from tests.test_app import click, press, run_until, tick

ROOT = Path(__file__).resolve().parent.parent


def _with_shipped(tmp_path: Path, game: str) -> None:
    (tmp_path / "saves").mkdir(exist_ok=True)
    shutil.copy(ROOT / "saves" / f"{game}.pt", tmp_path / "saves" / f"{game}.pt")


def test_human_mode_shows_the_shipped_agents_opinion(make_app, tmp_path):
    _with_shipped(tmp_path, "cartpole")
    app = make_app("cartpole", start_mode=Mode.HUMAN)
    shot = run_until(app, lambda s: s.message.text.startswith("loaded"))
    assert shot.mode is Mode.HUMAN and shot.training.agent_source.startswith("Shipped agent")
    assert shot.training.global_step > 0  # a trained agent's Q-values, not an untrained network's


@pytest.mark.slow
def test_new_agent_then_shipped_agent_buttons(make_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # unsaved training is kept in saves/mine/ under it
    _with_shipped(tmp_path, "fruit")
    app = make_app("fruit", start_mode=Mode.AGENT)
    shipped = run_until(app, lambda s: s.message.text.startswith("loaded"))
    controls = app.arcade.controls
    click(app, controls.new_agent.rect.center)
    fresh = run_until(app, lambda s: s.message.text.startswith("a new agent"))
    assert fresh.training.agent_source == "untrained" and fresh.training.global_step == 0
    press(app, pygame.K_t)  # Train mode trains the new agent from scratch
    trained = run_until(app, lambda s: s.mode is Mode.TRAIN and s.training.updates > 0, timeout=60)
    assert trained.training.agent_source.startswith("trained here")
    click(app, controls.shipped_agent.rect.center)
    assert app.arcade.replace_dialog is not None  # the new agent has learned: asked first
    press(app, pygame.K_d)  # Discard: the session keeps a copy all the same
    back = run_until(app, lambda s: s.message.text.startswith("loaded"))
    assert back.training.agent_source.startswith("Shipped agent")  # it trains on from where
    assert f"(trained {shipped.training.global_step:,} steps)" in back.message.text
    assert "your unsaved training is kept in saves/mine/fruit-unsaved-" in back.message.text
    assert len(list((tmp_path / "saves" / "mine").glob("fruit-unsaved-*.pt"))) == 1
    tick(app, 2)


@pytest.mark.slow
def test_the_campaign_time_lapse_loads_from_the_list_and_plays(make_app, tmp_path):
    _with_shipped(tmp_path, "breakout")
    shutil.copy(ROOT / "saves" / "breakout-after-1h.pt", tmp_path / "saves")
    app = make_app("breakout", start_mode=Mode.AGENT)
    run_until(app, lambda s: s.message.text.startswith("loaded"))
    listed = list(app.arcade.controls._save_paths)
    hours = round(read_checkpoint(ROOT / "saves" / "breakout.pt")["info"]["train_seconds"] / 3600)
    assert listed == [
        f"Shipped agent, {hours} h of CPU training",  # its own hours, from its file's info
        "Breakout after 1 h of CPU training",
    ]
    app.arcade.controls.set_saves(
        list(app.arcade.controls._save_paths.values()), "Breakout after 1 h of CPU training"
    )
    click(app, app.arcade.controls.load.rect.center)
    shot = run_until(app, lambda s: s.training.agent_source.startswith("Breakout after 1 h"))
    later = run_until(app, lambda s: s.training.env_steps > shot.training.env_steps + 3)
    assert len(later.decision.q_values) == 4 and "error" not in later.message.text


@pytest.mark.slow
def test_replacing_an_agent_with_unsaved_training_asks_first(make_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the window's saves/mine/ is under it: named relative to it
    app = make_app("fruit", start_mode=Mode.TRAIN)
    press(app, pygame.K_f)
    trained = run_until(app, lambda s: s.training.unsaved_updates > 5, timeout=60)
    controls = app.arcade.controls
    click(app, controls.new_agent.rect.center)
    assert app.arcade.replace_dialog is not None
    kept = run_until(app, lambda s: s.training.updates >= trained.training.updates)
    assert kept.training.agent_source.startswith("trained here")  # nothing was thrown away yet
    press(app, pygame.K_d)
    fresh = run_until(app, lambda s: s.message.text.startswith("a new agent"))
    assert fresh.training.unsaved_updates == 0
    assert "kept in saves/mine/fruit-unsaved-" in fresh.message.text  # nothing thrown away
    assert list((tmp_path / "saves" / "mine").glob("fruit-unsaved-*.pt"))
