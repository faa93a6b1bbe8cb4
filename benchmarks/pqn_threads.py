"""PQN's Breakout speed on this CPU for each split of the cores between torch's threads (the
network) and the emulator's (the games), in float32 and, where the CPU has it natively, bf16.

    python benchmarks/pqn_threads.py [--iterations N]

Prints one line a setting: torch threads, emulator threads, precision, env steps/s (the median
of N iterations of 8 envs x 128 steps and their 16 updates, after one to warm up).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from agent.config import load_config  # noqa: E402
from agent.device import describe_cpu  # noqa: E402
from agent.learner import bf16_supported  # noqa: E402
from agent.pqn_trainer import PQNTrainer  # noqa: E402
from game.registry import GAMES  # noqa: E402

CPU = torch.device("cpu")


def rate(torch_threads: int, env_threads: int, bf16: bool, iterations: int) -> list[float]:
    torch.set_num_threads(torch_threads)
    config = load_config("breakout").with_settings(mixed_precision=bf16)
    trainer = PQNTrainer(GAMES["breakout"], config, CPU, env_threads=env_threads)
    try:
        trainer.step()
        rates = []
        for _ in range(iterations):
            start, first = time.perf_counter(), trainer.global_step
            trainer.step()
            rates.append((trainer.global_step - first) / (time.perf_counter() - start))
        return rates
    finally:
        trainer.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    native = bf16_supported(CPU)
    print(f"{describe_cpu()}; bf16 native: {native}; torch {torch.__version__}", flush=True)
    precisions = [False, True] if native else [False]
    splits = sorted({(1, 1), (cores, 1), (1, cores), (cores, cores)})
    for bf16 in precisions:
        for torch_threads, env_threads in splits:
            rates = rate(torch_threads, env_threads, bf16, args.iterations)
            print(
                f"torch {torch_threads} / emulator {env_threads} threads, "
                f"{'bf16' if bf16 else 'float32'}: {statistics.median(rates):.0f} env steps/s "
                f"({min(rates):.0f}-{max(rates):.0f})",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
