"""What the user asked for, from a key or a widget, and the one table of keyboard shortcuts.

Keys and widgets both turn into ``Intent``s, so a shortcut and its button always do the same
thing, and the help overlay lists exactly the keys that work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pygame

EPSILON_STEP = 0.05  # change of epsilon per [ or ] press


@dataclass(frozen=True)
class Intent:
    """One thing the user wants done: ``action`` names it, ``value`` is its argument."""

    action: str
    value: Any = None


@dataclass(frozen=True)
class Shortcut:
    keys: tuple[int, ...]
    label: str  # the keys as the help overlay shows them
    description: str
    intent: Intent
    shift: bool | None = None  # True: only with Shift; False: only without; None: either


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut((pygame.K_1,), "1", "Fruit catch", Intent("game", "fruit")),
    Shortcut((pygame.K_2,), "2", "CartPole", Intent("game", "cartpole")),
    Shortcut((pygame.K_3,), "3", "Breakout", Intent("game", "breakout")),
    Shortcut((pygame.K_h,), "H", "Human mode: you play", Intent("mode", "human")),
    Shortcut((pygame.K_g,), "G", "Agent mode: the network plays", Intent("mode", "agent")),
    Shortcut((pygame.K_t,), "T", "Train mode: the agent learns live", Intent("mode", "train")),
    Shortcut((pygame.K_v,), "V", "Versus mode: you against the agent", Intent("mode", "versus")),
    Shortcut(
        (pygame.K_RETURN, pygame.K_KP_ENTER),
        "Enter",
        "Versus: start a round; end it once you are out",
        Intent("next_round"),
    ),
    Shortcut((pygame.K_BACKSPACE,), "Backspace", "Take over: hand back now", Intent("hand_back")),
    Shortcut(
        (pygame.K_c,), "C", "Teach: Human-mode play becomes lessons", Intent("teach"), shift=False
    ),
    Shortcut(
        (pygame.K_c,),
        "Shift+C",
        "Demos: 25% of each batch / none",
        Intent("demo_share"),
        shift=True,
    ),
    Shortcut((pygame.K_w,), "W", "The agent's view: the network's input", Intent("agent_view")),
    Shortcut((pygame.K_o,), "O", "Saliency overlay: where it looks", Intent("saliency")),
    Shortcut((pygame.K_p,), "P", "Pause / resume", Intent("toggle_pause")),
    Shortcut((pygame.K_n,), "N", "Single step (while paused)", Intent("step")),
    Shortcut(
        (pygame.K_f,), "F", "Faster: watch, 2x, 4x, 8x, fast", Intent("speed_step", 1), shift=False
    ),
    Shortcut((pygame.K_f,), "Shift+F", "Slower", Intent("speed_step", -1), shift=True),
    Shortcut((pygame.K_LEFTBRACKET,), "[", "Epsilon down", Intent("epsilon_step", -EPSILON_STEP)),
    Shortcut((pygame.K_RIGHTBRACKET,), "]", "Epsilon up", Intent("epsilon_step", EPSILON_STEP)),
    Shortcut((pygame.K_e,), "E", "Epsilon back to the schedule", Intent("epsilon_schedule")),
    Shortcut((pygame.K_s,), "S", "Save a checkpoint (name in the box)", Intent("save")),
    Shortcut((pygame.K_l,), "L", "Load the checkpoint picked in the list", Intent("load")),
    Shortcut((pygame.K_r,), "R", "Record GIF: start / stop", Intent("record")),
    Shortcut((pygame.K_q,), "Q", "Recording includes the Q-value panel", Intent("record_q")),
    Shortcut((pygame.K_F1,), "F1 or ?", "This help", Intent("help")),
    Shortcut(
        (pygame.K_ESCAPE,), "Esc", "Close what is open, else quit (asks to save)", Intent("quit")
    ),
)


def intent_for_key(event: pygame.event.Event) -> Intent | None:
    """The intent a KEYDOWN event asks for, if it is a shortcut."""
    if getattr(event, "unicode", "") == "?":
        return Intent("help")
    shift = bool(getattr(event, "mod", 0) & pygame.KMOD_SHIFT)
    for shortcut in SHORTCUTS:
        if event.key in shortcut.keys and shortcut.shift in (None, shift):
            return shortcut.intent
    return None


KEY_SYMBOLS = {"left": "←", "right": "→", "up": "↑", "down": "↓", "space": "Space"}


def key_label(name: str) -> str:
    """A pygame key name as a key cap shows it."""
    return KEY_SYMBOLS.get(name, name.upper())


class HeldKeys:
    """The game keys a person holds, newest last: the newest one is the action."""

    def __init__(self) -> None:
        self._held: list[tuple[str, int]] = []

    def press(self, name: str, action: int) -> None:
        self.release(name)
        self._held.append((name, action))

    def release(self, name: str) -> None:
        self._held = [(n, a) for n, a in self._held if n != name]

    def clear(self) -> None:
        self._held = []

    @property
    def action(self) -> int | None:
        return self._held[-1][1] if self._held else None

    @property
    def names(self) -> set[str]:
        return {name for name, _ in self._held}
