"""Where checkpoints live: ``saves/GAME.pt`` is the shipped agent and ``saves/GAME-NAME.pt``
the others that ship with the app (such as the Breakout campaign's time-lapse); the user's own
saves go to ``saves/mine/GAME-NAME.pt``, a folder git ignores, so that they never show up as
changes to the app. Other libraries' models (a Stable-Baselines3 ``.zip``, a CleanRL
``.cleanrl_model``) put in either folder are offered too when their names mention the game, as
the RL Zoo's do (``dqn-BreakoutNoFrameskip-v4.zip``). The load list offers all of them."""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

from agent.checkpoint import CheckpointError, load_torch_file
from agent.interop import FOREIGN_SUFFIXES
from game.registry import GAMES

USER_FOLDER = "mine"
SHIPPED_NAME = "Shipped agent"


def default_name(game: str) -> str:
    """A fresh name for the save box: the game and the time."""
    return f"{game}-{time.strftime('%Y%m%d-%H%M%S')}"


def checkpoint_path(saves_dir: Path, game: str, name: str) -> Path:
    """The file a user's save named ``name`` goes to: in the user's folder, never over an
    agent that ships with the app."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", name.strip()).strip("-.") or default_name(game)
    if not stem.startswith(f"{game}-"):
        stem = f"{game}-{stem}"
    return Path(saves_dir) / USER_FOLDER / f"{stem}.pt"


def list_checkpoints(saves_dir: Path, game: str) -> list[Path]:
    """The game's checkpoints: the shipped agent first, then the user's own, newest first,
    then the others that ship with the app, by name."""

    def of_game(folder: Path) -> list[Path]:
        ours = [
            path
            for path in folder.glob(f"{game}*.pt")
            if path.name == f"{game}.pt" or path.name.startswith(f"{game}-")
        ]
        theirs = [
            path
            for path in (folder.iterdir() if folder.is_dir() else ())
            if path.suffix in FOREIGN_SUFFIXES and game in path.name.lower() and path.is_file()
        ]
        return ours + theirs

    try:
        with_app = sorted(of_game(Path(saves_dir)), key=lambda path: path.name)
        own = sorted(of_game(Path(saves_dir) / USER_FOLDER), key=lambda p: -p.stat().st_mtime)
    except OSError:
        return []
    shipped = [path for path in with_app if path.name == f"{game}.pt"]
    return shipped + own + [path for path in with_app if path not in shipped]


_TIME_LAPSE = re.compile(r"(?P<game>[a-z]+)-after-(?P<amount>\d+(?:\.\d+)?)(?P<unit>h|min)")


def display_name(path: Path) -> str:
    """How the load list names a checkpoint (and what a ``Load`` passes on as its label, for
    the Q-value panel): the shipped agent as "Shipped agent" with the training it took when
    its file says ("Shipped agent, 7 h of CPU training"), a time-lapse stage by the training it
    took ("breakout-after-1h.pt": "Breakout after 1 h of CPU training"), others by file name."""
    path = Path(path)
    if path.suffix == ".pt" and path.stem in GAMES and path.parent.name != USER_FOLDER:
        took = _training_time(path)
        return f"{SHIPPED_NAME}, {took}" if took else SHIPPED_NAME
    match = _TIME_LAPSE.fullmatch(path.stem)
    if match is None:
        return path.name
    unit = "h" if match["unit"] == "h" else "min"
    return f"{match['game'].capitalize()} after {match['amount']} {unit} of CPU training"


_TRAINING_TIMES: dict[tuple[str, int, int], str] = {}  # (path, mtime, size) -> the words


def _training_time(path: Path) -> str:
    """The training a checkpoint's info records ("7 h of CPU training", from its
    ``train_seconds`` and ``hardware``), or "" where it says nothing; read once per version of
    the file."""
    try:
        stat = path.stat()
    except OSError:
        return ""
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _TRAINING_TIMES:
        words = ""
        with contextlib.suppress(CheckpointError, OSError, RuntimeError, ValueError):
            info = load_torch_file(path).get("info") or {}
            seconds = float(info.get("train_seconds") or 0)
            on = "CPU " if str(info.get("hardware", "")).upper().startswith("CPU") else ""
            if seconds > 0:
                words = f"{_duration(seconds)} of {on}training"
        _TRAINING_TIMES[key] = words
    return _TRAINING_TIMES[key]


def _duration(seconds: float) -> str:
    """25384 s: "7 h"; 5400 s: "1.5 h"; 600 s: "10 min"; 24 s: "24 s"."""
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} h"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}".rstrip("0").rstrip(".") + " h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def short_name(path: Path) -> str:
    """A name that fits a header: "the shipped agent" for ``saves/GAME.pt``, a time-lapse stage
    by its training ("Breakout after 1 h"), any other agent by its file's stem."""
    path = Path(path)
    match = _TIME_LAPSE.fullmatch(path.stem)
    if match is not None:
        unit = "h" if match["unit"] == "h" else "min"
        return f"{match['game'].capitalize()} after {match['amount']} {unit}"
    if path.suffix == ".pt" and path.parent.name != USER_FOLDER and path.stem in GAMES:
        return "the shipped agent"
    return path.stem


def time_lapse_stages(saves_dir: Path, game: str) -> list[Path]:
    """The game's time-lapse stages that ship with the app (``GAME-after-1h.pt`` ...), the
    shortest training first."""

    def hours(path: Path) -> float:
        match = _TIME_LAPSE.fullmatch(path.stem)
        assert match is not None
        return float(match["amount"]) / (1 if match["unit"] == "h" else 60)

    stages = [
        path
        for path in Path(saves_dir).glob(f"{game}-after-*.pt")
        if (match := _TIME_LAPSE.fullmatch(path.stem)) and match["game"] == game
    ]
    return sorted(stages, key=hours)
