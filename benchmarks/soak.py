"""Soak benchmark: the window for an hour, Breakout training flat out, then games and modes
switched every few minutes; prints resident memory, frame rate and anything that went wrong.

    .venv/bin/python benchmarks/soak.py [--minutes 60] [--first-minutes 10] [--phase-minutes 4]

Runs the real app headless (SDL's dummy video driver, the window's own settings: the 60 fps
cap, the replay memories the window gives each game) and drives its normal loop. The first
phase trains Breakout at fast speed; then each phase picks the next game and mode of a fixed
tour (every game in every mode; Train at fast speed, which the window keeps for the Agent
phases after it: they play flat out too). Each phase prints its frame rate (the
whole phase and its slowest 10 s), its worst frame, the resident memory (RSS) at its end and
the steps its game took. At the end: memory from the end of the third phase (every game
has trained: all sessions and replay memories made) to the end, the slowest
10 s of frames, and every error the window reported (message lines marked as errors,
anything written to stderr). Exits 1 if the frame rate fell under 30 or anything went wrong.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import headless  # noqa: E402, F401  (before pygame: draws nowhere)

from agent.live.channels import Mode  # noqa: E402
from ui.app import App  # noqa: E402
from ui.shortcuts import Intent  # noqa: E402

MIN_FPS = 30.0
WINDOW_S = 10.0  # frame rate is also judged over windows of this many seconds
# After the first phase (Breakout, Train): every game in every mode, no game twice in a row.
TOUR = (
    ("fruit", Mode.TRAIN),
    ("cartpole", Mode.TRAIN),
    ("breakout", Mode.AGENT),
    ("fruit", Mode.HUMAN),
    ("cartpole", Mode.VERSUS),
    ("breakout", Mode.TRAIN),
    ("fruit", Mode.AGENT),
    ("cartpole", Mode.HUMAN),
    ("breakout", Mode.VERSUS),
    ("fruit", Mode.VERSUS),
    ("cartpole", Mode.AGENT),
    ("breakout", Mode.HUMAN),
)
FAST_SPEED_INDEX = 4


def resident_mb() -> float:
    """This process's resident memory, MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Soak:
    def __init__(self, app: App) -> None:
        self.app = app
        self.errors: list[str] = []
        self._serials: dict[str, int] = {}
        self.slowest_window_fps = float("inf")

    def enter(self, game: str, mode: Mode) -> None:
        arcade = self.app.arcade
        arcade.perform(Intent("game", game))
        arcade.perform(Intent("mode", mode.value))
        if mode is Mode.TRAIN:
            arcade.perform(Intent("speed", FAST_SPEED_INDEX))
        if arcade.snapshot.paused:
            arcade.perform(Intent("toggle_pause"))

    def run_phase(self, game: str, seconds: float) -> dict[str, float]:
        app = self.app
        session = app.pool.get(game)
        first_steps = session.snapshot().training.env_steps
        frames, worst, window_start, window_frames = 0, 0.0, time.perf_counter(), 0
        slowest = float("inf")
        began = last = time.perf_counter()
        while time.perf_counter() - began < seconds:
            if not app.tick():
                raise RuntimeError("the window closed itself")
            app.clock.tick(app.fps_cap)
            end = time.perf_counter()
            frames += 1
            window_frames += 1
            worst = max(worst, end - last)
            last = end
            self._note_errors()
            if end - window_start >= WINDOW_S:
                slowest = min(slowest, window_frames / (end - window_start))
                window_start, window_frames = end, 0
            if app.arcade.snapshot.mode is Mode.VERSUS and frames % 600 == 0:
                app.arcade.perform(Intent("next_round"))  # a finished round waits for this
        fps = frames / (time.perf_counter() - began)
        slowest = min(slowest, fps)  # a phase shorter than a window is judged whole
        self.slowest_window_fps = min(self.slowest_window_fps, slowest)
        return {
            "fps": fps,
            "slowest_fps": slowest,
            "worst_ms": 1000 * worst,
            "rss_mb": resident_mb(),
            "steps": session.snapshot().training.env_steps - first_steps,
        }

    def _note_errors(self) -> None:
        snap = self.app.arcade.snapshot
        if self._serials.get(snap.game) != snap.message.serial:
            self._serials[snap.game] = snap.message.serial
            if snap.message.is_error:
                self.errors.append(f"{snap.game}: {snap.message.text}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--first-minutes", type=float, default=10.0, help="Breakout training")
    parser.add_argument("--phase-minutes", type=float, default=4.0)
    args = parser.parse_args()
    code = 0
    with tempfile.TemporaryDirectory() as tmp:
        stderr_path = Path(tmp) / "stderr.txt"
        saved_stderr = os.dup(2)
        with stderr_path.open("w") as stderr_log:
            os.dup2(stderr_log.fileno(), 2)  # tracebacks from the sessions' threads land here
        say = print
        app: App | None = None
        try:
            app = App(
                "breakout",
                "cpu",
                saves_dir=Path(tmp),
                recordings_dir=Path(tmp),
                start_mode=Mode.TRAIN,
            )
            soak = Soak(app)
            say(
                f"{os.cpu_count()} cores, window {app.surface.get_size()}, cap {app.fps_cap} fps, "
                f"{args.minutes:g} min: Breakout Train {args.first_minutes:g} min, then "
                f"{args.phase_minutes:g} min a phase"
            )
            say(
                f"{'minute':>6}  {'game':<9} {'mode':<7} {'fps':>6} {'slow10s':>7} "
                f"{'worst':>8} {'RSS MB':>7} {'steps':>9}"
            )
            plan = [("breakout", Mode.TRAIN, args.first_minutes)]
            elapsed = args.first_minutes
            index = 0
            while elapsed < args.minutes - 1e-9:
                game, mode = TOUR[index % len(TOUR)]
                length = min(args.phase_minutes, args.minutes - elapsed)
                plan.append((game, mode, length))
                elapsed += length
                index += 1
            started = time.perf_counter()
            rss_trained: float | None = None
            rss: list[float] = []
            for number, (game, mode, minutes) in enumerate(plan):
                soak.enter(game, mode)
                row = soak.run_phase(game, 60 * minutes)
                rss.append(row["rss_mb"])
                if number == 2:  # every game has trained once: all sessions and memories made
                    rss_trained = row["rss_mb"]
                say(
                    f"{(time.perf_counter() - started) / 60:6.1f}  {game:<9} {mode.value:<7} "
                    f"{row['fps']:6.1f} {row['slowest_fps']:7.1f} {row['worst_ms']:6.0f}ms "
                    f"{row['rss_mb']:7.0f} {row['steps']:9,.0f}",
                    flush=True,
                )
        finally:
            if app is not None:
                app.close()
            os.dup2(saved_stderr, 2)  # a failure's own traceback shows, with the log's tail
            logged = stderr_path.read_text(errors="replace").strip()
            if logged and sys.exc_info()[0] is not None:
                print("\n".join(logged.splitlines()[-20:]), file=sys.stderr)
    say(f"frame rate: slowest {WINDOW_S:g} s {soak.slowest_window_fps:.1f} fps")
    if rss_trained is not None:
        say(
            f"resident memory: {rss_trained:.0f} MB once every game had trained, {rss[-1]:.0f} MB "
            f"at the end ({rss[-1] - rss_trained:+.0f} MB), largest at a phase's end "
            f"{max(rss):.0f} MB"
        )
    else:
        say(f"resident memory: {rss[0]:.0f} MB to {rss[-1]:.0f} MB (fewer than three phases)")
    say(f"errors reported in the window: {len(soak.errors)}")
    for line in soak.errors:
        say(f"  {line}")
    say(f"stderr: {'empty' if not logged else f'{len(logged.splitlines())} lines'}")
    if logged:
        say("  " + "\n  ".join(logged.splitlines()[-20:]))
    if soak.slowest_window_fps < MIN_FPS or soak.errors or logged:
        code = 1
    return code


if __name__ == "__main__":
    sys.exit(main())
