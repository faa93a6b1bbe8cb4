"""The screen protocol of the window's state machine (after Mekire's pygame template).

The app owns the screens and switches between them; a screen never calls the app. It asks for a
switch by setting ``done`` and ``next``, and for the end by setting ``quit``; ``startup`` hands
it what the previous screen left in ``persist``.
"""

from __future__ import annotations

from typing import Any

import pygame


class Screen:
    """Base class: ``handle_event``, ``update(dt)`` and ``draw(surface)``, plus switching flags."""

    def __init__(self) -> None:
        self.done = False
        self.quit = False
        self.next: str | None = None
        self.persist: dict[str, Any] = {}

    def startup(self, persist: dict[str, Any]) -> None:
        """Called when the screen becomes the active one."""
        self.persist = persist
        self.done = False

    def cleanup(self) -> dict[str, Any]:
        """Called when the screen stops being active; returns what the next screen gets."""
        self.done = False
        return self.persist

    def resize(self, size: tuple[int, int]) -> None:
        """The window has a new size."""

    def handle_event(self, event: pygame.event.Event) -> None:
        raise NotImplementedError

    def update(self, dt: float) -> None:
        raise NotImplementedError

    def draw(self, surface: pygame.Surface) -> None:
        raise NotImplementedError
