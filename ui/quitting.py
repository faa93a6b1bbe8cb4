"""Quitting without losing training: which agents have learned since they were last saved or
loaded, the small dialog that asks what to do with them (Save / Discard / Cancel), and the
saves made on the way out.

A window whose agents have nothing unsaved closes at once, so a first look around costs no
questions. The guard only reads snapshots and sends ``Save`` commands, as the screen does.
"""

from __future__ import annotations

import time
from pathlib import Path

import pygame
import pygame_gui
from pygame_gui.elements import UIButton, UILabel, UIWindow

from agent.live.channels import Save
from agent.live.session import TrainingSession
from game.registry import GAMES

SAVE_WAIT_S = 20.0  # seconds the saves on the way out may take before the quit is called off
DIALOG_SIZE = (460, 196)  # pixels, title bar included
BUTTON_H = 32  # pixels
ANSWER_KEYS = {  # the dialog's keys: S, D, Esc, and Enter for the safe default
    pygame.K_s: "save",
    pygame.K_RETURN: "save",
    pygame.K_KP_ENTER: "save",
    pygame.K_d: "discard",
    pygame.K_ESCAPE: "cancel",
}


class QuitDialog:
    """Save / Discard / Cancel in a small pygame_gui window that blocks the widgets behind it;
    it asks before quitting and, with another ``title`` and a ``note``, before an agent with
    unsaved training is replaced."""

    def __init__(
        self,
        manager: pygame_gui.UIManager,
        window_size: tuple[int, int],
        unsaved: dict[str, int],
        *,
        title: str = "Quit DQN Arcade?",
        note: str = "",
    ) -> None:
        rect = pygame.Rect((0, 0), DIALOG_SIZE)
        rect.center = (window_size[0] // 2, window_size[1] // 2)
        self.window = UIWindow(
            rect,
            manager,
            window_display_title=title,
            object_id="#quit_dialog",
            draggable=False,
        )
        self.window.set_blocking(True)
        width, height = self.window.get_container().get_size()
        pad = 16
        games = ", ".join(
            f"{GAMES[key].title} ({count:,} updates)" for key, count in unsaved.items()
        )
        many = len(unsaved) > 1
        intro = (
            "Your agents have learned since they were"
            if many
            else "Your agent has learned since it was"
        )
        lines = (f"{intro} last saved:", games, *((note,) if note else ()))
        self.labels = [
            UILabel(
                pygame.Rect(pad, pad + 24 * i, width - 2 * pad, 22),
                line,
                manager,
                container=self.window,
                object_id="#quit_text",
            )
            for i, line in enumerate(lines)
        ]
        button_w = (width - 2 * pad - 2 * 10) // 3
        y = height - pad - BUTTON_H
        self.buttons: dict[str, UIButton] = {}
        for i, (answer, text) in enumerate(
            (("save", "Save · S"), ("discard", "Discard · D"), ("cancel", "Cancel · Esc"))
        ):
            self.buttons[answer] = UIButton(
                pygame.Rect(pad + i * (button_w + 10), y, button_w, BUTTON_H),
                text,
                manager,
                container=self.window,
                object_id=f"#quit_{answer}",
            )

    def answer(self, event: pygame.event.Event) -> str | None:
        """``"save"``, ``"discard"`` or ``"cancel"`` when ``event`` answers the dialog."""
        if event.type == pygame.KEYDOWN:
            return ANSWER_KEYS.get(event.key)
        if event.type == pygame_gui.UI_BUTTON_PRESSED:
            for answer, button in self.buttons.items():
                if event.ui_element is button:
                    return answer
        if event.type == pygame_gui.UI_WINDOW_CLOSE and event.ui_element is self.window:
            return "cancel"
        return None

    def show_saving(self) -> None:
        self.labels[0].set_text("Saving...")
        for button in self.buttons.values():
            button.disable()

    def kill(self) -> None:
        self.window.kill()


class QuitGuard:
    """Whether the window may close now, the dialog when it may not, and the saves it asks
    for; the screen forwards events while the dialog is open and polls while saves run."""

    def __init__(self, manager: pygame_gui.UIManager) -> None:
        self.manager = manager
        self.dialog: QuitDialog | None = None
        self._pending: dict[str, int] = {}  # game -> its message serial when asked to save
        self._deadline = 0.0

    @property
    def asking(self) -> bool:
        return self.dialog is not None

    @property
    def saving(self) -> bool:
        return bool(self._pending)

    def unsaved_games(self, sessions: dict[str, TrainingSession]) -> dict[str, int]:
        """Games whose agents have unsaved updates, with how many."""
        counts = {key: s.snapshot().training.unsaved_updates for key, s in sessions.items()}
        return {key: count for key, count in counts.items() if count > 0}

    def may_quit(self, sessions: dict[str, TrainingSession], window_size: tuple[int, int]) -> bool:
        """True when nothing would be lost; otherwise the dialog opens (once) and asks."""
        if self.dialog is not None:
            return False
        unsaved = self.unsaved_games(sessions)
        if not unsaved:
            return True
        self.dialog = QuitDialog(self.manager, window_size, unsaved)
        return False

    def answer(self, event: pygame.event.Event) -> str | None:
        if self.dialog is None or self.saving:
            return None
        return self.dialog.answer(event)

    def save_all(self, sessions: dict[str, TrainingSession], paths: dict[str, Path]) -> None:
        """Ask each game with unsaved training to save to ``paths[game]``."""
        for key in self.unsaved_games(sessions):
            session = sessions[key]
            self._pending[key] = session.snapshot().message.serial
            session.send(Save(paths[key]))
        self._deadline = time.monotonic() + SAVE_WAIT_S
        if self.dialog is not None:
            self.dialog.show_saving()

    def poll(self, sessions: dict[str, TrainingSession]) -> tuple[bool, str | None]:
        """While saving: (all saved, None), or (False, why the quit is off) on a failure."""
        for key, serial in list(self._pending.items()):
            snapshot = sessions[key].snapshot()
            if snapshot.message.serial == serial:
                continue
            del self._pending[key]
            if not snapshot.message.text.startswith("saved "):
                self.close()
                return False, f"not quitting: {snapshot.message.text}"
        if self._pending and time.monotonic() > self._deadline:
            self.close()
            return False, "not quitting: saving took too long"
        return not self._pending, None

    def close(self) -> None:
        self._pending = {}
        if self.dialog is not None:
            self.dialog.kill()
            self.dialog = None
