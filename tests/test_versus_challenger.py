"""Agent against agent in the window's Versus: J puts the agent picked in the load list on the
left side (and J again a person), B plays a game's ready pairing (Breakout after 1 h against the
shipped agent); each side's header names who plays it, and a round between two agents ends
with the same card and tally as a person's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pygame
import pytest
import torch

from agent.checkpoint import save_for_shipping
from agent.config import load_config
from agent.learner import build_online
from agent.live.channels import Mode, Snapshot
from agent.live.versus import OVER, VersusState
from game.registry import GAMES
from tests.support import snapshot_of
from tests.test_app import click, press, run_until
from tests.test_screen_parts import versus_state
from ui import theme
from ui.shortcuts import Act
from ui.versus_names import shown_name, side_names, verdict_text
from ui.versus_view import VersusView

ROOT = Path(__file__).resolve().parent.parent


def _stay_put(path: Path) -> Path:
    """A fruit catch agent that never moves its basket."""
    config = load_config("fruit")
    network = build_online(config, (1, 15, 15), 3, torch.device("cpu"))
    output = list(network.parameters())[-2:]
    with torch.no_grad():
        output[0].zero_()
        output[1].copy_(torch.tensor([0.0, 1.0, 0.0]))  # STAY
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_for_shipping(path, "fruit", network, config, {"global_step": 0})


def _state(**fields) -> VersusState:
    return versus_state(**{"human_done": False, **fields})


def test_agents_are_named_as_the_load_list_offers_them_shortened_for_a_header():
    assert shown_name("breakout.pt") == "the shipped agent"
    assert shown_name("Shipped agent, 7 h of CPU training") == "the shipped agent"
    assert shown_name("breakout.pt + 120 updates here") == "the shipped agent + 120 updates here"
    assert shown_name("Breakout after 1 h of CPU training") == "Breakout after 1 h"
    assert shown_name("dqn-BreakoutNoFrameskip-v4.zip") == "dqn-BreakoutNoFrameskip-v4"
    assert shown_name("trained here, 3,000 updates") == "trained here, 3,000 updates"
    person = _state(right_name="breakout.pt")
    agents = _state(left_name="Breakout after 1 h", left_is_agent=True, right_name="breakout.pt")
    assert side_names(person) == ("you", "the shipped agent")
    assert side_names(agents) == ("Breakout after 1 h", "the shipped agent")
    assert verdict_text("agent", person) == "The agent wins"  # a person's card as ever
    assert verdict_text("agent", agents) == "The shipped agent wins"
    assert verdict_text("human", agents) == "Breakout after 1 h wins"


def test_the_footer_offers_the_pairing_and_a_person_back_as_chips_that_click():
    pygame.display.init()
    pygame.font.init()
    try:
        surface = pygame.Surface((1280, 800))
        view = VersusView()
        view.pairing = Path("saves/breakout-after-1h.pt")
        rect = pygame.Rect(12, 56, 840, 600)
        person = snapshot_of("breakout", mode=Mode.VERSUS, versus=_state(right_name="breakout.pt"))
        view.draw(surface, rect, person, GAMES["breakout"])
        assert [intent.act for _, intent in view.chips] == [Act.CHALLENGER, Act.PAIRING]
        assert view.names == ("you", "the shipped agent")
        chip, intent = view.chips[1]
        up = pygame.event.Event(pygame.MOUSEBUTTONUP, pos=chip.center, button=1)
        assert view.intent(up) == intent
        paired = _state(
            left_name="Breakout after 1 h", left_is_agent=True, right_name="breakout.pt"
        )
        view.draw(surface, rect, snapshot_of("breakout", mode=Mode.VERSUS, versus=paired),
                  GAMES["breakout"])  # fmt: skip
        assert [intent.act for _, intent in view.chips] == [Act.CHALLENGER]  # paired already
        assert view.names == ("Breakout after 1 h", "the shipped agent")
        view.forget_chips()
        assert view.intent(up) is None
    finally:
        theme.clear_caches()
        pygame.quit()


def _versus_shot(snapshot: Snapshot) -> bool:
    return snapshot.versus is not None and snapshot.versus.left_is_agent


@pytest.mark.slow
def test_a_challenger_picked_in_the_list_plays_a_round_against_the_agent_both_named(
    make_app, tmp_path
):
    saves = tmp_path / "saves"
    saves.mkdir()
    shutil.copy(ROOT / "saves" / "fruit.pt", saves / "fruit.pt")
    stay = _stay_put(saves / "mine" / "fruit-stay.pt")
    app = make_app("fruit", start_mode=Mode.VERSUS)
    run_until(app, lambda s: s.versus is not None and s.training.global_step > 0)  # shipped
    controls = app.arcade.controls
    controls.set_saves([saves / "fruit.pt", stay], "fruit-stay.pt")
    press(app, pygame.K_j)
    ready = run_until(app, _versus_shot)
    assert ready.versus.left_name == "fruit-stay" and ready.versus.phase == "ready"
    press(app, pygame.K_RETURN)
    over = run_until(app, lambda s: _versus_shot(s) and s.versus.phase == OVER, timeout=30)
    run_until(app, lambda s: True)  # one more frame drawn with the round over
    view = app.arcade.play_area.versus
    assert view.names == ("fruit-stay", "the shipped agent")
    assert over.versus.tally.rounds == 1 and view.card is not None  # the round's card
    challenger = next(rect for rect, intent in view.chips if intent.act is Act.CHALLENGER)
    click(app, challenger.center)  # the chip does what J does: a person plays again
    back = run_until(app, lambda s: s.versus is not None and not s.versus.left_is_agent)
    assert back.versus.left_name == "you" and back.versus.tally.rounds == 0
    run_until(app, lambda s: True)
    assert view.names == ("you", "the shipped agent")


@pytest.mark.slow
def test_b_pairs_breakout_after_1_h_with_the_shipped_agent_in_one_key(make_app, tmp_path):
    saves = tmp_path / "saves"
    saves.mkdir()
    for name in ("breakout.pt", "breakout-after-1h.pt"):
        shutil.copy(ROOT / "saves" / name, saves / name)
    app = make_app("breakout", start_mode=Mode.AGENT)
    run_until(app, lambda s: s.training.global_step > 0, timeout=60)  # the shipped agent plays
    press(app, pygame.K_b)
    paired = run_until(app, _versus_shot, timeout=60)
    assert app.arcade.dispatcher.mode is Mode.VERSUS
    assert paired.versus.left_name == "Breakout after 1 h"
    press(app, pygame.K_RETURN)
    run_until(app, lambda s: _versus_shot(s) and s.versus.agent_steps > 5, timeout=60)
    view = app.arcade.play_area.versus
    assert view.names == ("Breakout after 1 h", "the shipped agent")
    assert [intent.act for _, intent in view.chips] == [Act.CHALLENGER]  # paired: no B chip
