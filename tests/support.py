"""Helpers shared by the tests that drive a training session from outside."""

from __future__ import annotations

import time
from collections.abc import Callable

from agent.live.channels import Snapshot
from agent.live.session import TrainingSession

# Small configs so sessions learn within a test's budget; Breakout's learning_starts stays
# huge, so it only plays.
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
    "breakout": {"buffer_size": 2_000},  # learning_starts stays huge: no updates, only play
}


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
        f"timed out; last snapshot: step {snapshot.env_steps}, "
        f"mode {snapshot.mode}, paused {snapshot.paused}, {snapshot.message!r}"
    )
