"""The command line's arguments: main.py's parser, one function per subcommand.

Every flag, default and help text lives here; main.py parses with ``build_parser`` and wires
what it read to agent/commands.py. Usage errors are one line and exit status 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

from game.registry import GAMES

EXIT_USAGE = 2
DEVICES = ("auto", "cpu", "cuda", "mps")


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors as one line and exit status 2, without the usage dump."""

    def error(self, message: str) -> NoReturn:
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


def build_parser(description: str) -> ArgumentParser:
    """The whole command line: the window's options, then one subcommand each."""
    parser = ArgumentParser(
        prog="main.py",
        description=description,
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
    for add in (add_train, add_eval, add_record, add_export, add_plot):
        add(sub)
    return parser


def _command(
    sub: Any, name: str, summary: str, examples: str, device: bool = True
) -> ArgumentParser:
    """A subcommand whose --help ends with examples; its --device, when given, wins over one
    given before the command (`main.py --device cpu train ...` works too)."""
    command: ArgumentParser = sub.add_parser(
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


def _game_argument(command: ArgumentParser, text: str) -> None:
    command.add_argument("game", choices=GAMES, help=text)


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


def _json_option(command: ArgumentParser) -> None:
    command.add_argument("--json", action="store_true", help="end with one JSON line")


def add_train(sub: Any) -> None:
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
    _game_argument(train, "the game to train on")
    _train_config_options(train)
    train.add_argument(
        "--save", type=Path, help="checkpoint path (default: saves/mine/GAME-TIME.pt)"
    )
    train.add_argument(
        "-i", "--resume", type=Path, help="go on from this checkpoint, exactly where it stopped"
    )
    _train_schedule_options(train)
    train.add_argument(
        "--tensorboard",
        type=Path,
        metavar="DIR",
        help="also write TensorBoard event files there, with CleanRL's tag names "
        "(needs the tensorboard package)",
    )
    train.add_argument("--stop-at", type=float, help="stop once a greedy evaluation reaches this")
    _json_option(train)


def _train_config_options(train: ArgumentParser) -> None:
    """The run's length, its hyperparameters and its seed."""
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


def _train_schedule_options(train: ArgumentParser) -> None:
    """When the run evaluates and saves, and what it keeps."""
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


def add_eval(sub: Any) -> None:
    evaluate = _command(
        sub,
        "eval",
        "score an agent on fresh games",
        "  main.py eval cartpole\n"
        "  main.py eval breakout --episodes 30 --epsilon 0.05 --seed 6000\n"
        "  main.py eval fruit --checkpoint saves/mine/fruit-1.pt --json",
    )
    _game_argument(evaluate, "the game to play")
    _checkpoint_option(evaluate)
    _scoring_options(evaluate, episodes=10)
    _json_option(evaluate)


def add_record(sub: Any) -> None:
    record = _command(
        sub,
        "record",
        "write a GIF of an agent's greedy play, or of several agents side by side",
        "  main.py record breakout --out breakout.gif --max-frames 600\n"
        "  main.py record cartpole --checkpoint saves/mine/cartpole-1.pt --out cp.gif\n"
        "  main.py record breakout --checkpoint saves/breakout-after-1h.pt \\\n"
        "      --checkpoint saves/breakout-after-4h.pt --checkpoint saves/breakout.pt \\\n"
        "      --out recordings/time-lapse.gif --max-frames 1500",
    )
    _game_argument(record, "the game to play")
    record.add_argument(
        "--checkpoint",
        type=Path,
        action="append",
        help="the agent to play (default: the shipped one, saves/GAME.pt); give it two or more "
        "times for one GIF of every agent side by side, each playing the same seed",
    )
    record.add_argument("--out", type=Path, required=True, help="the GIF to write")
    record.add_argument("--episodes", type=int, default=1, help="whole games to record")
    record.add_argument("--fps", type=float, help="frames per second (default: the game's pace)")
    record.add_argument("--max-frames", type=int, help="stop the GIF after this many frames")
    record.add_argument("--seed", type=int, default=0, help="the first game's seed")


def add_export(sub: Any) -> None:
    export = _command(
        sub,
        "export",
        "score a checkpoint and write it small, for shipping",
        "  main.py export cartpole --checkpoint runs/cartpole.pt --episodes 100\n"
        "  main.py export breakout --checkpoint runs/pqn.pt --out saves/breakout.pt \\\n"
        "      --episodes 30 --epsilon 0.05 --seed 6000\n"
        "  main.py export cartpole --format sb3 --out cartpole-dqn.zip   # for SB3's DQN.load",
    )
    _game_argument(export, "the game it plays")
    _checkpoint_option(export)
    export.add_argument(
        "--out",
        type=Path,
        help="default: beside the checkpoint, as NAME-export.pt (NAME-sb3.zip for sb3), or in "
        "saves/mine/ for a shipped agent; give saves/GAME.pt to replace the shipped agent",
    )
    export.add_argument(
        "--format",
        choices=("arcade", "sb3"),
        default="arcade",
        help="arcade: this app's checkpoint; sb3: a Stable-Baselines3 DQN zip",
    )
    _scoring_options(export, episodes=100)


def add_plot(sub: Any) -> None:
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
