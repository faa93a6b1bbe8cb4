"""The window's GIF recording of the game on screen at its own pace, and the speed it gives back
after: the part of ``ui.dispatch.Dispatcher`` that recording needs, with the session and game
on screen it reads. The dispatcher inherits it and sets the attributes it names."""

from __future__ import annotations

from pathlib import Path

from agent.live.channels import WATCH, Mode, SetSpeed, Snapshot
from agent.live.session import TrainingSession
from game.registry import GAMES, GameSpec
from ui.controls import SPEEDS
from ui.game_view import speed_label
from ui.recorder import GifCapture, own_pace, recording_path
from ui.sessions import SessionPool
from ui.top_bar import StatusLine


class RecordingDesk:
    """Recording and speed; see the module docstring."""

    pool: SessionPool
    status: StatusLine
    game_key: str
    mode: Mode
    recordings_dir: Path
    speed_index: int
    with_q: bool
    recording: GifCapture | None

    @property
    def game(self) -> GameSpec:
        return GAMES[self.game_key]

    @property
    def session(self) -> TrainingSession:
        return self.pool.get(self.game_key, self.mode)

    def _say(self, message: str, error: bool = False) -> None:
        self.status.say(message, error)

    # -- recording ----------------------------------------------------------------------------

    def _toggle_recording(self) -> None:
        if self.recording is not None:
            self.stop_recording()
            return
        session = self.session
        snapshot = session.snapshot()
        path = recording_path(self.recordings_dir, self.game_key, snapshot.mode.value)
        try:
            self.recording = GifCapture(path, self.game, own_pace(snapshot, self.game), self.with_q)
        except OSError as error:
            self._say(f"cannot record to {path}: {error.strerror or error}", error=True)
            return
        note = ""
        if SPEEDS[self.speed_index] != WATCH:  # a faster game would be seen in jumps
            session.send(SetSpeed(WATCH))
            note = f"; {speed_label(SPEEDS[self.speed_index])} again when it stops"
        self._say(f"recording {path} at the game's own pace{note}")

    def _set_speed(self, index: int) -> None:
        self.speed_index = min(max(index, 0), len(SPEEDS) - 1)
        speed = SPEEDS[self.speed_index]
        if self.recording is None:
            self.session.send(SetSpeed(speed))
        else:
            self._say(f"The recording keeps the game's own pace: {speed_label(speed)} after it.")

    def record(self, snapshot: Snapshot) -> None:
        """Hand a recording in progress the latest snapshot."""
        if self.recording is not None:
            self.recording.add(snapshot)

    def stop_recording(self, reason: str | None = None) -> None:
        """Finish the recording, if one runs, and give the game its speed back."""
        recording, self.recording = self.recording, None
        if recording is None:
            return
        recording.close()
        if SPEEDS[self.speed_index] != WATCH:
            self.session.send(SetSpeed(SPEEDS[self.speed_index]))
        self._say(recording.outcome(reason), error=bool(recording.error))
