"""The left of the main screen: the game (or a versus match), the saliency overlay on it, the
agent's view beside it, and the toggle strip beneath."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pygame

from agent.live.channels import Mode, Snapshot
from game.registry import GameSpec
from ui import theme
from ui.agent_view import STATE_LABELS, AgentView, draw_state_bars
from ui.game_view import GameView
from ui.overlay import SaliencyOverlay
from ui.scoreboard import Scoreboard
from ui.versus_view import VersusView

INSET_H = 116  # pixels: CartPole's state numbers laid over its picture


class PlayArea:
    """Draws whatever the left column shows for one snapshot."""

    def __init__(self) -> None:
        self.view = GameView()
        self.versus = VersusView()
        self.agent_view = AgentView()
        self.overlay = SaliencyOverlay()

    def draw(
        self,
        surface: pygame.Surface,
        rects: dict[str, pygame.Rect],
        snapshot: Snapshot,
        game: GameSpec,
        *,
        agent_view: bool,
        saliency: bool,
        board: Scoreboard | None = None,
    ) -> pygame.Rect | None:
        """Draw; returns where the game frame went (the agent's side in Versus). ``board``
        holds the game's running records for the header."""
        heat = snapshot.picture.saliency if saliency else None
        with _clipped(surface, rects["view"]):
            target = self._draw_game(
                surface, rects["view"], snapshot, game, heat, agent_view, board
            )
        if agent_view and "agent_view" in rects:
            with _clipped(surface, rects["agent_view"]):
                self.agent_view.draw(surface, rects["agent_view"], snapshot, game, saliency)
        return target

    def _draw_game(
        self,
        surface: pygame.Surface,
        rect: pygame.Rect,
        snapshot: Snapshot,
        game: GameSpec,
        heat: np.ndarray | None,
        agent_view: bool,
        board: Scoreboard | None,
    ) -> pygame.Rect | None:
        if snapshot.mode is Mode.VERSUS:
            target = self.versus.draw(surface, rect, snapshot, game, heat is not None).get("agent")
        else:
            self.versus.forget_chips()
            target = self.view.draw(surface, rect, snapshot, game, board)
            if heat is not None and snapshot.picture.frame is not None:
                self.overlay.draw(surface, target, heat)
        vector = heat is not None and heat.ndim == 1 and snapshot.picture.obs is not None
        if vector and not agent_view and target is not None:
            # A state vector has no place on the picture: its numbers get a highlight instead.
            inset = pygame.Rect(target.x + 8, target.y + 8, min(target.width - 16, 420), INSET_H)
            shade = pygame.Surface(inset.size, pygame.SRCALPHA)
            shade.fill((*theme.CARD, 225))
            surface.blit(shade, inset)
            labels = STATE_LABELS.get(game.key, ())
            assert snapshot.picture.obs is not None
            draw_state_bars(
                surface, inset.inflate(-8, -8), snapshot.picture.obs, labels, heat, compact=True
            )
        return target


@contextlib.contextmanager
def _clipped(surface: pygame.Surface, rect: pygame.Rect) -> Iterator[None]:
    """Drawing inside stays inside ``rect``: long lines in a narrow view never spill over."""
    clip = surface.get_clip()
    surface.set_clip(rect.clip(clip))
    try:
        yield
    finally:
        surface.set_clip(clip)
