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
    """The pads in use and what each holds; ``keys(event)`` gives (key name, pressed) pairs."""

    def __init__(self) -> None:
        self._opened: dict[int, pygame.joystick.JoystickType] = {}

    def keys(self, event: pygame.event.Event) -> list[tuple[str, bool]]:
        kind = event.type
        if kind == pygame.JOYDEVICEADDED:
            self._open(event.device_index)
            return []
        if kind == pygame.JOYDEVICEREMOVED:
            self._opened.pop(getattr(event, "instance_id", -1), None)
            return [("left", False), ("right", False), ("up", False), ("space", False)]
        if kind == pygame.JOYHATMOTION:
            x, y = event.value
            return [("left", x < 0), ("right", x > 0), ("up", y > 0)]
        if kind == pygame.JOYAXISMOTION and event.axis == 0:
            return [
                ("left", event.value < -STICK_DEAD_ZONE),
                ("right", event.value > STICK_DEAD_ZONE),
            ]
        if kind in (pygame.JOYBUTTONDOWN, pygame.JOYBUTTONUP) and event.button in FIRE_BUTTONS:
            return [("space", kind == pygame.JOYBUTTONDOWN)]
        if kind in (
            getattr(pygame, "CONTROLLERBUTTONDOWN", -10),
            getattr(pygame, "CONTROLLERBUTTONUP", -11),
        ):
            name = _CONTROLLER_KEYS.get(event.button)
            down = kind == getattr(pygame, "CONTROLLERBUTTONDOWN", -10)
            return [(name, down)] if name else []
        return []

    def _open(self, device_index: int) -> None:
        try:
            pad = pygame.joystick.Joystick(device_index)
        except pygame.error:
            return  # gone again, or not a pad SDL can open: the keyboard still plays
        self._opened[pad.get_instance_id()] = pad
