"""The window: owns the display, the widget manager, the sessions and the screens; runs the loop.

The loop stays on the main thread (macOS requires it) and only draws and forwards input; the
trainers run on their sessions' threads. ``App.tick()`` is one pass of the loop (events, update,
draw), so tests and benchmarks can drive the window without entering ``run()``.

A SIGTERM (``kill``, a logout) cannot be asked about: ``run()`` keeps every agent's unsaved
training in ``saves/mine/``, says where in one line and exits 0; a second SIGTERM exits at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import time
import warnings
from collections import deque
from pathlib import Path
from typing import Any

import pygame
import pygame_gui
import torch

from agent.device import pick_device
from agent.live.channels import Mode
from agent.live.human_play import TAKEOVER_IDLE_S
from ui.arcade import ArcadeScreen
from ui.help import HelpScreen
from ui.layout import MIN_LAYOUT
from ui.race_view import RaceScreen
from ui.saves import USER_FOLDER
from ui.screen import Screen
from ui.sessions import KEEP_WAIT_S, SessionPool
from ui.settings import WindowSettings, load_settings, save_settings, settings_path
from ui.shortcuts import Act, Intent
from ui.theme import ROOT, THEME_PATH, clear_caches

SAVES_DIR = ROOT / "saves"
RECORDINGS_DIR = ROOT / "recordings"
DEFAULT_SIZE = (1240, 760)  # pixels; fits a 1366x768 laptop screen with its task bar, nearly
MIN_SIZE = MIN_LAYOUT  # pixels: smaller windows are grown back to it
FPS_CAP = 60  # frames per second the window draws at most
MAX_DT_S = 0.25  # a longer frame (window dragged, machine busy) counts as this long
FRAME_HISTORY = 4096  # frame times kept for the benchmark
HEADLESS_DRIVERS = ("offscreen", "dummy")  # fine when asked for (tests), not as a fallback
TERMINATED_AGAIN = 128 + signal.SIGTERM  # exit status of a second SIGTERM: at once, unsaved


class PointerManager(pygame_gui.UIManager):
    """pygame_gui reads the pointer from ``pygame.mouse``; this one reads it from the pointer
    events the window has seen, so real and posted events (tests, automation) steer widgets
    alike. It does so through a private hook of pygame_gui's (``_update_mouse_position``):
    where a release drops the hook, widgets follow ``pygame.mouse``, pygame_gui's default, and
    real use goes on as before: clicks carry their own place; only drags and hovering by
    posted events stop (tests/test_app.py runs the window that way)."""

    pointer: tuple[int, int] = (0, 0)

    def _update_mouse_position(self, *args: Any, **kwargs: Any) -> None:
        scale_x, scale_y = getattr(self, "mouse_pos_scale_factor", (1.0, 1.0))
        self.mouse_position = (int(scale_x * self.pointer[0]), int(scale_y * self.pointer[1]))


class App:
    """The DQN Arcade window."""

    def __init__(
        self,
        start_game: str = "fruit",
        device: torch.device | str = "auto",
        *,
        size: tuple[int, int] = DEFAULT_SIZE,
        saves_dir: Path = SAVES_DIR,
        recordings_dir: Path = RECORDINGS_DIR,
        overrides: dict[str, dict[str, Any]] | None = None,
        start_mode: Mode = Mode.AGENT,
        fps_cap: int = FPS_CAP,
        takeover_idle_s: float = TAKEOVER_IDLE_S,
        settings: WindowSettings | None = None,
        settings_file: Path | None = None,
    ) -> None:
        """``settings`` (from the last run) override the start game, mode and size;
        ``settings_file``, when given, is where the window's settings are kept at close."""
        if settings is not None:
            start_game, start_mode, size = settings.game, Mode(settings.mode), settings.size
        self.settings_file = settings_file
        torch_device = pick_device(device) if isinstance(device, str) else device
        # Display and fonts only: the window makes no sound, and audio init only adds noise.
        pygame.display.init()
        pygame.font.init()
        pygame.joystick.init()  # gamepads: their events come once the subsystem is up
        try:
            if pygame.display.get_driver() in HEADLESS_DRIVERS and not os.environ.get(
                "SDL_VIDEODRIVER"
            ):
                raise pygame.error("no display found")  # SDL fell back to drawing nowhere
            self.surface = pygame.display.set_mode(size, pygame.RESIZABLE)
        except pygame.error:
            pygame.quit()
            raise
        pygame.display.set_caption("DQN Arcade")
        _set_minimum_size(MIN_SIZE)
        # One core for the window, the rest for the trainer: on a 2-core machine two torch
        # threads spin against the drawing thread and run small nets 10x slower.
        self._torch_threads = torch.get_num_threads()
        torch.set_num_threads(max(1, min(4, (os.cpu_count() or 2) - 1)))
        self.fps_cap = fps_cap
        self.clock = pygame.time.Clock()
        self.manager = PointerManager(self.surface.get_size(), str(THEME_PATH))
        self.pool = SessionPool(
            torch_device,
            overrides,
            takeover_idle_s=takeover_idle_s,
            keep_dir=Path(saves_dir) / USER_FOLDER,
        )
        self.screens: dict[str, Screen] = {
            "arcade": ArcadeScreen(
                self.manager,
                self.pool,
                self.surface.get_size(),
                saves_dir=saves_dir,
                recordings_dir=recordings_dir,
                start_game=start_game,
                start_mode=start_mode,
                start_speed=settings.speed_index if settings else 0,
                with_q=settings.with_q if settings else True,
                start_epsilon=settings.epsilon if settings else None,
            ),
            "help": HelpScreen(),
            "race": RaceScreen(),
        }
        self.screen_name = "arcade"
        self.screen.startup({})
        self.running = True
        self.frame_times: deque[float] = deque(maxlen=FRAME_HISTORY)
        self._last_tick = time.perf_counter()
        self._closed = False
        self.terminated = False  # a SIGTERM came: the loop ends without asking

    @property
    def screen(self) -> Screen:
        return self.screens[self.screen_name]

    @property
    def arcade(self) -> ArcadeScreen:
        screen = self.screens["arcade"]
        assert isinstance(screen, ArcadeScreen)
        return screen

    def tick(self) -> bool:
        """One pass: events, update, draw. Returns False once the window should close."""
        now = time.perf_counter()
        dt = min(now - self._last_tick, MAX_DT_S)
        self._last_tick = now
        for event in pygame.event.get():
            if event.type in (pygame.MOUSEMOTION, pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
                self.manager.pointer = tuple(getattr(event, "pos", self.manager.pointer))
            if event.type == pygame.QUIT:
                self._close_requested()
            else:
                if event.type == pygame.VIDEORESIZE:
                    self.resize((event.w, event.h))
                elif event.type == pygame.WINDOWSIZECHANGED:
                    self.resize((event.x, event.y))
                self.screen.handle_event(event)
            if self.arcade.quit:
                self.running = False
                return False
            if self.screen.done:
                self._switch_screen()
        self.screen.update(dt)
        if self.arcade.quit:  # the saves asked for on the way out are done
            self.running = False
            return False
        self.screen.draw(self.surface)
        pygame.display.flip()
        self.frame_times.append(time.perf_counter() - now)
        return True

    def _close_requested(self) -> None:
        """The window's close button: the main screen decides, as for Esc there (it may ask
        about unsaved training first), with any overlay closed so its question shows."""
        if self.screen is not self.arcade:
            self.screen.done = True
            self._switch_screen()
        self.arcade.perform(Intent(Act.QUIT))

    def _switch_screen(self) -> None:
        previous = self.screen
        target = previous.next or "arcade"
        persist = dict(previous.cleanup())
        persist.update(background=previous, return_to=self.screen_name)
        self.screen_name = target if target in self.screens else "arcade"
        self.screen.startup(persist)

    def resize(self, size: tuple[int, int]) -> None:
        """The window is ``size`` now: let the widgets and screens lay themselves out again.
        Below the minimum it is grown back: the window manager's minimum is only a hint."""
        size = (max(int(size[0]), MIN_SIZE[0]), max(int(size[1]), MIN_SIZE[1]))
        if self.surface.get_size() != size:
            self.surface = _resize_window(size)
        self.manager.set_window_resolution(size)
        for screen in self.screens.values():
            screen.resize(size)

    def run(self) -> int:
        """The blocking loop; returns the exit code."""
        code = 0
        previous = _handle_sigterm(self._on_sigterm)
        try:
            while not self.terminated and self.tick():
                self.clock.tick(self.fps_cap)
            if self.terminated:
                self._keep_unsaved()
        except KeyboardInterrupt:
            code = 130
        finally:
            self.close()
            _handle_sigterm(signal.SIG_DFL if previous is None else previous)
        return code

    def _on_sigterm(self, signum: int, frame: Any) -> None:
        """SIGTERM: the loop ends after this pass, keeping unsaved training; a second one,
        while that runs, ends the process at once."""
        if self.terminated:
            os._exit(TERMINATED_AGAIN)
        self.terminated = True

    def _keep_unsaved(self) -> None:
        """On the way out without a person to ask: every agent's unsaved training is kept, and
        one line on stderr says where (or that there was none)."""
        self.arcade.dispatcher.stop_recording()
        kept = self.pool.keep_all_and_close(KEEP_WAIT_S)
        said = "; ".join(kept) if kept else "no unsaved training to keep"
        print(f"dqn-arcade: quitting on SIGTERM: {said}", file=sys.stderr, flush=True)

    def close(self) -> None:
        """Close the window at once, then stop the trainers; nothing is saved."""
        if self._closed:
            return
        self._closed = True
        if self.settings_file is not None:
            note = save_settings(self.arcade.settings(self.surface.get_size()), self.settings_file)
            if note:
                print(note, file=sys.stderr)
        self.arcade.close()
        race = self.screens["race"]
        if isinstance(race, RaceScreen):
            race.close()  # its processes end with the window
        pygame.display.quit()
        self.pool.close_all()
        clear_caches()
        pygame.quit()
        torch.set_num_threads(self._torch_threads)


def _handle_sigterm(handler: Any) -> Any:
    """Install ``handler`` for SIGTERM in place of SDL's (which turns it into a close-window
    event, and so into the quit dialog); returns the one it replaces. Only the main thread may
    (a window driven from another thread keeps SDL's)."""
    try:
        return signal.signal(signal.SIGTERM, handler)
    except (ValueError, TypeError):
        return None


def _display_window() -> pygame.Window:
    # pygame-ce 2.5 reaches the display module's window only through a call it marks as
    # deprecated for drawing; sizing the window through it is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pygame.Window.from_display_module()


def _set_minimum_size(size: tuple[int, int]) -> None:
    # Older pygame-ce or a driver without windows: resize() grows the window back instead.
    with contextlib.suppress(AttributeError, pygame.error):
        _display_window().minimum_size = size


def _resize_window(size: tuple[int, int]) -> pygame.Surface:
    """The display surface at ``size``: the same window resized, so it keeps its place and
    its minimum (``set_mode`` would make a new window)."""
    try:
        _display_window().size = size
        surface = pygame.display.get_surface()
        if surface is None:
            raise pygame.error("the window has no surface")
        return surface
    except (AttributeError, pygame.error):
        surface = pygame.display.set_mode(size, pygame.RESIZABLE)
        _set_minimum_size(MIN_SIZE)
        return surface


NO_DISPLAY = (
    "error: cannot open the window: no display found "
    "(the train, eval, record and export commands run without one)"
)


def _no_display() -> bool:
    """On Linux without X11 or Wayland, SDL would only fail noisily: say so in one line."""
    if not sys.platform.startswith("linux") or os.environ.get("SDL_VIDEODRIVER"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_app(start_game: str | None = None, device: str = "auto") -> int:
    """Open the window where the user left it (``start_game``, when given, opens that game)
    and run it until it is closed; returns the process exit code."""
    if _no_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 1
    path = settings_path()
    settings, note = load_settings(path)
    if start_game is not None:
        settings = dataclasses.replace(settings, game=start_game)
    try:
        app = App(settings.game, device, settings=settings, settings_file=path)
        if note:  # on the terminal, and in the window until the next message
            print(note, file=sys.stderr)
            app.arcade.show_note(note)
    except pygame.error as error:
        print(f"{NO_DISPLAY} ({error})", file=sys.stderr)
        return 1
    except (ValueError, KeyError) as error:
        print(f"error: {str(error).strip(chr(39))}", file=sys.stderr)
        return 1
    return app.run()
