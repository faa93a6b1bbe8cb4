"""The learners the app trains, by the name a config's ``algorithm`` key gives. Adding one is a
learner module (its ``Learner`` and trainers), a settings section in agent/config.py, and a
line here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from agent.config import AgentConfig
from agent.dqn_trainer import DQNTrainer
from agent.pqn_live import LivePQNTrainer
from agent.pqn_trainer import PQNTrainer
from agent.training import LiveTrainer, Trainer
from game.registry import GameSpec


@dataclass(frozen=True)
class LearnerKind:
    """How to build a learner's trainers: ``headless`` for the command line (flat out, maybe
    many envs), ``live`` for the window (one game shown, a person may act)."""

    headless: Callable[[GameSpec, AgentConfig, torch.device, int], Trainer]
    live: Callable[[GameSpec, AgentConfig, torch.device, int], LiveTrainer]


LEARNERS: dict[str, LearnerKind] = {
    "dqn": LearnerKind(headless=DQNTrainer, live=DQNTrainer),
    "pqn": LearnerKind(headless=PQNTrainer, live=LivePQNTrainer),
}


def make_trainer(game: GameSpec, config: AgentConfig, device: torch.device, seed: int) -> Trainer:
    """The command line's trainer for ``config``'s learner."""
    return LEARNERS[config.algorithm].headless(game, config, device, seed)


def make_live_trainer(
    game: GameSpec, config: AgentConfig, device: torch.device, seed: int
) -> LiveTrainer:
    """The window's trainer for ``config``'s learner."""
    return LEARNERS[config.algorithm].live(game, config, device, seed)
