"""A live training session: one game's agent on a background thread, steered by commands.

The window and the agent talk through two narrow channels, one way each: the UI ``send()``s
small frozen commands into a queue; the session publishes a frozen ``Snapshot`` into a
lock-guarded latest-value slot that the UI reads with ``snapshot()``. Only the session's thread
touches the agent; PyTorch releases the GIL in its kernels, so the window draws while it learns.
The agent plays as soon as its network is read; its trainer is built only when Train mode or
Teach needs it (which agent plays, with its files, is ``agent.live.seat``'s job).

Pacing follows "Fix Your Timestep!": at a finite speed, steps are due at fixed times (the game's
own rate times the speed multiplier; human play always at the game's human rate) and the thread
sleeps on the command queue in between, so commands wake it at once. At ``FAST`` it steps flat
out and publishes a few snapshots a second, copying the frame only then. What one step does in
each mode (takeovers, teaching, versus rounds) lives in ``agent.live.play``.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
import time
import traceback
from pathlib import Path

import torch

from agent.config import AgentConfig, load_config
from agent.device import describe_device
from agent.live import publish
from agent.live.agents import MINE, LiveAgent
from agent.live.channels import (
    WATCH,
    Command,
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
    SetChallenger,
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
from agent.live.seat import AgentSeat, loaded_note
from agent.live.view import LiveView
from agent.messages import first_line
from game.registry import GameSpec

FAST_PUBLISH_S = 0.2  # seconds between snapshots at FAST
MAX_LAG_S = 0.25  # behind schedule by more than this, the clock restarts instead of catching up
SHUTDOWN_WAIT_S = 2.0


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
        keep_dir: Path = MINE,
    ) -> None:
        """``dqn_config``: the settings a DQN agent loaded into a game whose default learner
        is another (Breakout's PQN) trains on with; by default the game's DQN config.
        ``keep_dir``: where an agent's unsaved training is kept before it is replaced."""
        self.game = game
        self.config = config  # what a new agent is made with
        if dqn_config is None and config.algorithm != "dqn":
            dqn_config = load_config(game.key, algorithm="dqn")
        self.device = device
        self.seed = seed
        self._commands: queue.Queue[Command] = queue.Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"session-{game.key}", daemon=True)
        # Everything below belongs to the session's thread once it starts.
        # A loaded agent trains on with the game's settings for its learner.
        configs = {"dqn": dqn_config or config, config.algorithm: config}
        self._seat = AgentSeat(game, config, configs, device, seed, self._say, self._show_busy)
        self._seat.keep_dir = Path(keep_dir)
        self._mode = mode
        self._paused = paused
        self._speed = float(SetSpeed(speed).speed)  # SetSpeed turns names into numbers
        self._stopping = False
        self._epsilon_override: float | None = None
        self._takeover = Takeover(takeover_idle_s)
        self._play: Play | None = None
        self._view = LiveView()
        self._record = publish.Record()
        self._busy = "starting " + game.title
        self._device_name = describe_device(device)
        self._message = Message()
        self._rate = publish.RateMeter()
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
            agent = self._seat.first(early)
            self._play = Play(self.game, self.config, agent, self.seed, self._takeover)
            self._play.prepare(self._mode)
        except Exception as error:  # noqa: BLE001 - any failure becomes the message line
            self._busy = ""
            self._say(f"cannot start {self.game.title}: {first_line(error)}", error=True)
            self._publish(ready=False)
            while not isinstance(self._commands.get(), Shutdown):
                pass
            return
        for command in early:  # a Load among them replaces the agent before a trainer is built
            self._handle(command)
        self._fit_trainer()
        self._busy = ""
        self._publish(frame=True)
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
                self._fit_trainer()  # Human mode teaches now; elsewhere Teach waits for it
                self._publish(frame=True)
            case SetDemoFraction(value=value) if self._play is not None:
                self._seat.set_demo_fraction(min(max(float(value), 0.0), 1.0))
            case SetSaliency(on=on):
                self._view.show_saliency(bool(on))
                self._publish(frame=True)
            case NextRound() if self._play is not None and self._mode is Mode.VERSUS:
                if self._play.start_round():
                    self._publish(frame=True)
            case SetMode(mode=mode):
                self._set_mode(Mode(mode))
            case Save(path=path) if self._play is not None:
                self._seat.save(Path(path))
            case Load(path=path, if_fresh=if_fresh, label=label) if self._play is not None:
                loaded = self._seat.load(Path(path), if_fresh, label)
                if loaded is not None:
                    self._replace(loaded, loaded_note(loaded, Path(path), label))
            case SetChallenger(path=path, label=label) if self._play is not None:
                self._say(*self._play.challenge(path, label, self.device))
                self._publish(frame=True)
            case KeepUnsaved():
                if kept := self._seat.keep_unsaved():
                    self._say(kept)
            case NewAgent() if self._play is not None:
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
        if mode is Mode.TRAIN and self._seat.trainer_ready("training"):
            return  # it cannot train (said): the mode stays
        self._mode = mode
        self._fit_trainer()  # Human mode with Teach on
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
            self._record.add(move)
            self._rate.count(move.env_steps)

    def _close_envs(self) -> None:
        for closer in (self._play, self._seat):  # the agent's trainer closes all of its games
            with contextlib.suppress(Exception):  # closing is best effort at exit
                closer.close()  # type: ignore[union-attr]

    # -- the agent: its trainer, built only when something trains, and what replaces it ------

    def _fit_trainer(self) -> str:
        """Build the trainer the mode needs (Train; Human with Teach on); one that cannot be
        built leaves the agent playing (Agent mode, Teach off). Returns why, or ""."""
        play = self._play
        teaching = play is not None and play.teach and self._mode is Mode.HUMAN
        if self._mode is not Mode.TRAIN and not teaching:
            return ""
        purpose = "training" if self._mode is Mode.TRAIN else "teaching"
        problem = self._seat.trainer_ready(purpose)
        if problem:
            self._mode = Mode.AGENT if self._mode is Mode.TRAIN else self._mode
            if play is not None:
                play.teach = False
                play.reset_control()
        return problem

    def _new_agent(self) -> None:
        try:
            agent = self._seat.new_agent()
        except Exception as error:  # noqa: BLE001 - any failure becomes the message line
            self._say(f"cannot make a new agent: {first_line(error)}", error=True)
            return
        self._replace(agent, "a new agent, untrained: Train mode trains it from scratch")

    def _replace(self, agent: LiveAgent, note: str) -> None:
        """Play on with ``agent``, a new opponent with a record of its own, once the current
        one's unsaved training is kept (when it cannot be, the current one stays)."""
        kept = self._seat.take(agent)
        if kept is None:
            return
        assert self._play is not None
        self._play.new_agent(agent)
        self._record.clear()
        self._view.forget_progress()
        problem = self._fit_trainer()
        self._say("; ".join(part for part in (note, kept, problem) if part), error=bool(problem))
        self._publish(frame=True)

    # -- publishing ---------------------------------------------------------------------------

    def _say(self, message: str, error: bool = False) -> None:
        self._message = Message(text=message, serial=self._message.serial + 1, is_error=error)

    def _show_busy(self, doing: str) -> None:
        """What takes a while now ("" when done), shown at once: the thread is about to block."""
        self._busy = doing
        if doing:
            self._publish()

    def _pace_hz(self) -> float:
        if self._play is None:
            return self.game.agent_fps  # still starting
        return self._play.pace_hz(self._mode, self._speed, time.monotonic())

    def _publish(self, *, frame: bool = False, ready: bool = True) -> None:
        if frame:
            self._view.capture(self._play, self._mode, self._paused)
        started = self._seat.agent is not None
        snapshot = self._make_snapshot(ready=ready and started and not self._busy)
        with self._lock:
            self._snapshot = snapshot

    def _make_snapshot(self, *, ready: bool) -> Snapshot:
        now, pace = time.monotonic(), self._pace_hz()
        rate = self._rate.rate(now)
        shared = Training(
            epsilon=publish.epsilon_in_use(self._mode, self._epsilon_override, self._seat.agent),
            epsilon_overridden=self._epsilon_override is not None,
            loss=self._view.loss,
            steps_per_second=0.0 if self._paused else rate,
            device=self._device_name,
        )
        play = self._play
        return Snapshot(
            game=self.game.key,
            ready=ready,
            mode=self._mode,
            paused=self._paused,
            speed=self._speed,
            pace_hz=1.0 / FAST_PUBLISH_S if math.isinf(pace) else pace,
            training=publish.training_part(self._seat.agent, play, self.config, shared),
            scores=publish.scores_part(play, self._mode, self._record, self._view.returns),
            decision=self._view.decision,
            control=publish.control_part(play, self._mode, self._takeover, now),
            picture=self._view.picture,
            message=self._message,
            versus=self._view.versus,
            busy=self._busy,
        )
