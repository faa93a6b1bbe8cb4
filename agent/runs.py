"""Headless runs for the command line: train, evaluate, record."""

from __future__ import annotations

import csv
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch

from agent.checkpoint import (
    CheckpointError,
    checkpoint_config,
    load_into,
    load_replay,
    replay_path,
    save_checkpoint,
    save_replay,
    trainer_state,
)
from agent.config import DQNConfig
from agent.device import describe_machine
from agent.dqn import DQNLearner
from agent.interop import read_agent_file, write_sb3_zip
from agent.messages import first_line
from agent.pqn import PQNTrainer
from agent.trainer import (
    Trainer,
    evaluate_policy,
    make_game_env,
    multiples_crossed,
    score_summary,
)
from agent.vector_trainer import VectorTrainer
from game.registry import GameSpec
from game.snapshot import SnapshotError

EVAL_SEED_BASE = 1_000_000  # evaluation envs use seeds far from the training env's
PROGRESS_INTERVAL_S = 0.25


@dataclass
class TrainResult:
    """Summary of a training run, as printed by ``--json``."""

    game: str
    env_steps: int
    seconds: float
    episodes: int
    eval_returns: list[float] = field(default_factory=list)
    checkpoint: str | None = None
    interrupted: bool = False
    solved: bool = False

    def as_json(self) -> dict[str, Any]:
        stats = score_summary(np.asarray(self.eval_returns, dtype=float))
        return {
            "game": self.game,
            "env_steps": self.env_steps,
            "seconds": round(self.seconds, 3),
            "episodes": self.episodes,
            **stats,
            "checkpoint": self.checkpoint,
            "interrupted": self.interrupted,
            "solved": self.solved,
        }


class ProgressLine:
    """One self-overwriting status line on a terminal (plain lines when not a terminal)."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.tty = stream.isatty()
        self._last = 0.0

    def update(self, describe: Callable[[], str], force: bool = False) -> None:
        """Show ``describe()``, called only when the line is due (it is not free to build)."""
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < PROGRESS_INTERVAL_S):
            return
        if not self.tty and not force and now - self._last < 10.0:
            return  # logs get a line every 10 s, not a flood
        self._last = now
        text = describe()
        self.stream.write(("\r" + text + "\x1b[K") if self.tty else text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")


class MetricsLog:
    """CSV of episode ends and evaluations, written as they happen."""

    COLUMNS = (
        "kind",
        "global_step",
        "seconds",
        "episode",
        "return",
        "epsilon",
        "loss",
        "eval_mean",
        "eval_std",
        "length",  # last: a resumed run appends to a CSV that may predate it
    )

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = open(path, "a", newline="", encoding="utf-8")  # noqa: SIM115
        self._csv = csv.writer(self._file)
        if path.stat().st_size == 0:
            self._csv.writerow(self.COLUMNS)

    def write(self, **row: Any) -> None:
        self._csv.writerow([_cell(row.get(c)) for c in self.COLUMNS])
        self._file.flush()  # readable while the run goes on (plots, a crash)

    def close(self) -> None:
        self._file.close()


class TensorBoardLog:
    """The run as TensorBoard event files, with CleanRL's tag names, so the curves of this app
    and CleanRL's scripts sit side by side in one TensorBoard."""

    EVERY = 1_000  # env steps between samples of the rates and losses

    def __init__(self, folder: Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise TensorBoardMissing(
                "--tensorboard needs the tensorboard package: pip install tensorboard"
            ) from None
        self._writer = SummaryWriter(str(folder))
        self._next = 0

    def episode(self, step: int, episode_return: float, length: int | None) -> None:
        self._writer.add_scalar("charts/episodic_return", episode_return, step)
        if length is not None:
            self._writer.add_scalar("charts/episodic_length", length, step)

    def progress(
        self,
        step: int,
        epsilon: float,
        loss: float | None,
        q_taken: Callable[[], float | None],
        rate: float,
    ) -> None:
        """The schedule, the loss, the Q-values learned and the speed, once every ``EVERY``
        env steps."""
        if step < self._next:
            return
        self._next = step + self.EVERY
        self._writer.add_scalar("charts/epsilon", epsilon, step)
        self._writer.add_scalar("charts/SPS", rate, step)
        if loss is not None:
            self._writer.add_scalar("losses/td_loss", loss, step)
        q_value = q_taken()
        if q_value is not None:
            self._writer.add_scalar("losses/q_values", q_value, step)

    def evaluation(self, step: int, returns: np.ndarray) -> None:
        self._writer.add_scalar("eval/episodic_return", float(returns.mean()), step)

    def close(self) -> None:
        self._writer.close()


class TensorBoardMissing(RuntimeError):
    """``--tensorboard`` without the tensorboard package; the message says how to install it."""


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return f"{value:.6g}" if isinstance(value, float) else value


def train(
    game: GameSpec,
    config: DQNConfig,
    device: torch.device,
    *,
    seed: int,
    steps: int,
    save_path: Path,
    resume: Path | None = None,
    stop_at: float | None = None,
    progress: bool = True,
    stream: TextIO = sys.stderr,
    envs: int | None = None,
    snapshot_every: int = 0,
    keep_replay: bool = False,
    tensorboard: Path | None = None,
) -> TrainResult:
    """Train for ``steps`` env steps (or until a greedy evaluation reaches ``stop_at``).

    ``envs`` > 1 steps that many envs together (the game's vector env), so a run may go up to
    ``envs - 1`` steps past ``steps``; PQN (``config.algorithm``) always does, ``config.num_envs``
    of them unless ``envs`` says, and goes on to the end of its rollout. Saves every
    ``config.save_every`` steps, at the end and on Ctrl+C; metrics go to a CSV beside the
    checkpoint. ``snapshot_every`` keeps a copy of the checkpoint every that many steps, named
    for its step (``run-1000000.pt`` beside ``run.pt``), for scoring the run along the way.
    ``keep_replay`` writes the replay memory beside each save (``run.replay.npz``); a resume
    finds it there, so the resumed run trains as if it had never stopped. ``tensorboard``
    writes TensorBoard event files into that folder too.
    """
    board = TensorBoardLog(tensorboard) if tensorboard is not None else None  # fails first
    trainer: Trainer | VectorTrainer | PQNTrainer
    if config.algorithm == "pqn":
        trainer = PQNTrainer(game, config, device, envs, seed=seed)
    elif envs is not None and envs > 1:
        trainer = VectorTrainer(game, config, device, envs, seed=seed)
    else:
        trainer = Trainer(game, config, device, seed=seed)
    earlier_seconds = 0.0
    if resume is not None:
        payload = load_into(resume, game.key, trainer.learner)
        trainer.continue_counting(payload["counters"])
        state = trainer_state(payload)
        replay = getattr(trainer, "replay", None)
        kept = replay is not None and _take_up_replay(resume, replay, state, stream)
        if state is not None:
            try:
                trainer.load_state_dict(state, replay_kept=kept)
            except (SnapshotError, KeyError, TypeError, ValueError, RuntimeError) as error:
                raise CheckpointError(
                    f"{resume}: its training state cannot be restored ({first_line(error)})"
                ) from None
        if progress:
            memory = "no replay memory"
            if replay is not None:
                memory = (
                    f"replay memory of {replay.transitions:,} transitions from "
                    f"{replay_path(resume)}"
                    if kept
                    else "an empty replay memory, refilled before learning"
                )
            stream.write(f"resumed {resume} at step {trainer.global_step:,}, with {memory}\n")
        earlier = payload.get("info", {}).get("train_seconds")
        earlier_seconds = float(earlier) if isinstance(earlier, (int, float)) else 0.0
    metrics = MetricsLog(save_path.with_suffix(".metrics.csv"))
    bar = ProgressLine(stream, progress)
    result = TrainResult(game=game.key, env_steps=0, seconds=0.0, episodes=0)
    eval_every = config.eval_every or (steps if stop_at is not None else 0)
    # Evaluation seeds follow the step, so that a resumed run scores on the games it would have.
    evaluations = trainer.global_step // eval_every if eval_every else 0
    start = time.perf_counter()
    first_step = trainer.global_step  # a resumed run counts on from its checkpoint's step
    end_step = first_step + steps

    stop = StopRequest()
    between_steps = True  # false while a step is under way: its state is half written

    def save(path: Path = save_path) -> None:
        counters = {
            "global_step": trainer.global_step,
            "episode": trainer.episode,
            "updates": trainer.learner.updates,
        }
        info = {
            "eval_mean": result.as_json()["eval_mean"],
            "seed": seed,
            "train_seconds": round(earlier_seconds + time.perf_counter() - start, 1),
            "hardware": describe_machine(device),
            "envs": getattr(trainer, "num_envs", 1),
        }
        replay = getattr(trainer, "replay", None)
        state = trainer.state_dict() if between_steps else None
        if state is not None and replay is not None:
            state["replay_transitions"] = replay.transitions  # pairs it with its replay file
        # The replay memory first: a checkpoint never points at a memory not yet written.
        if path == save_path and keep_replay and replay is not None and between_steps:
            save_replay(save_path, replay)
        save_checkpoint(path, game.key, trainer.learner, counters, info, trainer_state=state)
        if path == save_path:
            result.checkpoint = str(save_path)

    restore_signals = stop.install()
    try:
        while trainer.global_step < end_step and not stop.asked:
            before = trainer.global_step
            between_steps = False
            report = trainer.step()
            between_steps = True
            elapsed = time.perf_counter() - start
            first_episode = report.episode - len(report.episode_returns) + 1
            ended = zip(report.episode_returns, report.episode_lengths, strict=True)
            for k, (episode_return, length) in enumerate(ended):
                metrics.write(
                    kind="episode",
                    global_step=report.global_step,
                    seconds=elapsed,
                    episode=first_episode + k,
                    epsilon=report.epsilon,
                    loss=trainer.last_loss,
                    length=length,
                    **{"return": episode_return},
                )
                if board is not None:
                    board.episode(report.global_step, episode_return, length)
            if board is not None:
                rate = (trainer.global_step - first_step) / max(elapsed, 1e-9)
                board.progress(
                    trainer.global_step,
                    report.epsilon,
                    trainer.last_loss,
                    trainer.learner.mean_q_taken,
                    rate,
                )
            # With N envs the step counter moves N at a time: act on each multiple it passes.
            if eval_every and multiples_crossed(before, trainer.global_step, eval_every):
                seed_base = EVAL_SEED_BASE + evaluations * config.eval_episodes + seed * 7919
                returns = trainer.evaluate(config.eval_episodes, seed_base)
                evaluations += 1
                result.eval_returns = returns.tolist()
                metrics.write(
                    kind="eval",
                    global_step=trainer.global_step,
                    seconds=time.perf_counter() - start,
                    episode=trainer.episode,
                    **{k: v for k, v in score_summary(returns).items() if k in MetricsLog.COLUMNS},
                )
                if board is not None:
                    board.evaluation(trainer.global_step, returns)
                if stop_at is not None and returns.mean() >= stop_at:
                    result.solved = True
                    break
            if config.save_every and multiples_crossed(
                before, trainer.global_step, config.save_every
            ):
                save()
            if multiples_crossed(before, trainer.global_step, snapshot_every):
                stem = f"{save_path.stem}-{trainer.global_step}"
                save(save_path.with_name(stem + save_path.suffix))
            bar.update(lambda: _progress_text(trainer, start, first_step, end_step))
    except KeyboardInterrupt:  # a second Ctrl+C, or one where no handler could be installed
        stop.asked = True
    finally:
        result.interrupted = stop.asked
        result.env_steps = trainer.global_step
        result.episodes = trainer.episode
        result.seconds = time.perf_counter() - start
        bar.update(lambda: _progress_text(trainer, start, first_step, end_step), force=True)
        bar.finish()
        metrics.close()
        if board is not None:
            board.close()
        restore_signals()
    if not result.eval_returns and not result.interrupted:
        result.eval_returns = trainer.evaluate(
            config.eval_episodes, EVAL_SEED_BASE + seed * 7919
        ).tolist()
    save()
    trainer.close()
    return result


class StopRequest:
    """Ctrl+C and SIGTERM (`kill`, a job scheduler) ask the run to stop after the step under
    way, so that what is saved is one consistent moment; a second one stops at once (and the
    save then keeps the weights but not the half-stepped game)."""

    def __init__(self) -> None:
        self.asked = False

    def install(self) -> Callable[[], None]:
        """Take over both signals; returns the function that puts the old handlers back."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def ask(signum, frame) -> None:
            if self.asked:
                raise KeyboardInterrupt
            self.asked = True

        previous = {sig: signal.signal(sig, ask) for sig in (signal.SIGINT, signal.SIGTERM)}

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore


def _take_up_replay(resume: Path, replay, state: dict | None, stream: TextIO) -> bool:
    """Refill ``replay`` from the memory saved beside ``resume`` if it was saved with that
    very checkpoint; a missing, damaged or other save's memory is left out with one line."""
    expected = (state or {}).get("replay_transitions")
    try:
        return expected is not None and load_replay(resume, replay, expected)
    except CheckpointError as error:
        stream.write(f"warning: {error}; going on with an empty replay memory\n")
        return False


def _progress_text(
    trainer: Trainer | VectorTrainer | PQNTrainer, start: float, first_step: int, end_step: int
) -> str:
    elapsed = max(time.perf_counter() - start, 1e-9)
    rate = (trainer.global_step - first_step) / elapsed
    recent = trainer.recent_returns
    mean = f"{np.mean(recent):8.2f}" if recent else "       -"
    loss = f"{trainer.last_loss:.4f}" if trainer.last_loss is not None else "-"
    done = (trainer.global_step - first_step) / max(end_step - first_step, 1)
    filled = int(20 * min(done, 1.0))
    left = (end_step - trainer.global_step) / rate if rate > 0 else float("inf")
    return (
        f"[{'#' * filled}{'.' * (20 - filled)}] {trainer.global_step:>9,} steps "
        f"{rate:7.0f} steps/s  {_clock(elapsed)} elapsed, ETA {_clock(max(left, 0.0))}  "
        f"episodes {trainer.episode:>6}  "
        f"mean return {mean}  eps {trainer.scheduled_epsilon:.3f}  loss {loss}"
    )


def _clock(seconds: float) -> str:
    """``seconds`` as H:MM:SS (M:SS under an hour); ``-`` when unknown."""
    if seconds != seconds or seconds == float("inf"):
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def load_agent(
    game: GameSpec, checkpoint: Path, device: torch.device
) -> tuple[DQNLearner, DQNConfig, dict[str, Any]]:
    """A learner rebuilt from a checkpoint's own config, with its weights loaded; the
    checkpoint may also be an SB3 zip or a CleanRL model (``agent.interop``)."""
    payload = read_agent_file(checkpoint, game)
    if payload["game"] != game.key:
        raise CheckpointError(f"{checkpoint}: made for {payload['game']!r}, not {game.key!r}")
    config = checkpoint_config(payload, checkpoint)
    env = make_game_env(game, config, train=False)
    learner = DQNLearner(env.observation_space.shape, int(env.action_space.n), config, device)
    env.close()
    load_into(checkpoint, game.key, learner, with_optimizer=False, payload=payload)
    learner.online.eval()
    return learner, config, payload


def evaluate(
    game: GameSpec,
    checkpoint: Path,
    device: torch.device,
    *,
    episodes: int,
    seed: int,
    epsilon: float = 0.0,
) -> np.ndarray:
    learner, config, _ = load_agent(game, checkpoint, device)
    return evaluate_policy(game, config, learner, episodes, seed, epsilon)


def record(
    game: GameSpec,
    checkpoint: Path,
    device: torch.device,
    *,
    out: Path,
    episodes: int,
    fps: float | None,
    seed: int,
    epsilon: float = 0.0,
    max_frames: int | None = None,
) -> tuple[int, list[float]]:
    """Write a GIF of ``episodes`` games of greedy play, cut at ``max_frames`` if given;
    returns (frames, returns of the episodes played to their end)."""
    from agent.recording import GifRecorder  # Pillow loads only when a GIF is made (0.1 s)

    learner, config, _ = load_agent(game, checkpoint, device)
    env = make_game_env(game, config, train=False)
    rng = np.random.default_rng(seed)
    returns = []
    with GifRecorder(out, fps or game.agent_fps, scale=game.gif_scale) as gif:
        for episode in range(episodes):
            obs, _ = env.reset(seed=seed + episode)
            gif.append(env.render())
            done, total = False, 0.0
            while not done and (max_frames is None or gif.frames < max_frames):
                action, _, _ = learner.act(obs, epsilon, rng)
                obs, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                gif.append(env.render())
                done = terminated or truncated
            if not done:
                break
            returns.append(total)
        frames = gif.frames
    env.close()
    return frames, returns


def export(
    game: GameSpec,
    checkpoint: Path,
    out: Path,
    device: torch.device,
    *,
    episodes: int,
    seed: int,
    epsilon: float = 0.0,
    sb3: bool = False,
) -> dict[str, Any]:
    """Score a checkpoint and write it for shipping: half-precision online weights plus the
    evaluation, training steps, time and hardware in its info; or, with ``sb3``, as a
    Stable-Baselines3 DQN zip. Returns that info."""
    learner, config, payload = load_agent(game, checkpoint, device)
    returns = evaluate_policy(game, config, learner, episodes, seed, epsilon)
    info = dict(payload.get("info", {}))
    info.update(
        **score_summary(returns),
        eval_epsilon=epsilon,
        train_steps=int(payload["counters"].get("global_step", 0)),
    )
    counters = {k: int(v) for k, v in payload["counters"].items()}
    if sb3:
        write_sb3_zip(out, game, learner, counters)
    else:
        save_checkpoint(out, game.key, learner, counters, info, for_shipping=True)
    return info
