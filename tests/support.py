"""Helpers shared by the tests that drive a training session from outside."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from agent.config import AgentConfig, load_config, overrides_for
from agent.live.channels import Mode, Snapshot
from agent.live.session import TrainingSession

# Small configs so sessions learn within a test's budget. Breakout's mixes learners: each config
# takes its own keys (``overrides_for``): PQN plays 2 games in 8-step rollouts; a DQN agent loaded
# there keeps a small memory and, its learning_starts huge, only plays.
SMALL = {
    "fruit": {
        "learning_starts": 40,
        "batch_size": 16,
        "buffer_size": 2_000,
        "epsilon_decay_steps": 400,
    },
    "cartpole": {
        "learning_starts": 40,
        "batch_size": 16,
        "buffer_size": 2_000,
        "hidden_sizes": [32, 32],
        "train_frequency": 4,
        "gradient_steps": 1,
    },
    "breakout": {
        "buffer_size": 2_000,
        "num_envs": 2,
        "rollout_steps": 8,
        "update_epochs": 1,
        "minibatches": 2,
    },
}


def small_config(game: str, algorithm: str | None = None) -> AgentConfig:
    """``game``'s config for its learner (or ``algorithm``) with the small settings it takes."""
    learner = algorithm or load_config(game).algorithm
    overrides = overrides_for(learner, SMALL.get(game, {}))
    return load_config(game, overrides=overrides, algorithm=algorithm)


def wait_for(
    session: TrainingSession, predicate: Callable[[Snapshot], bool], timeout: float = 30.0
) -> Snapshot:
    """The first snapshot that satisfies ``predicate``; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snapshot = session.snapshot()
        if predicate(snapshot):
            return snapshot
        time.sleep(0.002)
    snapshot = session.snapshot()
    raise AssertionError(
        f"timed out; last snapshot: step {snapshot.training.env_steps}, "
        f"mode {snapshot.mode}, paused {snapshot.paused}, {snapshot.message.text!r}"
    )


def snapshot_of(
    game: str = "cartpole",
    *,
    ready: bool = True,
    mode: Mode = Mode.AGENT,
    paused: bool = False,
    speed: float = 1.0,
    pace_hz: float = 8.0,
    **fields: Any,
) -> Snapshot:
    """A snapshot for drawing tests, its parts' fields named flat (``q_values=...``,
    ``message="..."``, ``frame_serial=1``); the fields not named keep their defaults."""
    made = Snapshot(game=game, ready=ready, mode=mode, paused=paused, speed=speed, pace_hz=pace_hz)
    return with_fields(made, **fields)


def with_fields(snapshot: Snapshot, **fields: Any) -> Snapshot:
    """``snapshot`` with some fields changed, named as for ``snapshot_of``; a part (say
    ``training=Training(...)``) may also be given whole."""
    changes: dict[str, Any] = {}
    parts: dict[str, dict[str, Any]] = {}
    for name, value in fields.items():
        if name in _FLAT and not (name in _PARTS and dataclasses.is_dataclass(value)):
            part, field = _FLAT[name]
            parts.setdefault(part, {})[field] = value
        else:
            changes[name] = value
    for part, named in parts.items():
        changes[part] = dataclasses.replace(changes.get(part, getattr(snapshot, part)), **named)
    return dataclasses.replace(snapshot, **changes)


# Each part of a snapshot, and where each flat field name lives among them.
_PARTS = {
    f.name: f.default for f in dataclasses.fields(Snapshot) if dataclasses.is_dataclass(f.default)
}
_FLAT = {
    "frame_serial": ("picture", "serial"),
    "message": ("message", "text"),
    "message_serial": ("message", "serial"),
    "message_is_error": ("message", "is_error"),
}
for _part, _default in _PARTS.items():
    for _field in dataclasses.fields(_default):  # type: ignore[arg-type]
        _FLAT.setdefault(_field.name, (_part, _field.name))
