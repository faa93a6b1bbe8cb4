"""The Breakout training campaign's record: one row per chunk of training, scored the same way.

    python benchmarks/campaign.py score CHECKPOINT --chunk N --command "the train command"
    python benchmarks/campaign.py hours
    python main.py plot assets/campaign/breakout.csv --out assets/campaign/breakout.png

``score`` plays 30 whole games at epsilon 0.05 (the Nature protocol: up to 30 no-op starts,
5 lives, unclipped score; seeds 6000-6029) and appends a row: env steps, hours of training
(the checkpoint's own clock, summed over the chunks it was resumed through), machine, score,
the command that made the checkpoint, and the run's seed (each seed is its own curve). ``hours``
prints how long each seed took on this CPU to reach human level (31.8) and 100, read off the
record.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RECORD = ROOT / "assets" / "campaign" / "breakout.csv"
COLUMNS = (
    "chunk",
    "seed",
    "env_steps",
    "hours",
    "score_mean",
    "score_std",
    "score_min",
    "score_max",
    "games",
    "algorithm",
    "machine",
    "date",
    "command",
)
GAMES, EPSILON, SEED = 30, 0.05, 6000
LEVELS = {"human level (31.8)": 31.8, "100": 100.0}


def score(checkpoint: Path, chunk: int, command: str, record: Path) -> dict[str, object]:
    import torch

    from agent import commands
    from agent.checkpoint import read_checkpoint
    from game.registry import GAMES as ALL_GAMES

    payload = read_checkpoint(checkpoint)
    info, counters = payload.get("info", {}), payload["counters"]
    torch.set_num_threads(1)
    returns, _ = commands.evaluate(
        ALL_GAMES["breakout"],
        checkpoint,
        torch.device("cpu"),
        episodes=GAMES,
        seed=SEED,
        epsilon=EPSILON,
    )
    row = {
        "chunk": chunk,
        "seed": info.get("seed", ""),
        "env_steps": int(counters.get("global_step", 0)),
        "hours": round(float(info.get("train_seconds", 0.0)) / 3600, 3),
        "score_mean": round(float(returns.mean()), 2),
        "score_std": round(float(returns.std()), 2),
        "score_min": float(returns.min()),
        "score_max": float(returns.max()),
        "games": GAMES,
        "algorithm": payload["config"].get("algorithm", "dqn"),
        "machine": info.get("hardware", "unknown"),
        "date": datetime.date.today().isoformat(),
        "command": command,
    }
    new = not record.exists() or record.stat().st_size == 0
    record.parent.mkdir(parents=True, exist_ok=True)
    with open(record, "a", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(row)
    return row


def read_record(record: Path) -> list[dict[str, str]]:
    with open(record, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def seeds_in(record: Path) -> list[str]:
    """The record's runs by seed, in order."""
    return sorted({row.get("seed", "") for row in read_record(record)}, key=_seed_order)


def hours_to_levels(record: Path, seed: str | None = None) -> dict[str, tuple[float, int] | None]:
    """For each level, the (hours, env steps) of the first row of ``seed``'s run (any run when
    None) that reached it, or None."""
    rows = [row for row in read_record(record) if seed is None or row.get("seed", "") == seed]
    rows.sort(key=lambda row: int(row["env_steps"]))
    reached: dict[str, tuple[float, int] | None] = {}
    for name, level in LEVELS.items():
        first = next((row for row in rows if float(row["score_mean"]) >= level), None)
        reached[name] = (float(first["hours"]), int(first["env_steps"])) if first else None
    return reached


def _seed_order(seed: str) -> tuple[int, str]:
    return (int(seed), "") if seed.isdigit() else (1 << 30, seed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    scoring = sub.add_parser("score", help="score a checkpoint and append it to the record")
    scoring.add_argument("checkpoint", type=Path)
    scoring.add_argument("--chunk", type=int, required=True, help="which chunk made it")
    scoring.add_argument("--command", dest="train_command", required=True)
    scoring.add_argument("--record", type=Path, default=RECORD)
    hours = sub.add_parser("hours", help="each seed's hours to human level and to 100")
    hours.add_argument("--record", type=Path, default=RECORD)
    args = parser.parse_args()
    if args.command == "score":
        row = score(args.checkpoint, args.chunk, args.train_command, args.record)
        print(
            f"{row['env_steps']:,} steps, {row['hours']} h: {row['score_mean']} +- "
            f"{row['score_std']} over {GAMES} games at epsilon {EPSILON}"
        )
        return 0
    for seed in seeds_in(args.record):
        for name, reached in hours_to_levels(args.record, seed).items():
            what = (
                f"{reached[0]:.2f} h of CPU training, {reached[1]:,} env steps"
                if reached
                else "not reached yet"
            )
            print(f"seed {seed or '?'} to {name}: {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
