"""The help overlay: every keyboard shortcut, the keys of each game, and how to read the panels."""

from __future__ import annotations

from typing import Any

import pygame

from agent.live.human_play import TAKEOVER_IDLE_S
from game.registry import GAMES
from ui import theme
from ui.screen import Screen
from ui.shortcuts import SHORTCUTS, key_label

CLOSE_KEYS = (pygame.K_F1, pygame.K_ESCAPE, pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE)
LINE = 22  # pixels per line
MIN_LINE = 18  # pixels per line at the closest, in a short window
PLAY_NOTES = (
    f"Agent or Train mode: a game key takes over at once; {TAKEOVER_IDLE_S:g} s",
    "without a key (or Backspace) hands the game back.",
    "Teach (C) in Human mode: you play the agent's own game",
    "and the agent learns from every move you make.",
    "Unsaved training: quitting or replacing it asks first.",
)
PANEL_NOTES = (
    ("Q-values", "a bar per action, every step; longest is best"),
    ("green bar", "the agent's greedy choice was taken"),
    ("orange bar", "a random action (exploration, epsilon)"),
    ("purple bar", "your move; the arrow marks the agent's pick"),
    ("epsilon", "slider overrides the schedule; Schedule gives it back"),
    ("speed", "watch is the game's own pace; fast trains flat out"),
    ("saliency", "bright: the input the chosen Q-value reacts to most"),
)


class HelpScreen(Screen):
    """Drawn over the live main screen, which keeps running beneath it."""

    def __init__(self) -> None:
        super().__init__()
        self.background: Screen | None = None

    def startup(self, persist: dict[str, Any]) -> None:
        super().startup(persist)
        self.background = persist.get("background")
        self.next = persist.get("return_to", "arcade")

    def handle_event(self, event: pygame.event.Event) -> None:
        closing = (
            event.type == pygame.KEYDOWN
            and (event.key in CLOSE_KEYS or getattr(event, "unicode", "") == "?")
        ) or event.type == pygame.MOUSEBUTTONDOWN
        if closing:
            self.done = True
        elif event.type in (pygame.KEYUP, pygame.WINDOWFOCUSLOST) and self.background:
            self.background.handle_event(event)  # let go of held game keys

    def update(self, dt: float) -> None:
        if self.background is not None:
            self.background.update(dt)

    def draw(self, surface: pygame.Surface) -> None:
        if self.background is not None:
            self.background.draw(surface)
        shade = pygame.Surface(surface.get_size(), pygame.SRCALPHA)
        shade.fill((5, 6, 10, 215))
        surface.blit(shade, (0, 0))
        width, height = surface.get_size()
        half = -(-len(SHORTCUTS) // 2)
        lower = max(len(GAMES) + len(PLAY_NOTES), len(PANEL_NOTES)) + 1
        # Lines close up where a short window could not hold them all at full spacing.
        room = height - 40 - 2 * theme.PAD - 44 - 16
        line = min(LINE, max(MIN_LINE, room // (half + lower)))
        card_h = 2 * theme.PAD + 44 + (half + lower) * line + 16
        card = pygame.Rect(0, 0, min(940, width - 40), min(card_h, height - 40))
        card.center = (width // 2, height // 2)
        inner = theme.draw_card(surface, card)
        theme.draw_text(surface, "Keyboard shortcuts", inner.topleft, kind="bold", size=22)
        theme.draw_text(
            surface,
            "F1, ?, Esc, Enter or a click closes this",
            (inner.right, inner.y + 6),
            size=13,
            colour=theme.DIM,
            anchor="topright",
        )
        top = inner.y + 44
        column_w = inner.width // 2
        for i, shortcut in enumerate(SHORTCUTS):
            column, row = divmod(i, half)
            x = inner.x + column * (column_w + 10)
            _key_line(surface, (x, top + row * line), shortcut.label, shortcut.description)
        y = top + half * line + 16
        pygame.draw.line(surface, theme.GRID, (inner.x, y - 8), (inner.right, y - 8))
        x = inner.x
        theme.draw_text(surface, "PLAYING YOURSELF", (x, y), kind="bold", size=12, colour=theme.DIM)
        y += line
        for spec in GAMES.values():
            keys: dict[int, list[str]] = {}
            for name, action in spec.keymap.items():
                keys.setdefault(action, []).append(key_label(name))
            moves = "   ".join(
                f"{'/'.join(names)} {spec.action_names[action]}"
                for action, names in sorted(keys.items())
            )
            theme.draw_text(surface, spec.title, (x, y), kind="bold", size=14)
            theme.draw_text(
                surface, moves, (x + 100, y + 1), kind="mono", size=13, colour=theme.TEXT
            )
            y += line
        for note in PLAY_NOTES:
            theme.draw_text(surface, note, (x, y), size=13, colour=theme.DIM)
            y += line
        x = inner.x + column_w + 10
        y = top + half * line + 16
        theme.draw_text(
            surface, "READING THE PANELS", (x, y), kind="bold", size=12, colour=theme.DIM
        )
        y += line
        for label, text in PANEL_NOTES:
            theme.draw_text(surface, label, (x, y), kind="bold", size=13)
            theme.draw_text(surface, text, (x + 86, y), size=13, colour=theme.DIM)
            y += line


def _key_line(surface: pygame.Surface, pos: tuple[int, int], keys: str, text: str) -> None:
    x, y = pos
    image = theme.text_surface(keys, "mono", 13, theme.TEXT)
    cap = image.get_rect().inflate(12, 4)
    cap.topleft = (x, y)
    pygame.draw.rect(surface, theme.BAR_IDLE, cap, border_radius=5)
    surface.blit(image, image.get_rect(center=cap.center))
    theme.draw_text(surface, text, (x + 110, y + 1), size=14, colour=theme.TEXT)
