"""The saliency overlay: a heat map of where the agent's chosen Q-value is most sensitive to its
input, blended over whatever shows that input (the game frame, the agent's view tiles).

The map comes in the snapshot (computed on the session's thread); here it only becomes colour.
"""

from __future__ import annotations

import numpy as np
import pygame

HEAT_LOW = np.array([239, 71, 111], dtype=np.float32)  # faint sensitivity: red
HEAT_HIGH = np.array([255, 232, 110], dtype=np.float32)  # strongest: yellow
GAMMA = 0.8  # < 1 lifts weak sensitivity into view; gradients are spiky
FLOOR = 0.1  # below this share of the peak, nothing is drawn
MAX_ALPHA = 190  # of 255, at the peak: the frame still shows through
SMOOTH_FROM = 32  # maps at least this many cells across are smoothed when scaled


def heat_colours(values: np.ndarray) -> np.ndarray:
    """RGBA (..., 4) uint8 for saliency ``values`` in [0, 1]."""
    level = np.clip(values, 0.0, 1.0) ** GAMMA
    rgb = HEAT_LOW + (HEAT_HIGH - HEAT_LOW) * level[..., None]
    alpha = np.where(values >= FLOOR, MAX_ALPHA * level, 0.0)
    return np.concatenate([rgb, alpha[..., None]], axis=-1).astype(np.uint8)


def heat_surface(saliency: np.ndarray, size: tuple[int, int]) -> pygame.Surface:
    """A (H, W) map as a see-through surface of ``size``: smooth for Atari's 84x84, one crisp
    block per cell for small grids such as fruit catch's 15x15."""
    rgba = np.ascontiguousarray(heat_colours(np.asarray(saliency, dtype=np.float32)))
    height, width = rgba.shape[:2]
    image = pygame.image.frombuffer(rgba.tobytes(), (width, height), "RGBA")
    size = (max(1, size[0]), max(1, size[1]))
    if max(width, height) >= SMOOTH_FROM:
        return pygame.transform.smoothscale(image, size)
    return pygame.transform.scale(image, size)


class SaliencyOverlay:
    """Blends a snapshot's saliency map over a rect, rescaling only when the map or rect change."""

    def __init__(self) -> None:
        self._source: np.ndarray | None = None  # held, so a new map never reuses its id
        self._size: tuple[int, int] = (0, 0)
        self._image: pygame.Surface | None = None

    def draw(self, surface: pygame.Surface, rect: pygame.Rect, saliency: np.ndarray | None) -> bool:
        """Blend ``saliency`` over ``rect``; False when there is no spatial map to draw."""
        if saliency is None or saliency.ndim != 2 or rect.width < 2 or rect.height < 2:
            return False
        if saliency is not self._source or rect.size != self._size or self._image is None:
            self._image = heat_surface(saliency, rect.size)
            self._source, self._size = saliency, rect.size
        surface.blit(self._image, rect)
        return True
