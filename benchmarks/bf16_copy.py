"""Does DQN's bf16 copy of the online network pay for itself? A/B on Breakout's learning phase.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bf16_copy.py [--windows 6] [--steps 1024]

Two one-env trainers in one process, the same seed: one keeps the bf16 copy (its update's
forward passes and acting while learning run on it), the other casts the float32 weights under
autocast in each update and acts in float32. They take turns, one window of steps each, so
both see the same minutes of a noisy machine. Prints each one's median env steps/s and the
ratio. Only meaningful on a CPU with native bf16 (elsewhere neither uses bf16).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCH = {"buffer_size": 20_000, "learning_starts": 1_000}  # a short warm-up


def main() -> int:
    import torch

    from agent.config import load_config
    from agent.trainer import Trainer
    from game.registry import GAMES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=6)
    parser.add_argument("--steps", type=int, default=1024)
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = load_config("breakout", algorithm="dqn", overrides=BENCH)
    trainers = {
        name: Trainer(GAMES["breakout"], config, torch.device("cpu"), seed=1)
        for name in ("bf16 copy", "autocast only")
    }
    if trainers["bf16 copy"].learner.working is None:
        print("no bf16 copy on this machine (no native bf16): nothing to compare")
        return 0
    trainers["autocast only"].learner.working = None  # benchmark-only switch
    rates: dict[str, list[float]] = {name: [] for name in trainers}
    for trainer in trainers.values():
        while trainer.global_step < config.learning_starts:
            trainer.step()
    for _ in range(args.windows):
        for name, trainer in trainers.items():
            start, first = time.perf_counter(), trainer.global_step
            while trainer.global_step < first + args.steps:
                trainer.step()
            rates[name].append(args.steps / (time.perf_counter() - start))
    medians = {name: statistics.median(values) for name, values in rates.items()}
    for name, values in rates.items():
        shown = ", ".join(f"{v:.0f}" for v in values)
        print(f"{name}: median {medians[name]:.0f} env steps/s ({shown})")
    print(f"bf16 copy / autocast only: {medians['bf16 copy'] / medians['autocast only']:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
