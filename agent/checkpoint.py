"""Checkpoints: tensors plus plain metadata, written atomically, read without running code.

Layout (a dict of plain types and tensors, so ``torch.load(weights_only=True)`` reads it):
``format``, ``game``, ``network`` (kind, obs_shape, n_actions, hidden_sizes, dueling),
``config`` (the shared keys and the learner's section; flat in checkpoints written before
sections), ``counters`` (global_step, episode, updates), ``versions``, ``info`` (free-form,
such as an evaluation score), ``online`` (weights), and, unless saved for shipping, ``target``
(not for PQN, which has none), ``optimizer`` and, from a training run, ``trainer``: what the
trainer needs to go on exactly (the game mid-play, random generators; numpy arrays stored as
tensors).

The replay memory, which is large, is saved only when asked, beside the checkpoint in a file
of its own (``save_replay``): compressed numpy arrays, read with ``allow_pickle=False``.
"""

from __future__ import annotations

import copy
import os
import pickle
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agent.config import AgentConfig, ConfigError, config_to_dict, saved_config
from agent.learner import Learner
from agent.messages import first_line
from agent.networks import QNetwork
from agent.replay import ReplayBuffer

FORMAT = "dqn-arcade/1"
APP_VERSION = "1.0"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be written or used; the message is one line for the user."""


def network_signature(network: QNetwork) -> dict[str, Any]:
    """The network's kind and shape, as a checkpoint records them."""
    return dict(network.signature)


def save_checkpoint(
    path: str | Path,
    game: str,
    learner: Learner,
    counters: dict[str, int],
    info: dict[str, Any] | None = None,
    trainer_state: dict[str, Any] | None = None,
) -> Path:
    """Write everything a run needs to go on: the networks, the optimizer's state and, from a
    training run, ``trainer_state``. Atomic: a temp file beside ``path``, fsynced, then
    renamed over it, so an interrupted save leaves the previous checkpoint whole."""
    payload = _agent_payload(game, learner.online, learner.config, counters, info)
    if learner.target is not None:  # PQN has none
        # float32 whatever the learner keeps it in (bf16 where it trains in bf16), so that
        # the checkpoint reads the same on every machine.
        payload["target"] = {
            k: v.detach().cpu().float() if v.is_floating_point() else v.detach().cpu()
            for k, v in learner.target.state_dict().items()
        }
    payload["optimizer"] = learner.optimizer.state_dict()
    if trainer_state is not None:
        payload["trainer"] = _storable(trainer_state)
    path = Path(path)
    write_atomically(path, lambda file: torch.save(payload, file))
    return path


def save_for_shipping(
    path: str | Path,
    game: str,
    network: QNetwork,
    config: AgentConfig,
    counters: dict[str, int],
    info: dict[str, Any] | None = None,
) -> Path:
    """Write an agent to play: the network's weights only, in half precision (a fifth of a
    training checkpoint), atomically as ``save_checkpoint`` does."""
    payload = _agent_payload(game, network, config, counters, info)
    payload["online"] = {
        k: v.half() if v.is_floating_point() else v for k, v in payload["online"].items()
    }
    path = Path(path)
    write_atomically(path, lambda file: torch.save(payload, file))
    return path


def _agent_payload(
    game: str,
    network: QNetwork,
    config: AgentConfig,
    counters: dict[str, int],
    info: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "game": game,
        "network": network_signature(network),
        "config": config_to_dict(config),
        "counters": {k: int(v) for k, v in counters.items()},
        # str(): torch.__version__ is a TorchVersion, which weights_only loading refuses.
        "versions": {"app": APP_VERSION, "torch": str(torch.__version__)},
        "info": dict(info or {}),
        "online": {k: v.detach().cpu() for k, v in network.state_dict().items()},
    }


def write_atomically(path: Path, write: Callable[[Any], None]) -> None:
    """``write(file)`` into a temp file beside ``path``, fsynced, then renamed over ``path``;
    raises ``CheckpointError`` with one line if it cannot."""
    tmp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as tmp:
            tmp_name = tmp.name
            write(tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        # Temp files are private (0600); a checkpoint is an ordinary file like any other.
        os.chmod(tmp_name, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp_name, path)
    except BaseException as error:
        # Whatever stopped the save (a full disk, Ctrl+C), leave no half-written temp file.
        if tmp_name:
            Path(tmp_name).unlink(missing_ok=True)
        if not isinstance(error, (OSError, RuntimeError)):
            raise
        reason = getattr(error, "strerror", None) or first_line(error, "failed")
        raise CheckpointError(f"cannot save {path}: {reason}") from None


def _storable(value: Any) -> Any:
    """``value`` with its numpy arrays as tensors, which ``weights_only`` loading accepts."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value)).clone()
    if isinstance(value, dict):
        return {k: _storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_storable(v) for v in value]
    return value


def _from_storable(value: Any) -> Any:
    """The inverse of ``_storable``: tensors back to numpy arrays."""
    if isinstance(value, torch.Tensor):
        return value.numpy()
    if isinstance(value, dict):
        return {k: _from_storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_storable(v) for v in value]
    return value


def trainer_state(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The trainer's saved state in a checkpoint's contents, numpy arrays restored; None if
    the checkpoint has none (shipped agents, checkpoints of earlier versions)."""
    state = payload.get("trainer")
    return _from_storable(state) if isinstance(state, dict) else None


def replay_path(checkpoint: str | Path) -> Path:
    """Where the replay memory of ``checkpoint`` is kept: ``run.replay.npz`` beside ``run.pt``."""
    return Path(checkpoint).with_suffix(".replay.npz")


def save_replay(checkpoint: str | Path, replay: ReplayBuffer) -> Path:
    """Write the replay memory beside ``checkpoint``, compressed (frames compress ~10-fold),
    atomically as checkpoints are."""
    path = replay_path(checkpoint)
    arrays: dict[str, Any] = replay.state_dict()
    write_atomically(path, lambda file: np.savez_compressed(file, **arrays))
    return path


def load_replay(
    checkpoint: str | Path, replay: ReplayBuffer, transitions: int | None = None
) -> bool:
    """Refill ``replay`` from the memory saved beside ``checkpoint``; False if none is there.
    ``transitions``, when given, is how many the memory held when the checkpoint was saved: a
    file from another save (an older run at the same path) is refused. A file that cannot be
    used raises ``CheckpointError`` and leaves ``replay`` as it was."""
    path = replay_path(checkpoint)
    if not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as saved:
            held = int(saved["counters"][4])
            if transitions is not None and held != transitions:
                raise CheckpointError(
                    f"{path}: saved with another checkpoint ({held:,} transitions, "
                    f"the checkpoint's memory held {transitions:,})"
                )
            replay.load_state_dict({name: saved[name] for name in saved.files})
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
        reason = first_line(error, "unreadable")
        raise CheckpointError(f"{path}: cannot use this replay memory ({reason})") from None
    return True


def load_torch_file(path: str | Path, source: Any = None) -> Any:
    """What ``torch.save`` wrote at ``path`` (or into ``source``, a file object, when given),
    read without running code; raises ``CheckpointError`` with one line if it cannot be read or
    holds anything but tensors and plain data."""
    path = Path(path)
    if source is None and not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    target = source if source is not None else path
    if not _archive_intact(target):
        raise CheckpointError(f"{path}: corrupt or truncated, not a readable checkpoint")
    if source is not None:
        source.seek(0)
    try:
        return torch.load(target, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        # torch reports damaged bytes as unpickling errors too; only a global is an attempt
        # to import (and maybe run) code.
        if "global" not in str(error).lower():
            raise CheckpointError(
                f"{path}: corrupt or truncated, not a readable checkpoint"
            ) from None
        raise CheckpointError(
            f"{path}: refused, it holds objects other than tensors and plain data"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, KeyError):
        raise CheckpointError(f"{path}: corrupt or truncated, not a readable checkpoint") from None
    except Exception as error:  # torch raises a wide variety on garbage input
        raise CheckpointError(f"{path}: unreadable ({type(error).__name__})") from None


def read_checkpoint(path: str | Path, contents: Any = None) -> dict[str, Any]:
    """The checkpoint's contents, checked for shape; raises ``CheckpointError`` otherwise.
    ``contents`` is what ``load_torch_file`` read from it, when the caller has it already."""
    payload = load_torch_file(path) if contents is None else contents
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a DQN Arcade checkpoint")
    required = ("game", "network", "config", "counters", "online")
    missing = [k for k in required if k not in payload]
    if missing:
        raise CheckpointError(f"{path}: incomplete checkpoint, missing {', '.join(missing)}")
    kinds = {"game": str, "network": dict, "config": dict, "counters": dict, "online": dict}
    malformed = [k for k, kind in kinds.items() if not isinstance(payload[k], kind)]
    counters = payload["counters"]
    if isinstance(counters, dict) and not all(isinstance(v, int) for v in counters.values()):
        malformed.append("counters")
    if malformed:
        raise CheckpointError(f"{path}: malformed checkpoint, bad {', '.join(malformed)}")
    return payload


def _archive_intact(path: Any) -> bool:
    """Whether ``path`` (or a file object) is a zip archive (torch.save's format) whose CRC32s
    all match: torch itself does not check them, so flipped bytes in the weights would
    otherwise load."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None
    except Exception:  # zipfile raises many kinds on garbage
        return False


def checkpoint_config(payload: dict[str, Any], path: str | Path) -> AgentConfig:
    """The config a checkpoint was trained with (of any version of the app)."""
    try:
        return saved_config(payload["config"], f"{path} (config)")
    except (ConfigError, TypeError, AttributeError) as error:
        raise CheckpointError(str(error)) from None


def load_into(
    path: str | Path,
    game: str,
    learner: Learner,
    with_optimizer: bool = True,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Load weights (and optimizer, when saved) into ``learner``; returns the payload.
    ``payload`` is the file's contents when the caller has already read it.

    Everything is checked before the learner is touched, so a bad file changes nothing.
    """
    if payload is None:
        payload = read_checkpoint(path)
    if payload["game"] != game:
        raise CheckpointError(f"{path}: made for {payload['game']!r}, not {game!r}")
    expected = network_signature(learner.online)
    if payload["network"] != expected:
        raise CheckpointError(
            f"{path}: network {_describe(payload['network'])} does not match "
            f"this agent's {_describe(expected)}"
        )
    online = _float_state(payload["online"], path)
    target = _float_state(payload.get("target", payload["online"]), path)
    fresh_online = copy.deepcopy(learner.online)
    fresh_target = None if learner.target is None else copy.deepcopy(learner.target)
    optimizer_state = payload.get("optimizer") if with_optimizer else None
    try:
        fresh_online.load_state_dict(online)
        if fresh_target is not None:
            fresh_target.load_state_dict(target)
        if optimizer_state is not None:
            fresh_optimizer = learner.make_optimizer(fresh_online.parameters())
            fresh_optimizer.load_state_dict(optimizer_state)
    except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as error:
        reason = first_line(error)
        raise CheckpointError(f"{path}: weights do not fit this network ({reason})") from None
    learner.online.load_state_dict(fresh_online.state_dict())
    if learner.target is not None and fresh_target is not None:
        learner.target.load_state_dict(fresh_target.state_dict())
    if optimizer_state is not None:
        learner.optimizer.load_state_dict(fresh_optimizer.state_dict())
    elif with_optimizer:
        # No saved state (a shipped agent): start the optimizer afresh, not with the moments
        # of whatever the learner trained before.
        learner.reset_optimizer()
    learner.updates = int(payload["counters"].get("updates", 0))
    return payload


def _float_state(state: Any, path: str | Path) -> dict[str, torch.Tensor]:
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: weights are not a mapping of tensors")
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


def _describe(signature: Any) -> str:
    if not isinstance(signature, dict):
        return "of unknown shape"
    return f"{signature.get('kind')} {signature.get('obs_shape')}->{signature.get('n_actions')}"
