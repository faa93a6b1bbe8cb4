"""Agent against agent in Versus: either side may be any agent the load list offers; both play
the same seed, each side named, with the same rounds and tally as a person's match."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from agent.checkpoint import save_for_shipping
from agent.config import load_config
from agent.learner import build_online
from agent.live.channels import Load, Mode, NextRound, SetChallenger
from agent.live.session import TrainingSession
from game.registry import GAMES
from tests.support import wait_for

CPU = torch.device("cpu")
SHIPPED = Path(__file__).resolve().parent.parent / "saves" / "fruit.pt"
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def versus():
    session = TrainingSession(
        GAMES["fruit"], load_config("fruit"), CPU, mode=Mode.VERSUS, speed=50.0
    ).start()
    session.send(Load(SHIPPED, if_fresh=True, label="the shipped agent"))
    yield session
    session.close()


def _stay_put(path: Path) -> Path:
    """A fruit catch agent that never moves its basket: it catches only what falls on it."""
    config = load_config("fruit")
    network = build_online(config, (1, 15, 15), 3, CPU)
    output = list(network.parameters())[-2:]
    with torch.no_grad():
        output[0].zero_()
        output[1].copy_(torch.tensor([0.0, 1.0, 0.0]))  # STAY
    return save_for_shipping(path, "fruit", network, config, {"global_step": 0})


def _play_round(session: TrainingSession, number: int):
    session.send(NextRound())
    return wait_for(
        session,
        lambda s: s.versus is not None and s.versus.phase == "over" and s.versus.round == number,
        timeout=30,
    ).versus


def test_the_shipped_agent_against_itself_draws_every_round(versus):
    versus.send(SetChallenger(SHIPPED, "its twin"))
    first = _play_round(versus, 1)
    assert (first.left_name, first.right_name, first.left_is_agent) == (
        "its twin",
        "the shipped agent",
        True,
    )
    second = _play_round(versus, 2)
    assert first.human_score == first.agent_score == 1.0  # the same seed, the same catch
    assert second.tally.draws == 2 and second.tally.rounds == 2


def test_a_weak_challenger_loses_and_a_person_comes_back(versus, tmp_path):
    weak = _stay_put(tmp_path / "stay.pt")
    versus.send(SetChallenger(weak, ""))
    results = [_play_round(versus, n) for n in range(1, 6)]
    last = results[-1]
    assert last.left_name == "stay" and last.left_is_agent
    assert last.tally.agent >= 3 and last.tally.human <= 1  # it catches what falls mid-grid only
    versus.send(SetChallenger(None))
    state = wait_for(versus, lambda s: s.versus is not None and not s.versus.left_is_agent).versus
    assert state.left_name == "you" and state.tally.rounds == 0  # a new opponent, a new tally


def test_a_file_that_cannot_challenge_says_why_and_changes_nothing(versus, tmp_path):
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a checkpoint")
    versus.send(SetChallenger(bad, "broken"))
    snapshot = wait_for(versus, lambda s: "broken.pt" in s.message.text)
    assert snapshot.message.is_error
    assert snapshot.versus is None or not snapshot.versus.left_is_agent
