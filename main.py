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

# numpy's BLAS threads fight torch's for the same cores over tiny matrices (Breakout's 84x84
# resize slows 20-fold on a busy 2-core machine); set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from game.registry import GAMES  # noqa: E402

SAVES = Path(__file__).resolve().parent / "saves"  # the shipped agents, tracked by git
USER_SAVES = SAVES / "mine"  # the user's own runs and saves, ignored by git
EXIT_USAGE = 2


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors as one line and exit status 2, without the usage dump."""

    def error(self, message: str) -> None:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="main.py", description=__doc__.splitlines()[0])
    parser.add_argument("--game", choices=GAMES, default="fruit", help="game the window opens on")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    sub = parser.add_subparsers(dest="command", parser_class=ArgumentParser)

    train = sub.add_parser("train", help="train an agent headless")
    train.add_argument("game", choices=GAMES)
    train.add_argument("--steps", type=int, help="env steps (default: the config's total_steps)")
    train.add_argument("--config", type=Path, help="YAML file overriding the game's defaults")
    train.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config value (repeatable)",
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--envs",
        type=int,
        help="envs stepped together, their actions from one batched forward pass (Breakout; "
        "default 1 for DQN, the config's num_envs for PQN)",
    )
    train.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    train.add_argument(
        "--save", type=Path, help="checkpoint path (default: saves/mine/GAME-TIME.pt)"
    )
    train.add_argument("--resume", type=Path, help="continue from this checkpoint")
    train.add_argument("--eval-every", type=int, help="env steps between greedy evaluations")
    train.add_argument("--eval-episodes", type=int, help="episodes per evaluation")
    train.add_argument(
        "--snapshot-every",
        type=int,
        default=0,
        metavar="N",
        help="also keep the checkpoint every N steps as PATH-STEP.pt (to score the run later)",
    )
    train.add_argument(
        "--save-replay",
        action="store_true",
        help="keep the replay memory beside each save (PATH.replay.npz, compressed), so that "
        "--resume goes on exactly where the run stopped",
    )
    train.add_argument("--stop-at", type=float, help="stop once a greedy evaluation reaches this")
    train.add_argument("--json", action="store_true", help="end with one JSON line")

    evaluate = sub.add_parser("eval", help="score a checkpoint with greedy play")
    evaluate.add_argument("game", choices=GAMES)
    evaluate.add_argument("--checkpoint", type=Path, required=True)
    evaluate.add_argument("--episodes", type=int, default=10)
    evaluate.add_argument("--epsilon", type=float, default=0.0, help="exploration while scoring")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    evaluate.add_argument("--json", action="store_true", help="end with one JSON line")

    record = sub.add_parser("record", help="write a GIF of greedy play")
    record.add_argument("game", choices=GAMES)
    record.add_argument("--checkpoint", type=Path, required=True)
    record.add_argument("--out", type=Path, required=True)
    record.add_argument("--episodes", type=int, default=1)
    record.add_argument("--fps", type=float, help="frames per second (default: the game's pace)")
    record.add_argument("--max-frames", type=int, help="stop the GIF after this many frames")
    record.add_argument("--seed", type=int, default=0)
    record.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))

    export = sub.add_parser("export", help="score a checkpoint and write it small, for shipping")
    export.add_argument("game", choices=GAMES)
    export.add_argument("--checkpoint", type=Path, required=True)
    export.add_argument(
        "--out",
        type=Path,
        help="default: beside the checkpoint, as NAME-export.pt; "
        "give saves/GAME.pt to replace the shipped agent",
    )
    export.add_argument("--episodes", type=int, default=100)
    export.add_argument("--epsilon", type=float, default=0.0, help="exploration while scoring")
    export.add_argument("--seed", type=int, default=0)
    export.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))

    plot = sub.add_parser(
        "plot",
        help="draw learning curves from training metrics CSVs (or a campaign record) into a PNG",
        description="Draw learning curves into a PNG: each RUN.metrics.csv that `train` wrote "
        "(episode returns, their running mean and the greedy evaluations against env steps; "
        "several runs overlaid), or one campaign record (assets/campaign/breakout.csv). "
        "Example: main.py plot runs/a.metrics.csv runs/b.metrics.csv --out curves.png",
    )
    plot.add_argument("csv", type=Path, nargs="+", help="metrics CSVs, or one campaign record")
    plot.add_argument("--out", type=Path, required=True, help="the PNG to write")
    plot.add_argument("--title", help="the picture's title")
    return parser


def run_plot(args: argparse.Namespace, parser: ArgumentParser) -> int:
    from agent.plots import PlotError, plot_files

    try:
        out = plot_files(args.csv, args.out, args.title)
    except PlotError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {out}", file=sys.stderr)
    return 0


def run_export(args: argparse.Namespace, parser: ArgumentParser) -> int:
    from agent import runs

    _positive(parser, "--episodes", args.episodes)
    device = _device(args.device, parser)
    # Never the shipped agent unless asked for by name: a stray export must not replace it.
    checkpoint = args.checkpoint
    out = args.out or checkpoint.with_name(f"{checkpoint.stem}-export{checkpoint.suffix}")
    if not 0.0 <= args.epsilon <= 1.0:
        parser.error(f"--epsilon must be in [0, 1], got {args.epsilon}")
    info = runs.export(
        GAMES[args.game],
        args.checkpoint,
        out,
        device,
        episodes=args.episodes,
        seed=args.seed,
        epsilon=args.epsilon,
    )
    print(
        f"wrote {out}: mean {info['eval_mean']:.3f} +- {info['eval_std']:.3f} over "
        f"{args.episodes} episodes at epsilon {args.epsilon:g}, "
        f"{info['train_steps']:,} training steps",
        file=sys.stderr,
    )
    return 0


def _positive(parser: ArgumentParser, name: str, value: float | None) -> None:
    if value is not None and value <= 0:
        parser.error(f"{name} must be positive, got {value}")


def run_train(args: argparse.Namespace, parser: ArgumentParser) -> int:
    from agent import runs
    from agent.config import ConfigError, load_config, parse_override
    from agent.device import configure_threads

    _positive(parser, "--steps", args.steps)
    _positive(parser, "--eval-episodes", args.eval_episodes)
    _positive(parser, "--envs", args.envs)
    if args.snapshot_every < 0:
        parser.error(f"--snapshot-every must not be negative, got {args.snapshot_every}")
    if (args.envs or 1) > 1 and GAMES[args.game].make_train_vector is None:
        vector_games = ", ".join(k for k, g in GAMES.items() if g.make_train_vector is not None)
        parser.error(f"--envs: {args.game} trains in one env; several envs: {vector_games}")
    try:
        overrides = dict(parse_override(text) for text in args.set)
        if args.eval_every is not None:
            overrides["eval_every"] = args.eval_every
        if args.eval_episodes is not None:
            overrides["eval_episodes"] = args.eval_episodes
        config = load_config(args.game, args.config, overrides)
    except ConfigError as error:
        parser.error(str(error))
    if config.algorithm == "pqn" and GAMES[args.game].make_train_vector is None:
        parser.error(f"algorithm pqn learns from several envs, which {args.game} does not have")
    device = _device(args.device, parser)
    configure_threads(config.network)
    save = args.save or USER_SAVES / f"{args.game}-{time.strftime('%Y%m%d-%H%M%S')}.pt"
    result = runs.train(
        GAMES[args.game],
        config,
        device,
        seed=args.seed,
        steps=args.steps or config.total_steps,
        save_path=save,
        resume=args.resume,
        stop_at=args.stop_at,
        envs=args.envs,
        snapshot_every=args.snapshot_every,
        keep_replay=args.save_replay,
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


def run_eval(args: argparse.Namespace, parser: ArgumentParser) -> int:
    from agent import runs

    _positive(parser, "--episodes", args.episodes)
    if not 0.0 <= args.epsilon <= 1.0:
        parser.error(f"--epsilon must be in [0, 1], got {args.epsilon}")
    device = _device(args.device, parser)
    start = time.perf_counter()
    returns = runs.evaluate(
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
        print(
            json.dumps(
                {
                    "game": args.game,
                    "env_steps": None,
                    "seconds": round(seconds, 3),
                    "episodes": len(returns),
                    "eval_mean": float(returns.mean()),
                    "eval_std": float(returns.std()),
                    "eval_min": float(returns.min()),
                    "eval_max": float(returns.max()),
                    "checkpoint": str(args.checkpoint),
                }
            )
        )
    return 0


def run_record(args: argparse.Namespace, parser: ArgumentParser) -> int:
    from agent import runs

    _positive(parser, "--episodes", args.episodes)
    _positive(parser, "--fps", args.fps)
    _positive(parser, "--max-frames", args.max_frames)
    if args.out.suffix.lower() != ".gif":
        parser.error(f"--out must name a .gif file, got {args.out}")
    device = _device(args.device, parser)
    frames, returns = runs.record(
        GAMES[args.game],
        args.checkpoint,
        device,
        out=args.out,
        episodes=args.episodes,
        fps=args.fps,
        seed=args.seed,
        max_frames=args.max_frames,
    )
    print(f"wrote {args.out}: {frames} frames, returns {returns}", file=sys.stderr)
    return 0


def _device(name: str, parser: ArgumentParser):
    from agent.device import pick_device

    try:
        return pick_device(name)
    except ValueError as error:
        parser.error(str(error))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
    from agent.trainer import MemoryBudgetError

    try:
        return commands[args.command](args, parser)
    except (CheckpointError, MemoryBudgetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
