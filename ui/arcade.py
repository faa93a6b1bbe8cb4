"""The main screen: pick a game and a mode, watch the game, the agent's Q-values and its progress.

Every key and widget becomes an ``Intent``, which ``ui.dispatch`` turns into session commands;
the screen reads each session only through its latest ``Snapshot``. Game keys play in Human and
Versus mode and take the agent's game over in Agent and Train mode. Esc closes what is open
(a focused text box, an open list) and only then asks to quit, which asks once more when an
agent has unsaved training (``ui.quitting``); the same question comes before Load, a dropped
file, New agent or Shipped agent replaces such an agent.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pygame
import pygame_gui

from agent.live.channels import HumanAction, Mode, SetEpsilon, Snapshot
from ui import theme
from ui.controls import ControlPanel
from ui.dispatch import Dispatcher
from ui.gamepad import JOYSTICK_EVENTS, Gamepads
from ui.layout import arcade_layout
from ui.learning_curve import LearningCurve
from ui.play_area import PlayArea
from ui.q_panel import QValuePanel
from ui.quitting import QuitDialog, QuitGuard
from ui.saves import default_name, list_checkpoints
from ui.screen import Screen
from ui.sessions import SessionPool
from ui.settings import WindowSettings
from ui.shortcuts import Act, HeldKeys, Intent, intent_for_key
from ui.stats_panel import StatsPanel
from ui.toggles import ToggleBar
from ui.top_bar import StatusLine, TopBar, draw_status_bar, draw_top_bar

SAVES_RESCAN_S = 2.0  # seconds between looks at the saves folder
REC_FULL_W = 560  # pixels: a narrower game view shows the recording's badge short


class ArcadeScreen(Screen):
    """Game view on the left; Q-values, controls, stats and learning curve on the right."""

    def __init__(
        self,
        manager: pygame_gui.UIManager,
        pool: SessionPool,
        size: tuple[int, int],
        *,
        saves_dir: Path,
        recordings_dir: Path,
        start_game: str = "fruit",
        start_mode: Mode = Mode.AGENT,
        start_speed: int = 0,
        with_q: bool = True,
        start_epsilon: float | None = None,
    ) -> None:
        super().__init__()
        self.manager = manager
        self.pool = pool
        self.size = size
        self.held = HeldKeys()
        self.status = StatusLine()
        self.fps = 0.0
        self.top = TopBar(manager)
        self.controls = ControlPanel(manager)
        self.play_area = PlayArea()
        self.q_panel = QValuePanel()
        self.stats = StatsPanel()
        self.curve = LearningCurve()
        self.toggles = ToggleBar(manager)
        self.guard = QuitGuard(manager)
        self.replace_dialog: QuitDialog | None = None  # asks before unsaved training is replaced
        self.pads = Gamepads()
        self.dispatcher = Dispatcher(
            pool,
            self.controls,
            self.status,
            self.held,
            saves_dir=saves_dir,
            recordings_dir=recordings_dir,
            start_game=start_game,
            start_mode=start_mode,
            start_speed=start_speed,
            with_q=with_q,
        )
        self._layout_key: tuple[tuple[int, int], str, bool] | None = None
        self._widgets_game: str | None = None
        self.rects: dict[str, pygame.Rect] = {}
        self.frame_rect: pygame.Rect | None = None  # where the game frame went, last drawn
        self.dispatcher.activate(start_game)
        if start_epsilon is not None:
            self.dispatcher.session.send(SetEpsilon(float(start_epsilon)))
        self.snapshot: Snapshot = self.dispatcher.session.snapshot()
        self._layout()

    @property
    def message(self) -> str:
        """The status bar's message."""
        return self.status.text

    @property
    def status_text(self) -> str:
        """What the status bar shows: what the session is busy with while it is, why a toggle
        under the pointer is off, else the message."""
        busy = self.snapshot.busy
        if busy:
            return f"busy: {busy}..."
        pointer = getattr(self.manager, "pointer", (-1, -1))
        return self.toggles.note_at(pointer) or self.status.text

    def perform(self, intent: Intent) -> None:
        """Do what the user asked, whether by key or by widget."""
        match intent.act:
            case Act.HELP:
                self.dispatcher.pause_for_overlay()
                self.next, self.done = "help", True
            case Act.QUIT:
                self._request_quit()
            case Act.RACE:  # the race needs the cores: the game on screen waits meanwhile
                self.dispatcher.pause_for_overlay(every_mode=True)
                self.next, self.done = "race", True
            case _:
                self.dispatcher.perform(intent)

    # -- events -------------------------------------------------------------------------------

    def handle_event(self, event: pygame.event.Event) -> None:
        if self.guard.asking:
            self._answer_quit(event)
            return
        if self.replace_dialog is not None:
            self._answer_replacement(event)
            return
        if event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
            self._escape()
            return
        typing = self.controls.typing
        self.manager.process_events(event)
        game = self.dispatcher.game
        if event.type == pygame.KEYDOWN and not typing:
            name = pygame.key.name(event.key)
            if name in game.keymap:  # play, or take the agent's game over
                self.held.press(name, game.keymap[name])
                self.dispatcher.session.send(HumanAction(self.held.action))
                return
            intent = intent_for_key(event)
            if intent is not None:
                self.perform(intent)
        elif event.type in (pygame.KEYUP, pygame.WINDOWFOCUSLOST):
            self._let_go(event)
        elif event.type in JOYSTICK_EVENTS:
            self._pad(event)
        elif event.type == pygame.DROPFILE:  # a checkpoint, SB3 zip or CleanRL model
            self.dispatcher.load_file(Path(event.file))
        else:
            intent = (
                self.top.intent(event)
                or self.controls.intent(event)
                or self.toggles.intent(event)
                or self.play_area.versus.intent(event)
            )
            if intent is not None:
                self.perform(intent)

    def _pad(self, event: pygame.event.Event) -> None:
        """A gamepad plays as the keys it stands for: press, hold and let go."""
        keymap = self.dispatcher.game.keymap
        changed = False
        for name, down in self.pads.keys(event):
            if name not in keymap or down == (name in self.held.names):
                continue
            if down:
                self.held.press(name, keymap[name])
            else:
                self.held.release(name)
            changed = True
        if changed:
            self.dispatcher.session.send(HumanAction(self.held.action))

    def _let_go(self, event: pygame.event.Event) -> None:
        """A game key came up, or the window lost the keyboard: the person holds less."""
        if event.type == pygame.WINDOWFOCUSLOST:
            self.held.clear()
            self.dispatcher.session.send(HumanAction(None))
            return
        name = pygame.key.name(event.key)
        if name in self.dispatcher.game.keymap:
            self.held.release(name)
            self.dispatcher.session.send(HumanAction(self.held.action))

    def _escape(self) -> None:
        """Esc closes what is open, innermost first; on the plain window it asks to quit."""
        if self.controls.typing or self.controls.menu_open:
            self.manager.set_focus_set(None)  # unfocuses the text box, folds the list up
            self.controls.close_menu()
            return
        self._request_quit()

    def _request_quit(self) -> None:
        if self.replace_dialog is not None:  # the window's close button: that question goes
            self._close_replacement("cancel")
        if self.guard.may_quit(self.pool.sessions, self.size):
            self.quit = True
        elif self.guard.asking:
            self.dispatcher.pause_for_overlay()

    def _answer_quit(self, event: pygame.event.Event) -> None:
        """While the quit dialog is open, it has the keyboard and the mouse."""
        self.manager.process_events(event)
        if event.type in (pygame.KEYUP, pygame.WINDOWFOCUSLOST):
            self._let_go(event)
        match self.guard.answer(event):
            case "save":
                self.guard.save_all(self.pool.sessions, self.dispatcher.quit_save_paths())
            case "discard":
                self.quit = True
            case "cancel":
                self.guard.close()
                self.dispatcher.resume_after_overlay()
                self.status.say("Still here: nothing was saved or lost.")

    def _ask_replacement(self) -> None:
        """The agent asked for would replace one with unsaved training: ask first."""
        asked = self.dispatcher.replacement
        if asked is None or self.replace_dialog is not None:
            return
        self.replace_dialog = QuitDialog(
            self.manager,
            self.size,
            {asked.game: asked.unsaved},
            title=f"Replace it with {asked.label}?",
            note=f"Discard replaces it, keeping a copy in {self.dispatcher.keep_folder()}",
        )
        self.dispatcher.pause_for_overlay()

    def _answer_replacement(self, event: pygame.event.Event) -> None:
        """While the question is open it has the keyboard and the mouse, as the quit dialog."""
        self.manager.process_events(event)
        if event.type in (pygame.KEYUP, pygame.WINDOWFOCUSLOST):
            self._let_go(event)
        if self.replace_dialog is not None and (answer := self.replace_dialog.answer(event)):
            self._close_replacement(answer)

    def _close_replacement(self, answer: str) -> None:
        if self.replace_dialog is not None:
            self.replace_dialog.kill()
            self.replace_dialog = None
        self.dispatcher.answer_replacement(answer)
        self.dispatcher.resume_after_overlay()

    def startup(self, persist: dict[str, Any]) -> None:
        """Back on top (an overlay closed): a game paused for the overlay goes on."""
        super().startup(persist)
        self.dispatcher.resume_after_overlay()

    def settings(self, size: tuple[int, int]) -> WindowSettings:
        """What the window should reopen with: where the user is now."""
        return self.dispatcher.settings(self.snapshot, size)

    def close(self) -> None:
        """The window is closing: finish a recording in progress."""
        self.dispatcher.stop_recording()
        self.guard.close()
        if self.replace_dialog is not None:
            self.replace_dialog.kill()
            self.replace_dialog = None
        self.top.kill()
        self.controls.kill()
        self.toggles.kill()

    # -- update and draw ----------------------------------------------------------------------

    def show_note(self, message: str) -> None:
        """A line for the user from outside the screen (an unreadable settings file)."""
        self.status.say(message, error=True)

    def update(self, dt: float) -> None:
        if dt > 0:
            self.fps = 1.0 / dt if self.fps == 0 else 0.9 * self.fps + 0.1 / dt
        self._layout()
        self.manager.update(dt)
        desk = self.dispatcher
        snapshot = desk.session.snapshot()
        self.snapshot = snapshot
        desk.here.board.observe(snapshot, dt)
        self._ask_replacement()
        if self.guard.saving:
            saved, failure = self.guard.poll(self.pool.sessions)
            if saved:
                self.quit = True
            elif failure:  # the dialog closed
                self.dispatcher.resume_after_overlay()
                self.status.say(failure, error=True)
        if desk.here.seen_message != snapshot.message.serial:
            desk.here.seen_message = snapshot.message.serial
            if snapshot.message.serial > 0:
                self.status.say(snapshot.message.text, error=snapshot.message.is_error)
                desk.saves_checked = 0.0
        self.status.refresh(snapshot)
        desk.record(snapshot)
        now = time.monotonic()
        if now - desk.saves_checked > SAVES_RESCAN_S and not self.controls.menu_open:
            desk.saves_checked = now
            saves = list_checkpoints(desk.saves_dir, desk.game_key)
            if self.controls.save_list_changed(saves):
                self.controls.set_saves(saves, self.controls.selected_name())
        self.top.show_selection(desk.game_key, desk.mode)
        self.play_area.versus.pairing = desk.pairing()
        recording = desk.recording is not None
        self.controls.sync(snapshot, desk.speed_index, recording, desk.with_q)
        states = {
            Act.AGENT_VIEW: desk.show_agent_view,
            Act.SALIENCY: desk.show_saliency,
            Act.TEACH: desk.teach,
            Act.DEMO_SHARE: snapshot.training.demo_fraction > 0,
        }
        self.toggles.sync(snapshot, states)

    def resize(self, size: tuple[int, int]) -> None:
        self.size = size
        self._layout_key = None

    def _layout(self) -> None:
        desk = self.dispatcher
        key = (self.size, desk.game_key, desk.show_agent_view)
        if key == self._layout_key:
            return
        self._layout_key = key
        n_actions = len(desk.game.action_names)
        self.rects = arcade_layout(self.size, n_actions, desk.show_agent_view)
        width = max(self.size[0], self.rects["q"].right + theme.GAP)
        if self.controls.widgets and self._widgets_game == desk.game_key:
            desk.here.save_name = self.controls.save_name()
            desk.here.selected_save = self.controls.selected_name()
        self._widgets_game = desk.game_key
        self.top.build(width)
        self.toggles.build(self.rects["toggles"])
        self.controls.build(
            self.rects["controls"],
            desk.here.save_name or default_name(desk.game_key),
            list_checkpoints(desk.saves_dir, desk.game_key),
            desk.here.selected_save,
            desk.with_q,
        )
        desk.saves_checked = time.monotonic()

    def draw(self, surface: pygame.Surface) -> None:
        self._layout()
        snapshot, desk = self.snapshot, self.dispatcher
        surface.fill(theme.BACKGROUND)
        draw_top_bar(surface)
        self.frame_rect = self.play_area.draw(
            surface,
            self.rects,
            snapshot,
            desk.game,
            agent_view=desk.show_agent_view,
            saliency=desk.show_saliency,
            board=desk.here.board,
        )
        self.toggles.draw(surface)
        if desk.recording is not None:
            view = self.rects["view"]
            text = f"REC  {desk.recording.frames} frames · own pace"
            if view.width < REC_FULL_W:  # clear of the keys along the view's foot
                text = f"REC  {desk.recording.frames}"
            theme.draw_pill(
                surface,
                text,
                (view.right - theme.PAD, view.bottom - 20),
                theme.RED,
                anchor="midright",
            )
        self.q_panel.draw(surface, self.rects["q"], snapshot, desk.game)
        self.controls.draw(surface, snapshot)
        self.stats.draw(surface, self.rects["stats"], snapshot)
        self.curve.draw(surface, self.rects["curve"], snapshot)
        colour = theme.ORANGE if self.status.error and not snapshot.busy else theme.TEXT
        right = f"{self.fps:4.0f} fps   F1 help   Esc quit"
        draw_status_bar(surface, self.status_text, colour, right)
        self.manager.draw_ui(surface)
