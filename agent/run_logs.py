"""What a training run writes as it goes: a progress line on the terminal, a CSV of its
episodes and evaluations, and (optionally) TensorBoard event files."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from agent.training import Trainer

PROGRESS_INTERVAL_S = 0.25


class ProgressLine:
    """One self-overwriting status line on a terminal (plain lines when not a terminal)."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.tty = stream.isatty()
        self._last = 0.0

    def update(self, describe: Callable[[], str], force: bool = False) -> None:
        """Show ``describe()``, called only when the line is due (it is not free to build)."""
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < PROGRESS_INTERVAL_S):
            return
        if not self.tty and not force and now - self._last < 10.0:
            return  # logs get a line every 10 s, not a flood
        self._last = now
        text = describe()
        self.stream.write(("\r" + text + "\x1b[K") if self.tty else text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")


class MetricsLog:
    """CSV of episode ends and evaluations, written as they happen."""

    COLUMNS = (
        "kind",
        "global_step",
        "seconds",
        "episode",
        "return",
        "epsilon",
        "loss",
        "eval_mean",
        "eval_std",
        "length",  # last: a resumed run appends to a CSV that may predate it
    )

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = open(path, "a", newline="", encoding="utf-8")  # noqa: SIM115
        self._csv = csv.writer(self._file)
        if path.stat().st_size == 0:
            self._csv.writerow(self.COLUMNS)

    def write(self, **row: Any) -> None:
        self._csv.writerow([_cell(row.get(c)) for c in self.COLUMNS])
        self._file.flush()  # readable while the run goes on (plots, a crash)

    def close(self) -> None:
        self._file.close()


class TensorBoardLog:
    """The run as TensorBoard event files, with CleanRL's tag names, so the curves of this app
    and CleanRL's scripts sit side by side in one TensorBoard."""

    EVERY = 1_000  # env steps between samples of the rates and losses

    def __init__(self, folder: Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise TensorBoardMissing(
                "--tensorboard needs the tensorboard package: pip install tensorboard"
            ) from None
        self._writer = SummaryWriter(str(folder))
        self._next = 0

    def episode(self, step: int, episode_return: float, length: int | None) -> None:
        self._writer.add_scalar("charts/episodic_return", episode_return, step)
        if length is not None:
            self._writer.add_scalar("charts/episodic_length", length, step)

    def progress(
        self,
        step: int,
        epsilon: float,
        loss: float | None,
        q_taken: Callable[[], float | None],
        rate: float,
    ) -> None:
        """The schedule, the loss, the Q-values learned and the speed, once every ``EVERY``
        env steps."""
        if step < self._next:
            return
        self._next = step + self.EVERY
        self._writer.add_scalar("charts/epsilon", epsilon, step)
        self._writer.add_scalar("charts/SPS", rate, step)
        if loss is not None:
            self._writer.add_scalar("losses/td_loss", loss, step)
        q_value = q_taken()
        if q_value is not None:
            self._writer.add_scalar("losses/q_values", q_value, step)

    def evaluation(self, step: int, returns: np.ndarray) -> None:
        self._writer.add_scalar("eval/episodic_return", float(returns.mean()), step)

    def close(self) -> None:
        self._writer.close()


class TensorBoardMissing(RuntimeError):
    """``--tensorboard`` without the tensorboard package; the message says how to install it."""


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return f"{value:.6g}" if isinstance(value, float) else value


def progress_text(trainer: Trainer, start: float, first_step: int, end_step: int) -> str:
    elapsed = max(time.perf_counter() - start, 1e-9)
    rate = (trainer.global_step - first_step) / elapsed
    recent = trainer.recent_returns
    mean = f"{np.mean(recent):8.2f}" if recent else "       -"
    loss = f"{trainer.last_loss:.4f}" if trainer.last_loss is not None else "-"
    done = (trainer.global_step - first_step) / max(end_step - first_step, 1)
    filled = int(20 * min(done, 1.0))
    left = (end_step - trainer.global_step) / rate if rate > 0 else float("inf")
    return (
        f"[{'#' * filled}{'.' * (20 - filled)}] {trainer.global_step:>9,} steps "
        f"{rate:7.0f} steps/s  {_clock(elapsed)} elapsed, ETA {_clock(max(left, 0.0))}  "
        f"episodes {trainer.episode:>6}  "
        f"mean return {mean}  eps {trainer.scheduled_epsilon:.3f}  loss {loss}"
    )


def _clock(seconds: float) -> str:
    """``seconds`` as H:MM:SS (M:SS under an hour); ``-`` when unknown."""
    if seconds != seconds or seconds == float("inf"):
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
