"""Shared test setup: headless pygame and the repo root on ``sys.path``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Before anything imports pygame: no window and no sound device in tests.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
# Breakout resizes each frame with small numpy matmuls; a multi-threaded OpenBLAS spins on a busy
# 2-core machine and makes them 10x slower. Read once, when numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def one_torch_thread():
    """Small batches run fastest on one thread, and two spin badly on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def make_app(tmp_path: Path):
    """The window, headless, with its saves and recordings in ``tmp_path``; closed after."""
    from tests.support import SMALL
    from ui.app import App

    apps: list[App] = []

    def make(start_game: str = "fruit", **kwargs) -> App:
        app = App(
            start_game,
            "cpu",
            saves_dir=tmp_path / "saves",
            recordings_dir=tmp_path / "recordings",
            overrides=SMALL,
            **kwargs,
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()
