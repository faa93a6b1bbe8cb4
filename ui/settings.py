"""The window's settings between runs: it reopens where the user left it (game, mode, speed,
epsilon, window size, the "with Q-values" box). A small JSON file in the user's config folder
(``$XDG_CONFIG_HOME/dqn-arcade/settings.json``, else ``~/.config/dqn-arcade/``); a file that
cannot be read, or a value that makes no sense, is left aside with a one-line note."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard

from agent.live.channels import Mode
from game.registry import GAMES
from ui.controls import SPEEDS


@dataclass(frozen=True)
class WindowSettings:
    game: str = "fruit"
    mode: str = Mode.AGENT.value
    speed_index: int = 0
    epsilon: float | None = None  # None: the schedule's (or greedy in Agent mode)
    size: tuple[int, int] = (1240, 760)
    with_q: bool = True


def settings_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "dqn-arcade" / "settings.json"


def _is_number(value: object) -> TypeGuard[float]:
    """An int or a float, not a bool (JSON's true is no number here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _valid(name: str, value: object) -> bool:
    """Whether ``value`` is one the window can open with, for field ``name``."""
    checks = {
        "game": lambda: value in GAMES,
        "mode": lambda: value in {mode.value for mode in Mode},
        "speed_index": lambda: isinstance(value, int) and 0 <= value < len(SPEEDS),
        "epsilon": lambda: value is None or (_is_number(value) and 0.0 <= value <= 1.0),
        "size": lambda: (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int) and 100 <= v <= 20_000 for v in value)
        ),
        "with_q": lambda: isinstance(value, bool),
    }
    return checks[name]()


def load_settings(path: Path | None = None) -> tuple[WindowSettings, str | None]:
    """The saved settings and a note for the user (None when all was well or nothing saved)."""
    path = path or settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return WindowSettings(), None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return WindowSettings(), _set_aside(path)
    if not isinstance(data, dict):
        return WindowSettings(), _set_aside(path)
    known = {field.name for field in dataclasses.fields(WindowSettings)}
    good = {k: v for k, v in data.items() if k in known and _valid(k, v)}
    if "size" in good:
        good["size"] = tuple(good["size"])
    dropped = sorted(set(data) - set(good))
    note = f"Settings in {path}: left aside {', '.join(dropped)}." if dropped else None
    return WindowSettings(**good), note


def _set_aside(path: Path) -> str:
    """Keep an unreadable file as ``settings.json.bad`` (the window writes a new one at close)."""
    aside = path.with_name(path.name + ".bad")
    try:
        os.replace(path, aside)
    except OSError:
        return f"Settings in {path} could not be read: starting as new."
    return f"Settings in {path} could not be read (kept as {aside.name}): starting as new."


def save_settings(settings: WindowSettings, path: Path | None = None) -> str | None:
    """Write ``settings`` (atomically); returns a one-line note if it could not."""
    path = path or settings_path()
    data = dataclasses.asdict(settings)
    data["size"] = list(settings.size)
    tmp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8"
        ) as tmp:
            tmp_name = tmp.name
            json.dump(data, tmp, indent=2)
        os.replace(tmp_name, path)
    except OSError as error:
        if tmp_name:
            Path(tmp_name).unlink(missing_ok=True)
        return f"Settings not saved to {path}: {error.strerror or error}"
    return None
