"""A live training session: one game's trainer on a background thread, steered by commands.

The window and the trainer talk through two narrow channels, one way each: the
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
from collections import deque
from pathlib import Path

import numpy as np
import torch

from agent.checkpoint import CheckpointError
from agent.config import AgentConfig, load_config
from agent.device import describe_device
from agent.live.agents import LiveAgent
from agent.live.channels import (
    WATCH,
    Command,
    Control,
    HandBack,
    HumanAction,
    KeepUnsaved,
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
from agent.training import scheduled_epsilon
from game.registry import GameSpec

FAST_PUBLISH_S = 0.2  # seconds between snapshots at FAST
MAX_LAG_S = 0.25  # behind schedule by more than this, the clock restarts instead of catching up
RATE_WINDOW_S = 0.5  # seconds over which steps/s is measured
SHUTDOWN_WAIT_S = 2.0
RECORD_GAMES = 100  # games in the agent's "mean (100)"


class TrainingSession:
    """One game's trainer, run on a daemon thread; see the module docstring."""

    def __init__(
        self,
        game: GameSpec,
        config: AgentConfig,
        device: torch.device,
        *,
        seed: int = 0,
        mode: Mode = Mode.AGENT,
        paused: bool = False,
        speed: float = WATCH,
        takeover_idle_s: float = TAKEOVER_IDLE_S,
        dqn_config: AgentConfig | None = None,
    ) -> None:
        """``dqn_config``: the settings a DQN agent loaded into a game whose default learner
        is another (Breakout's PQN) trains on with; by default the game's DQN config."""
        self.game = game
        self.config = config  # what a new agent is made with
        if dqn_config is None and config.algorithm != "dqn":
            dqn_config = load_config(game.key, algorithm="dqn")
        # The settings a loaded agent trains on with, by its learner.
        self._configs = {"dqn": dqn_config or config, config.algorithm: config}
        self.device = device
        self.seed = seed
        self._commands: queue.Queue[Command] = queue.Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"session-{game.key}", daemon=True)
        # Everything below belongs to the session's thread once it starts.
        self._agent: LiveAgent | None = None
        self._mode = mode
        self._paused = paused
        self._speed = float(SetSpeed(speed).speed)  # SetSpeed turns names into numbers
        self._stopping = False
        self._epsilon_override: float | None = None
        self._takeover = Takeover(takeover_idle_s)
        self._play: Play | None = None
        self._view = LiveView()
        self._agent_returns: deque[float] = deque(maxlen=RECORD_GAMES)
        self._assisted_returns: list[float] = []
        self._busy = "starting " + game.title
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
        early = self._drain_queued()
        try:
            self._agent = self._first_agent(early)
            self._play = Play(self.game, self.config, self._agent, self.seed, self._takeover)
            self._play.prepare(self._mode)
            if self._mode is Mode.TRAIN:
                self._agent.trainer()
        except Exception as error:  # noqa: BLE001 - any failure becomes the message line
            self._say(f"cannot start {self.game.title}: {first_line(error)}", error=True)
            self._publish(ready=False)
            while not isinstance(self._commands.get(), Shutdown):
                pass
            return
        self._busy = ""
        self._publish(frame=True)
        for command in early:
            self._handle(command)
        try:
            self._loop()
        finally:
            self._close_envs()

    def _drain_queued(self) -> list[Command]:
        """The commands sent before the thread started (the window's first frame)."""
        queued = []
        with contextlib.suppress(queue.Empty):
            while True:
                queued.append(self._commands.get_nowait())
        return queued

    def _first_agent(self, early: list[Command]) -> LiveAgent:
        """The agent a fresh session plays: the one an early ``Load(if_fresh)`` names (taken
        out of ``early``), read straight away, else a new one. Building a new network first
        only to replace it would cost Breakout a second."""
        for command in early:
            if isinstance(command, Load) and command.if_fresh:
                early.remove(command)
                with contextlib.suppress(CheckpointError):
                    path, label = Path(command.path), command.label
                    agent = LiveAgent.load(
                        self.game, path, self._configs, self.device, self.seed, label=label
                    )
                    self._say(
                        f"loaded {label or _short(path)} (trained {agent.global_step:,} steps)"
                    )
                    return agent
                early.insert(0, command)  # handled as usual: its error becomes the message
                break
        return LiveAgent.new(self.game, self.config, self.device, self.seed)

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
                if not on or self._trainer_ready("teaching"):
                    self._play.teach = bool(on)
                self._publish(frame=True)
            case SetDemoFraction(value=value) if self._agent is not None:
                self._set_demo_fraction(min(max(float(value), 0.0), 1.0))
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
            case Load(path=path, if_fresh=if_fresh, label=label):
                self._load(Path(path), if_fresh, label)
            case KeepUnsaved():
                self._keep_unsaved()
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
        if mode is Mode.TRAIN and not self._trainer_ready("training"):
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
            self._agent_returns.extend(move.agent_returns)
            self._assisted_returns.extend(move.person_returns)
            self._steps_done += move.env_steps

    def _close_envs(self) -> None:
        closers = (self._play, self._agent)  # the agent's trainer closes all of its games
        for closer in closers:
            if closer is not None:
                with contextlib.suppress(Exception):  # closing is best effort at exit
                    closer.close()

    def _trainer_ready(self, purpose: str) -> bool:
        """Build the agent's trainer if it has none yet, saying so while it is built; False
        (and the reason in the message line) if it cannot be built."""
        agent = self._agent
        assert agent is not None
        if agent.trainer_built is not None:
            return True
        self._busy = f"preparing {purpose}: building the {agent.config.algorithm.upper()} trainer"
        self._publish()
        try:
            agent.trainer()
        except Exception as error:  # noqa: BLE001 - no memory, the emulator: one line
            self._say(f"cannot start {purpose}: {first_line(error)}", error=True)
            return False
        finally:
            self._busy = ""
        return True

    def _set_demo_fraction(self, fraction: float) -> None:
        agent = self._agent
        assert agent is not None
        if agent.config.algorithm != "dqn":
            self._say(
                f"{agent.config.algorithm.upper()} keeps no replay memory to draw demos from: "
                "it learns your steps in its rollouts as you play them",
                error=True,
            )
            return
        agent.config = agent.config.with_settings(demo_fraction=fraction)
        trainer = agent.trainer_built
        if trainer is not None:
            trainer.config = agent.config  # read at each training round

    def _save(self, path: Path) -> None:
        agent = self._agent
        assert agent is not None
        try:
            saved = agent.save(path)
        except CheckpointError as error:
            self._say(str(error), error=True)
            return
        self._say(f"saved {_short(saved)}")

    def _keep_unsaved(self) -> str:
        """Keep the agent's unsaved training in saves/mine/; returns what to tell the person
        ("" when there was nothing to keep)."""
        agent = self._agent
        if agent is None:
            return ""
        try:
            kept = agent.keep_unsaved()
        except CheckpointError as error:
            self._say(f"could not keep the unsaved training: {error}", error=True)
            return ""
        if kept is None:
            return ""
        note = f"your unsaved training is kept in {_short(kept)}"
        self._say(note)
        return note

    def _load(self, path: Path, if_fresh: bool, label: str = "") -> None:
        current = self._agent
        assert current is not None
        if if_fresh and (current.updates > 0 or current.origin.name):
            return
        self._busy = f"loading {label or path.name}"
        self._publish()
        try:
            agent = LiveAgent.load(
                self.game, path, self._configs, self.device, self.seed, label=label
            )
        except CheckpointError as error:
            self._say(str(error), error=True)
            return
        finally:
            self._busy = ""
        kept = self._keep_unsaved()
        self._take_up(agent)
        loaded = f"loaded {label or _short(path)} (trained {agent.global_step:,} steps)"
        self._say(f"{loaded}; {kept}" if kept else loaded)
        self._publish(frame=True)

    def _new_agent(self) -> None:
        """An untrained agent of the game's own configuration takes the current one's place."""
        try:
            agent = LiveAgent.new(self.game, self.config, self.device, self.seed)
        except Exception as error:  # noqa: BLE001 - any failure becomes the message line
            self._say(f"cannot make a new agent: {first_line(error)}", error=True)
            return
        kept = self._keep_unsaved()
        self._take_up(agent)
        made = "a new agent, untrained: Train mode trains it from scratch"
        self._say(f"{made}; {kept}" if kept else made)
        self._publish(frame=True)

    def _take_up(self, agent: LiveAgent) -> None:
        """Play on with ``agent``, a new opponent with a record of its own; the old one's
        trainer and games are closed."""
        old, self._agent = self._agent, agent
        if self._play is not None:
            self._play.new_agent(agent)
            if self._mode is Mode.TRAIN and not self._trainer_ready("training"):
                self._mode = Mode.AGENT
            if self._play.teach and not self._trainer_ready("teaching"):
                self._play.teach = False
        if old is not None:
            with contextlib.suppress(Exception):  # closing is best effort
                old.close()
        self._agent_returns.clear()
        self._assisted_returns.clear()
        self._view.forget_progress()

    # -- publishing ---------------------------------------------------------------------------

    def _say(self, message: str, error: bool = False) -> None:
        self._message = Message(text=message, serial=self._message.serial + 1, is_error=error)

    def _epsilon_in_use(self) -> float:
        if self._mode is Mode.HUMAN:
            return 0.0  # the person acts; the agent only suggests
        if self._epsilon_override is not None:
            return self._epsilon_override
        if self._mode is Mode.TRAIN and self._agent is not None:
            return scheduled_epsilon(self._agent.config, self._agent.global_step)
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
        snapshot = self._make_snapshot(ready=ready and self._agent is not None and not self._busy)
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
            busy=self._busy,
        )

    def _training(self) -> Training:
        agent, play = self._agent, self._play
        config = agent.config if agent is not None else self.config
        shared = Training(
            epsilon=self._epsilon_in_use(),
            epsilon_overridden=self._epsilon_override is not None,
            loss=self._view.loss,
            steps_per_second=self._measure_rate(),
            learner=config.algorithm,
            has_replay=config.algorithm == "dqn",
            demo_fraction=config.demo_fraction,
            demo_fraction_applies=config.algorithm == "dqn",
            device=self._device_name,
        )
        if agent is None or play is None:  # still starting
            return shared
        env_steps, episode, _ = play.agent_progress()
        trainer = agent.trainer_built
        replay = trainer.replay if trainer is not None else None
        return dataclasses.replace(
            shared,
            global_step=agent.global_step,
            env_steps=env_steps,
            episode=episode,
            updates=agent.updates,
            scheduled_epsilon=scheduled_epsilon(agent.config, agent.global_step),
            trainer_ready=trainer is not None,
            replay_size=0 if replay is None else min(replay.transitions, replay.capacity),
            replay_capacity=0 if replay is None else replay.capacity,
            demo_count=0 if trainer is None else trainer.demo_steps,
            unsaved_updates=agent.unsaved_updates(),
            agent_source=agent.describe(),
        )

    def _scores(self) -> Scores:
        play = self._play
        human = play.human if play is not None else None
        recent = self._agent_returns
        episode_return = play.agent_progress()[2] if play is not None else 0.0
        if human is not None and self._mode is Mode.HUMAN and not self._teaching():
            episode_return = human.score  # the person's own game is on screen
        assisted = self._assisted_returns
        return Scores(
            episode_return=episode_return,
            last_return=recent[-1] if recent else None,
            mean_return=float(np.mean(recent)) if recent else None,
            returns=self._view.returns,
            human_episode=human.episode if human is not None else 0,
            human_last_return=human.last_return if human is not None else None,
            assisted_games=len(assisted),
            assisted_last_return=assisted[-1] if assisted else None,
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
