"""PQN's Breakout speed on this CPU for each split of the cores between torch's threads (the
network) and the emulator's (the games), in float32 and, where the CPU has it natively, bf16.

    python benchmarks/pqn_threads.py [--iterations N] [--float32] [--busy]

Prints one line a setting: torch threads, emulator threads, precision, env steps/s (the median
of N iterations of 8 envs x 128 steps and their 16 updates, after one to warm up). ``--busy``
keeps one core busy with another process meanwhile, as a laptop's browser or this app's window
would. The AVX2 path can be measured on an AVX-512 CPU by limiting torch's kernels:
``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/pqn_threads.py --float32``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
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
    parser.add_argument("--float32", action="store_true", help="leave out bf16")
    parser.add_argument("--busy", action="store_true", help="one core busy meanwhile")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    native = bf16_supported(CPU)
    print(f"{describe_cpu()}; bf16 native: {native}; torch {torch.__version__}", flush=True)
    precisions = [False, True] if native and not args.float32 else [False]
    splits = sorted({(1, 1), (cores, 1), (1, cores), (cores, cores)})
    spin = "while True: pass"
    other = subprocess.Popen([sys.executable, "-c", spin]) if args.busy else None
    try:
        measure(precisions, splits, args.iterations, busy=args.busy)
    finally:
        if other is not None:
            other.kill()
    return 0


def measure(precisions: list[bool], splits: list[tuple[int, int]], iterations: int, busy: bool):
    for bf16 in precisions:
        for torch_threads, env_threads in splits:
            rates = rate(torch_threads, env_threads, bf16, iterations)
            print(
                f"torch {torch_threads} / emulator {env_threads} threads, "
                f"{'bf16' if bf16 else 'float32'}{', one core busy' if busy else ''}: "
                f"{statistics.median(rates):.0f} env steps/s ({min(rates):.0f}-{max(rates):.0f})",
                flush=True,
            )


if __name__ == "__main__":
    sys.exit(main())
