"""Learning: from a fixed seed and a small budget, the agent masters fruit catch and CartPole.

Each run trains until a greedy evaluation reaches the target (as `train --stop-at` does), then
is scored on fresh episodes it has never seen, so the pass mark is not the stopping rule itself.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agent.config import load_config
from agent.runs import load_agent, train
from agent.trainer import evaluate_policy
from game.registry import GAMES

FRESH_SEED = 424_242  # far from the seeds training and its evaluations use


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_fruit_catch_reaches_90_percent_catches(tmp_path):
    config = load_config("fruit")
    result = train(
        GAMES["fruit"],
        config,
        torch.device("cpu"),
        seed=0,
        steps=15_000,
        save_path=tmp_path / "fruit.pt",
        stop_at=0.9,
        progress=False,
    )
    assert result.solved, f"not solved in {result.env_steps} steps"
    learner, config, _ = load_agent(GAMES["fruit"], tmp_path / "fruit.pt", torch.device("cpu"))
    returns = evaluate_policy(GAMES["fruit"], config, learner, 300, FRESH_SEED)
    catch_rate = float(np.mean(returns > 0))
    assert catch_rate >= 0.90, f"caught {catch_rate:.1%} of 300 fresh fruit"


def test_cartpole_reaches_greedy_mean_475(tmp_path):
    config = load_config("cartpole")
    result = train(
        GAMES["cartpole"],
        config,
        torch.device("cpu"),
        seed=0,
        steps=50_000,
        save_path=tmp_path / "cartpole.pt",
        stop_at=475,
        progress=False,
    )
    assert result.solved, f"not solved in {result.env_steps} steps"
    learner, config, _ = load_agent(
        GAMES["cartpole"], tmp_path / "cartpole.pt", torch.device("cpu")
    )
    returns = evaluate_policy(GAMES["cartpole"], config, learner, 20, FRESH_SEED)
    assert returns.mean() >= 475, f"greedy mean {returns.mean():.1f} over 20 fresh episodes"
