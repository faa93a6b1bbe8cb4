"""The command line's commands that run an agent headless: train, evaluate, record, export."""

from __future__ import annotations

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

from agent.agent_files import load_policy
from agent.checkpoint import (
    CheckpointError,
    load_into,
    load_replay,
    replay_path,
    save_checkpoint,
    save_for_shipping,
    save_replay,
    trainer_state,
)
from agent.config import AgentConfig
from agent.device import describe_machine
from agent.evaluation import evaluate_policy, make_game_env, score_summary
from agent.interop import check_sb3_network, write_sb3_zip
from agent.learner import compute_path
from agent.learners import make_trainer
from agent.messages import first_line
from agent.pqn import annealed_learning_rate
from agent.replay import ReplayBuffer
from agent.run_logs import MetricsLog, ProgressLine, TensorBoardLog, progress_text
from agent.training import multiples_crossed
from game.registry import GameSpec
from game.snapshot import SnapshotError

EVAL_SEED_BASE = 1_000_000  # evaluation envs use seeds far from the training env's


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


def train(
    game: GameSpec,
    config: AgentConfig,
    device: torch.device,
    *,
    seed: int,
    steps: int,
    save_path: Path,
    resume: Path | None = None,
    stop_at: float | None = None,
    progress: bool = True,
    stream: TextIO | None = None,
    snapshot_every: int = 0,
    keep_replay: bool = False,
    tensorboard: Path | None = None,
) -> TrainResult:
    """Train for ``steps`` env steps (or until a greedy evaluation reaches ``stop_at``).

    A trainer whose step is a whole iteration of many envs (PQN) goes on to the end of the
    iteration under way, so a run may end a little past ``steps``. Saves every
    ``config.save_every`` steps, at the end and on Ctrl+C; metrics go to a CSV beside the
    checkpoint. ``snapshot_every`` keeps a copy of the checkpoint every that many steps, named
    for its step (``run-1000000.pt`` beside ``run.pt``), for scoring the run along the way.
    ``keep_replay`` writes the replay memory beside each save (``run.replay.npz``); a resume
    finds it there, so the resumed run trains as if it had never stopped. ``tensorboard``
    writes TensorBoard event files into that folder too. Progress and warnings go to
    ``stream`` (default: ``sys.stderr`` as it is at the call).
    """
    stream = sys.stderr if stream is None else stream
    board = TensorBoardLog(tensorboard) if tensorboard is not None else None  # fails first
    trainer = make_trainer(game, config, device, seed)
    earlier_seconds = 0.0
    if resume is not None:
        payload = load_into(resume, game.key, trainer.learner)
        trainer.continue_counting(payload["counters"])
        state = trainer_state(payload)
        replay = trainer.replay
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
    _warn_if_learning_stops(config, trainer.global_step + steps, stream)
    metrics = MetricsLog(save_path.with_suffix(".metrics.csv"))
    bar = ProgressLine(stream, progress)
    if progress:
        stream.write(f"{config.algorithm} on {compute_path(config, device)}\n")
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
            "algorithm": config.algorithm,
        }
        replay = trainer.replay
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
            bar.update(lambda: progress_text(trainer, start, first_step, end_step))
    except KeyboardInterrupt:  # a second Ctrl+C, or one where no handler could be installed
        stop.asked = True
    finally:
        result.interrupted = stop.asked
        result.env_steps = trainer.global_step
        result.episodes = trainer.episode
        result.seconds = time.perf_counter() - start
        bar.update(lambda: progress_text(trainer, start, first_step, end_step), force=True)
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


def _warn_if_learning_stops(config: AgentConfig, end_step: int, stream: TextIO) -> None:
    """One line when the run goes on past the step where its learning rate reaches zero (a run
    that ends there, as a default run from scratch does, learns at every step it takes)."""
    if config.algorithm != "pqn" or annealed_learning_rate(config, end_step - 1) > 0:
        return
    stream.write(
        f"warning: the learning rate anneals to 0 at step {config.total_steps:,} "
        f"(total_steps) and this run goes to {end_step:,}: past it, nothing is learned; "
        "raise total_steps or set pqn.min_learning_rate_share\n"
    )


def _take_up_replay(resume: Path, replay: ReplayBuffer, state: dict | None, stream: TextIO) -> bool:
    """Refill ``replay`` from the memory saved beside ``resume`` if it was saved with that
    very checkpoint; a missing, damaged or other save's memory is left out with one line."""
    expected = (state or {}).get("replay_transitions")
    try:
        return expected is not None and load_replay(resume, replay, expected)
    except CheckpointError as error:
        stream.write(f"warning: {error}; going on with an empty replay memory\n")
        return False


def evaluate(
    game: GameSpec,
    checkpoint: Path,
    device: torch.device,
    *,
    episodes: int,
    seed: int,
    epsilon: float = 0.0,
) -> tuple[np.ndarray, dict[str, int]]:
    """Returns of ``episodes`` whole games of the agent in ``checkpoint``, and the agent's
    counters (its training steps, episodes and updates)."""
    agent = load_policy(checkpoint, game, device)
    returns = evaluate_policy(game, agent.config, agent.policy, episodes, seed, epsilon)
    return returns, agent.counters


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

    agent = load_policy(checkpoint, game, device)
    env = make_game_env(game, agent.config, train=False)
    rng = np.random.default_rng(seed)
    returns = []
    with GifRecorder(out, fps or game.agent_fps, scale=game.gif_scale) as gif:
        for episode in range(episodes):
            obs, _ = env.reset(seed=seed + episode)
            gif.append(env.render())
            done, total = False, 0.0
            while not done and (max_frames is None or gif.frames < max_frames):
                action = agent.policy.act(obs, epsilon, rng).action
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
    agent = load_policy(checkpoint, game, device)
    if sb3:  # refused before the games are played, not after
        check_sb3_network(out, agent.config)
    returns = evaluate_policy(game, agent.config, agent.policy, episodes, seed, epsilon)
    info = dict(agent.info)
    info.update(
        **score_summary(returns),
        eval_epsilon=epsilon,
        train_steps=agent.counters.get("global_step", 0),
    )
    if sb3:
        write_sb3_zip(out, game, agent.policy, agent.config, agent.counters)
    else:
        network = agent.policy.network
        save_for_shipping(out, game.key, network, agent.config, agent.counters, info)
    return info
