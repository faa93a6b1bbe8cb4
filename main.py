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


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help that shows each option's default (unless its text already says it, or there is
    none to show) and keeps the examples' lines as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        nothing = (
            default is None or default is False or default == [] or default == argparse.SUPPRESS
        )
        shown = not nothing and "default" not in text
        return f"{text} (default: %(default)s)" if shown and action.option_strings else text


DEVICES = ("auto", "cpu", "cuda", "mps")


def _command(sub, name: str, summary: str, examples: str, device: bool = True) -> ArgumentParser:
    """A subcommand whose --help ends with examples; its --device, when given, wins over one
    given before the command (`main.py --device cpu train ...` works too)."""
    command = sub.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog="examples:\n" + examples,
        formatter_class=HelpFormatter,
    )
    if device:
        command.add_argument(
            "--device", default=argparse.SUPPRESS, choices=DEVICES, help="where the network runs"
        )
    return command


def _checkpoint_option(command: ArgumentParser) -> None:
    command.add_argument(
        "--checkpoint",
        type=Path,
        help="the agent to use: a checkpoint of this app, a Stable-Baselines3 DQN .zip or a "
        "CleanRL DQN .cleanrl_model (default: the shipped one, saves/GAME.pt)",
    )


def _scoring_options(command: ArgumentParser, episodes: int) -> None:
    command.add_argument("--episodes", type=int, default=episodes, help="whole games to score")
    command.add_argument("--epsilon", type=float, default=0.0, help="exploration while scoring")
    command.add_argument("--seed", type=int, default=0, help="the first game's seed")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="main.py",
        description=__doc__.splitlines()[0],
        epilog="examples:\n  main.py                      open the window\n"
        "  main.py train cartpole --stop-at 475\n"
        "  main.py eval breakout --episodes 30 --epsilon 0.05",
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--game", choices=GAMES, help="game the window opens on (default: the one it closed on)"
    )
    parser.add_argument("--device", default="auto", choices=DEVICES, help="where networks run")
    parser.add_argument(
        "--version", action="store_true", help="print the app's and its libraries' versions"
    )
    sub = parser.add_subparsers(dest="command", parser_class=ArgumentParser)

    train = _command(
        sub,
        "train",
        "train an agent headless",
        "  main.py train cartpole --stop-at 475\n"
        "  main.py train fruit -n 20000 --seed 1 --save runs/fruit.pt\n"
        "  OMP_NUM_THREADS=1 main.py train breakout -i runs/pqn.pt --save runs/pqn.pt \\\n"
        "      --snapshot-every 1000000\n"
        "  main.py train breakout --config agent/configs/breakout_dqn.yaml   # DQN, not PQN",
    )
    train.add_argument("game", choices=GAMES, help="the game to train on")
    train.add_argument(
        "-n",
        "--steps",
        type=int,
        help="env steps to train for (default: the config's total_steps; with --resume, the "
        "steps the run has left of it)",
    )
    train.add_argument(
        "--config",
        type=Path,
        help="YAML file overriding the game's defaults (with --resume: the checkpoint's own "
        "config, unless given)",
    )
    train.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config value (repeatable), e.g. --set learning_rate=3e-4",
    )
    train.add_argument("--seed", type=int, default=0, help="seeds the envs, networks and sampling")
    train.add_argument(
        "--envs",
        type=int,
        help="PQN's envs stepped together, their actions from one batched forward pass "
        "(default: the config's pqn.num_envs)",
    )
    train.add_argument(
        "--save", type=Path, help="checkpoint path (default: saves/mine/GAME-TIME.pt)"
    )
    train.add_argument(
        "-i", "--resume", type=Path, help="go on from this checkpoint, exactly where it stopped"
    )
    train.add_argument(
        "--eval-every",
        "--eval-freq",
        type=int,
        help="env steps between greedy evaluations (default: the config's eval_every)",
    )
    train.add_argument(
        "--eval-episodes", type=int, help="episodes per evaluation (default: the config's)"
    )
    train.add_argument(
        "--save-freq",
        type=int,
        metavar="N",
        help="env steps between saves (default: the config's save_every)",
    )
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
    train.add_argument(
        "--tensorboard",
        type=Path,
        metavar="DIR",
        help="also write TensorBoard event files there, with CleanRL's tag names "
        "(needs the tensorboard package)",
    )
    train.add_argument("--stop-at", type=float, help="stop once a greedy evaluation reaches this")
    train.add_argument("--json", action="store_true", help="end with one JSON line")

    evaluate = _command(
        sub,
        "eval",
        "score an agent on fresh games",
        "  main.py eval cartpole\n"
        "  main.py eval breakout --episodes 30 --epsilon 0.05 --seed 6000\n"
        "  main.py eval fruit --checkpoint saves/mine/fruit-1.pt --json",
    )
    evaluate.add_argument("game", choices=GAMES, help="the game to play")
    _checkpoint_option(evaluate)
    _scoring_options(evaluate, episodes=10)
    evaluate.add_argument("--json", action="store_true", help="end with one JSON line")

    record = _command(
        sub,
        "record",
        "write a GIF of an agent's greedy play",
        "  main.py record breakout --out breakout.gif --max-frames 600\n"
        "  main.py record cartpole --checkpoint saves/mine/cartpole-1.pt --out cp.gif",
    )
    record.add_argument("game", choices=GAMES, help="the game to play")
    _checkpoint_option(record)
    record.add_argument("--out", type=Path, required=True, help="the GIF to write")
    record.add_argument("--episodes", type=int, default=1, help="whole games to record")
    record.add_argument("--fps", type=float, help="frames per second (default: the game's pace)")
    record.add_argument("--max-frames", type=int, help="stop the GIF after this many frames")
    record.add_argument("--seed", type=int, default=0, help="the first game's seed")

    export = _command(
        sub,
        "export",
        "score a checkpoint and write it small, for shipping",
        "  main.py export cartpole --checkpoint runs/cartpole.pt --episodes 100\n"
        "  main.py export breakout --checkpoint runs/pqn.pt --out saves/breakout.pt \\\n"
        "      --episodes 30 --epsilon 0.05 --seed 6000\n"
        "  main.py export cartpole --format sb3 --out cartpole-dqn.zip   # for SB3's DQN.load",
    )
    export.add_argument("game", choices=GAMES, help="the game it plays")
    _checkpoint_option(export)
    export.add_argument(
        "--out",
        type=Path,
        help="default: beside the checkpoint, as NAME-export.pt (NAME-sb3.zip for sb3); "
        "give saves/GAME.pt to replace the shipped agent",
    )
    export.add_argument(
        "--format",
        choices=("arcade", "sb3"),
        default="arcade",
        help="arcade: this app's checkpoint; sb3: a Stable-Baselines3 DQN zip",
    )
    _scoring_options(export, episodes=100)

    plot = _command(
        sub,
        "plot",
        "draw learning curves from training metrics CSVs (or a campaign record) into a PNG",
        "  main.py plot runs/a.metrics.csv runs/b.metrics.csv --out curves.png\n"
        "  main.py plot assets/campaign/breakout.csv --out assets/campaign/breakout.png",
        device=False,
    )
    plot.add_argument("csv", type=Path, nargs="+", help="metrics CSVs, or one campaign record")
    plot.add_argument("--out", type=Path, required=True, help="the PNG to write")
    plot.add_argument("--title", help="the picture's title")
    return parser


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
    from agent import commands

    _positive(parser, "--episodes", args.episodes)
    device = _device(args.device, parser)
    # Never the shipped agent unless asked for by name: a stray export must not replace it.
    checkpoint = args.checkpoint
    sb3 = args.format == "sb3"
    default_name = f"{checkpoint.stem}-sb3.zip" if sb3 else f"{checkpoint.stem}-export.pt"
    out = args.out or checkpoint.with_name(default_name)
    if not 0.0 <= args.epsilon <= 1.0:
        parser.error(f"--epsilon must be in [0, 1], got {args.epsilon}")
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
        f"{info['train_steps']:,} training steps",
        file=sys.stderr,
    )
    return 0


def _positive(parser: ArgumentParser, name: str, value: float | None) -> None:
    if value is not None and value <= 0:
        parser.error(f"{name} must be positive, got {value}")


def run_train(args: argparse.Namespace, parser: ArgumentParser) -> int:
    from agent import commands
    from agent.checkpoint import CheckpointError, read_checkpoint
    from agent.config import ConfigError, load_config, parse_override, saved_config
    from agent.device import configure_threads

    _positive(parser, "--steps", args.steps)
    _positive(parser, "--eval-episodes", args.eval_episodes)
    _positive(parser, "--envs", args.envs)
    if args.snapshot_every < 0:
        parser.error(f"--snapshot-every must not be negative, got {args.snapshot_every}")
    try:
        overrides = dict(parse_override(text) for text in args.set)
        if args.eval_every is not None:
            overrides["eval_every"] = args.eval_every
        if args.save_freq is not None:
            overrides["save_every"] = args.save_freq
        if args.eval_episodes is not None:
            overrides["eval_episodes"] = args.eval_episodes
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
    steps = args.steps
    if steps is None and resumed is not None:  # the rest of the run's own length
        steps = config.total_steps - int(resumed["counters"].get("global_step", 0))
        if steps <= 0:
            parser.error(f"{args.resume} has reached total_steps already; give --steps N")
    if config.algorithm == "pqn" and GAMES[args.game].make_train_vector is None:
        parser.error(f"algorithm pqn learns from several envs, which {args.game} does not have")
    device = _device(args.device, parser)
    configure_threads(config.network)
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


def run_eval(args: argparse.Namespace, parser: ArgumentParser) -> int:
    from agent import commands
    from agent.evaluation import score_summary

    _positive(parser, "--episodes", args.episodes)
    if not 0.0 <= args.epsilon <= 1.0:
        parser.error(f"--epsilon must be in [0, 1], got {args.epsilon}")
    device = _device(args.device, parser)
    start = time.perf_counter()
    returns = commands.evaluate(
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
                    **{k: v for k, v in score_summary(returns).items() if k != "eval_episodes"},
                    "checkpoint": str(args.checkpoint),
                }
            )
        )
    return 0


def run_record(args: argparse.Namespace, parser: ArgumentParser) -> int:
    from agent import commands

    _positive(parser, "--episodes", args.episodes)
    _positive(parser, "--fps", args.fps)
    _positive(parser, "--max-frames", args.max_frames)
    if args.out.suffix.lower() != ".gif":
        parser.error(f"--out must name a .gif file, got {args.out}")
    device = _device(args.device, parser)
    frames, returns = commands.record(
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
