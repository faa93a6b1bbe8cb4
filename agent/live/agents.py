"""Which agent a session plays: saving it, loading one in its place (into a trainer of the
right shape and learner), and where the agent on screen came from."""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from agent.checkpoint import (
    CheckpointError,
    checkpoint_config,
    load_into,
    network_signature,
    save_checkpoint,
)
from agent.config import ConfigError, DQNConfig
from agent.interop import read_agent_file
from agent.messages import first_line
from agent.pqn_live import LivePQNTrainer, make_live_trainer
from agent.trainer import Trainer
from game.registry import GameSpec

# A loaded agent's exploration goes on where its own schedule had reached.
SCHEDULE_KEYS = ("epsilon_start", "epsilon_end", "epsilon_decay_steps")

LiveTrainer = Trainer | LivePQNTrainer


@dataclass
class AgentOrigin:
    """Where the session's agent came from: a file loaded (``name``) or made here, and the
    update counts at that load and at the last save."""

    name: str = ""  # the file loaded; "" for an agent made in this session
    updates_at_load: int = 0
    updates_at_save: int = 0

    def describe(self, updates: int) -> str:
        """What the Q-value panel says about the agent: its file and what it learned here."""
        if self.name:
            more = updates - self.updates_at_load
            return self.name + (f" + {more:,} updates here" if more > 0 else "")
        return f"trained here, {updates:,} updates" if updates else "untrained"

    def unsaved(self, updates: int) -> int:
        """Updates that a quit without saving would lose."""
        return max(0, updates - self.updates_at_save)


def save_agent(trainer: LiveTrainer, game: GameSpec, path: Path) -> Path:
    """Write the trainer's agent to ``path``; raises ``CheckpointError`` with one line."""
    counters = {
        "global_step": trainer.global_step,
        "episode": trainer.episode,
        "updates": trainer.learner.updates,
    }
    returns = trainer.recent_returns
    info = {"source": "app", "mean_return": float(np.mean(returns)) if returns else None}
    return save_checkpoint(path, game.key, trainer.learner, counters, info)


def load_into_trainer(
    trainer: LiveTrainer,
    game: GameSpec,
    path: Path,
    dqn_config: DQNConfig,
    device: torch.device,
    seed: int,
) -> LiveTrainer:
    """The agent in ``path`` (ours, SB3's or CleanRL's), ready to play and train on: in
    ``trainer`` if its network has the agent's shape and learner, else in a new trainer (PQN's
    settings for a PQN agent, ``dqn_config`` for a DQN one). Raises ``CheckpointError`` with
    one line and leaves ``trainer`` as it was if the file cannot be used."""
    payload = read_agent_file(path, game)
    target = _trainer_shaped_for(trainer, game, payload, path, dqn_config, device, seed)
    try:
        # Another algorithm's optimizer state (PQN's RAdam) does not carry over to DQN's.
        algorithm = payload["config"].get("algorithm", "dqn")
        same_algorithm = algorithm == target.config.algorithm
        load_into(path, game.key, target.learner, same_algorithm, payload)
    except CheckpointError:
        if target is not trainer:
            target.close()
        raise
    saved = payload.get("config", {})
    schedule = {k: saved[k] for k in SCHEDULE_KEYS if k in saved}
    with contextlib.suppress(ConfigError, TypeError, ValueError):
        target.config = dataclasses.replace(target.config, **schedule)
    target.continue_counting(payload["counters"])
    # A trained agent goes on learning gently: at the rate that trained it from scratch it
    # would drift away from what it knows.
    fine_tune = target.config.fine_tune_learning_rate
    target.learner.set_learning_rate(fine_tune or target.config.learning_rate)
    target.recent_returns.clear()
    target.last_loss = None
    target.restart_episode()
    return target


def _trainer_shaped_for(
    trainer: LiveTrainer,
    game: GameSpec,
    payload: dict,
    path: Path,
    dqn_config: DQNConfig,
    device: torch.device,
    seed: int,
) -> LiveTrainer:
    """``trainer`` if its network has the checkpoint's shape and learner; else a new trainer
    whose network does (an agent trained with LayerNorm by PQN, a different width)."""
    saved = payload["network"]
    algorithm = payload["config"].get("algorithm", "dqn")
    same_shape = saved == network_signature(trainer.learner)
    if payload["game"] != game.key or (same_shape and algorithm == trainer.config.algorithm):
        return trainer  # load_into explains a wrong game
    try:
        if algorithm == "pqn":  # trained on by PQN, with its own settings
            config = checkpoint_config(payload, path)
        else:  # the game's own DQN settings, whatever agent was playing before
            config = dataclasses.replace(
                dqn_config,
                network=saved["kind"],
                hidden_sizes=tuple(saved["hidden_sizes"]) or dqn_config.hidden_sizes,
                dueling=bool(saved["dueling"]),
            )
        return make_live_trainer(game, config, device, seed=seed)
    except Exception as error:  # noqa: BLE001 - a bad config, no memory, the emulator
        reason = first_line(error)
        raise CheckpointError(f"{path}: a network this app cannot build ({reason})") from None
