"""Where checkpoints live: ``saves/GAME.pt`` is the shipped agent, ``saves/GAME-NAME.pt`` the
user's own."""

from __future__ import annotations

import re
import time
from pathlib import Path


def default_name(game: str) -> str:
    """A fresh name for the save box: the game and the time."""
    return f"{game}-{time.strftime('%Y%m%d-%H%M%S')}"


def checkpoint_path(saves_dir: Path, game: str, name: str) -> Path:
    """The file a user's save named ``name`` goes to; never the shipped agent's file."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", name.strip()).strip("-.") or default_name(game)
    if not stem.startswith(f"{game}-"):
        stem = f"{game}-{stem}"
    return Path(saves_dir) / f"{stem}.pt"


def list_checkpoints(saves_dir: Path, game: str) -> list[Path]:
    """The game's checkpoints: the shipped agent first, then the user's, newest first."""
    try:
        found = [
            path
            for path in Path(saves_dir).glob(f"{game}*.pt")
            if path.name == f"{game}.pt" or path.name.startswith(f"{game}-")
        ]
        found.sort(key=lambda path: (path.name != f"{game}.pt", -path.stat().st_mtime))
    except OSError:
        return []
    return found
