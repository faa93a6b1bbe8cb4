"""The main screen: pick a game and a mode, watch the game, the agent's Q-values and its progress.

Every key and widget becomes an ``Intent``; ``perform`` turns intents into session commands.
The screen reads each session only through its latest ``Snapshot``. Game keys play in Human and
Versus mode and take the agent's game over in Agent and Train mode. Esc closes what is open
(a focused text box, an open list) and only then asks to quit, which asks once more when an
agent has unsaved training (``ui.quitting``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pygame
import pygame_gui

from agent.live.channels import (
    HandBack,
    HumanAction,
    Load,
    Mode,
    NewAgent,
    NextRound,
    Pause,
    Resume,
    Save,
    SetDemoFraction,
    SetEpsilon,
    SetMode,
    SetSaliency,
    SetSpeed,
    SetTeach,
    Snapshot,
    Step,
)
from agent.live.session import TrainingSession
from game.registry import GAMES, GameSpec
from ui import theme
from ui.controls import SPEEDS, ControlPanel
from ui.gamepad import JOYSTICK_EVENTS, Gamepads
from ui.layout import arcade_layout
from ui.panels import LearningCurve, QValuePanel, StatsPanel
from ui.play_area import PlayArea
from ui.quitting import QuitGuard
from ui.recorder import GifCapture, recording_path
from ui.saves import checkpoint_path, default_name, list_checkpoints
from ui.scoreboard import Scoreboard
from ui.screen import Screen
from ui.sessions import SessionPool
from ui.settings import WindowSettings
from ui.shortcuts import HeldKeys, Intent, intent_for_key
from ui.toggles import ToggleBar
from ui.top_bar import TopBar, draw_status_bar, draw_top_bar

REPLACE_CONFIRM_S = 5.0  # seconds in which a second press lets unsaved training go
SAVES_RESCAN_S = 2.0  # seconds between looks at the saves folder
DEMO_SHARE = 0.25  # of each training batch, with the demo toggle on
MODE_NOTES = {
    Mode.HUMAN: "Human: you play; the Q-values show what the agent would do. C: teach it.",
    Mode.AGENT: "Agent: the network plays, greedily unless you set epsilon. Arrows take over.",
    Mode.TRAIN: "Train: the agent learns live from its own play; F speeds it up.",
    Mode.VERSUS: "Versus: you and the agent, same seed, side by side. Enter starts a round.",
}
TOGGLE_NOTES = {
    "agent_view": ("The agent's view: what the network receives.", "The agent's view is hidden."),
    "saliency": (
        "Saliency: bright where the chosen action's Q-value is most sensitive to the input.",
        "Saliency overlay off.",
    ),
}


@dataclass
class GameRecord:
    """What the window keeps for each game, also while another one is on screen."""

    board: Scoreboard
    paused: bool = False  # as the user left it
    save_name: str | None = None  # in the save box
    selected_save: str | None = None  # in the load list
    shipped_offered: bool = False  # the shipped agent was offered once
    seen_message: int | None = None  # serial of the session's last message shown


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
        if start_game not in GAMES:
            raise KeyError(f"unknown game {start_game!r}; choose from {', '.join(GAMES)}")
        self.manager = manager
        self.pool = pool
        self.size = size
        self.saves_dir = Path(saves_dir)
        self.recordings_dir = Path(recordings_dir)
        self.game_key = start_game
        self.mode = start_mode
        self.speed_index = min(max(int(start_speed), 0), len(SPEEDS) - 1)
        self.with_q = with_q
        self.show_agent_view = False
        self.show_saliency = False
        self.teach = False
        self.held = HeldKeys()
        self.recording: GifCapture | None = None
        self.message = "Welcome to DQN Arcade. F1 lists every key."
        self.message_error = False
        self.fps = 0.0
        self.top = TopBar(manager)
        self.controls = ControlPanel(manager)
        self.play_area = PlayArea()
        self.q_panel = QValuePanel()
        self.stats = StatsPanel()
        self.curve = LearningCurve()
        self.toggles = ToggleBar(manager)
        self.guard = QuitGuard(manager)
        self.pads = Gamepads()
        self.games = {key: GameRecord(Scoreboard(spec)) for key, spec in GAMES.items()}
        self._replace_asked: tuple[str, str, float] | None = None  # button, game, until when
        self._record_serial = -1
        self._saves_checked = 0.0
        self._layout_key: tuple | None = None
        self._widgets_game: str | None = None
        self.rects: dict[str, pygame.Rect] = {}
        self.frame_rect: pygame.Rect | None = None  # where the game frame went, last drawn
        self._activate(start_game)
        if start_epsilon is not None:
            self.session.send(SetEpsilon(float(start_epsilon)))
        self.snapshot: Snapshot = self.session.snapshot()
        self._layout()

    # -- sessions -----------------------------------------------------------------------------

    @property
    def game(self) -> GameSpec:
        return GAMES[self.game_key]

    @property
    def here(self) -> GameRecord:
        """What the window keeps for the game on screen."""
        return self.games[self.game_key]

    @property
    def session(self) -> TrainingSession:
        return self.pool.get(self.game_key, self.mode)

    def _activate(self, key: str) -> None:
        paused = self.games[key].paused
        session = self.pool.get(key, self.mode, paused=paused)
        session.send(SetMode(self.mode))
        session.send(SetSpeed(SPEEDS[self.speed_index]))
        session.send(Pause() if paused else Resume())
        session.send(SetTeach(self.teach))
        session.send(SetSaliency(self.show_saliency))
        self._offer_shipped()

    def _offer_shipped(self) -> None:
        """In Human, Agent and Versus mode, the shipped agent loads unless this game's agent has
        learned already: its Q-values are the opinion worth showing beside a person's play."""
        if self.mode is Mode.TRAIN or self.here.shipped_offered:
            return
        self.here.shipped_offered = True
        shipped = self.saves_dir / f"{self.game_key}.pt"
        if shipped.is_file():
            self.session.send(Load(shipped, if_fresh=True))
        else:
            self._say(f"No trained {self.game.title} agent shipped yet: press T to train one.")

    # -- events -------------------------------------------------------------------------------

    def handle_event(self, event: pygame.event.Event) -> None:
        if self.guard.asking:
            self._answer_quit(event)
            return
        if event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
            self._escape()
            return
        typing = self.controls.typing
        self.manager.process_events(event)
        if event.type == pygame.KEYDOWN and not typing:
            name = pygame.key.name(event.key)
            if name in self.game.keymap:  # play, or take the agent's game over
                self.held.press(name, self.game.keymap[name])
                self.session.send(HumanAction(self.held.action))
                return
            intent = intent_for_key(event)
            if intent is not None:
                self.perform(intent)
        elif event.type in (pygame.KEYUP, pygame.WINDOWFOCUSLOST):
            self._let_go(event)
        elif event.type in JOYSTICK_EVENTS:
            self._pad(event)
        elif event.type == pygame.DROPFILE:  # a checkpoint, SB3 zip or CleanRL model
            self.session.send(Load(Path(event.file)))
        else:
            intent = (
                self.top.intent(event) or self.controls.intent(event) or self.toggles.intent(event)
            )
            if intent is not None:
                self.perform(intent)

    def _pad(self, event: pygame.event.Event) -> None:
        """A gamepad plays as the keys it stands for: press, hold and let go."""
        changed = False
        for name, down in self.pads.keys(event):
            if name not in self.game.keymap or down == (name in self.held.names):
                continue
            if down:
                self.held.press(name, self.game.keymap[name])
            else:
                self.held.release(name)
            changed = True
        if changed:
            self.session.send(HumanAction(self.held.action))

    def _let_go(self, event: pygame.event.Event) -> None:
        """A game key came up, or the window lost the keyboard: the person holds less."""
        if event.type == pygame.WINDOWFOCUSLOST:
            self.held.clear()
            self.session.send(HumanAction(None))
            return
        name = pygame.key.name(event.key)
        if name in self.game.keymap:
            self.held.release(name)
            self.session.send(HumanAction(self.held.action))

    def _escape(self) -> None:
        """Esc closes what is open, innermost first; on the plain window it asks to quit."""
        if self.controls.typing or self.controls.menu_open:
            self.manager.set_focus_set(None)  # unfocuses the text box, folds the list up
            self.controls.close_menu()
            return
        self._request_quit()

    def _request_quit(self) -> None:
        if self.guard.may_quit(self.pool.sessions, self.size):
            self.quit = True

    def _answer_quit(self, event: pygame.event.Event) -> None:
        """While the quit dialog is open, it has the keyboard and the mouse."""
        self.manager.process_events(event)
        if event.type in (pygame.KEYUP, pygame.WINDOWFOCUSLOST):
            self._let_go(event)
        match self.guard.answer(event):
            case "save":
                self.guard.save_all(self.pool.sessions, self._quit_save_paths())
            case "discard":
                self.quit = True
            case "cancel":
                self.guard.close()
                self._say("Still here: nothing was saved or lost.")

    def _quit_save_paths(self) -> dict[str, Path]:
        """Where each game's agent goes on the way out: the name in its save box."""
        names = {key: record.save_name for key, record in self.games.items()}
        names[self.game_key] = self.controls.save_name()
        return {
            key: checkpoint_path(self.saves_dir, key, names.get(key) or default_name(key))
            for key in GAMES
        }

    def perform(self, intent: Intent) -> None:
        """Do what the user asked, whether by key or by widget."""
        session, value = self.session, intent.value
        match intent.action:
            case "game":
                self._switch_game(str(value))
            case "mode":
                self._set_mode(Mode(value))
            case "toggle_pause":
                session.send(Resume() if session.snapshot().paused else Pause())
            case "step":
                session.send(Pause())
                session.send(Step())
            case "speed" | "speed_step":
                index = int(value) if intent.action == "speed" else self.speed_index + int(value)
                self.speed_index = min(max(index, 0), len(SPEEDS) - 1)
                session.send(SetSpeed(SPEEDS[self.speed_index]))
            case "epsilon" | "epsilon_step" if self.mode is not Mode.HUMAN:
                base = 0.0 if intent.action == "epsilon" else session.snapshot().training.epsilon
                session.send(SetEpsilon(round(min(max(base + float(value), 0.0), 1.0), 3)))
            case "epsilon_schedule":
                session.send(SetEpsilon(None))
            case "save":
                self._save()
            case "load":
                self._load()
            case "new_agent" | "shipped_agent" if self._let_go_of_training(intent.action):
                if intent.action == "new_agent":
                    session.send(NewAgent())
                else:
                    self._load_shipped()
            case "record":
                self._toggle_recording()
            case "record_q":
                self.with_q = (not self.with_q) if value is None else bool(value)
            case "agent_view":
                self.show_agent_view = not self.show_agent_view
                self._say(TOGGLE_NOTES["agent_view"][not self.show_agent_view])
                self._layout_key = None
            case "saliency":
                self.show_saliency = not self.show_saliency
                session.send(SetSaliency(self.show_saliency))
                self._say(TOGGLE_NOTES["saliency"][not self.show_saliency])
            case "teach":
                self._toggle_teach()
            case "demo_share":
                share = 0.0 if session.snapshot().training.demo_fraction > 0 else DEMO_SHARE
                session.send(SetDemoFraction(share))
                self._say(
                    f"Demonstrations make up {share:.0%} of each training batch while any are "
                    "stored."
                    if share
                    else "Demonstrations are sampled like any other memory."
                )
            case "hand_back":
                session.send(HandBack())
            case "next_round" if self.mode is Mode.VERSUS:
                session.send(NextRound())
            case "help":
                self.next, self.done = "help", True
            case "quit":
                self._request_quit()

    def _toggle_teach(self) -> None:
        self.teach = not self.teach
        self.session.send(SetTeach(self.teach))
        if not self.teach:
            self._say("Teach off: Human mode plays a game of your own again.")
        elif self.mode is Mode.HUMAN:
            self._say("Teach on: you play the agent's own game; each move is a demonstration.")
        else:
            self._say("Teach on: press H and play; takeovers in Train always teach.")

    def _switch_game(self, key: str) -> None:
        if key == self.game_key or key not in GAMES:
            return
        self._stop_recording("recording stopped: the game changed")
        old = self.session
        self.here.paused = old.snapshot().paused
        self.here.save_name = self.controls.save_name()
        self.here.selected_save = self.controls.selected_name()
        old.send(HumanAction(None))
        old.send(Pause())  # only the game on screen uses the CPU
        self.held.clear()
        self.game_key = key
        if key in self.pool.sessions:
            self._say(f"{self.game.title}: the agent and its memory carry on where they left off.")
        else:
            self._say(f"{self.game.title}: a fresh agent with an empty memory.")
        self._activate(key)
        self._layout_key = None

    def _set_mode(self, mode: Mode) -> None:
        if mode is self.mode:
            return
        self.mode = mode
        self.session.send(SetMode(mode))
        self._say(MODE_NOTES[mode])
        if mode in (Mode.HUMAN, Mode.VERSUS):
            self.session.send(HumanAction(self.held.action))
        self._offer_shipped()

    def _save(self) -> None:
        path = checkpoint_path(self.saves_dir, self.game_key, self.controls.save_name())
        self.session.send(Save(path))
        if self.controls.name is not None:
            self.controls.name.unfocus()
        self.controls.set_save_name(default_name(self.game_key))
        self._saves_checked = 0.0

    def _load(self) -> None:
        path = self.controls.selected_save()
        if path is None:
            self._say(f"No {self.game.title} checkpoints in {self.saves_dir} to load.", error=True)
            return
        self.session.send(Load(path))

    def settings(self, size: tuple[int, int]) -> WindowSettings:
        """What the window should reopen with: where the user is now."""
        snapshot = self.snapshot
        epsilon = snapshot.training.epsilon if snapshot.training.epsilon_overridden else None
        return WindowSettings(
            self.game_key, self.mode.value, self.speed_index, epsilon, size, self.with_q
        )

    def _let_go_of_training(self, action: str) -> bool:
        """Whether the agent may be replaced now: at once when it has nothing unsaved, else
        when the same button is pressed again within a few seconds (Save keeps the training)."""
        unsaved = self.session.snapshot().training.unsaved_updates
        now = time.monotonic()
        asked = self._replace_asked
        if unsaved == 0 or (asked and asked[:2] == (action, self.game_key) and now < asked[2]):
            self._replace_asked = None
            return True
        self._replace_asked = (action, self.game_key, now + REPLACE_CONFIRM_S)
        self._say(
            f"This agent has {unsaved:,} updates not saved: press again to let them go, "
            "or Save first.",
            error=True,
        )
        return False

    def _load_shipped(self) -> None:
        shipped = self.saves_dir / f"{self.game_key}.pt"
        if not shipped.is_file():
            self._say(f"No {self.game.title} agent ships in {self.saves_dir}.", error=True)
            return
        self.session.send(Load(shipped))

    # -- recording ----------------------------------------------------------------------------

    def _toggle_recording(self) -> None:
        if self.recording is not None:
            self._stop_recording()
            return
        snapshot = self.session.snapshot()
        path = recording_path(self.recordings_dir, self.game_key, snapshot.mode.value)
        try:
            self.recording = GifCapture(path, self.game, snapshot.pace_hz, self.with_q)
        except OSError as error:
            self._say(f"cannot record to {path}: {error.strerror or error}", error=True)
            return
        self._record_serial = -1
        self._say(f"recording {path}")

    def _stop_recording(self, reason: str | None = None) -> None:
        recording, self.recording = self.recording, None
        if recording is None:
            return
        recording.close()
        self._say(recording.outcome(reason), error=bool(recording.error))

    def close(self) -> None:
        """The window is closing: finish a recording in progress."""
        self._stop_recording()
        self.guard.close()
        self.top.kill()
        self.controls.kill()
        self.toggles.kill()

    # -- update and draw ----------------------------------------------------------------------

    def show_note(self, message: str) -> None:
        """A line for the user from outside the screen (an unreadable settings file)."""
        self._say(message, error=True)

    def _say(self, message: str, error: bool = False) -> None:
        self.message, self.message_error = message, error

    def update(self, dt: float) -> None:
        if dt > 0:
            self.fps = 1.0 / dt if self.fps == 0 else 0.9 * self.fps + 0.1 / dt
        self._layout()
        self.manager.update(dt)
        snapshot = self.session.snapshot()
        self.snapshot = snapshot
        self.here.board.observe(snapshot, dt)
        if self.guard.saving:
            saved, failure = self.guard.poll(self.pool.sessions)
            if saved:
                self.quit = True
            elif failure:
                self._say(failure, error=True)
        if self.here.seen_message != snapshot.message.serial:
            self.here.seen_message = snapshot.message.serial
            if snapshot.message.serial > 0:
                self._say(snapshot.message.text, error=snapshot.message.is_error)
                self._saves_checked = 0.0
        if self.recording is not None and snapshot.picture.serial != self._record_serial:
            self._record_serial = snapshot.picture.serial
            self.recording.add(snapshot)
        now = time.monotonic()
        if now - self._saves_checked > SAVES_RESCAN_S and not self.controls.menu_open:
            self._saves_checked = now
            saves = list_checkpoints(self.saves_dir, self.game_key)
            if self.controls.save_list_changed(saves):
                self.controls.set_saves(saves, self.controls.selected_name())
        self.top.show_selection(self.game_key, self.mode)
        self.controls.sync(snapshot, self.speed_index, self.recording is not None, self.with_q)
        states = {
            "agent_view": self.show_agent_view,
            "saliency": self.show_saliency,
            "teach": self.teach,
            "demo_share": snapshot.training.demo_fraction > 0,
        }
        self.toggles.sync(snapshot, states)

    def resize(self, size: tuple[int, int]) -> None:
        self.size = size
        self._layout_key = None

    def _layout(self) -> None:
        key = (self.size, self.game_key, self.show_agent_view)
        if key == self._layout_key:
            return
        self._layout_key = key
        n_actions = len(self.game.action_names)
        self.rects = arcade_layout(self.size, n_actions, self.show_agent_view)
        width = max(self.size[0], self.rects["q"].right + theme.GAP)
        if self.controls.widgets and self._widgets_game == self.game_key:
            self.here.save_name = self.controls.save_name()
            self.here.selected_save = self.controls.selected_name()
        self._widgets_game = self.game_key
        self.top.build(width)
        self.toggles.build(self.rects["toggles"])
        self.controls.build(
            self.rects["controls"],
            self.here.save_name or default_name(self.game_key),
            list_checkpoints(self.saves_dir, self.game_key),
            self.here.selected_save,
            self.with_q,
        )
        self._saves_checked = time.monotonic()

    def draw(self, surface: pygame.Surface) -> None:
        self._layout()
        snapshot = self.snapshot
        surface.fill(theme.BACKGROUND)
        draw_top_bar(surface)
        self.frame_rect = self.play_area.draw(
            surface,
            self.rects,
            snapshot,
            self.game,
            agent_view=self.show_agent_view,
            saliency=self.show_saliency,
            board=self.here.board,
        )
        self.toggles.draw(surface)
        if self.recording is not None:
            view = self.rects["view"]
            text = f"REC  {self.recording.frames} frames"
            theme.draw_pill(
                surface,
                text,
                (view.right - theme.PAD, view.bottom - 20),
                theme.RED,
                anchor="midright",
            )
        self.q_panel.draw(surface, self.rects["q"], snapshot, self.game)
        self.controls.draw(surface, snapshot, self.speed_index)
        self.stats.draw(surface, self.rects["stats"], snapshot)
        self.curve.draw(surface, self.rects["curve"], snapshot)
        colour = theme.ORANGE if self.message_error else theme.TEXT
        draw_status_bar(surface, self.message, colour, f"{self.fps:4.0f} fps   F1 help   Esc quit")
        self.manager.draw_ui(surface)
