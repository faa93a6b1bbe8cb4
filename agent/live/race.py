"""A live race: two new agents learn the same game from the same seed, alike but for one
setting, each in a process of its own (one core each), until both solve it or time runs out.

``Race`` starts the two sides and reads their progress; ``race_state()`` is what the window
draws: each side's curve, steps and seconds, and when it solved. A side has solved the game
when the mean of its last ``SOLVE_WINDOW`` games reaches the game's ``solved_score``.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
from dataclasses import dataclass, field
from typing import Any

from game.registry import GameSpec

SOLVE_WINDOW = 10  # games whose mean return decides that a side has solved the game
REPORT_S = 0.25  # seconds between a side's progress reports
TIME_LIMIT_S = 180.0

# The settings a race can compare: a name for the person, and the two configs' overrides.
CHOICES: dict[str, tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]] = {
    "target network": (("with", {}), ("without", {"target_update_interval": 1})),
    "double dqn": (("DQN targets", {"double_dqn": False}), ("Double DQN", {"double_dqn": True})),
    "learning rate": (("as tuned", {}), ("a tenth", {"learning_rate_scale": 0.1})),
    "replay memory": (("as tuned", {}), ("1,000", {"buffer_size": 1_000})),
    "learner": (("DQN", {}), ("PQN", {"algorithm": "pqn"})),
}


@dataclass(frozen=True)
class SideState:
    """One side of the race as the window shows it."""

    label: str
    steps: int = 0
    seconds: float = 0.0
    returns: tuple[float, ...] = ()
    solved_steps: int | None = None  # env steps when it solved; None: not (yet)
    solved_seconds: float | None = None
    error: str = ""
    finished: bool = False


@dataclass(frozen=True)
class RaceState:
    """Both sides, the setting they differ in, and, once the race is over, who won."""

    game: str
    setting: str
    sides: tuple[SideState, SideState]
    over: bool = False
    summary: str = ""


@dataclass
class _Side:
    label: str
    process: Any
    reports: Any
    state: SideState = field(init=False)

    def __post_init__(self) -> None:
        self.state = SideState(self.label)


class Race:
    """Two sides racing to solve ``game``; see the module docstring."""

    def __init__(
        self,
        game: GameSpec,
        setting: str,
        *,
        seed: int = 0,
        time_limit_s: float = TIME_LIMIT_S,
        overrides: dict[str, Any] | None = None,
    ) -> None:
        if setting not in CHOICES:
            raise ValueError(f"unknown setting {setting!r}; one of {', '.join(CHOICES)}")
        self.game, self.setting, self.time_limit_s = game, setting, time_limit_s
        context = mp.get_context("spawn")  # a clean interpreter: no window, no torch threads
        self._stop = context.Event()
        self._sides: list[_Side] = []
        for label, changes in CHOICES[setting]:
            reports = context.Queue()
            process = context.Process(
                target=run_side,
                args=(game.key, {**(overrides or {}), **changes}, seed, time_limit_s),
                kwargs={"reports": reports, "stop": self._stop},
                daemon=True,
                name=f"race-{label}",
            )
            process.start()
            self._sides.append(_Side(label, process, reports))

    def race_state(self) -> RaceState:
        """The race now: every report the sides have sent is read first."""
        for side in self._sides:
            while True:
                try:
                    report = side.reports.get_nowait()
                except queue.Empty:
                    break
                side.state = _with_report(side.state, report)
        states = (self._sides[0].state, self._sides[1].state)
        over = all(state.finished for state in states)
        return RaceState(
            self.game.key, self.setting, states, over, _summary(states) if over else ""
        )

    def stop(self, timeout: float = 5.0) -> None:
        """End both sides now (the window closes, or the person starts another race)."""
        self._stop.set()
        for side in self._sides:
            side.process.join(timeout)
            if side.process.is_alive():
                side.process.terminate()


def _with_report(state: SideState, report: dict[str, Any]) -> SideState:
    return SideState(
        label=state.label,
        steps=report.get("steps", state.steps),
        seconds=report.get("seconds", state.seconds),
        returns=state.returns + tuple(report.get("returns", ())),
        solved_steps=report.get("solved_steps", state.solved_steps),
        solved_seconds=report.get("solved_seconds", state.solved_seconds),
        error=report.get("error", state.error),
        finished=report.get("finished", state.finished),
    )


def _summary(states: tuple[SideState, SideState]) -> str:
    """Who solved first, in how many steps and seconds."""
    solved = [s for s in states if s.solved_steps is not None]
    if not solved:
        return "neither side solved it in time"
    parts = [f"{s.label}: {s.solved_steps:,} steps, {s.solved_seconds:.1f} s" for s in solved]
    first = min(solved, key=lambda s: s.solved_seconds or 0.0)
    others = [s.label for s in states if s.solved_steps is None]
    tail = f"; {others[0]} did not solve it in time" if others else ""
    return f"{first.label} solved first ({'; '.join(parts)}){tail}"


def run_side(
    game_key: str,
    changes: dict[str, Any],
    seed: int,
    time_limit_s: float,
    *,
    reports: Any,
    stop: Any,
) -> None:
    """One side, in its own process: a new agent of the game's config with ``changes``, trained
    on one thread until it solves the game, time runs out or ``stop`` is set; progress goes to
    ``reports`` every ``REPORT_S`` seconds."""
    import torch

    from agent.config import ConfigError, load_config
    from agent.learners import make_live_trainer
    from game.registry import GAMES

    torch.set_num_threads(1)
    game = GAMES[game_key]
    try:
        changes = dict(changes)
        scale = changes.pop("learning_rate_scale", None)
        config = load_config(game_key, overrides=changes)
        if scale is not None:
            config = config.with_settings(learning_rate=config.learning_rate * scale)
        trainer = make_live_trainer(game, config, torch.device("cpu"), seed)
    except (ConfigError, ValueError, RuntimeError) as error:
        reports.put({"error": str(error), "finished": True})
        return
    start = time.perf_counter()
    next_report = start
    recent: list[float] = []
    pending: list[float] = []
    solved = False
    try:
        while not stop.is_set():
            report = trainer.step()
            pending.extend(report.episode_returns)
            recent = (recent + list(report.episode_returns))[-SOLVE_WINDOW:]
            now = time.perf_counter()
            solved = len(recent) == SOLVE_WINDOW and sum(recent) / SOLVE_WINDOW >= game.solved_score
            timed_out = now - start >= time_limit_s
            if solved or timed_out or now >= next_report:
                message: dict[str, Any] = {
                    "steps": trainer.global_step,
                    "seconds": now - start,
                    "returns": pending,
                }
                if solved:
                    message |= {"solved_steps": trainer.global_step, "solved_seconds": now - start}
                message["finished"] = solved or timed_out
                reports.put(message)
                pending = []
                next_report = now + REPORT_S
                if solved or timed_out:
                    return
    finally:
        trainer.close()
