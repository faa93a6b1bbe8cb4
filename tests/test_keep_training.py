"""Keep training: the shipped agents, trained on in the window's Train mode, keep what they
know (issue: CartPole's mean of 100 fell from 500 to ~11 within 20 s at "fast")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from agent.config import load_config
from agent.evaluation import evaluate_policy
from agent.live.channels import FAST, Load, Mode, Pause, Resume, SetMode, SetSpeed
from agent.live.session import TrainingSession
from game.registry import GAMES
from tests.support import wait_for

CPU = torch.device("cpu")
ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("one_torch_thread")

# (updates to train on, greedy episodes to score, the score the agent must keep)
BUDGET = {"cartpole": (1_500, 20, 475.0), "fruit": (2_000, 200, 0.95)}


@pytest.mark.parametrize("game", ["cartpole", "fruit"])
@pytest.mark.slow
def test_the_shipped_agent_keeps_what_it_knows_when_trained_on(game):
    updates, episodes, keep = BUDGET[game]
    config = load_config(game)
    session = TrainingSession(GAMES[game], config, CPU, mode=Mode.AGENT, paused=True).start()
    try:
        wait_for(session, lambda s: s.ready)
        session.send(Load(ROOT / "saves" / f"{game}.pt"))
        loaded = wait_for(session, lambda s: s.message.text.startswith("loaded"))
        session.send(SetMode(Mode.TRAIN))
        session.send(SetSpeed(FAST))
        session.send(Resume())
        trained = wait_for(
            session, lambda s: s.training.updates >= loaded.training.updates + updates, 240.0
        )
        session.send(Pause())
        wait_for(session, lambda s: s.paused)
        # Test-only peek: score the agent as trained.
        learner = session._seat.current.trainer_built.learner
        scores = evaluate_policy(GAMES[game], config, learner.policy, episodes, seed=4242)
        assert scores.mean() >= keep, (
            f"greedy {scores.mean():.3f} after {trained.training.updates} updates"
        )
        assert trained.scores.mean_return is not None and trained.scores.mean_return >= 0.9 * keep
        assert np.isfinite(trained.training.loss)
    finally:
        session.close()
