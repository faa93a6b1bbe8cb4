"""Gamepads and joysticks play as the keyboard does: their events become the key names the
games' keymaps use (left, right, space), pressed or let go. Pads plugged in while the window is
open are opened as they arrive (SDL sends their events only once opened)."""

from __future__ import annotations

import pygame

STICK_DEAD_ZONE = 0.5  # of full deflection: a stick pushed less than this holds nothing
FIRE_BUTTONS = {0, 1}  # A and B (or a stick's first two buttons): Breakout's FIRE

_CONTROLLER_KEYS = {
    getattr(pygame, "CONTROLLER_BUTTON_DPAD_LEFT", -1): "left",
    getattr(pygame, "CONTROLLER_BUTTON_DPAD_RIGHT", -2): "right",
    getattr(pygame, "CONTROLLER_BUTTON_DPAD_UP", -3): "up",
    getattr(pygame, "CONTROLLER_BUTTON_A", -4): "space",
    getattr(pygame, "CONTROLLER_BUTTON_B", -5): "space",
}
JOYSTICK_EVENTS = {
    pygame.JOYHATMOTION,
    pygame.JOYAXISMOTION,
    pygame.JOYBUTTONDOWN,
    pygame.JOYBUTTONUP,
    pygame.JOYDEVICEADDED,
    pygame.JOYDEVICEREMOVED,
    getattr(pygame, "CONTROLLERBUTTONDOWN", -10),
    getattr(pygame, "CONTROLLERBUTTONUP", -11),
}


class Gamepads:
    """The pads in use and what each of their controls holds; ``keys(event)`` gives the
    (key name, pressed) changes an event makes. A control lets go only of what it pressed
    itself, so a stick resting near the centre never releases the d-pad or the keyboard."""

    def __init__(self) -> None:
        self._opened: dict[int, pygame.joystick.JoystickType] = {}
        self._holding: dict[tuple, str] = {}  # (pad, control) -> the key name it holds

    def keys(self, event: pygame.event.Event) -> list[tuple[str, bool]]:
        kind, pad = event.type, getattr(event, "instance_id", getattr(event, "joy", 0))
        if kind == pygame.JOYDEVICEADDED:
            self._open(event.device_index)
            return []
        if kind == pygame.JOYDEVICEREMOVED:
            self._opened.pop(pad, None)
            held = [key for key in self._holding if key[0] == pad]
            return [(self._holding.pop(key), False) for key in held]
        if kind == pygame.JOYHATMOTION:
            x, y = event.value
            sideways = "left" if x < 0 else "right" if x > 0 else None
            return self._hold((pad, "hat", event.hat), sideways) + self._hold(
                (pad, "hat-up", event.hat), "up" if y > 0 else None
            )
        if kind == pygame.JOYAXISMOTION and event.axis == 0:
            value = event.value
            side = (
                "left" if value < -STICK_DEAD_ZONE else "right" if value > STICK_DEAD_ZONE else None
            )
            return self._hold((pad, "stick"), side)
        if kind in (pygame.JOYBUTTONDOWN, pygame.JOYBUTTONUP) and event.button in FIRE_BUTTONS:
            down = kind == pygame.JOYBUTTONDOWN
            return self._hold((pad, "button", event.button), "space" if down else None)
        controller_down = getattr(pygame, "CONTROLLERBUTTONDOWN", -10)
        if kind in (controller_down, getattr(pygame, "CONTROLLERBUTTONUP", -11)):
            name = _CONTROLLER_KEYS.get(event.button)
            control = (pad, "controller", event.button)
            return self._hold(control, name if kind == controller_down else None) if name else []
        return []

    def _hold(self, control: tuple, name: str | None) -> list[tuple[str, bool]]:
        """``control`` now holds ``name`` (None: nothing); the changes that makes."""
        before = self._holding.get(control)
        if before == name:
            return []
        changes = [(before, False)] if before else []
        if name:
            self._holding[control] = name
            changes.append((name, True))
        else:
            self._holding.pop(control, None)
        return changes

    def _open(self, device_index: int) -> None:
        try:
            pad = pygame.joystick.Joystick(device_index)
        except pygame.error:
            return  # gone again, or not a pad SDL can open: the keyboard still plays
        self._opened[pad.get_instance_id()] = pad
