"""A live training session: one game's trainer on a background thread, steered by commands.

The window and the trainer talk through two narrow channels, one way each (see STYLE.md): the
UI ``send()``s small frozen command objects into a queue, and the session publishes a frozen
``Snapshot`` into a lock-guarded latest-value slot that the UI reads with ``snapshot()``. Only the
session's thread touches the trainer, so nothing is shared unguarded; PyTorch releases the GIL
in its kernels, so the window keeps drawing while a network learns.

Pacing follows "Fix Your Timestep!": at a finite speed, steps are due at fixed times (the game's
own rate times the speed multiplier; human play always at the game's human rate) and the thread
sleeps on the command queue in between, so commands wake it at once. At ``FAST`` it steps flat
out and publishes a few snapshots a second, copying the frame only then. What one step does in
each mode (takeovers, teaching, versus rounds) lives in ``agent.live.play``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import queue
import threading
import time
import traceback
from pathlib import Path

import numpy as np
import torch

from agent.checkpoint import CheckpointError
from agent.config import DQNConfig, load_config
from agent.device import describe_device
from agent.live.agents import AgentOrigin, load_into_trainer, save_agent
from agent.live.channels import (
    WATCH,
    Command,
    Control,
    HandBack,
    HumanAction,
    Load,
    Message,
    Mode,
    NewAgent,
    NextRound,
    Pause,
    Resume,
    Save,
    Scores,
    SetDemoFraction,
    SetEpsilon,
    SetMode,
    SetSaliency,
    SetSpeed,
    SetTeach,
    Shutdown,
    Snapshot,
    Step,
    Training,
)
from agent.live.human_play import TAKEOVER_IDLE_S, Takeover
from agent.live.play import Play
from agent.live.view import LiveView
from agent.messages import first_line
from agent.pqn_live import LivePQNTrainer, make_live_trainer
from agent.trainer import Trainer
from game.registry import GameSpec

FAST_PUBLISH_S = 0.2  # seconds between snapshots at FAST
MAX_LAG_S = 0.25  # behind schedule by more than this, the clock restarts instead of catching up
RATE_WINDOW_S = 0.5  # seconds over which steps/s is measured
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
        takeover_idle_s: float = TAKEOVER_IDLE_S,
        dqn_config: DQNConfig | None = None,
    ) -> None:
        """``dqn_config``: the settings a DQN agent loaded into a game whose default learner
        is another (Breakout's PQN) trains on with; by default the game's DQN config."""
        self.game = game
        self.config = config
        self._default_config = config  # what a new agent is made with
        if dqn_config is None and config.algorithm != "dqn":
            dqn_config = load_config(game.key, algorithm="dqn")
        self._dqn_config = dqn_config or config
        self.device = device
        self.seed = seed
        self._commands: queue.Queue[Command] = queue.Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"session-{game.key}", daemon=True)
        # Everything below belongs to the session's thread once it starts.
        self._trainer: Trainer | LivePQNTrainer | None = None
        self._mode = mode
        self._paused = paused
        self._speed = float(SetSpeed(speed).speed)  # SetSpeed turns names into numbers
        self._stopping = False
        self._epsilon_override: float | None = None
        self._takeover = Takeover(takeover_idle_s)
        self._play: Play | None = None
        self._origin = AgentOrigin()  # where the agent playing came from
        self._view = LiveView()
        self._device_name = describe_device(device)
        self._message = Message()
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
            self._trainer = make_live_trainer(self.game, self.config, self.device, seed=self.seed)
            self._play = Play(self.game, self.config, self._trainer, self.seed, self._takeover)
            self._play.prepare(self._mode)
        except Exception as error:  # noqa: BLE001 - any failure becomes the message line
            self._say(f"cannot start {self.game.title}: {first_line(error)}", error=True)
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
            case HumanAction(action=action) if self._play is not None:
                valid = action is None or 0 <= int(action) < len(self.game.action_names)
                held = None if action is None or not valid else int(action)
                self._play.hold(self._mode, held, time.monotonic())
            case HandBack():
                self._takeover.hand_back()
            case SetTeach(on=on) if self._play is not None:
                self._play.teach = bool(on)
                self._publish(frame=True)
            case SetDemoFraction(value=value) if self._trainer is not None:
                fraction = min(max(float(value), 0.0), 1.0)
                self.config = dataclasses.replace(self.config, demo_fraction=fraction)
                self._trainer.config = self.config  # read at each training round
            case SetSaliency(on=on):
                self._view.show_saliency(bool(on))
                self._publish(frame=True)
            case NextRound() if self._play is not None and self._mode is Mode.VERSUS:
                if self._play.start_round():
                    self._publish(frame=True)
            case SetMode(mode=mode):
                self._set_mode(Mode(mode))
            case Save(path=path):
                self._save(Path(path))
            case Load(path=path, if_fresh=if_fresh):
                self._load(Path(path), if_fresh)
            case NewAgent():
                self._new_agent()
        self._publish()

    def _set_mode(self, mode: Mode) -> None:
        if self._play is None:
            self._mode = mode
            return
        try:
            self._play.prepare(mode)
        except Exception as error:  # noqa: BLE001
            self._say(f"cannot open a game for {mode.value} play: {first_line(error)}", error=True)
            return
        self._mode = mode
        self._play.reset_control()
        self._publish(frame=True)

    def _guarded_step(self) -> None:
        """One step; an unexpected error pauses the session and becomes the message line."""
        try:
            self._step()
        except Exception as error:  # noqa: BLE001 - the window must survive any trainer error
            traceback.print_exc()
            self._paused = True
            self._say(f"paused after an error: {first_line(error)}", error=True)

    def _step(self) -> None:
        play = self._play
        assert play is not None
        move = play.step(self._mode, self._epsilon_override, time.monotonic())
        if move is not None:
            self._view.record(move)
            self._steps_done += 1

    def _close_envs(self) -> None:
        closers = (self._play, self._trainer)  # the trainer closes all of its games
        for closer in closers:
            if closer is not None:
                with contextlib.suppress(Exception):  # closing is best effort at exit
                    closer.close()

    def _save(self, path: Path) -> None:
        trainer = self._trainer
        assert trainer is not None
        try:
            saved = save_agent(trainer, self.game, path)
        except CheckpointError as error:
            self._say(str(error), error=True)
            return
        self._origin.updates_at_save = trainer.learner.updates
        self._say(f"saved {_short(saved)}")

    def _load(self, path: Path, if_fresh: bool) -> None:
        current = self._trainer
        assert current is not None
        if if_fresh and (current.learner.updates > 0 or self._origin.name):
            return
        try:
            trainer = load_into_trainer(
                current, self.game, path, self._dqn_config, self.device, self.seed
            )
        except CheckpointError as error:
            self._say(str(error), error=True)
            return
        updates = trainer.learner.updates
        self._take_up(trainer, AgentOrigin(Path(path).name, updates, updates))
        self._say(f"loaded {_short(path)} (trained {trainer.global_step:,} steps)")
        self._publish(frame=True)

    def _new_agent(self) -> None:
        """An untrained agent of the game's own configuration takes the current one's place."""
        try:
            trainer = make_live_trainer(
                self.game, self._default_config, self.device, seed=self.seed
            )
        except Exception as error:  # noqa: BLE001 - any failure becomes the message line
            self._say(f"cannot make a new agent: {first_line(error)}", error=True)
            return
        self._take_up(trainer, AgentOrigin())
        self._say("a new agent, untrained: Train mode trains it from scratch")
        self._publish(frame=True)

    def _take_up(self, trainer: Trainer | LivePQNTrainer, origin: AgentOrigin) -> None:
        """Play on with ``trainer``'s agent, come from ``origin``: a new opponent."""
        if trainer is not self._trainer:
            self._replace_trainer(trainer)
        self._origin = origin
        if self._play is not None and self._play.match is not None:
            self._play.match.reset_tally()  # a new opponent starts a new tally
        self._view.forget_progress()

    def _replace_trainer(self, trainer: Trainer | LivePQNTrainer) -> None:
        """Play on with ``trainer`` in place of the session's trainer, which is closed."""
        old = self._trainer
        self._trainer, self.config = trainer, trainer.config
        if self._play is not None:
            self._play.trainer = trainer
        if old is not None:
            with contextlib.suppress(Exception):  # closing is best effort
                old.close()

    # -- publishing ---------------------------------------------------------------------------

    def _say(self, message: str, error: bool = False) -> None:
        self._message = Message(text=message, serial=self._message.serial + 1, is_error=error)

    def _agent_source(self) -> str:
        return self._origin.describe(self._trainer.learner.updates if self._trainer else 0)

    def _epsilon_in_use(self) -> float:
        if self._mode is Mode.HUMAN:
            return 0.0  # the person acts; the agent only suggests
        if self._epsilon_override is not None:
            return self._epsilon_override
        if self._mode is Mode.TRAIN and self._trainer is not None:
            return self._trainer.scheduled_epsilon
        return 0.0

    def _pace_hz(self) -> float:
        if self._play is not None:
            return self._play.pace_hz(self._mode, self._speed, time.monotonic())
        if self._mode is Mode.HUMAN:
            return self.game.human_fps
        return self.game.agent_fps * self._speed

    def _publish(self, *, frame: bool = False, ready: bool = True) -> None:
        if frame:
            self._view.capture(self._play, self._mode, self._paused)
        snapshot = self._make_snapshot(ready=ready and self._trainer is not None)
        with self._lock:
            self._snapshot = snapshot

    def _measure_rate(self) -> float:
        now = time.monotonic()
        mark_time, mark_steps = self._rate_mark
        if now - mark_time >= RATE_WINDOW_S:
            self._steps_per_second = (self._steps_done - mark_steps) / (now - mark_time)
            self._rate_mark = (now, self._steps_done)
        return 0.0 if self._paused else self._steps_per_second

    def _make_snapshot(self, *, ready: bool) -> Snapshot:
        pace = self._pace_hz()
        return Snapshot(
            game=self.game.key,
            ready=ready,
            mode=self._mode,
            paused=self._paused,
            speed=self._speed,
            pace_hz=1.0 / FAST_PUBLISH_S if math.isinf(pace) else pace,
            training=self._training(),
            scores=self._scores(),
            decision=self._view.decision,
            control=self._control(time.monotonic()),
            picture=self._view.picture,
            message=self._message,
            versus=self._view.versus,
        )

    def _training(self) -> Training:
        trainer = self._trainer
        if trainer is None:  # still starting
            progress = Training(replay_capacity=self.config.buffer_size)
        else:
            replay, updates = trainer.replay, trainer.learner.updates
            progress = Training(
                global_step=trainer.global_step,
                env_steps=trainer.env_steps,
                episode=trainer.episode,
                updates=updates,
                scheduled_epsilon=trainer.scheduled_epsilon,
                replay_size=min(replay.transitions, replay.capacity),
                replay_capacity=replay.capacity,
                demo_count=replay.demo_count,
                unsaved_updates=self._origin.unsaved(updates),
            )
        return dataclasses.replace(
            progress,
            epsilon=self._epsilon_in_use(),
            epsilon_overridden=self._epsilon_override is not None,
            loss=self._view.loss,
            steps_per_second=self._measure_rate(),
            demo_fraction=self.config.demo_fraction,
            device=self._device_name,
            agent_source=self._agent_source(),
        )

    def _scores(self) -> Scores:
        play, trainer = self._play, self._trainer
        human = play.human if play is not None else None
        recent = list(trainer.recent_returns) if trainer is not None else []
        episode_return = trainer.episode_return if trainer is not None else 0.0
        if human is not None and self._mode is Mode.HUMAN and not self._teaching():
            episode_return = human.score  # the person's own game is on screen
        return Scores(
            episode_return=episode_return,
            last_return=recent[-1] if recent else None,
            mean_return=float(np.mean(recent)) if recent else None,
            returns=self._view.returns,
            human_episode=human.episode if human is not None else 0,
            human_last_return=human.last_return if human is not None else None,
        )

    def _control(self, now: float) -> Control:
        play = self._play
        human_acts = play is not None and play.human_in_control(self._mode, now)
        takeover = self._mode in (Mode.AGENT, Mode.TRAIN)
        return Control(
            controller="human" if human_acts else "agent",
            hand_back_in=self._takeover.seconds_left(now) if takeover else None,
            teach=self._teaching(),
        )

    def _teaching(self) -> bool:
        return self._play is not None and self._play.teach


def _short(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
