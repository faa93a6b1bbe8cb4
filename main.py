"""DQN Arcade: play, watch and train DQN agents on fruit catch, CartPole and Breakout.

With no command it opens the window; `train`, `eval` and `record` run headless.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

# numpy's BLAS threads fight torch's for the same cores over tiny matrices (Breakout's 84x84
# resize slows 20-fold on a busy 2-core machine); set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from agent import cli_args  # noqa: E402
from agent.cli_args import ArgumentParser  # noqa: E402
from game.registry import GAMES  # noqa: E402

if TYPE_CHECKING:
    from agent.config import AgentConfig

SAVES = Path(__file__).resolve().parent / "saves"  # the shipped agents, tracked by git
USER_SAVES = SAVES / "mine"  # the user's own runs and saves, ignored by git


def build_parser() -> ArgumentParser:
    """The command line's parser (agent/cli_args.py holds every flag)."""
    return cli_args.build_parser(__doc__.splitlines()[0])


def versions() -> str:
    """The app's version and those of the libraries it runs on, one line."""
    from importlib.metadata import PackageNotFoundError, version

    from agent.checkpoint import APP_VERSION

    parts = [f"DQN Arcade {APP_VERSION}", f"Python {sys.version.split()[0]}"]
    for package in ("torch", "gymnasium", "ale-py", "pygame-ce", "pygame_gui", "numpy"):
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} missing")
    return ", ".join(parts)


def run_train(args: argparse.Namespace, parser: ArgumentParser) -> int:
    from agent import commands
    from agent.device import configure_threads

    config, resumed_step = _train_config(args, parser)
    steps = args.steps
    if steps is None and resumed_step is not None:  # the rest of the run's own length
        steps = config.total_steps - resumed_step
        if steps <= 0:
            parser.error(f"{args.resume} has reached total_steps already; give --steps N")
    if config.algorithm == "pqn" and GAMES[args.game].make_train_vector is None:
        parser.error(f"algorithm pqn learns from several envs, which {args.game} does not have")
    device = _device(args.device, parser)
    if note := configure_threads(config.network):
        print(note, file=sys.stderr)
    save = args.save or USER_SAVES / f"{args.game}-{time.strftime('%Y%m%d-%H%M%S')}.pt"
    result = commands.train(
        GAMES[args.game],
        config,
        device,
        seed=args.seed,
        steps=steps or config.total_steps,
        save_path=save,
        resume=args.resume,
        stop_at=args.stop_at,
        snapshot_every=args.snapshot_every,
        keep_replay=args.save_replay,
        tensorboard=args.tensorboard,
    )
    summary = result.as_json()
    mean = summary["eval_mean"]
    print(
        f"{args.game}: {result.env_steps:,} steps in {result.seconds:.1f} s, "
        f"{result.episodes:,} episodes"
        + (
            f", greedy eval mean {mean:.3f} over {summary['eval_episodes']}"
            if mean is not None
            else ""
        )
        + ("" if not args.stop_at else (", solved" if result.solved else ", not solved"))
        + f"; saved {result.checkpoint}",
        file=sys.stderr,
    )
    if args.json:
        print(json.dumps(summary))
    return 130 if result.interrupted else 0


def _train_config(
    args: argparse.Namespace, parser: ArgumentParser
) -> tuple[AgentConfig, int | None]:
    """The run's config (the game's, a --config file's or, on --resume, the checkpoint's own,
    then --set and the options that name a key) and the step a resumed run stopped at."""
    from agent.checkpoint import CheckpointError, read_checkpoint
    from agent.config import ConfigError, load_config, parse_override, saved_config

    _positive(parser, "--steps", args.steps)
    _positive(parser, "--eval-episodes", args.eval_episodes)
    _positive(parser, "--envs", args.envs)
    if args.snapshot_every < 0:
        parser.error(f"--snapshot-every must not be negative, got {args.snapshot_every}")
    try:
        overrides = dict(parse_override(text) for text in args.set)
        named = {"eval_every": args.eval_every, "save_every": args.save_freq}
        named["eval_episodes"] = args.eval_episodes
        overrides.update({key: value for key, value in named.items() if value is not None})
        resumed = read_checkpoint(args.resume) if args.resume is not None else None
        if resumed is not None and resumed["game"] != args.game:
            raise CheckpointError(f"{args.resume}: made for {resumed['game']!r}, not {args.game!r}")
        if resumed is not None and args.config is None:
            # A run goes on with its own hyperparameters (PQN's, say), not the game's defaults.
            config = saved_config(resumed["config"], str(args.resume)).with_settings(**overrides)
        else:
            config = load_config(args.game, args.config, overrides)
        if args.envs is not None:
            if config.algorithm != "pqn":
                parser.error(f"--envs: {config.algorithm} trains in one env; pqn steps several")
            config = config.with_settings(num_envs=args.envs)
    except ConfigError as error:
        parser.error(str(error))
    resumed_step = None if resumed is None else int(resumed["counters"].get("global_step", 0))
    return config, resumed_step


def run_eval(args: argparse.Namespace, parser: ArgumentParser) -> int:
    from agent import commands
    from agent.evaluation import score_summary

    _scoring_checks(args, parser)
    device = _device(args.device, parser)
    start = time.perf_counter()
    returns, counters = commands.evaluate(
        GAMES[args.game],
        args.checkpoint,
        device,
        episodes=args.episodes,
        seed=args.seed,
        epsilon=args.epsilon,
    )
    seconds = time.perf_counter() - start
    print(
        f"{args.game}: mean {returns.mean():.3f} +- {returns.std():.3f} "
        f"(min {returns.min():g}, max {returns.max():g}) over {len(returns)} episodes, "
        f"epsilon {args.epsilon:g}",
        file=sys.stderr,
    )
    if args.json:
        # train's keys where they mean the same; the agent's own training steps as export's
        # info names them.
        summary = {
            "game": args.game,
            "train_steps": int(counters.get("global_step", 0)),
            "seconds": round(seconds, 3),
            **score_summary(returns),
            "eval_epsilon": args.epsilon,
            "checkpoint": str(args.checkpoint),
        }
        print(json.dumps(summary))
    return 0


def run_record(args: argparse.Namespace, parser: ArgumentParser) -> int:
    from agent import commands

    _positive(parser, "--episodes", args.episodes)
    _positive(parser, "--fps", args.fps)
    _positive(parser, "--max-frames", args.max_frames)
    if args.out.suffix.lower() != ".gif":
        parser.error(f"--out must name a .gif file, got {args.out}")
    device = _device(args.device, parser)
    created = _missing_folder(args.out)
    # One --checkpoint or several (main() puts the shipped agent where none was given).
    given = args.checkpoint
    checkpoints: list[Path] = given if isinstance(given, list) else [given]
    if len(checkpoints) > 1:
        from agent.side_by_side import record_side_by_side

        frames, scores = record_side_by_side(
            GAMES[args.game],
            checkpoints,
            device,
            out=args.out,
            seed=args.seed,
            fps=args.fps,
            max_frames=args.max_frames,
        )
        shown = ", ".join(
            f"{path.stem} {score:g}" for path, score in zip(checkpoints, scores, strict=True)
        )
        print(f"wrote {args.out}: {frames} frames side by side; {shown}{created}", file=sys.stderr)
        return 0
    frames, returns = commands.record(
        GAMES[args.game],
        checkpoints[0],
        device,
        out=args.out,
        episodes=args.episodes,
        fps=args.fps,
        seed=args.seed,
        max_frames=args.max_frames,
    )
    print(f"wrote {args.out}: {frames} frames, returns {returns}{created}", file=sys.stderr)
    return 0


def run_export(args: argparse.Namespace, parser: ArgumentParser) -> int:
    from agent import commands

    _scoring_checks(args, parser)
    device = _device(args.device, parser)
    sb3 = args.format == "sb3"
    out = args.out or _export_path(args.checkpoint, sb3)
    created = _missing_folder(out)
    info = commands.export(
        GAMES[args.game],
        args.checkpoint,
        out,
        device,
        episodes=args.episodes,
        seed=args.seed,
        epsilon=args.epsilon,
        sb3=sb3,
    )
    print(
        f"wrote {out}: mean {info['eval_mean']:.3f} +- {info['eval_std']:.3f} over "
        f"{args.episodes} episodes at epsilon {args.epsilon:g}, "
        f"{info['train_steps']:,} training steps{created}",
        file=sys.stderr,
    )
    return 0


def _export_path(checkpoint: Path, sb3: bool) -> Path:
    """Where ``export`` writes without --out: beside the checkpoint as NAME-export.pt
    (NAME-sb3.zip), but in saves/mine/ for an agent in the tracked saves/ folder, so that a
    stray export neither replaces a shipped agent nor shows in git status."""
    name = f"{checkpoint.stem}-sb3.zip" if sb3 else f"{checkpoint.stem}-export.pt"
    folder = checkpoint.parent.resolve()
    shipped = folder.is_relative_to(SAVES) and not folder.is_relative_to(USER_SAVES)
    return USER_SAVES / name if shipped else checkpoint.with_name(name)


def run_plot(args: argparse.Namespace, parser: ArgumentParser) -> int:
    from agent.plots import PlotError, plot_files

    created = _missing_folder(args.out)
    try:
        out = plot_files(args.csv, args.out, args.title)
    except PlotError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {out}{created}", file=sys.stderr)
    return 0


def _missing_folder(path: Path) -> str:
    """What to add to a command's line when it creates the folder ``path`` goes into."""
    folder = path.parent
    return "" if folder.exists() else f"; created folder {folder}"


def _positive(parser: ArgumentParser, name: str, value: float | None) -> None:
    if value is not None and value <= 0:
        parser.error(f"{name} must be positive, got {value}")


def _scoring_checks(args: argparse.Namespace, parser: ArgumentParser) -> None:
    _positive(parser, "--episodes", args.episodes)
    if not 0.0 <= args.epsilon <= 1.0:
        parser.error(f"--epsilon must be in [0, 1], got {args.epsilon}")


def _device(name: str, parser: ArgumentParser):
    from agent.device import pick_device

    try:
        return pick_device(name)
    except ValueError as error:
        parser.error(str(error))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(versions())
        return 0
    if getattr(args, "checkpoint", "absent") is None:  # eval, record, export: the shipped agent
        args.checkpoint = SAVES / f"{args.game}.pt"
    commands = {
        "train": run_train,
        "eval": run_eval,
        "record": run_record,
        "export": run_export,
        "plot": run_plot,
    }
    if args.command is None:
        from ui.app import run_app

        return run_app(start_game=args.game, device=args.device)
    # Headless commands draw only into arrays (CartPole renders with pygame): no window needed.
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    from agent.checkpoint import CheckpointError
    from agent.dqn_trainer import MemoryBudgetError
    from agent.run_logs import TensorBoardMissing

    try:
        return commands[args.command](args, parser)
    except (CheckpointError, MemoryBudgetError, TensorBoardMissing) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
