"""Agent files to play: one of ours, an SB3 zip or a CleanRL model, read into a ``Policy``.

Only the network is built: no optimizer, no replay memory, no trainer. Playing, scoring,
recording and exporting start from here; a trainer is built only when something trains.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from agent.checkpoint import CheckpointError, checkpoint_config
from agent.config import AgentConfig
from agent.interop import read_agent_file
from agent.messages import first_line
from agent.networks import build_q_network
from agent.policy import Policy
from game.registry import GameSpec


@dataclass(frozen=True)
class AgentFile:
    """An agent read from a file: its policy, the config it was trained with, its counters
    (global_step, episode, updates) and free-form info (its score, where it came from)."""

    path: Path
    policy: Policy
    config: AgentConfig
    counters: dict[str, int]
    info: dict[str, Any]
    payload: dict[str, Any]  # the file's contents in this app's checkpoint layout


def load_policy(path: str | Path, game: GameSpec, device: torch.device) -> AgentFile:
    """The agent in ``path``, ready to play ``game``; raises ``CheckpointError`` with one line
    for a file that cannot be used (another game's, damaged, foreign, of another shape)."""
    path = Path(path)
    payload = read_agent_file(path, game)
    if payload["game"] != game.key:
        raise CheckpointError(f"{path}: made for {payload['game']!r}, not {game.key!r}")
    config = checkpoint_config(payload, path)
    shape = payload["network"]
    try:
        # Built on the meta device: its random initial weights (an orthogonal init that takes
        # Breakout's net a second) would only be overwritten by the file's.
        with torch.device("meta"):
            network = build_q_network(
                str(shape["kind"]),
                tuple(int(n) for n in shape["obs_shape"]),
                int(shape["n_actions"]),
                tuple(int(n) for n in shape["hidden_sizes"]) or config.hidden_sizes,
                bool(shape["dueling"]),
            )
        network = network.to_empty(device=device)
        weights = {
            k: v.float() if v.is_floating_point() else v for k, v in payload["online"].items()
        }
        network.load_state_dict(weights)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as error:
        raise CheckpointError(
            f"{path}: weights do not fit its network ({first_line(error)})"
        ) from None
    network.eval()
    counters = {k: int(v) for k, v in payload["counters"].items()}
    info = payload.get("info", {})
    return AgentFile(path, Policy(network, device), config, counters, dict(info), payload)
