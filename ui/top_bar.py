"""The bars along the window's edges: the game picker, the mode picker and the help button on
top; the status line, the window's one-line messages, along the bottom."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pygame
import pygame_gui
from pygame_gui.core import ObjectID
from pygame_gui.elements import UIButton

from agent.live.channels import Mode, Snapshot
from game.registry import GAMES
from ui import theme
from ui.shortcuts import Act, Intent

TOP_BAR = 56  # pixels from the window top to the content
BAR_HEIGHT = 50  # pixels, the top bar itself
STATUS_BAR = 30  # pixels, the message line along the bottom
GAMES_X = 160  # pixels: the logo's room
GAME_W, MODE_W, HELP_W = 112, 86, 80  # pixels: every button fits a 980-pixel window
RACE_W = 84  # pixels: the race button, shown where the window has room for it (K always works)
MODES = (
    (Mode.HUMAN, "Human", "H"),
    (Mode.AGENT, "Agent", "G"),
    (Mode.TRAIN, "Train", "T"),
    (Mode.VERSUS, "Versus", "V"),
)


class TopBar:
    """Game picker, mode picker and the help button along the top of the window."""

    def __init__(self, manager: pygame_gui.UIManager) -> None:
        self.manager = manager
        self.game_buttons: dict[str, UIButton] = {}
        self.mode_buttons: dict[Mode, UIButton] = {}
        self.help_button: UIButton | None = None
        self.race_button: UIButton | None = None
        self.games_x = 0

    def build(self, width: int) -> None:
        self.kill()
        y = (BAR_HEIGHT - 34) // 2
        x = GAMES_X
        self.games_x = x
        for key, spec in GAMES.items():
            self.game_buttons[key] = UIButton(
                pygame.Rect(x, y, GAME_W, 34),
                spec.title,
                self.manager,
                object_id=ObjectID(f"#game_{key}", "@picker"),
                tool_tip_text=f"{spec.title} ({list(GAMES).index(key) + 1})",
            )
            x += GAME_W + 4
        x += 16
        for mode, label, key in MODES:
            self.mode_buttons[mode] = UIButton(
                pygame.Rect(x, y, MODE_W, 34),
                label,
                self.manager,
                object_id=ObjectID(f"#mode_{mode.value}", "@picker"),
                tool_tip_text=f"{label} mode ({key})",
            )
            x += MODE_W + 4
        help_x = max(x + 8, width - theme.GAP - HELP_W)
        self.help_button = UIButton(
            pygame.Rect(help_x, y, HELP_W, 34), "Help  F1", self.manager, object_id="#help"
        )
        if help_x - 8 - RACE_W >= x + 8:
            self.race_button = UIButton(
                pygame.Rect(help_x - 8 - RACE_W, y, RACE_W, 34),
                "Race  K",
                self.manager,
                object_id="#race",
                tool_tip_text="Two new agents learn side by side, one setting apart (K)",
            )

    def kill(self) -> None:
        buttons = [*self.game_buttons.values(), *self.mode_buttons.values()]
        for button in [*buttons, self.help_button, self.race_button]:
            if button is not None:
                button.kill()
        self.game_buttons, self.mode_buttons, self.help_button = {}, {}, None
        self.race_button = None

    def show_selection(self, game: str, mode: Mode) -> None:
        for key, button in self.game_buttons.items():
            _set_selected(button, key == game)
        for key, button in self.mode_buttons.items():
            _set_selected(button, key is mode)

    def intent(self, event: pygame.event.Event) -> Intent | None:
        if event.type != pygame_gui.UI_BUTTON_PRESSED:
            return None
        for key, button in self.game_buttons.items():
            if event.ui_element is button:
                return Intent(Act.GAME, key)
        for mode, button in self.mode_buttons.items():
            if event.ui_element is button:
                return Intent(Act.MODE, mode)
        if event.ui_element is self.help_button:
            return Intent(Act.HELP)
        if self.race_button is not None and event.ui_element is self.race_button:
            return Intent(Act.RACE)
        return None


def _set_selected(button: UIButton, selected: bool) -> None:
    if selected and not button.is_selected:
        button.select()
    elif not selected and button.is_selected:
        button.unselect()


def draw_top_bar(surface: pygame.Surface) -> None:
    """The bar behind the pickers, with the logo."""
    pygame.draw.rect(surface, theme.BAR, (0, 0, surface.get_width(), BAR_HEIGHT))
    dot = (theme.GAP + 8, BAR_HEIGHT // 2)
    pygame.draw.circle(surface, theme.ACCENT, dot, 7)
    pygame.draw.circle(surface, theme.BAR, dot, 3)
    theme.draw_text(
        surface, "DQN Arcade", (dot[0] + 14, dot[1]), kind="bold", size=19, anchor="midleft"
    )


@dataclass
class StatusLine:
    """The message the status bar shows; ``error`` draws it in the warning colour. A live
    message (``follow``) is written anew from each snapshot until the next ``say``, so a note
    about what to do next never outlives its moment."""

    text: str = "Welcome to DQN Arcade. F1 lists every key."
    error: bool = False
    live: Callable[[Snapshot], str] | None = None

    def say(self, text: str, error: bool = False) -> None:
        self.text, self.error, self.live = text, error, None

    def follow(self, live: Callable[[Snapshot], str]) -> None:
        self.error, self.live = False, live

    def refresh(self, snapshot: Snapshot) -> None:
        if self.live is not None:
            self.text = self.live(snapshot)


def draw_status_bar(
    surface: pygame.Surface, message: str, colour: theme.Colour, right: str
) -> None:
    """The message line along the bottom, with ``right`` (frame rate and keys) at its end."""
    width, height = surface.get_size()
    status = pygame.Rect(0, height - STATUS_BAR + 4, width, STATUS_BAR - 4)
    pygame.draw.rect(surface, theme.BAR, status)
    theme.draw_text(
        surface,
        _fit(message, width - 200),
        (theme.GAP, status.centery),
        size=13,
        colour=colour,
        anchor="midleft",
    )
    theme.draw_text(
        surface,
        right,
        (width - theme.GAP, status.centery),
        kind="mono",
        size=12,
        colour=theme.DIM,
        anchor="midright",
    )


def _fit(text: str, width: int) -> str:
    """Trim ``text`` to about ``width`` pixels of 13-point text."""
    limit = max(20, width // 7)
    return text if len(text) <= limit else text[: limit - 3] + "..."
