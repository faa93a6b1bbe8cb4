"""Window benchmark: how smoothly the window draws while each game trains flat out.

    .venv/bin/python benchmarks/ui_fps.py [--seconds 10] [--games fruit cartpole breakout]

Runs the real app headless (SDL's dummy video driver), switches to each game in Train mode at
fast speed and drives the normal loop (60 fps cap) for the given time, then prints the frames
drawn per second, the median, 99th-percentile and worst time between two frames, and how long
a pause key took to show in the window. Breakout trains PQN, its learner, which learns from its
first 1,024-step rollout on; a DQN agent loaded there would start learning after 500 steps here
(instead of 20,000), so that its conv-net updates run during the measurement.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import headless  # noqa: E402, F401  (before pygame: draws nowhere)
import pygame  # noqa: E402

from agent.live.channels import FAST, Mode  # noqa: E402
from game.registry import GAMES  # noqa: E402
from ui.app import App  # noqa: E402
from ui.shortcuts import Intent  # noqa: E402

OVERRIDES = {"breakout": {"learning_starts": 500, "buffer_size": 50_000}}


def measure(app: App, game: str, seconds: float) -> dict[str, float]:
    arcade = app.arcade
    arcade.perform(Intent("game", game))
    arcade.perform(Intent("mode", "train"))
    arcade.perform(Intent("speed", 4))
    deadline = time.monotonic() + 30
    while not (arcade.snapshot.ready and arcade.snapshot.game == game) and app.tick():
        app.clock.tick(app.fps_cap)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{game} did not start")
    starts: list[float] = []
    first = arcade.snapshot
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        starts.append(time.perf_counter())
        app.tick()
        app.clock.tick(app.fps_cap)
    last = arcade.snapshot
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    gaps.sort()
    latency = pause_latency(app)
    return {
        "fps": (len(starts) - 1) / (starts[-1] - starts[0]),
        "median_ms": 1000 * statistics.median(gaps),
        "p99_ms": 1000 * gaps[int(0.99 * (len(gaps) - 1))],
        "worst_ms": 1000 * gaps[-1],
        "pause_ms": 1000 * latency,
        "steps_per_s": (last.training.global_step - first.training.global_step) / seconds,
        "updates": last.training.updates - first.training.updates,
    }


def pause_latency(app: App) -> float:
    """Seconds from a P key press until the window shows the session paused."""
    pygame.event.post(
        pygame.event.Event(pygame.KEYDOWN, key=pygame.K_p, mod=0, unicode="p", scancode=0)
    )
    began = time.perf_counter()
    while not app.arcade.snapshot.paused:
        app.tick()
        app.clock.tick(app.fps_cap)
    latency = time.perf_counter() - began
    app.arcade.perform(Intent("toggle_pause"))
    return latency


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per game")
    parser.add_argument("--games", nargs="+", choices=GAMES, default=list(GAMES))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = App(
            "fruit",
            "cpu",
            saves_dir=Path(tmp),
            recordings_dir=Path(tmp),
            overrides=OVERRIDES,
            start_mode=Mode.TRAIN,
        )
        try:
            print(
                f"{os.cpu_count()} cores, window {app.surface.get_size()}, cap "
                f"{app.fps_cap} fps, {args.seconds:g} s per game, training at fast speed"
            )
            print(
                f"{'game':<10} {'fps':>6} {'median':>8} {'p99':>8} {'worst':>8} "
                f"{'pause':>8} {'steps/s':>8} {'updates':>8}"
            )
            for game in args.games:
                row = measure(app, game, args.seconds)
                print(
                    f"{game:<10} {row['fps']:6.1f} {row['median_ms']:6.1f}ms "
                    f"{row['p99_ms']:6.1f}ms {row['worst_ms']:6.1f}ms {row['pause_ms']:6.1f}ms "
                    f"{row['steps_per_s']:8.0f} {row['updates']:8.0f}",
                    flush=True,
                )
                assert app.arcade.snapshot.speed == FAST
        finally:
            app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
