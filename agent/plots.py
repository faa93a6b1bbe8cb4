"""Learning-curve pictures, drawn with matplotlib (loaded only when a picture is made).

Two kinds of CSV are drawn:
- a training run's metrics (``RUN.metrics.csv``, written by ``train``): the return of every
  episode, its running mean and the greedy evaluations, against env steps; several runs are
  overlaid with a legend;
- a training campaign's record (``assets/campaign/breakout.csv``, one row per chunk): the score
  against env steps and against hours of training, beside published curves at the same steps.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

RUNNING_MEAN = 100  # episodes

# Published Breakout curves at the same env steps (4 frames each): CleanRL's dqn_atari read off
# its plot, Dopamine's DQN with Adam (a harsher protocol: sticky actions, no life-loss terminal).
REFERENCE_CURVES = {
    "CleanRL dqn_atari": ([1_000_000, 2_000_000], [15.0, 100.0]),
    "Dopamine DQN (Adam)": ([1_000_000, 2_000_000, 5_000_000, 10_000_000], [19, 38, 86, 104]),
}
REFERENCE_LEVELS = {"human 31.8": 31.8, "Nature DQN 401.2": 401.2}
CAMPAIGN_COLUMNS = ("chunk", "env_steps", "hours", "score_mean")


class PlotError(ValueError):
    """A file that cannot be drawn; the message is one line for the user."""


def read_rows(path: Path) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise PlotError(f"{path}: cannot read ({reason})") from None
    return rows


def is_campaign(rows: list[dict[str, str]]) -> bool:
    return bool(rows) and all(column in rows[0] for column in CAMPAIGN_COLUMNS)


def _floats(rows: list[dict[str, str]], column: str, path: Path) -> np.ndarray:
    try:
        return np.array([float(row[column]) for row in rows], dtype=float)
    except (KeyError, TypeError, ValueError):
        raise PlotError(f"{path}: column {column!r} is missing or not numbers") from None


def running_mean(values: np.ndarray, window: int = RUNNING_MEAN) -> np.ndarray:
    """Mean of each value with up to ``window - 1`` before it."""
    sums = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (sums[1:] - sums[np.arange(1, len(values) + 1) - counts]) / counts


def plot_files(paths: Sequence[Path], out: Path, title: str | None = None) -> Path:
    """Draw ``paths`` (all run metrics, or one campaign record) into the PNG ``out``."""
    tables = [(Path(p), read_rows(Path(p))) for p in paths]
    campaigns = [table for table in tables if is_campaign(table[1])]
    if campaigns and len(tables) > 1:
        raise PlotError("a campaign record is drawn on its own, not with other files")

    import matplotlib

    matplotlib.use("Agg")  # files only: no window, no display needed
    import matplotlib.pyplot as plt

    if campaigns:
        figure = _campaign_figure(plt, *campaigns[0], title)
    else:
        figure = _runs_figure(plt, tables, title)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(out, dpi=110)
    except OSError as error:
        raise PlotError(f"cannot write {out}: {error.strerror or error}") from None
    finally:
        plt.close(figure)
    return out


def _runs_figure(plt, tables, title):
    figure, axes = plt.subplots(figsize=(8, 4.5), layout="constrained")
    for index, (path, rows) in enumerate(tables):
        color = f"C{index}"
        episodes = [row for row in rows if row.get("kind") == "episode"]
        evals = [row for row in rows if row.get("kind") == "eval"]
        if not episodes and not evals:
            raise PlotError(f"{path}: no episodes or evaluations (is it a metrics CSV?)")
        name = path.name.removesuffix(".metrics.csv")
        if episodes:
            steps = _floats(episodes, "global_step", path)
            returns = _floats(episodes, "return", path)
            axes.scatter(steps, returns, s=3, color=color, alpha=0.15, linewidths=0)
            axes.plot(steps, running_mean(returns), color=color, label=f"{name}: mean of 100")
        if evals:
            axes.plot(
                _floats(evals, "global_step", path),
                _floats(evals, "eval_mean", path),
                "D",
                color=color,
                markeredgecolor="black",
                label=f"{name}: greedy evaluation",
            )
    axes.set_xlabel("env steps")
    axes.set_ylabel("episode return")
    axes.set_title(title or "Learning curve")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    return figure


def _campaign_figure(plt, path, rows, title):
    """Score against env steps and against hours; one line per run the record holds: per
    learner (a side-by-side record holds two) and per seed (a campaign may hold several)."""
    runs = sorted({_run_of(row) for row in rows})
    learners = {learner for learner, _ in runs}
    seeds = {seed for _, seed in runs}
    figure, (by_steps, by_hours) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
    for index, (learner, seed) in enumerate(runs):
        mine = sorted(
            (row for row in rows if _run_of(row) == (learner, seed)),
            key=lambda row: float(row["env_steps"]),
        )
        steps = _floats(mine, "env_steps", path)
        hours = _floats(mine, "hours", path)
        scores = _floats(mine, "score_mean", path)
        spread = _floats(mine, "score_std", path) if "score_std" in mine[0] else None
        name = _run_name(learner, seed, len(learners) > 1, len(seeds) > 1)
        for axes, x in ((by_steps, steps / 1e6), (by_hours, hours)):
            color = f"C{index}"
            axes.plot(x, scores, "o-", color=color, label=f"{name} (30 games, epsilon 0.05)")
            if spread is not None:
                axes.fill_between(x, scores - spread, scores + spread, color=color, alpha=0.15)
    for axes, label in (
        (by_steps, "env steps (millions)"),
        (by_hours, "hours of CPU training"),
    ):
        for name, level in REFERENCE_LEVELS.items():
            axes.axhline(level, color="grey", linestyle=":", linewidth=1)
            axes.annotate(name, (0.01, level), xycoords=("axes fraction", "data"), fontsize=8,
                          color="grey", va="bottom")  # fmt: skip
        axes.set_xlabel(label)
        axes.set_ylabel("score per game")
        axes.grid(alpha=0.3)
        axes.set_ylim(bottom=0)
    for index, (name, (ref_steps, ref_scores)) in enumerate(REFERENCE_CURVES.items()):
        color = f"C{len(runs) + index}"
        by_steps.plot(np.array(ref_steps) / 1e6, ref_scores, "s--", color=color, label=name)
    by_steps.legend(fontsize="small", loc="upper left", bbox_to_anchor=(0.0, 0.92))
    if len(runs) > 1:
        by_hours.legend(fontsize="small", loc="upper left", bbox_to_anchor=(0.0, 0.92))
    figure.suptitle(title or "Breakout campaign: score against env steps and against hours")
    return figure


def _run_of(row: dict[str, str]) -> tuple[str, str]:
    return row.get("algorithm", ""), row.get("seed", "")


def _run_name(learner: str, seed: str, by_learner: bool, by_seed: bool) -> str:
    """A run's name in the legend: what tells it apart from the record's other runs."""
    parts = ([learner.upper()] if by_learner else []) + ([f"seed {seed}"] if by_seed else [])
    return ", ".join(parts) or "this app"
