"""The agent's view and the saliency overlay, drawn straight from snapshots for every game: the
network's input shows (tiles, cells, bars), and the heat map lands on the picture where the
map is hot and nowhere else."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from agent.live.channels import Mode, Snapshot
from agent.live.versus import READY, Tally, VersusState
from game.registry import GAMES
from tests.support import snapshot_of
from ui import theme
from ui.layout import arcade_layout
from ui.play_area import PlayArea

OBS = {
    "fruit": ((1, 15, 15), np.float32, (240, 240, 3)),
    "cartpole": ((4,), np.float32, (400, 600, 3)),
    "breakout": ((4, 84, 84), np.uint8, (210, 160, 3)),
}


@pytest.fixture(scope="module")
def surface():
    pygame.display.init()
    pygame.font.init()
    yield pygame.Surface((1240, 760))
    theme.clear_caches()
    pygame.quit()


def snapshot(game: str, *, hot: tuple[int, int] | None = None, **fields) -> Snapshot:
    """A snapshot of ``game`` with a mid-grey frame and, when ``hot``, a saliency map that is
    1 at that cell only (``(i, 0)`` for a state vector)."""
    shape, dtype, frame_shape = OBS[game]
    obs = np.zeros(shape, dtype)
    if game == "cartpole":
        obs[:] = (0.5, -1.0, 0.1, 2.0)
    else:
        obs[..., 3, 4] = 1 if dtype == np.float32 else 200
    saliency = None
    if hot is not None:
        saliency = np.zeros(shape[1:] if len(shape) == 3 else shape, np.float32)
        saliency[hot if saliency.ndim == 2 else hot[0]] = 1.0
    values = dict(
        replay_capacity=10, device="CPU", action=0, agent_action=0, q_values=(0.1, 0.2),
        frame=np.full(frame_shape, 90, np.uint8), frame_serial=1,
        obs=obs, saliency=saliency, saliency_action=0 if hot else None,
    )  # fmt: skip
    return snapshot_of(game, **{**values, **fields})


def draw(surface: pygame.Surface, shot: Snapshot, *, view: bool, heat: bool):
    rects = arcade_layout(surface.get_size(), len(GAMES[shot.game].action_names), view)
    surface.fill(theme.BACKGROUND)
    target = PlayArea().draw(surface, rects, shot, GAMES[shot.game], agent_view=view, saliency=heat)
    return rects, target, pygame.surfarray.array3d(surface).swapaxes(0, 1).copy()


@pytest.mark.parametrize("game", list(OBS))
def test_the_agents_view_draws_the_networks_input(surface, game):
    rects, _, pixels = draw(surface, snapshot(game), view=True, heat=False)
    card = rects["agent_view"]
    body = pixels[card.y + 50 : card.bottom - 10, card.x + 10 : card.right - 10]
    colours = {tuple(c) for c in body.reshape(-1, 3)[::7]}
    assert len(colours) >= 4, game  # tiles, cells or bars, not an empty card
    if game == "fruit":  # the one set cell is drawn lit
        assert (body == (226, 230, 240)).all(axis=-1).any()


@pytest.mark.parametrize("game", ["fruit", "breakout"])
def test_the_saliency_overlay_lands_where_the_map_is_hot(surface, game):
    plain = draw(surface, snapshot(game), view=False, heat=True)[2]
    _, target, hot = draw(surface, snapshot(game, hot=(2, 9)), view=False, heat=True)
    changed = np.argwhere((plain != hot).any(axis=-1))
    assert len(changed), game
    rows, columns = OBS[game][0][1:]
    cell_h, cell_w = target.height / rows, target.width / columns
    centre = changed.mean(axis=0)  # in window pixels: (y, x)
    assert abs(centre[0] - (target.y + 2.5 * cell_h)) < 2 * cell_h, game
    assert abs(centre[1] - (target.x + 9.5 * cell_w)) < 2 * cell_w, game
    off = draw(surface, snapshot(game, hot=(2, 9)), view=False, heat=False)[2]
    assert (off == plain).all()  # overlay off: the map is not drawn


def test_cartpoles_saliency_highlights_the_state_numbers(surface):
    plain = draw(surface, snapshot("cartpole"), view=False, heat=True)[2]
    _, target, hot = draw(surface, snapshot("cartpole", hot=(2, 0)), view=False, heat=True)
    assert (plain != hot)[target.y : target.y + 130, target.x : target.x + 430].any()
    rects, _, cold = draw(surface, snapshot("cartpole"), view=True, heat=True)
    _, _, warm = draw(surface, snapshot("cartpole", hot=(2, 0)), view=True, heat=True)
    card = rects["agent_view"]
    strip = (slice(card.y, card.bottom - 30), slice(card.x + 14, card.x + 17))
    glowing = np.flatnonzero((cold[strip] != warm[strip]).any(axis=-1).any(axis=-1))
    assert glowing.size and glowing.max() - glowing.min() < card.height / 4  # one row glows
    row_h = min(max((card.height - 60) // 4, 20), 56)
    assert glowing.min() > 2 * row_h  # the third number's row: the pole angle


def test_versus_draws_both_sides_with_the_overlay_on_the_agents(surface):
    state = VersusState(
        round=1, phase=READY, seed=1, human_score=0.0, agent_score=0.0, human_done=False,
        agent_done=False, human_steps=0, agent_steps=0, human_action=None,
        human_frame=np.full((240, 240, 3), 40, np.uint8), tally=Tally(), last_result=None,
    )  # fmt: skip
    shot = snapshot("fruit", hot=(2, 9), mode=Mode.VERSUS, versus=state)
    _, target, pixels = draw(surface, shot, view=True, heat=True)
    assert target is not None and target.x > surface.get_width() // 6  # the right-hand side
    assert abs(int(pixels[target.bottom - 3, target.x + 3][0]) - 90) < 6  # the frame, unheated
