"""The agent's view: what the network receives, drawn as it is (not as people see the game).

- a stack of frames (Breakout's four 84x84 grayscale frames) as tiles, oldest first;
- a one-channel grid (fruit catch's 1x15x15) as cells;
- a state vector (CartPole's four numbers) as labelled bars around zero.
With the saliency overlay on, the heat map lies over the tiles and cells, and each state number
gets a highlight as strong as the Q-value's sensitivity to it.
"""

from __future__ import annotations

import numpy as np
import pygame

from agent.live.channels import Snapshot
from game.registry import GameSpec
from ui import theme
from ui.game_view import frame_to_surface
from ui.overlay import SaliencyOverlay, heat_colours

# CartPole's state: name, unit and the span a bar shows either side of zero (the position and
# angle spans are where an episode ends; a balancing agent's velocities stay well inside theirs).
STATE_LABELS: dict[str, tuple[tuple[str, str, float], ...]] = {
    "cartpole": (
        ("cart position", "m", 2.4),
        ("cart velocity", "m/s", 2.0),
        ("pole angle", "rad", 0.2095),
        ("pole angular velocity", "rad/s", 2.0),
    ),
}
CELL_ON = (226, 230, 240)  # a grid cell that is 1 (white: the heat map is red to yellow)
CELL_OFF = (18, 20, 32)


class AgentView:
    """Draws ``snapshot.picture.obs`` into a card; see the module docstring."""

    def __init__(self) -> None:
        self._tiles_key: tuple | None = None
        self._tiles: list[pygame.Surface] = []
        self._overlays = [SaliencyOverlay() for _ in range(4)]

    def draw(
        self,
        surface: pygame.Surface,
        rect: pygame.Rect,
        snapshot: Snapshot,
        game: GameSpec,
        overlay: bool,
    ) -> None:
        inner = theme.draw_card(surface, rect, "The agent's view")
        obs = snapshot.picture.obs
        saliency = snapshot.picture.saliency if overlay else None
        if obs is None:
            theme.draw_text(surface, "waiting...", inner.center, colour=theme.DIM, anchor="center")
            return
        shape = f"{' x '.join(str(n) for n in obs.shape)} {obs.dtype}"
        text = f"{shape}: the network's input"
        if theme.text_surface(text, "mono", 11, theme.DIM).get_width() > inner.width:
            text = shape  # a narrow card: the shape alone
        caption = theme.draw_text(
            surface, text, inner.topleft, kind="mono", size=11, colour=theme.DIM
        )
        body = pygame.Rect(
            inner.x, caption.bottom + 8, inner.width, inner.bottom - caption.bottom - 8
        )
        if obs.ndim == 3 and obs.shape[0] > 1:
            self._draw_stack(surface, body, snapshot, saliency)
        elif obs.ndim == 3:
            self._draw_grid(surface, body, obs[0], saliency)
        elif obs.ndim == 1:
            labels = STATE_LABELS.get(game.key) or tuple(
                (f"x{i}", "", 1.0) for i in range(len(obs))
            )
            draw_state_bars(surface, body, obs, labels, saliency)
        if overlay and snapshot.picture.saliency is None:
            theme.draw_text(
                surface,
                "saliency: computing...",
                (inner.x, inner.bottom),
                size=12,
                colour=theme.FAINT,
                anchor="bottomleft",
            )

    def _draw_stack(
        self,
        surface: pygame.Surface,
        body: pygame.Rect,
        snapshot: Snapshot,
        saliency: np.ndarray | None,
    ) -> None:
        """Frames oldest first, in a 2x2 grid of square tiles."""
        obs = snapshot.picture.obs
        assert obs is not None
        count = obs.shape[0]
        columns = 2 if count == 4 else count
        rows = -(-count // columns)
        label_h, gap = 18, 8
        side = min(
            (body.width - (columns - 1) * gap) // columns,
            (body.height - rows * label_h - (rows - 1) * gap) // rows,
        )
        if side < 8:
            return
        key = (snapshot.game, snapshot.picture.serial, side)
        if key != self._tiles_key:
            self._tiles = [
                pygame.transform.scale(
                    frame_to_surface(np.repeat(frame[..., None], 3, -1)), (side, side)
                )
                for frame in obs
            ]
            self._tiles_key = key
        grid_w = columns * side + (columns - 1) * gap
        x0 = body.x + (body.width - grid_w) // 2
        for i, tile in enumerate(self._tiles):
            row, column = divmod(i, columns)
            x = x0 + column * (side + gap)
            y = body.y + row * (side + label_h + gap)
            age = count - 1 - i
            label = "now" if age == 0 else f"t-{age}"
            theme.draw_text(surface, label, (x, y), kind="mono", size=11, colour=theme.DIM)
            place = pygame.Rect(x, y + label_h, side, side)
            surface.blit(tile, place)
            if saliency is not None and i < len(self._overlays):
                self._overlays[i].draw(surface, place, saliency)
            pygame.draw.rect(surface, theme.CARD_BORDER, place, width=1)

    def _draw_grid(
        self,
        surface: pygame.Surface,
        body: pygame.Rect,
        grid: np.ndarray,
        saliency: np.ndarray | None,
    ) -> None:
        rows, columns = grid.shape
        cell = min(body.width // columns, body.height // rows)
        if cell < 3:
            return
        area = pygame.Rect(0, 0, cell * columns, cell * rows)
        area.midtop = (body.centerx, body.y)
        pygame.draw.rect(surface, CELL_OFF, area)
        for (r, c), value in np.ndenumerate(grid):
            box = pygame.Rect(area.x + c * cell, area.y + r * cell, cell, cell)
            if value > 0:
                colour = tuple(int(v * min(float(value), 1.0)) for v in CELL_ON)
                surface.fill(colour, box.inflate(-2, -2))
            pygame.draw.rect(surface, theme.GRID, box, width=1)
        if saliency is not None:
            self._overlays[0].draw(surface, area, saliency)


def draw_state_bars(
    surface: pygame.Surface,
    rect: pygame.Rect,
    obs: np.ndarray,
    labels: tuple[tuple[str, str, float], ...],
    saliency: np.ndarray | None,
    *,
    compact: bool = False,
) -> None:
    """One row per state number: name, a bar from zero (its span either side), the value; with
    ``saliency``, a highlight behind each row as strong as the sensitivity to that number."""
    rows = len(obs)
    row_h = min(max(rect.height // max(rows, 1), 20), 30 if compact else 56)
    name_size = 12 if compact else 13
    heat = heat_colours(np.asarray(saliency, dtype=np.float32)) if saliency is not None else None
    for i, value in enumerate(obs):
        name, unit, span = labels[i] if i < len(labels) else (f"x{i}", "", 1.0)
        row = pygame.Rect(rect.x, rect.y + i * row_h, rect.width, row_h - 4)
        if heat is not None and i < len(heat):
            glow = pygame.Surface(row.size, pygame.SRCALPHA)
            glow.fill(tuple(int(v) for v in heat[i][:3]) + (int(heat[i][3]) // 2,))
            surface.blit(glow, row)
        if compact:
            text_rect = pygame.Rect(row.x + 6, row.y, 150, row.height)
            bar_area = pygame.Rect(
                text_rect.right, row.y + 4, row.width - 150 - 104, row.height - 8
            )
            theme.draw_text(
                surface,
                name,
                text_rect.midleft,
                size=name_size,
                colour=theme.TEXT,
                anchor="midleft",
            )
        else:
            theme.draw_text(
                surface, name, (row.x + 6, row.y + 2), size=name_size, colour=theme.TEXT
            )
            bar_area = pygame.Rect(
                row.x + 6, row.y + 22, row.width - 12 - 104, max(row.height - 28, 6)
            )
        track = bar_area
        pygame.draw.rect(surface, theme.BACKGROUND, track, border_radius=3)
        share = float(np.clip(value / span, -1.0, 1.0)) if span else 0.0
        half = track.width // 2
        bar = pygame.Rect(track.centerx, track.y, int(abs(share) * half), track.height)
        if share < 0:
            bar.right = track.centerx
        colour = theme.ACCENT if abs(share) < 0.8 else theme.ORANGE
        pygame.draw.rect(surface, colour, bar, border_radius=3)
        pygame.draw.line(
            surface, theme.DIM, (track.centerx, track.y - 2), (track.centerx, track.bottom + 1)
        )
        tip = track.centerx + int(share * half)  # a tick at the value: visible even near zero
        pygame.draw.line(surface, colour, (tip, track.y - 2), (tip, track.bottom + 1), 3)
        if saliency is not None and i < len(saliency) and not compact:
            # Right of the name, as much as fits: a narrow card keeps the number only.
            name_w = theme.text_surface(name, "sans", name_size, theme.TEXT).get_width()
            for label in (f"saliency {float(saliency[i]):.2f}", f"{float(saliency[i]):.2f}"):
                image = theme.text_surface(label, "mono", 11, theme.TEXT)
                if row.right - 6 - image.get_width() >= row.x + 6 + name_w + 8:
                    surface.blit(image, image.get_rect(topright=(row.right - 6, row.y + 3)))
                    break
        text = f"{value:+.3f} {unit}".rstrip()
        theme.draw_text(
            surface,
            text,
            (row.right - 6, track.centery),
            kind="mono",
            size=12,
            anchor="midright",
        )
