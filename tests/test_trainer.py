"""The one-env trainer's schedule around a resumed checkpoint."""

from __future__ import annotations

import torch

from agent.config import load_config
from agent.dqn_trainer import DQNTrainer
from game.registry import GAMES


def test_a_resumed_agent_refills_the_warm_up_before_it_learns():
    """A trainer that takes up a checkpoint's step count starts with an empty memory: it plays
    ``learning_starts`` steps before its first update, as a fresh run does."""
    config = load_config("cartpole", overrides={"learning_starts": 300, "train_frequency": 4})
    trainer = DQNTrainer(GAMES["cartpole"], config, torch.device("cpu"), seed=0)
    trainer.continue_counting({"global_step": 10_000, "episode": 50})
    for _ in range(299):
        trainer.step()
    assert trainer.learner.updates == 0
    for _ in range(8):
        trainer.step()
    assert trainer.learner.updates > 0
