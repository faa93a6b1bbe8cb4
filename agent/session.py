"""A live training session: one game's trainer on a background thread, steered by commands.

The window and the trainer talk through two narrow channels, one way each (see STYLE.md): the
UI ``send()``s small frozen command objects into a queue, and the session publishes a frozen
``Snapshot`` into a lock-guarded latest-value slot that the UI reads with ``snapshot()``. Only the
session's thread touches the trainer, so nothing is shared unguarded; PyTorch releases the GIL
in its kernels, so the window keeps drawing while a network learns.

Pacing follows "Fix Your Timestep!": at a finite speed, steps are due at fixed times (the game's
own rate times the speed multiplier; human play always at the game's human rate) and the thread
sleeps on the command queue in between, so commands wake it at once. At ``FAST`` it steps flat
out and publishes a few snapshots a second, copying the frame only then.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
import time
import traceback
from collections import deque
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from agent.channels import (
    WATCH,
    Command,
    HumanAction,
    Load,
    Mode,
    Pause,
    Resume,
    Save,
    SetEpsilon,
    SetMode,
    SetSpeed,
    Shutdown,
    Snapshot,
    Step,
)
from agent.checkpoint import CheckpointError, load_into, save_checkpoint
from agent.config import DQNConfig
from agent.device import describe_device
from agent.trainer import StepReport, Trainer, make_game_env
from game.registry import GameSpec

FAST_PUBLISH_S = 0.2  # seconds between snapshots at FAST
MAX_LAG_S = 0.25  # behind schedule by more than this, the clock restarts instead of catching up
RATE_WINDOW_S = 0.5  # seconds over which steps/s is measured
CURVE_POINTS = 10_000  # episode returns kept for the learning curve
SHUTDOWN_WAIT_S = 2.0


class TrainingSession:
    """One game's trainer, run on a daemon thread; see the module docstring."""

    def __init__(
        self,
        game: GameSpec,
        config: DQNConfig,
        device: torch.device,
        *,
        seed: int = 0,
        mode: Mode = Mode.AGENT,
        paused: bool = False,
        speed: float = WATCH,
    ) -> None:
        self.game = game
        self.config = config
        self.device = device
        self.seed = seed
        self._commands: queue.Queue[Command] = queue.Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"session-{game.key}", daemon=True)
        # Everything below belongs to the session's thread once it starts.
        self._trainer: Trainer | None = None
        self._mode = mode
        self._paused = paused
        self._speed = SetSpeed(speed).speed
        self._stopping = False
        self._epsilon_override: float | None = None
        self._human_env: gym.Env | None = None
        self._human_obs: np.ndarray | None = None
        self._human_action: int | None = None
        self._human_last_action = game.idle_action if game.idle_action is not None else 0
        self._human_score = 0.0
        self._human_episode = 0
        self._human_last_return: float | None = None
        self._agent_stepped = False  # Agent-mode steps since the last Train step
        self._loaded = False  # a checkpoint was loaded into this session
        self._device_name = describe_device(device)
        self._last: dict = {
            "action": None,
            "agent_action": None,
            "q_values": (),
            "greedy": True,
            "reward": 0.0,
            "loss": None,
        }
        self._returns: deque[float] = deque(maxlen=CURVE_POINTS)
        self._returns_tuple: tuple[float, ...] = ()
        self._frame: np.ndarray | None = None
        self._frame_serial = 0
        self._message = ""
        self._message_serial = 0
        self._rate_mark = (time.monotonic(), 0)
        self._steps_done = 0
        self._steps_per_second = 0.0
        self._snapshot = self._make_snapshot(ready=False)

    # -- the two channels ---------------------------------------------------------------------

    def start(self) -> TrainingSession:
        self._thread.start()
        return self

    def send(self, command: Command) -> None:
        """Queue a command; it takes effect before the session's next step."""
        self._commands.put(command)

    def snapshot(self) -> Snapshot:
        """The latest published state."""
        with self._lock:
            return self._snapshot

    def send_shutdown(self) -> None:
        """Ask the thread to stop after its current step, without waiting."""
        self.send(Shutdown())

    def close(self, timeout: float = SHUTDOWN_WAIT_S) -> None:
        """Ask the thread to stop and wait up to ``timeout`` seconds for it."""
        self.send_shutdown()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # -- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._trainer = Trainer(self.game, self.config, self.device, seed=self.seed)
            if self._mode is Mode.HUMAN:
                self._open_human_env()
        except Exception as error:  # noqa: BLE001 - any failure becomes the message line
            self._say(f"cannot start {self.game.title}: {_one_line(error)}")
            self._publish(ready=False)
            while not isinstance(self._commands.get(), Shutdown):
                pass
            return
        self._publish(frame=True)
        try:
            self._loop()
        finally:
            self._close_envs()

    def _loop(self) -> None:
        due = time.monotonic()
        last_publish = 0.0
        while not self._stopping:
            if self._paused:
                self._handle(self._commands.get())
                due = time.monotonic()
                continue
            self._drain()
            if self._paused or self._stopping:
                continue
            rate = self._pace_hz()
            if math.isinf(rate):
                self._guarded_step()
                now = time.monotonic()
                if now - last_publish >= FAST_PUBLISH_S:
                    self._publish(frame=True)
                    last_publish = now
                continue
            wait = due - time.monotonic()
            if wait > 0:
                with contextlib.suppress(queue.Empty):
                    self._handle(self._commands.get(timeout=wait))
                continue  # re-check: the command may have paused, changed pace or stopped
            self._guarded_step()
            self._publish(frame=True)
            due += 1.0 / rate
            if time.monotonic() - due > MAX_LAG_S:
                due = time.monotonic()

    def _drain(self) -> None:
        while True:
            try:
                self._handle(self._commands.get_nowait())
            except queue.Empty:
                return

    def _handle(self, command: Command) -> None:
        match command:
            case Shutdown():
                self._stopping = True
            case Pause():
                self._paused = True
            case Resume():
                self._paused = False
            case Step():
                if self._paused:
                    self._guarded_step()
                    self._publish(frame=True)
            case SetSpeed(speed=speed):
                self._speed = float(speed)
            case SetEpsilon(value=value):
                self._epsilon_override = None if value is None else min(max(float(value), 0.0), 1.0)
            case HumanAction(action=action):
                valid = action is None or 0 <= int(action) < len(self.game.action_names)
                self._human_action = None if action is None or not valid else int(action)
            case SetMode(mode=mode):
                self._set_mode(Mode(mode))
            case Save(path=path):
                self._save(Path(path))
            case Load(path=path, if_fresh=if_fresh):
                self._load(Path(path), if_fresh)
        self._publish()

    def _set_mode(self, mode: Mode) -> None:
        if mode is Mode.HUMAN and self._human_env is None:
            try:
                self._open_human_env()
            except Exception as error:  # noqa: BLE001
                self._say(f"cannot open a game for human play: {_one_line(error)}")
                return
        self._mode = mode
        self._human_action = None
        self._publish(frame=True)

    def _guarded_step(self) -> None:
        """One step; an unexpected error pauses the session and becomes the message line."""
        try:
            self._step()
        except Exception as error:  # noqa: BLE001 - the window must survive any trainer error
            traceback.print_exc()
            self._paused = True
            self._say(f"paused after an error: {_one_line(error)}")

    def _step(self) -> None:
        trainer = self._trainer
        assert trainer is not None
        if self._mode is Mode.HUMAN:
            self._human_step()
        elif self._mode is Mode.AGENT:
            report = trainer.step(learn=False, epsilon=self._epsilon_in_use())
            self._agent_stepped = True
            self._record(report)
        else:
            if self._agent_stepped:
                # Agent steps went unrecorded: the next stored transition starts a new episode
                # rather than stitching frames across the gap.
                trainer.replay.end_episode()
                self._agent_stepped = False
            report = trainer.step(learn=True, epsilon=self._epsilon_override)
            self._record(report)
        self._steps_done += 1

    def _record(self, report: StepReport) -> None:
        self._last = {
            "action": report.action,
            "agent_action": int(np.argmax(report.q_values)) if report.q_values else None,
            "q_values": report.q_values,
            "greedy": report.greedy,
            "reward": report.reward,
            "loss": report.loss if report.loss is not None else self._last["loss"],
        }
        if report.episode_return is not None:
            self._returns.append(report.episode_return)
            self._returns_tuple = tuple(self._returns)

    def _human_step(self) -> None:
        trainer, env = self._trainer, self._human_env
        assert trainer is not None and env is not None and self._human_obs is not None
        if self._human_action is not None:
            action = self._human_action
        elif self.game.idle_action is not None:
            action = self.game.idle_action
        else:
            action = self._human_last_action
        q_values = trainer.learner.q_values(self._human_obs[None])[0]
        agent_action = int(q_values.argmax())
        obs, reward, terminated, truncated, _ = env.step(action)
        self._human_last_action = action
        self._human_score += float(reward)
        if terminated or truncated:
            self._human_last_return = self._human_score
            self._human_episode += 1
            obs, _ = env.reset()
        self._human_obs = obs
        self._last = {
            "action": action,
            "agent_action": agent_action,
            "q_values": tuple(float(q) for q in q_values),
            "greedy": action == agent_action,
            "reward": float(reward),
            "loss": self._last["loss"],
        }
        if terminated or truncated:
            self._human_score = 0.0

    def _open_human_env(self) -> None:
        env = make_game_env(self.game, self.config, train=False, human=True)
        self._human_obs, _ = env.reset(seed=self.seed + 1)
        self._human_env = env
        self._human_score = 0.0

    def _close_envs(self) -> None:
        for env in (self._human_env, self._trainer.env if self._trainer else None):
            if env is not None:
                with contextlib.suppress(Exception):  # closing is best effort at exit
                    env.close()

    def _save(self, path: Path) -> None:
        trainer = self._trainer
        assert trainer is not None
        counters = {
            "global_step": trainer.global_step,
            "episode": trainer.episode,
            "updates": trainer.learner.updates,
        }
        info = {"source": "app", "mean_return": _mean(trainer.recent_returns)}
        try:
            saved = save_checkpoint(path, self.game.key, trainer.learner, counters, info)
        except CheckpointError as error:
            self._say(str(error))
            return
        self._say(f"saved {_short(saved)}")

    def _load(self, path: Path, if_fresh: bool) -> None:
        trainer = self._trainer
        assert trainer is not None
        if if_fresh and (trainer.learner.updates > 0 or self._loaded):
            return
        try:
            payload = load_into(path, self.game.key, trainer.learner)
        except CheckpointError as error:
            self._say(str(error))
            return
        counters = payload.get("counters", {})
        trainer.global_step = int(counters.get("global_step", trainer.global_step))
        trainer.episode = int(counters.get("episode", trainer.episode))
        trainer.recent_returns.clear()
        trainer.last_loss = None
        trainer.restart_episode()
        self._agent_stepped = False
        self._loaded = True
        self._returns.clear()
        self._returns_tuple = ()
        self._last = {**self._last, "loss": None}
        self._say(f"loaded {_short(path)} (trained {trainer.global_step:,} steps)")
        self._publish(frame=True)

    # -- publishing ---------------------------------------------------------------------------

    def _say(self, message: str) -> None:
        self._message = message
        self._message_serial += 1

    def _epsilon_in_use(self) -> float:
        if self._epsilon_override is not None:
            return self._epsilon_override
        if self._mode is Mode.TRAIN and self._trainer is not None:
            return self._trainer.scheduled_epsilon
        return 0.0

    def _pace_hz(self) -> float:
        if self._mode is Mode.HUMAN:
            return self.game.human_fps
        return self.game.agent_fps * self._speed

    def _publish(self, *, frame: bool = False, ready: bool = True) -> None:
        if frame:
            self._frame = self._render()
            self._frame_serial += 1
        snapshot = self._make_snapshot(ready=ready and self._trainer is not None)
        with self._lock:
            self._snapshot = snapshot

    def _render(self) -> np.ndarray | None:
        try:
            if self._mode is Mode.HUMAN and self._human_env is not None:
                frame = self._human_env.render()
            elif self._trainer is not None:
                frame = self._trainer.frame()
            else:
                return None
        except Exception:  # noqa: BLE001 - a frame we cannot draw is not worth a crash
            return None
        return None if frame is None else np.array(frame[..., :3], dtype=np.uint8, copy=True)

    def _measure_rate(self) -> float:
        now = time.monotonic()
        mark_time, mark_steps = self._rate_mark
        if now - mark_time >= RATE_WINDOW_S:
            self._steps_per_second = (self._steps_done - mark_steps) / (now - mark_time)
            self._rate_mark = (now, self._steps_done)
        return 0.0 if self._paused else self._steps_per_second

    def _make_snapshot(self, *, ready: bool) -> Snapshot:
        trainer = self._trainer
        recent = list(trainer.recent_returns) if trainer else []
        fast_pace = 1.0 / FAST_PUBLISH_S
        pace = self._pace_hz()
        return Snapshot(
            game=self.game.key,
            ready=ready,
            mode=self._mode,
            paused=self._paused,
            speed=self._speed,
            pace_hz=fast_pace if math.isinf(pace) else pace,
            global_step=trainer.global_step if trainer else 0,
            env_steps=trainer.env_steps if trainer else 0,
            episode=trainer.episode if trainer else 0,
            updates=trainer.learner.updates if trainer else 0,
            epsilon=self._epsilon_in_use() if self._mode is not Mode.HUMAN else 0.0,
            scheduled_epsilon=trainer.scheduled_epsilon if trainer else 1.0,
            epsilon_overridden=self._epsilon_override is not None,
            action=self._last["action"],
            agent_action=self._last["agent_action"],
            q_values=self._last["q_values"],
            greedy=self._last["greedy"],
            reward=self._last["reward"],
            episode_return=(
                self._human_score
                if self._mode is Mode.HUMAN
                else (trainer.episode_return if trainer else 0.0)
            ),
            last_return=recent[-1] if recent else None,
            mean_return=_mean(recent),
            human_episode=self._human_episode,
            human_last_return=self._human_last_return,
            loss=self._last["loss"],
            steps_per_second=self._measure_rate(),
            replay_size=min(trainer.replay.transitions, trainer.replay.capacity) if trainer else 0,
            replay_capacity=trainer.replay.capacity if trainer else self.config.buffer_size,
            device=self._device_name,
            frame=self._frame,
            frame_serial=self._frame_serial,
            returns=self._returns_tuple,
            message=self._message,
            message_serial=self._message_serial,
        )


def _mean(values) -> float | None:
    values = list(values)
    return float(np.mean(values)) if values else None


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _short(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
