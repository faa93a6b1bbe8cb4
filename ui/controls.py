"""The side panel's pygame_gui widgets: epsilon, pause, step, speed, save, load and record.

Widgets only translate clicks into ``Intent``s and show the state a snapshot reports; they
never talk to a session themselves. A layout change rebuilds them (cheap, and the only state
they hold is copied across).
"""

from __future__ import annotations

import time
from pathlib import Path

import pygame
import pygame_gui
from pygame_gui.core import UIElement
from pygame_gui.elements import (
    UIButton,
    UICheckBox,
    UIDropDownMenu,
    UIHorizontalSlider,
    UITextEntryLine,
)

from agent.live.channels import FAST, WATCH, Mode, Snapshot
from ui import theme
from ui.control_labels import draw_labels
from ui.saves import display_name
from ui.shortcuts import Act, Intent

SPEEDS = (WATCH, 2.0, 4.0, 8.0, FAST)  # the speed slider's stops
# Pixels per control row and a control's height in it: as a rule, and in a short window.
ROW_SIZES = {False: (40, 30), True: (34, 28)}
BUTTON_W = 84
SYNC_HOLD_S = 0.6  # after a user moves a slider, snapshots may not move it back for this long
NO_SAVES = "(no checkpoints yet)"


class ControlPanel:
    """The rows of controls in the side panel, and the text drawn beside them."""

    ROWS = 6

    def __init__(self, manager: pygame_gui.UIManager) -> None:
        self.manager = manager
        self.rect = pygame.Rect(0, 0, 0, 0)
        self.widgets: list[UIElement] = []
        self.epsilon: UIHorizontalSlider | None = None
        self.schedule: UIButton | None = None
        self.pause: UIButton | None = None
        self.step: UIButton | None = None
        self.speed: UIHorizontalSlider | None = None
        self.name: UITextEntryLine | None = None
        self.save: UIButton | None = None
        self.saves: UIDropDownMenu | None = None
        self.load: UIButton | None = None
        self.new_agent: UIButton | None = None
        self.shipped_agent: UIButton | None = None
        self.record: UIButton | None = None
        self.with_q: UICheckBox | None = None
        self._save_paths: dict[str, Path] = {}
        self._epsilon_hold = 0.0
        self._speed_hold = 0.0
        self._texts: dict[str, str] = {}
        self._spots: dict[str, tuple[int, int]] = {}  # label and value positions, from build()
        self._saves_rect = pygame.Rect(0, 0, 0, 0)

    @classmethod
    def height(cls, compact: bool = False) -> int:
        """Pixels the panel needs; ``compact``: with the shorter rows of a short window."""
        row, widget_h = ROW_SIZES[compact]
        return 2 * theme.PAD + cls.ROWS * row - (row - widget_h)

    def build(
        self, rect: pygame.Rect, name: str, saves: list[Path], selected: str | None, with_q: bool
    ) -> None:
        """Create the widgets inside ``rect``, carrying over the given state; a ``rect``
        shorter than the panel's height gets the compact rows."""
        self.kill()
        self.rect = rect
        inner = rect.inflate(-2 * theme.PAD, -2 * theme.PAD)
        x0, w = inner.x, inner.width
        compact = rect.height < self.height()
        row_h, widget_h = ROW_SIZES[compact]

        def row(i: int, x: int, width: int) -> pygame.Rect:
            return pygame.Rect(x, inner.y + i * row_h, max(width, 10), widget_h)

        label_w, value_w = 62, 80
        slider_w = w - label_w - value_w - BUTTON_W - 8
        speed_label_x = x0 + BUTTON_W + 6 + 64 + 12
        middle = inner.y + widget_h // 2
        # Where draw() writes the labels and values beside the widgets, placed with them.
        self._spots = {
            "epsilon": (x0, middle),
            "epsilon_value": (x0 + label_w + slider_w + 8, middle),
            "speed": (speed_label_x, middle + row_h),
            "speed_value": (inner.right, middle + row_h),
        }
        self.epsilon = UIHorizontalSlider(
            row(0, x0 + label_w, slider_w),
            0.0,
            (0.0, 1.0),
            self.manager,
            object_id="#epsilon",
            click_increment=0.05,
        )
        self.schedule = UIButton(
            row(0, x0 + w - BUTTON_W, BUTTON_W),
            "Schedule",
            self.manager,
            object_id="#schedule",
            tool_tip_text="Hand epsilon back to the schedule (E)",
        )
        self.pause = UIButton(
            row(1, x0, BUTTON_W),
            "Pause",
            self.manager,
            object_id="#pause",
            tool_tip_text="Pause / resume (P)",
        )
        self.step = UIButton(
            row(1, x0 + BUTTON_W + 6, 64),
            "Step",
            self.manager,
            object_id="#step",
            tool_tip_text="One step while paused (N)",
        )
        speed_x = speed_label_x + 50
        self.speed = UIHorizontalSlider(
            row(1, speed_x, x0 + w - 66 - speed_x),
            0,
            (0, len(SPEEDS) - 1),
            self.manager,
            object_id="#speed",
            click_increment=1,
        )
        self.name = UITextEntryLine(
            row(2, x0, w - BUTTON_W - 8),
            self.manager,
            object_id="#save_name",
            initial_text=name,
            placeholder_text="checkpoint name",
        )
        self.name.set_text_length_limit(60)
        self.save = UIButton(
            row(2, x0 + w - BUTTON_W, BUTTON_W),
            "Save",
            self.manager,
            object_id="#save",
            tool_tip_text="Save a checkpoint (S)",
        )
        self._saves_rect = row(3, x0, w - BUTTON_W - 8)
        self.saves = self._make_saves_menu(saves, selected)
        self.load = UIButton(
            row(3, x0 + w - BUTTON_W, BUTTON_W),
            "Load",
            self.manager,
            object_id="#load",
            tool_tip_text="Load the picked checkpoint (L)",
        )
        self.record = UIButton(
            row(4, x0, 132),
            "Record GIF",
            self.manager,
            object_id="#record",
            tool_tip_text="Start / stop recording the game view (R)",
        )
        box = row(4, x0 + 144, 20)
        box.y += (widget_h - 20) // 2
        box.height = 20
        self.with_q = UICheckBox(
            box, "with Q-values", self.manager, object_id="#with_q", initial_state=with_q
        )
        half = (w - 8) // 2
        self.new_agent = UIButton(
            row(5, x0, half),
            "New agent",
            self.manager,
            object_id="#new_agent",
            tool_tip_text="An untrained agent in this one's place: Train mode trains it from "
            "scratch",
        )
        self.shipped_agent = UIButton(
            row(5, x0 + w - half, half),
            "Shipped agent",
            self.manager,
            object_id="#shipped_agent",
            tool_tip_text="Back to the agent that ships with the app",
        )
        self.widgets = [
            self.epsilon,
            self.schedule,
            self.pause,
            self.step,
            self.speed,
            self.name,
            self.save,
            self.saves,
            self.load,
            self.record,
            self.with_q,
            self.new_agent,
            self.shipped_agent,
        ]
        self._texts = {}

    def kill(self) -> None:
        for widget in self.widgets:
            widget.kill()
        self.widgets = []

    def _make_saves_menu(self, saves: list[Path], selected: str | None) -> UIDropDownMenu:
        self._save_paths = {display_name(path): path for path in saves}
        options: list[str | tuple[str, str]] = [*self._save_paths] or [NO_SAVES]
        starting = selected if selected in self._save_paths else options[0]
        return UIDropDownMenu(
            options,
            starting,
            self._saves_rect,
            self.manager,
            object_id="#saves",
            expansion_height_limit=180,
        )

    def set_saves(self, saves: list[Path], selected: str | None) -> None:
        """Replace the checkpoint list, keeping the pick when it is still there."""
        if not self.widgets or self.saves is None:
            return
        index = self.widgets.index(self.saves)
        self.saves.kill()
        self.saves = self._make_saves_menu(saves, selected)
        self.widgets[index] = self.saves

    # -- reading the widgets ------------------------------------------------------------------

    def save_name(self) -> str:
        return self.name.get_text() if self.name else ""

    def set_save_name(self, text: str) -> None:
        if self.name:
            self.name.set_text(text)

    @property
    def typing(self) -> bool:
        return bool(self.name and self.name.is_focused)

    def selected_save(self) -> Path | None:
        if not self.saves:
            return None
        return self._save_paths.get(_option_text(self.saves.selected_option))

    def selected_name(self) -> str | None:
        return _option_text(self.saves.selected_option) if self.saves else None

    def save_list_changed(self, saves: list[Path]) -> bool:
        return [display_name(p) for p in saves] != list(self._save_paths)

    @property
    def menu_open(self) -> bool:
        saves = self.saves
        return bool(saves and saves.current_state is saves.menu_states.get("expanded"))

    def close_menu(self) -> None:
        """Fold the checkpoint list up, if it is open."""
        if self.menu_open and self.saves is not None:
            self.saves.unfocus()

    def intent(self, event: pygame.event.Event) -> Intent | None:
        """The intent behind a pygame_gui event from one of these widgets."""
        element = getattr(event, "ui_element", None)
        if event.type == pygame_gui.UI_BUTTON_PRESSED:
            actions = {
                id(self.schedule): Act.EPSILON_SCHEDULE,
                id(self.pause): Act.TOGGLE_PAUSE,
                id(self.step): Act.STEP,
                id(self.save): Act.SAVE,
                id(self.load): Act.LOAD,
                id(self.record): Act.RECORD,
                id(self.new_agent): Act.NEW_AGENT,
                id(self.shipped_agent): Act.SHIPPED_AGENT,
            }
            action = actions.get(id(element))
            return Intent(action) if action else None
        if event.type == pygame_gui.UI_HORIZONTAL_SLIDER_MOVED:
            if element is self.epsilon:
                self._epsilon_hold = time.monotonic() + SYNC_HOLD_S
                return Intent(Act.EPSILON, round(float(event.value), 3))
            if element is self.speed:
                self._speed_hold = time.monotonic() + SYNC_HOLD_S
                return Intent(Act.SPEED, int(event.value))
        if event.type == pygame_gui.UI_TEXT_ENTRY_FINISHED and element is self.name:
            return Intent(Act.SAVE)
        checks = (pygame_gui.UI_CHECK_BOX_CHECKED, pygame_gui.UI_CHECK_BOX_UNCHECKED)
        if event.type in checks and element is self.with_q:
            return Intent(Act.RECORD_Q, event.type == pygame_gui.UI_CHECK_BOX_CHECKED)
        return None

    # -- showing the state --------------------------------------------------------------------

    def sync(self, snapshot: Snapshot, speed_index: int, recording: bool, with_q: bool) -> None:
        """Make the widgets show ``snapshot`` (without firing events)."""
        slider, speed, with_q_box = self.epsilon, self.speed, self.with_q
        if slider is None or speed is None or with_q_box is None:
            return  # not built yet
        now = time.monotonic()
        human = snapshot.mode is Mode.HUMAN
        moved = abs(slider.get_current_value() - snapshot.training.epsilon) > 1e-3
        if moved and now > self._epsilon_hold and not _dragged(slider):
            slider.set_current_value(snapshot.training.epsilon, warn=False)
        moved = speed.get_current_value() != speed_index
        if moved and now > self._speed_hold and not _dragged(speed):
            speed.set_current_value(speed_index, warn=False)
        _enable(slider, not human and snapshot.ready)
        _enable(self.schedule, snapshot.training.epsilon_overridden and not human)
        _enable(speed, snapshot.mode in (Mode.AGENT, Mode.TRAIN))
        _enable(self.step, snapshot.paused and snapshot.ready)
        self._set_text(self.pause, "Resume" if snapshot.paused else "Pause")
        self._set_text(self.record, "Stop recording" if recording else "Record GIF")
        if with_q_box.get_state() != with_q:
            with_q_box.set_state(with_q)

    def _set_text(self, button: UIButton | None, text: str) -> None:
        if button is not None and self._texts.get(str(id(button))) != text:
            button.set_text(text)
            self._texts[str(id(button))] = text

    def draw(self, surface: pygame.Surface, snapshot: Snapshot) -> None:
        """The card behind the widgets and the labels and values beside them."""
        if not self.widgets:
            return
        theme.draw_card(surface, self.rect)
        draw_labels(surface, self._spots, snapshot, self.epsilon)


def _option_text(option: str | tuple[str, str]) -> str:
    """A list entry's text: pygame_gui keeps an entry as its text or as (text, id)."""
    return option[0] if isinstance(option, tuple) else str(option)


def _dragged(slider: UIHorizontalSlider) -> bool:
    """Whether a person holds the slider's grip now."""
    grip = slider.sliding_button
    return grip is not None and bool(grip.held)


def _enable(widget: UIElement | None, enabled: bool) -> None:
    if widget is None:
        return
    if enabled and not widget.is_enabled:
        widget.enable()
    elif not enabled and widget.is_enabled:
        widget.disable()
