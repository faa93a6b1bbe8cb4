"""Benchmark runner: prints every speed and memory figure in the README's table.

    .venv/bin/python benchmarks/run.py [--quick] [--only NAME ...] [--envs N]

Figures: CartPole and fruit catch time to solve (whole `main.py train` processes, several
seeds), Breakout env steps/s of PQN (its learner; `--envs N` as `train --envs N` sets its
envs) and of DQN's learning phase on CPU, replay memory per stored Breakout transition; and,
from the Breakout campaign's record, the hours of CPU training it took to reach human level and
100, beside what SB3's DQN would take here.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# As main.py does, before numpy is imported: a multi-threaded OpenBLAS makes Breakout's small
# resize matmuls ~20x slower on a busy 2-core machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def machine() -> str:
    import torch

    from agent.device import describe_cpu

    return f"{describe_cpu()}, torch {torch.__version__}, {torch.get_num_threads()} threads"


def time_to_solve(game: str, stop_at: float, seeds: list[int], max_steps: int) -> None:
    """Whole `train --stop-at` processes; prints median seconds and steps over seeds."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            start = time.perf_counter()
            out = subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "main.py"),
                    "train",
                    game,
                    "--steps",
                    str(max_steps),
                    "--stop-at",
                    str(stop_at),
                    "--seed",
                    str(seed),
                    "--json",
                    "--save",
                    f"{tmp}/{game}-{seed}.pt",
                ],
                capture_output=True,
                text=True,
                cwd=ROOT,
                check=False,
            )
            wall = time.perf_counter() - start
            summary = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append((wall, summary["env_steps"], summary["solved"], summary["seconds"]))
            print(
                f"  {game} seed {seed}: {'solved' if summary['solved'] else 'NOT solved'} at "
                f"{summary['env_steps']:,} steps, {summary['seconds']:.1f} s training, "
                f"{wall:.1f} s whole process",
                flush=True,
            )
    walls = [r[0] for r in rows]
    steps = [r[1] for r in rows]
    solved = sum(r[2] for r in rows)
    print(
        f"{game} time to solve (stop-at {stop_at}): median {statistics.median(walls):.1f} s "
        f"whole process (max {max(walls):.1f} s), median {statistics.median(steps):,.0f} steps "
        f"(max {max(steps):,}), solved {solved}/{len(rows)}",
        flush=True,
    )


BREAKOUT_BENCH = {"buffer_size": 20_000, "learning_starts": 1_000}  # a short warm-up


def learning_phase_rates(trainer, windows: int, steps: int) -> list[float]:
    """Env steps/s of a DQN ``trainer`` once past its warm-up, over ``windows`` runs of
    ``steps`` steps each (on a shared VM one window can run 25% slower than the next, so the
    figure is their median, its range printed beside it); then closes the trainer's env."""
    while trainer.global_step < trainer.config.dqn.learning_starts:
        trainer.step()
    rates = []
    for _ in range(windows):
        start, first = time.perf_counter(), trainer.global_step
        while trainer.global_step < first + steps:
            trainer.step()
        rates.append((trainer.global_step - first) / (time.perf_counter() - start))
    trainer.close()
    return rates


def rate_text(rates: list[float], batch_size: int, train_frequency: int) -> str:
    median = statistics.median(rates)
    return (
        f"{median:.0f} env steps/s ({median / train_frequency:.0f} updates/s, batch "
        f"{batch_size}); median of {len(rates)} windows, {min(rates):.0f}-{max(rates):.0f}"
    )


# The update's targets: DQN's (Nature; SB3's and CleanRL's, so their figures compare) and Double
# DQN's, whose argmax over the online network costs one more forward pass of the batch.
BREAKOUT_TARGETS = {"DQN targets": False, "Double DQN targets": True}


def breakout_cpu_speed(windows: int, steps: int) -> None:
    """Env steps/s with one batch-32 update every 4 steps (the learning phase), Nature CNN,
    with each kind of target."""
    import torch

    from agent.config import load_config
    from agent.dqn_trainer import DQNTrainer
    from game.registry import GAMES

    for name, double in BREAKOUT_TARGETS.items():
        overrides = {**BREAKOUT_BENCH, "double_dqn": double}
        config = load_config("breakout", algorithm="dqn", overrides=overrides)
        trainer = DQNTrainer(GAMES["breakout"], config, torch.device("cpu"))
        rates = learning_phase_rates(trainer, windows, steps)
        text = rate_text(rates, config.dqn.batch_size, config.dqn.train_frequency)
        print(f"breakout CPU learning phase, {name}: {text}", flush=True)


def breakout_pqn_speed(iterations: int, num_envs: int | None) -> None:
    """Env steps/s of `train breakout` with PQN, Breakout's learner, on one torch thread as the
    campaign runs it: each iteration is every env's 128-step rollout (8 envs: 1,024 env steps)
    and the 16 minibatch updates learned from them; the median of ``iterations`` after one to
    warm up. ``num_envs`` replaces the config's 8, as `train --envs N` does."""
    import torch

    from agent.config import load_config
    from agent.pqn_trainer import PQNTrainer
    from game.registry import GAMES

    config = load_config("breakout")
    if num_envs is not None:
        config = config.with_settings(num_envs=num_envs)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    trainer = PQNTrainer(GAMES["breakout"], config, torch.device("cpu"))
    trainer.step()
    rates = []
    for _ in range(iterations):
        start, first = time.perf_counter(), trainer.global_step
        trainer.step()
        rates.append((trainer.global_step - first) / (time.perf_counter() - start))
    trainer.close()
    torch.set_num_threads(threads)
    median = statistics.median(rates)
    envs, rollout = config.pqn.num_envs, config.pqn.rollout_steps
    print(
        f"breakout CPU, PQN (train breakout, {envs} envs, one torch thread): {median:.0f} env "
        f"steps/s; median of {len(rates)} iterations of {envs * rollout:,}, "
        f"{min(rates):.0f}-{max(rates):.0f}",
        flush=True,
    )


def breakout_replay_memory() -> None:
    import numpy as np

    from agent.replay import ReplayBuffer

    capacity = 100_000
    buffer = ReplayBuffer(capacity, (4, 84, 84), np.uint8, frame_stack=4)
    per = buffer.nbytes / capacity
    print(
        f"breakout replay memory: {per:,.0f} bytes per stored transition "
        f"({per / 1000:.2f} KB); 1M transitions = {per * 1e6 / 2**30:.2f} GiB",
        flush=True,
    )


# SB3's DQN on Breakout, for the hours it would take here: its throughput measured on this
# machine (benchmarks/sb3_reference.py, median of 7 runs on 2026-11-24) times the env steps a
# published DQN curve needs to reach each level. CleanRL's dqn_atari curve (15 at 1M steps, 100
# at 2M; SB3's own curve is not published as numbers), linearly between its points.
SB3_STEPS_PER_S = 97.0
DQN_CURVE = ((0, 0.0), (1_000_000, 15.0), (2_000_000, 100.0))


def steps_on_curve(level: float, curve=DQN_CURVE) -> float:
    """Env steps at which a piecewise-linear curve first reaches ``level``."""
    for (s0, v0), (s1, v1) in zip(curve, curve[1:], strict=False):
        if v1 >= level:
            return s0 + (s1 - s0) * (level - v0) / (v1 - v0)
    return float("nan")


def breakout_campaign_hours() -> None:
    """Hours of CPU training the campaign took to reach human level and 100, from its record."""
    from campaign import RECORD, hours_to_levels, seeds_in

    if not RECORD.exists():
        print("breakout campaign: no record yet", flush=True)
        return
    for seed in seeds_in(RECORD):
        for name, reached in hours_to_levels(RECORD, seed).items():
            level = 31.8 if "31.8" in name else 100.0
            sb3 = steps_on_curve(level) / SB3_STEPS_PER_S / 3600
            ours = "not reached yet"
            if reached:
                ours = f"{reached[0]:.1f} h ({reached[1]:,} env steps)"
            print(
                f"breakout campaign, seed {seed or '?'}, to {name}: ours {ours}; SB3's DQN here "
                f"~{sb3:.1f} h ({SB3_STEPS_PER_S:.0f} env steps/s x the env steps of CleanRL's "
                "DQN curve)",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer seeds and steps")
    figures = ["cartpole", "fruit", "breakout-pqn", "breakout-cpu", "memory", "campaign"]
    parser.add_argument("--only", nargs="*", default=None, choices=figures)
    parser.add_argument(
        "--envs", type=int, help="breakout-pqn: PQN's envs stepped together (default: 8)"
    )
    args = parser.parse_args()
    chosen = set(args.only or figures)
    seeds = [0, 1] if args.quick else [0, 1, 2, 3, 4]
    windows = (2, 256) if args.quick else (5, 1_024)  # Breakout speed: windows x env steps
    print(f"machine: {machine()}", flush=True)
    if "campaign" in chosen:
        breakout_campaign_hours()
    if "memory" in chosen:
        breakout_replay_memory()
    if "fruit" in chosen:
        time_to_solve("fruit", 0.9, seeds, 30_000)
    if "cartpole" in chosen:
        time_to_solve("cartpole", 475, seeds, 50_000)
    if "breakout-pqn" in chosen:
        breakout_pqn_speed(3 if args.quick else 8, args.envs)
    if "breakout-cpu" in chosen:
        breakout_cpu_speed(*windows)


if __name__ == "__main__":
    main()
