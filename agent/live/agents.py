"""The agent a session plays: a policy always, and a trainer only once something trains.

Picking a game or loading a file reads a ``Policy`` (agent/agent_files.py), which plays,
shows its Q-values and plays Versus at once. Train mode and Teach ask ``LiveAgent.trainer()``,
which builds the learner's live trainer the first time, with the agent's weights in it (and,
from a training checkpoint of the same learner, its optimizer's state).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from agent.agent_files import AgentFile, load_policy
from agent.checkpoint import (
    CheckpointError,
    load_into,
    save_checkpoint,
    save_for_shipping,
)
from agent.config import AgentConfig, ConfigError
from agent.evaluation import make_game_env
from agent.learner import build_online
from agent.learners import make_live_trainer
from agent.messages import first_line
from agent.policy import Policy
from agent.training import LiveTrainer, agent_spaces
from game.registry import GameSpec

# A loaded agent's exploration goes on where its own schedule had reached.
SCHEDULE_KEYS = ("epsilon_start", "epsilon_end", "epsilon_decay_steps")
MINE = Path("saves") / "mine"  # where unsaved training is kept when an agent is replaced


@dataclass
class AgentOrigin:
    """Where the session's agent came from: a file loaded (``name``, ``label`` its friendly
    name) or made here, and the update counts at that load and at the last save."""

    name: str = ""  # the file loaded; "" for an agent made in this session
    updates_at_load: int = 0
    updates_at_save: int = 0
    label: str = ""  # what the load list calls it ("the shipped agent", "after 4 h of training")

    def describe(self, updates: int) -> str:
        """What the panels say about the agent: its file and what it learned here."""
        if self.name:
            more = updates - self.updates_at_load
            return (self.label or self.name) + (f" + {more:,} updates here" if more > 0 else "")
        return f"trained here, {updates:,} updates" if updates else "untrained"

    def unsaved(self, updates: int) -> int:
        """Updates that replacing the agent without saving would lose."""
        return max(0, updates - self.updates_at_save)


class LiveAgent:
    """The session's agent; see the module docstring. ``config`` is the config its trainer
    trains with."""

    def __init__(
        self,
        game: GameSpec,
        config: AgentConfig,
        device: torch.device,
        seed: int,
        policy: Policy,
        origin: AgentOrigin,
        agent_file: AgentFile | None = None,
    ) -> None:
        self.game, self.config, self.device, self.seed = game, config, device, seed
        self.policy = policy
        self.origin = origin
        self._file = agent_file
        counters = agent_file.counters if agent_file is not None else {}
        self._counters = {
            "global_step": counters.get("global_step", 0),
            "episode": counters.get("episode", 0),
            "updates": counters.get("updates", 0),
        }
        self._trainer: LiveTrainer | None = None

    # -- made or loaded -----------------------------------------------------------------------

    @classmethod
    def new(cls, game: GameSpec, config: AgentConfig, device: torch.device, seed: int) -> LiveAgent:
        """An untrained agent of ``config``'s network: only its network is built."""
        env = make_game_env(game, config, train=False)
        obs_space, n_actions = agent_spaces(env.observation_space, env.action_space)
        env.close()
        torch.manual_seed(seed)
        network = build_online(config, obs_space.shape, n_actions, device)
        return cls(game, config, device, seed, Policy(network, device), AgentOrigin())

    @classmethod
    def load(
        cls,
        game: GameSpec,
        path: Path,
        configs: dict[str, AgentConfig],
        device: torch.device,
        seed: int,
        label: str = "",
    ) -> LiveAgent:
        """The agent in ``path`` (ours, SB3's or CleanRL's), to play at once. ``configs`` are
        the game's settings for each learner, which a loaded agent trains on with; raises
        ``CheckpointError`` with one line for a file that cannot be used."""
        agent_file = load_policy(path, game, device)
        updates = agent_file.counters.get("updates", 0)
        origin = AgentOrigin(Path(path).name, updates, updates, label)
        config = _training_config(agent_file, configs)
        return cls(game, config, device, seed, agent_file.policy, origin, agent_file)

    # -- counters, whether a trainer exists or not --------------------------------------------

    @property
    def trainer_built(self) -> LiveTrainer | None:
        return self._trainer

    @property
    def updates(self) -> int:
        if self._trainer is not None:
            return self._trainer.learner.updates
        return self._counters["updates"]

    @property
    def global_step(self) -> int:
        if self._trainer is not None:
            return self._trainer.global_step
        return self._counters["global_step"]

    @property
    def episode(self) -> int:
        if self._trainer is not None:
            return self._trainer.episode
        return self._counters["episode"]

    def describe(self) -> str:
        return self.origin.describe(self.updates)

    def unsaved_updates(self) -> int:
        return self.origin.unsaved(self.updates)

    # -- training -----------------------------------------------------------------------------

    def trainer(self) -> LiveTrainer:
        """The agent's trainer, built the first time with the agent's weights in it. Raises
        what building it raises (no memory, the emulator): the caller says it in one line."""
        if self._trainer is None:
            self._trainer = self._build_trainer()
            self.policy = self._trainer.learner.policy
        return self._trainer

    def _build_trainer(self) -> LiveTrainer:
        trainer = make_live_trainer(self.game, self.config, self.device, self.seed)
        try:
            learner = trainer.learner
            agent_file = self._file
            if agent_file is not None:
                same_learner = agent_file.config.algorithm == self.config.algorithm
                # Another learner's optimizer state (PQN's RAdam) does not carry over.
                load_into(agent_file.path, self.game.key, learner, same_learner, agent_file.payload)
                trainer.continue_counting(agent_file.counters)
                # A trained agent goes on learning gently: at the rate that trained it from
                # scratch it would drift away from what it knows.
                fine_tune = self.config.fine_tune_learning_rate
                learner.set_learning_rate(fine_tune or self.config.learning_rate)
                trainer.restart_episode()
            else:
                weights = self.policy.network.state_dict()
                learner.online.load_state_dict(weights)
                if learner.target is not None:
                    learner.target.load_state_dict(weights)
                trainer.continue_counting(self._counters)
        except BaseException:
            trainer.close()
            raise
        return trainer

    # -- saving -------------------------------------------------------------------------------

    def save(self, path: Path) -> Path:
        """Write the agent to ``path``: a full checkpoint once it has a trainer (training goes
        on from it exactly), else its network. Raises ``CheckpointError`` with one line."""
        counters = {"global_step": self.global_step, "episode": self.episode}
        counters["updates"] = self.updates
        trainer = self._trainer
        if trainer is not None:
            returns = trainer.recent_returns
            info = {"source": "app", "mean_return": float(np.mean(returns)) if returns else None}
            saved = save_checkpoint(path, self.game.key, trainer.learner, counters, info)
        else:
            info = {"source": "app"}
            network = self.policy.network
            saved = save_for_shipping(path, self.game.key, network, self.config, counters, info)
        self.origin.updates_at_save = self.updates
        return saved

    def keep_unsaved(self, folder: Path = MINE) -> Path | None:
        """Save the agent into ``folder`` if it has learned since it was last saved, under a
        name of its game and the time; returns where, or None when there was nothing to save."""
        if self.unsaved_updates() == 0:
            return None
        stem = f"{self.game.key}-unsaved-{time.strftime('%Y%m%d-%H%M%S')}"
        path, more = folder / f"{stem}.pt", 1
        while path.exists():  # two agents replaced within a second: neither overwrites
            more += 1
            path = folder / f"{stem}-{more}.pt"
        return self.save(path)

    def close(self) -> None:
        if self._trainer is not None:
            self._trainer.close()
            self._trainer = None


def _training_config(agent_file: AgentFile, configs: dict[str, AgentConfig]) -> AgentConfig:
    """The config a loaded agent trains on with: the game's settings for its learner (its own
    where the game has none), its network's shape, and its exploration schedule."""
    saved = agent_file.config
    config = configs.get(saved.algorithm, saved)
    shape = agent_file.payload["network"]
    try:
        config = dataclasses.replace(
            config,
            network=str(shape["kind"]),
            hidden_sizes=tuple(shape["hidden_sizes"]) or config.hidden_sizes,
            dueling=bool(shape["dueling"]),
            **{key: getattr(saved, key) for key in SCHEDULE_KEYS},
        )
    except (ConfigError, KeyError, TypeError, ValueError) as error:
        raise CheckpointError(
            f"{agent_file.path}: a network this app cannot train ({first_line(error)})"
        ) from None
    return config
