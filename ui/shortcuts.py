"""What the user asked for, from a key or a widget, and the one table of keyboard shortcuts.

Keys and widgets both turn into ``Intent``s, so a shortcut and its button always do the same
thing, and the help overlay lists exactly the keys that work.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pygame

from agent.live.channels import Mode

EPSILON_STEP = 0.05  # change of epsilon per [ or ] press


class Act(StrEnum):
    """Every kind of thing the user can ask for; an ``Intent`` carries one."""

    GAME = "game"  # value: the game's key
    MODE = "mode"  # value: the mode's name
    TOGGLE_PAUSE = "toggle_pause"
    STEP = "step"
    SPEED = "speed"  # value: the index of a speed stop
    SPEED_STEP = "speed_step"  # value: stops to move, +1 or -1
    EPSILON = "epsilon"  # value: epsilon
    EPSILON_STEP = "epsilon_step"  # value: the change of epsilon
    EPSILON_SCHEDULE = "epsilon_schedule"
    SAVE = "save"
    LOAD = "load"
    NEW_AGENT = "new_agent"
    SHIPPED_AGENT = "shipped_agent"
    RECORD = "record"
    RECORD_Q = "record_q"  # value: on or off; None flips it
    AGENT_VIEW = "agent_view"
    SALIENCY = "saliency"
    TEACH = "teach"
    DEMO_SHARE = "demo_share"
    HAND_BACK = "hand_back"
    NEXT_ROUND = "next_round"
    CHALLENGER = "challenger"  # Versus: the load list's pick plays the left side, or you again
    PAIRING = "pairing"  # Versus: the game's ready pairing (Breakout after 1 h vs the shipped)
    RACE = "race"  # the race screen: two new agents learn side by side
    HELP = "help"
    QUIT = "quit"


IntentValue = str | float | bool | None


@dataclass(frozen=True)
class Intent:
    """One thing the user wants done: ``act`` names it, ``value`` is its argument. Scripts
    that drive the window may name the act (``Intent("game", "fruit")``): the name becomes
    its ``Act`` here, so a misspelt one fails where it is made."""

    act: Act
    value: IntentValue = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "act", Act(self.act))

    @property
    def number(self) -> float:
        """The value as a number (speed stops, epsilon and its steps)."""
        if isinstance(self.value, str) or self.value is None:
            raise TypeError(f"{self.act} needs a number, not {self.value!r}")
        return float(self.value)

    @property
    def text(self) -> str:
        """The value as text (a game's key, a mode's name)."""
        return str(self.value)


@dataclass(frozen=True)
class Shortcut:
    keys: tuple[int, ...]
    label: str  # the keys as the help overlay shows them
    description: str
    intent: Intent
    shift: bool | None = None  # True: only with Shift; False: only without; None: either


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut((pygame.K_1,), "1", "Fruit catch", Intent(Act.GAME, "fruit")),
    Shortcut((pygame.K_2,), "2", "CartPole", Intent(Act.GAME, "cartpole")),
    Shortcut((pygame.K_3,), "3", "Breakout", Intent(Act.GAME, "breakout")),
    Shortcut((pygame.K_h,), "H", "Human mode: you play", Intent(Act.MODE, Mode.HUMAN)),
    Shortcut((pygame.K_g,), "G", "Agent mode: the network plays", Intent(Act.MODE, Mode.AGENT)),
    Shortcut((pygame.K_t,), "T", "Train mode: the agent learns live", Intent(Act.MODE, Mode.TRAIN)),
    Shortcut(
        (pygame.K_v,), "V", "Versus mode: you against the agent", Intent(Act.MODE, Mode.VERSUS)
    ),
    Shortcut(
        (pygame.K_RETURN, pygame.K_KP_ENTER),
        "Enter",
        "Versus: start a round; end it once you are out",
        Intent(Act.NEXT_ROUND),
    ),
    Shortcut(
        (pygame.K_j,), "J", "Versus: list's pick on your side / you again", Intent(Act.CHALLENGER)
    ),
    Shortcut(
        (pygame.K_b,), "B", "Versus: Breakout after 1 h vs the shipped agent", Intent(Act.PAIRING)
    ),
    Shortcut((pygame.K_k,), "K", "Race: two new agents learn side by side", Intent(Act.RACE)),
    Shortcut((pygame.K_BACKSPACE,), "Backspace", "Take over: hand back now", Intent(Act.HAND_BACK)),
    Shortcut(
        (pygame.K_c,), "C", "Teach: Human-mode play becomes lessons", Intent(Act.TEACH), shift=False
    ),
    Shortcut(
        (pygame.K_c,),
        "Shift+C",
        "Demos: 25% of each batch / none",
        Intent(Act.DEMO_SHARE),
        shift=True,
    ),
    Shortcut((pygame.K_w,), "W", "The agent's view: the network's input", Intent(Act.AGENT_VIEW)),
    Shortcut((pygame.K_o,), "O", "Saliency overlay: where it looks", Intent(Act.SALIENCY)),
    Shortcut((pygame.K_p,), "P", "Pause / resume", Intent(Act.TOGGLE_PAUSE)),
    Shortcut((pygame.K_n,), "N", "Single step (while paused)", Intent(Act.STEP)),
    Shortcut(
        (pygame.K_f,),
        "F",
        "Faster: watch, 2x, 4x, 8x, fast",
        Intent(Act.SPEED_STEP, 1),
        shift=False,
    ),
    Shortcut((pygame.K_f,), "Shift+F", "Slower", Intent(Act.SPEED_STEP, -1), shift=True),
    Shortcut((pygame.K_LEFTBRACKET,), "[", "Epsilon down", Intent(Act.EPSILON_STEP, -EPSILON_STEP)),
    Shortcut((pygame.K_RIGHTBRACKET,), "]", "Epsilon up", Intent(Act.EPSILON_STEP, EPSILON_STEP)),
    Shortcut((pygame.K_e,), "E", "Epsilon back to the schedule", Intent(Act.EPSILON_SCHEDULE)),
    Shortcut((pygame.K_s,), "S", "Save a checkpoint (name in the box)", Intent(Act.SAVE)),
    Shortcut((pygame.K_l,), "L", "Load the checkpoint picked in the list", Intent(Act.LOAD)),
    Shortcut((pygame.K_r,), "R", "Record GIF: start / stop", Intent(Act.RECORD)),
    Shortcut((pygame.K_q,), "Q", "Recording includes the Q-value panel", Intent(Act.RECORD_Q)),
    Shortcut((pygame.K_F1,), "F1 or ?", "This help", Intent(Act.HELP)),
    Shortcut(
        (pygame.K_ESCAPE,), "Esc", "Close what is open, else quit (asks to save)", Intent(Act.QUIT)
    ),
)


def intent_for_key(event: pygame.event.Event) -> Intent | None:
    """The intent a KEYDOWN event asks for, if it is a shortcut."""
    if getattr(event, "unicode", "") == "?":
        return Intent(Act.HELP)
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
