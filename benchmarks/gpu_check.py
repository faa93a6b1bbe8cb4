"""The GPU path, checked in one go: one command on a machine with a GPU, one JSON line back.

    python benchmarks/gpu_check.py [--device cuda] [--quick] [--out FILE]

1. ``device_tests``: the tests that touch the device (tests/test_device.py, run with
   ``ARCADE_TEST_DEVICE`` set to the device): updates, play and checkpoints on it.
2. ``throughput``: Breakout env steps/s of PQN's command-line trainer with 8, 32 and 128 envs,
   and of DQN's one-env trainer in its learning phase.
3. ``resume``: exact resumes on the device: a DQN run stopped and resumed (with its replay
   memory) ends with the same weights as one that never stopped; a PQN run resumed twice from
   the same checkpoint ends the same both times (its games restart at a resume, seeded from the
   step, so it is repeatable rather than identical to an unbroken run).
4. ``window``: the window's Breakout session, headless, training at full speed on the device:
   env steps/s and the steps the game on screen took.

Under 8 minutes on one GPU; ``--quick --device cpu`` runs every part, smaller, in a minute or two
here (tests/test_gpu_check.py runs it). The last line printed is the JSON; ``--out`` also writes
it to a file. Exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as main.py: before numpy is imported
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from agent.config import load_config  # noqa: E402
from agent.device import describe_machine, pick_device  # noqa: E402
from agent.dqn_trainer import DQNTrainer  # noqa: E402
from agent.pqn_trainer import PQNTrainer  # noqa: E402
from game.registry import GAMES  # noqa: E402

BREAKOUT = GAMES["breakout"]


def run_device_tests(device: torch.device, quick: bool) -> dict:
    """pytest on tests/test_device.py with the device named; the pass count and the time."""
    env = {**os.environ, "ARCADE_TEST_DEVICE": device.type}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_device.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300 if quick else 600,
    )
    summary = (done.stdout.strip().splitlines() or [""])[-1]
    return {"ok": done.returncode == 0, "summary": summary, "seconds": _round(start)}


def pqn_rate(device: torch.device, num_envs: int, iterations: int, rollout_steps: int) -> float:
    """Env steps/s of PQN's command-line trainer over ``iterations`` after one to warm up."""
    config = load_config("breakout").with_settings(num_envs=num_envs, rollout_steps=rollout_steps)
    trainer = PQNTrainer(BREAKOUT, config, device, seed=0)
    try:
        trainer.step()  # the first iteration pays for kernel selection and caches
        _sync(device)
        start, first = time.perf_counter(), trainer.global_step
        for _ in range(iterations):
            trainer.step()
        _sync(device)
        return (trainer.global_step - first) / (time.perf_counter() - start)
    finally:
        trainer.close()


def dqn_rate(device: torch.device, steps: int) -> float:
    """Env steps/s of DQN on Breakout in its learning phase (a warm memory, one update every
    ``train_frequency`` steps)."""
    config = load_config("breakout", algorithm="dqn", overrides={"buffer_size": 20_000})
    config = config.with_settings(learning_starts=1_000)
    trainer = DQNTrainer(BREAKOUT, config, device, seed=0)
    try:
        for _ in range(1_200):  # past learning_starts: the memory is warm
            trainer.step()
        _sync(device)
        start, first = time.perf_counter(), trainer.global_step
        for _ in range(steps):
            trainer.step()
        _sync(device)
        return (trainer.global_step - first) / (time.perf_counter() - start)
    finally:
        trainer.close()


def check_resume(device: torch.device, quick: bool, folder: Path) -> dict:
    """Exact resumes on ``device``; see the module docstring."""
    from agent.commands import train

    quiet = open(os.devnull, "w")  # noqa: SIM115 - closed below
    try:
        # DQN (fruit catch: small and fast, the same code path as Breakout's).
        fruit = GAMES["fruit"]
        config = load_config("fruit")
        half = 400 if quick else 2_000

        def run(path: Path, steps: int, resume: Path | None = None) -> None:
            train(
                fruit, config, device, seed=3, steps=steps, save_path=path, resume=resume,
                progress=False, stream=quiet, keep_replay=True,
            )  # fmt: skip

        run(folder / "whole.pt", 2 * half)
        run(folder / "half.pt", half)
        run(folder / "resumed.pt", half, resume=folder / "half.pt")
        dqn_diff = _weight_difference(folder / "whole.pt", folder / "resumed.pt")

        # PQN (Breakout): resumed twice from one checkpoint, the same both times.
        pqn = load_config("breakout").with_settings(num_envs=8, rollout_steps=16 if quick else 64)
        iteration = 8 * pqn.pqn.rollout_steps
        for name, resume in (("start", None), ("again1", "start"), ("again2", "start")):
            train(
                BREAKOUT, pqn, device, seed=5, steps=2 * iteration, save_path=folder / f"{name}.pt",
                resume=None if resume is None else folder / f"{resume}.pt",
                progress=False, stream=quiet,
            )  # fmt: skip
        pqn_diff = _weight_difference(folder / "again1.pt", folder / "again2.pt")
    finally:
        quiet.close()
    return {
        "ok": dqn_diff == 0.0 and pqn_diff == 0.0,
        "dqn_max_weight_difference": dqn_diff,
        "pqn_max_weight_difference": pqn_diff,
    }


def window_rate(device: torch.device, seconds: float) -> dict:
    """The window's Breakout session training headless at full speed on ``device``."""
    from agent.live.channels import Load, Mode, SetMode
    from agent.live.session import TrainingSession

    session = TrainingSession(
        BREAKOUT, load_config("breakout"), device, speed="fast", mode=Mode.AGENT
    )
    session.start()
    session.send(Load(ROOT / "saves" / "breakout.pt", if_fresh=True, label="the shipped agent"))
    session.send(SetMode(Mode.TRAIN))
    deadline = time.monotonic() + 120
    while not session.snapshot().training.trainer_ready and time.monotonic() < deadline:
        time.sleep(0.05)
    first = session.snapshot().training
    start = time.perf_counter()
    time.sleep(seconds)
    last = session.snapshot().training
    elapsed = time.perf_counter() - start
    message = session.snapshot().message
    session.close(timeout=10)
    return {
        "ok": last.global_step > first.global_step and not message.is_error,
        "env_steps_per_s": round((last.global_step - first.global_step) / elapsed, 1),
        "shown_steps_per_s": round((last.env_steps - first.env_steps) / elapsed, 1),
        "updates": last.updates - first.updates,
        "seconds": round(elapsed, 1),
    }


def _weight_difference(a: Path, b: Path) -> float:
    first = torch.load(a, map_location="cpu", weights_only=True)["online"]
    second = torch.load(b, map_location="cpu", weights_only=True)["online"]
    return max(float((first[k].float() - second[k].float()).abs().max()) for k in first)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _round(start: float) -> float:
    return round(time.perf_counter() - start, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", choices=("auto", "cpu", "cuda", "mps"))
    parser.add_argument("--quick", action="store_true", help="every part, smaller (the CPU test)")
    parser.add_argument("--out", type=Path, help="also write the JSON line here")
    args = parser.parse_args(argv)
    device = pick_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = False  # the same kernels every run: exact resumes
        torch.backends.cudnn.deterministic = True
    quick = args.quick
    started = time.perf_counter()
    report: dict = {"machine": describe_machine(device), "torch": str(torch.__version__)}
    report["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    report["device_tests"] = run_device_tests(device, quick)
    iterations, rollout = (1, 16) if quick else (4, 128)  # CleanRL's PQN: 128-step rollouts
    report["throughput"] = {
        f"pqn_{n}_envs": round(pqn_rate(device, n, iterations, rollout), 1) for n in (8, 32, 128)
    }
    report["throughput"]["dqn"] = round(dqn_rate(device, 300 if quick else 5_000), 1)
    with tempfile.TemporaryDirectory() as folder:
        report["resume"] = check_resume(device, quick, Path(folder))
    report["window"] = window_rate(device, 5.0 if quick else 30.0)
    checks = ("device_tests", "resume", "window")
    report["ok"] = all(report[name]["ok"] for name in checks)
    report["seconds"] = _round(started)
    line = json.dumps(report, default=float)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(line + "\n", encoding="utf-8")
    print(line)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    sys.exit(main())
