"""Helpers shared by the tests that drive a training session from outside."""

from __future__ import annotations

import time
from collections.abc import Callable

from agent.channels import Snapshot
from agent.session import TrainingSession


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
