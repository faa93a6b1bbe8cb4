"""The strip of toggles under the game: the agent's view, saliency, teach, demo share, and one
button whose job follows the mode (hand control back after a takeover, start a versus round or
end one the person has finished).

Like the side panel's widgets, these only turn clicks into ``Intent``s and show what the
screen and the latest snapshot say; they never talk to a session.
"""

from __future__ import annotations

import pygame
import pygame_gui
from pygame_gui.core import ObjectID
from pygame_gui.elements import UIButton

from agent.live.channels import Mode, Snapshot
from ui import theme
from ui.shortcuts import Act, Intent

STRIP_H = 40  # pixels, the strip's height
BUTTON_H = 30  # pixels
ACTION_W = 156  # pixels, the mode's own button
MIN_TOGGLE_W = 120  # pixels: narrower toggles drop the key from their label
LABEL_PAD = 20  # pixels a button needs beside its label's text
TOGGLES = (  # intent, label, key (the theme's sans font has no arrow or Shift symbols)
    (Act.AGENT_VIEW, "Agent's view", "W"),
    (Act.SALIENCY, "Saliency", "O"),
    (Act.TEACH, "Teach", "C"),
    (Act.DEMO_SHARE, "Demos 25%", "Shift+C"),
)
TIPS = {
    Act.AGENT_VIEW: "Show what the network receives (W)",
    Act.SALIENCY: "Blend where the chosen action's Q-value is most sensitive over the game (O)",
    Act.TEACH: "Human mode: play the agent's own game; your moves become demonstrations (C)",
    Act.DEMO_SHARE: "Draw a quarter of each training batch from demonstrations (Shift+C)",
}
NO_DEMO_SHARE_TIP = (  # the demo toggle's tip where it is off: a learner without replay memory
    "{learner} has no replay memory: it learns your steps in its rollouts (no demo share)"
)


def _fit_labels(room: int) -> list[tuple[tuple[Act, str], int]]:
    """Each toggle's (intent, label) and width in ``room`` pixels: equal widths, with the key
    in the label where it fits; where an equal width would cut the longest label (a narrow
    window), each gets its label's width and an equal share of what is left."""
    even = max(room // len(TOGGLES), 60)
    needs = [
        theme.text_surface(label, "bold", 14, theme.TEXT).get_width() + LABEL_PAD
        for _, label, _ in TOGGLES
    ]
    if max(needs) <= even or sum(needs) > room:
        return [
            ((action, f"{label} · {key}" if even >= MIN_TOGGLE_W + 6 * len(key) else label), even)
            for action, label, key in TOGGLES
        ]
    share = (room - sum(needs)) // len(TOGGLES)
    return [((a, label), need + share) for (a, label, _), need in zip(TOGGLES, needs, strict=True)]


class ToggleBar:
    """Toggle buttons (lit when on) and the mode's action button, in a strip of ``STRIP_H``."""

    def __init__(self, manager: pygame_gui.UIManager) -> None:
        self.manager = manager
        self.rect = pygame.Rect(0, 0, 0, 0)
        self.buttons: dict[Act, UIButton] = {}
        self.action: UIButton | None = None
        self._action_intent: Act | None = None
        self._texts: dict[str, str] = {}
        self.demo_tip = TIPS[Act.DEMO_SHARE]  # the demo toggle's tip as it stands

    def build(self, rect: pygame.Rect) -> None:
        self.kill()
        self.rect = rect
        inner = rect.inflate(-2 * (STRIP_H - BUTTON_H) // 2, 0)
        y = rect.y + (rect.height - BUTTON_H) // 2
        gap = 6
        room = inner.width - ACTION_W - gap * len(TOGGLES)
        x = inner.x
        for (action, text), width in _fit_labels(room):
            self.buttons[action] = UIButton(
                pygame.Rect(x, y, width, BUTTON_H),
                text,
                self.manager,
                object_id=ObjectID(f"#toggle_{action}", "@picker"),
                tool_tip_text=TIPS[action],
            )
            x += width + gap
        self.demo_tip = TIPS[Act.DEMO_SHARE]
        self.action = UIButton(
            pygame.Rect(inner.right - ACTION_W, y, ACTION_W, BUTTON_H),
            "Hand back · Bksp",
            self.manager,
            object_id="#mode_action",
        )
        self._texts = {}

    def kill(self) -> None:
        for button in [*self.buttons.values(), self.action]:
            if button is not None:
                button.kill()
        self.buttons, self.action = {}, None

    @property
    def widgets(self) -> list[UIButton]:
        return [*self.buttons.values(), *([self.action] if self.action else [])]

    def intent(self, event: pygame.event.Event) -> Intent | None:
        if event.type != pygame_gui.UI_BUTTON_PRESSED:
            return None
        for action, button in self.buttons.items():
            if event.ui_element is button:
                return Intent(action)
        if event.ui_element is self.action and self._action_intent:
            return Intent(self._action_intent)
        return None

    def sync(self, snapshot: Snapshot, states: dict[Act, bool]) -> None:
        """Light the toggles that are on; give the action button the mode's job."""
        if not self.buttons or self.action is None:
            return
        for action, button in self.buttons.items():
            on = states.get(action, False)
            if on and not button.is_selected:
                button.select()
            elif not on and button.is_selected:
                button.unselect()
        self._sync_demo_share(snapshot)
        if snapshot.mode is Mode.VERSUS:
            versus = snapshot.versus
            playing = versus is not None and versus.phase == "playing"
            ready = versus is None or versus.phase == "ready"
            text = "Start round · Enter" if ready else "Next round · Enter"
            # Once the person's game is over they need not wait for the agent's.
            can_end = playing and versus is not None and versus.human_done
            if can_end:
                text = "End round · Enter"
            elif playing and versus is not None:
                text = f"Round {versus.round} on"
            self._action_intent = Act.NEXT_ROUND
            enabled = (not playing or can_end) and versus is not None
        else:
            text = "Hand back · Bksp"
            self._action_intent, enabled = Act.HAND_BACK, snapshot.control.controller == "human"
            enabled = enabled and snapshot.mode in (Mode.AGENT, Mode.TRAIN)
        if self._texts.get("action") != text:
            self.action.set_text(text)
            self._texts["action"] = text
        if enabled and not self.action.is_enabled:
            self.action.enable()
        elif not enabled and self.action.is_enabled:
            self.action.disable()

    def _sync_demo_share(self, snapshot: Snapshot) -> None:
        """The demo share toggle works only for a learner with a replay memory to draw batches
        from; for another (PQN) it is off, its tip says why."""
        button = self.buttons.get(Act.DEMO_SHARE)
        if button is None:
            return
        applies = snapshot.training.demo_fraction_applies
        learner = snapshot.training.learner.upper()
        tip = TIPS[Act.DEMO_SHARE] if applies else NO_DEMO_SHARE_TIP.format(learner=learner)
        if tip != self.demo_tip:
            button.set_tooltip(tip)
            self.demo_tip = tip
        if applies and not button.is_enabled:
            button.enable()
        elif not applies and button.is_enabled:
            button.disable()

    def note_at(self, pos: tuple[int, int]) -> str:
        """Why the toggle under ``pos`` is off, if it is off for a reason: pygame_gui shows a
        disabled button no tooltip, so the status bar says it instead."""
        button = self.buttons.get(Act.DEMO_SHARE)
        if button is not None and not button.is_enabled and button.rect.collidepoint(pos):
            return self.demo_tip
        return ""

    def draw(self, surface: pygame.Surface) -> None:
        """The card behind the strip (the buttons draw themselves)."""
        if self.rect.width > 0:
            theme.draw_card(surface, self.rect)
