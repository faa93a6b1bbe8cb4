"""Window benchmark: how smoothly the window draws while a race runs on the race screen.

    .venv/bin/python benchmarks/race_fps.py [--game fruit] [--setting "double dqn"] [--seconds 30]
        [--limit 180]

Runs the real app headless (SDL's dummy video driver), opens the race screen with K, starts a
real race (two processes, one per side) and drives the normal loop (60 fps cap) while it runs,
then prints the frames drawn per second, the median, 99th-percentile and worst time between two
frames, and how far each side got. Measuring starts once both sides report, so the seconds
their processes take to start (importing torch) are left out but counted apart.
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

from agent.live.race import CHOICES  # noqa: E402
from ui.app import App  # noqa: E402
from ui.race_view import RACE_GAMES, RaceScreen  # noqa: E402


def press(key: int) -> None:
    for kind in (pygame.KEYDOWN, pygame.KEYUP):
        pygame.event.post(pygame.event.Event(kind, key=key, mod=0, unicode="", scancode=0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", choices=RACE_GAMES, default="fruit")
    parser.add_argument("--setting", choices=list(CHOICES), default="double dqn")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured time at most")
    parser.add_argument("--limit", type=float, default=180.0, help="the race's time limit, s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = App("fruit", "cpu", saves_dir=ROOT / "saves", recordings_dir=Path(tmp))
        try:
            screen = app.screens["race"]
            assert isinstance(screen, RaceScreen)
            press(pygame.K_k)
            app.tick()
            assert app.screen_name == "race"
            screen.game_key, screen.setting, screen.limit = args.game, args.setting, args.limit
            began = time.perf_counter()
            press(pygame.K_RETURN)
            while not (screen.state and all(side.steps for side in screen.state.sides)):
                app.tick()
                app.clock.tick(app.fps_cap)
            startup = time.perf_counter() - began
            starts: list[float] = []
            began = time.perf_counter()
            while time.perf_counter() - began < args.seconds and not screen.state.over:
                starts.append(time.perf_counter())
                app.tick()
                app.clock.tick(app.fps_cap)
            gaps = sorted(b - a for a, b in zip(starts, starts[1:], strict=False))
            print(
                f"{os.cpu_count()} cores, window {app.surface.get_size()}, cap {app.fps_cap} fps; "
                f"{args.game}, {args.setting}; both sides reported after {startup:.1f} s"
            )
            print(
                f"fps {(len(starts) - 1) / (starts[-1] - starts[0]):.1f}  median "
                f"{1000 * statistics.median(gaps):.1f} ms  p99 "
                f"{1000 * gaps[int(0.99 * (len(gaps) - 1))]:.1f} ms  worst "
                f"{1000 * gaps[-1]:.1f} ms over {starts[-1] - starts[0]:.1f} s"
            )
            for side in screen.state.sides:
                solved = "" if side.solved_steps is None else f", solved at {side.solved_steps:,}"
                print(
                    f"  {side.label}: {side.steps:,} steps in {side.seconds:.1f} s, "
                    f"{len(side.returns)} games{solved}"
                )
        finally:
            app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
