"""Record what the game view shows into a GIF, off the drawing thread, with memory kept flat.

A GIF plays at the game's own pace whatever the window's speed: each new step moves the
recording's clock on by one step at that pace, and a frame is written whenever the clock
passes the next GIF frame time, so a GIF never runs fast or slow, even where the window
missed a step (the latest picture then stands in) or the game steps faster than a GIF can
show (Breakout played by hand: 60 steps a second, a frame every 20 ms). The window holds the
game at its own pace while it records, so each step is there to be seen.

Frames are composed on the window's thread (the game frame scaled up crisply, optionally the
Q-value panel beside it) at a fixed size, so a resized window never changes the GIF's size;
they are encoded on a writer thread through ``agent.recording.GifRecorder``, which streams to
disk. The queue between the two is short, so memory stays flat however long the recording.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

import numpy as np
import pygame

from agent.live.channels import Mode, Snapshot
from agent.messages import first_line
from agent.recording import GifRecorder
from game.registry import GameSpec
from ui import theme
from ui.game_view import MODE_NAMES, frame_to_surface
from ui.q_panel import QValuePanel

TARGET_HEIGHT = 420  # pixels: frames are scaled by the integer nearest to this
PANEL_WIDTH = 320  # pixels, the Q-value panel beside the frame
MAX_GIF_FPS = 50.0  # GIF frame times come in 10 ms steps and viewers cap near 50 fps
QUEUE_FRAMES = 8  # frames waiting for the encoder at most
PUT_TIMEOUT_S = 2.0
CLOCK_SLACK_S = 1e-6  # float sums of step times land this close to a frame time


def own_pace(snapshot: Snapshot, game: GameSpec) -> float:
    """Steps a second of the game on screen at its own pace, at speed 1: the agent's in Agent
    and Train mode, else a person's pace (Human, Versus, a takeover), which no speed changes."""
    if snapshot.mode in (Mode.AGENT, Mode.TRAIN) and snapshot.control.controller != "human":
        return game.agent_fps
    return snapshot.pace_hz


class GifCapture:
    """One recording: ``add(snapshot)`` for each new step, then ``close()``."""

    def __init__(self, path: Path, game: GameSpec, pace_hz: float, with_q: bool) -> None:
        """``pace_hz``: the game's own steps a second as the recording starts (``own_pace``);
        the GIF's frame time follows from it, once for the whole file."""
        self.path = Path(path)
        self.game = game
        self.with_q = with_q
        self.frames = 0
        self.dropped = 0
        self.error: str | None = None
        self._panel = QValuePanel()
        self._size: tuple[int, int] | None = None
        self._scale = 1
        self._writer = GifRecorder(self.path, min(pace_hz, MAX_GIF_FPS))
        self.frame_s = self._writer.frame_ms / 1000  # the GIF's frame time, as written
        self._clock = 0.0  # seconds of play recorded, at the game's own pace
        self._next_frame = 0.0  # when on that clock the next GIF frame is due
        self._serial: int | None = None  # the last picture seen
        # A picture and how many GIF frames in a row show it; None: the end.
        self._queue: queue.Queue[tuple[np.ndarray, int] | None] = queue.Queue(maxsize=QUEUE_FRAMES)
        self._thread = threading.Thread(target=self._encode, name="gif-writer", daemon=True)
        self._thread.start()

    def add(self, snapshot: Snapshot) -> None:
        """Take in the latest snapshot: its steps since the last one move the clock on, and
        the frames due by then are composed and queued."""
        if snapshot.picture.frame is None or self.error:
            return
        serial, seen = snapshot.picture.serial, self._serial
        self._serial = serial
        if seen is not None:
            self._clock += max(serial - seen, 0) / own_pace(snapshot, self.game)
        due = 0
        while self._next_frame <= self._clock + CLOCK_SLACK_S:
            due += 1
            self._next_frame += self.frame_s
        if due == 0:
            return
        frame = pygame.surfarray.array3d(self.compose(snapshot)).swapaxes(0, 1).copy()
        try:
            self._queue.put((frame, due), timeout=PUT_TIMEOUT_S)
            self.frames += due
        except queue.Full:
            self.dropped += due

    def compose(self, snapshot: Snapshot) -> pygame.Surface:
        assert snapshot.picture.frame is not None
        height, width = snapshot.picture.frame.shape[:2]
        if self._size is None:
            self._scale = max(1, round(TARGET_HEIGHT / height))
            frame_size = (width * self._scale, height * self._scale)
            extra = PANEL_WIDTH if self.with_q else 0
            self._size = (frame_size[0] + extra, frame_size[1])
        canvas = pygame.Surface(self._size)
        canvas.fill(theme.BACKGROUND)
        frame = frame_to_surface(snapshot.picture.frame)
        frame_size = (width * self._scale, height * self._scale)
        frame_w = self._size[0] - (PANEL_WIDTH if self.with_q else 0)
        if frame_size[0] > frame_w or frame_size[1] > self._size[1]:
            frame_size = (frame_w, self._size[1])  # another game's frame: squeeze it in
        canvas.blit(pygame.transform.scale(frame, frame_size), (0, 0))
        if self.with_q:
            rows = QValuePanel.height(len(self.game.action_names))
            rect = pygame.Rect(frame_w + 8, 8, PANEL_WIDTH - 16, min(rows, self._size[1] - 16))
            self._panel.draw(canvas, rect, snapshot, self.game)
            self._draw_caption(
                canvas, pygame.Rect(rect.x, rect.bottom + 14, rect.width, 60), snapshot
            )
        return canvas

    def _draw_caption(self, canvas: pygame.Surface, rect: pygame.Rect, snapshot: Snapshot) -> None:
        """Game, mode, score and episode under the Q-values, so a GIF explains itself."""
        if rect.bottom > canvas.get_height():
            return
        human = snapshot.mode is Mode.HUMAN and not snapshot.control.teach
        title = theme.draw_text(canvas, self.game.title, (rect.x + 4, rect.y), kind="bold", size=16)
        theme.draw_pill(
            canvas,
            MODE_NAMES[snapshot.mode],
            (rect.right - 4, title.centery),
            theme.MODE_COLOURS[snapshot.mode.value],
            anchor="midright",
        )
        episode = snapshot.scores.human_episode if human else snapshot.training.episode
        line = f"score {theme.format_number(snapshot.scores.episode_return)}   episode {episode:,}"
        theme.draw_text(
            canvas, line, (rect.x + 4, title.bottom + 6), kind="mono", size=13, colour=theme.DIM
        )

    def outcome(self, reason: str | None = None) -> str:
        """One line for the message bar, once closed: where the file went, or why not."""
        if self.error:
            return f"recording failed: {self.error}"
        if self.written:
            why = f"{reason}; " if reason else ""
            return f"{why}saved {self.path} ({self.written} frames)"
        return "recording stopped before any frame; nothing saved"

    @property
    def written(self) -> int:
        """Frames in the file so far."""
        return self._writer.frames

    def close(self) -> None:
        """Finish the file (waits for queued frames to be written)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        try:
            self._writer.close()
        except OSError as error:  # a full disk while writing the trailer: say so, go on
            self.error = self.error or (error.strerror or type(error).__name__)

    def _encode(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            frame, count = item
            if self.error:
                continue
            try:
                for _ in range(count):
                    self._writer.append(frame)
            except (OSError, ValueError) as error:
                self.error = first_line(error)


def recording_path(folder: Path, game: str, mode: str) -> Path:
    """A fresh GIF name: the game, the mode and the time."""
    return Path(folder) / f"{game}-{mode}-{time.strftime('%Y%m%d-%H%M%S')}.gif"
