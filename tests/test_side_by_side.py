"""`record` with several agents: one GIF, the games side by side from the same seed, each pane
labelled; a game that ends holds its last frame under "game over"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from agent.checkpoint import save_for_shipping
from agent.config import load_config
from agent.learner import build_online
from agent.side_by_side import GAP_PX, LABEL_PX, record_side_by_side
from game.registry import GAMES

CPU = torch.device("cpu")
SAVES = Path(__file__).resolve().parent.parent / "saves"


def _always_left(path: Path) -> Path:
    """A CartPole agent that always pushes left: its pole falls within a few dozen steps."""
    config = load_config("cartpole")
    network = build_online(config, (4,), 2, CPU)
    output = list(network.parameters())[-2:]  # the last layer's weight and bias
    with torch.no_grad():
        output[0].zero_()
        output[1].copy_(torch.tensor([1.0, 0.0]))
    return save_for_shipping(path, "cartpole", network, config, {"global_step": 0})


def _frames(path: Path) -> list[np.ndarray]:
    frames = []
    with Image.open(path) as gif:
        for index in range(gif.n_frames):
            gif.seek(index)
            frames.append(np.asarray(gif.convert("RGB")))
    return frames


def test_two_agents_play_side_by_side_and_an_early_end_holds(tmp_path):
    weak = _always_left(tmp_path / "left.pt")
    out = tmp_path / "race.gif"
    frames, scores = record_side_by_side(
        GAMES["cartpole"], [weak, SAVES / "cartpole.pt"], CPU, out=out, seed=0, max_frames=80
    )
    assert frames == 80  # the shipped agent balances past the cut
    assert scores[1] == 79.0 and 0 < scores[0] < 79.0  # one point a step; pushing left falls
    pictures = _frames(out)
    assert len(pictures) == frames
    pane_width = (pictures[0].shape[1] - GAP_PX) // 2
    single = GAMES["cartpole"].make_env(train=False)
    single.reset(seed=0)
    assert pictures[0].shape[0] == single.render().shape[0] + LABEL_PX
    single.close()
    # After the weak agent's game ended, its pane no longer changes (but for each frame's own
    # 256-colour palette); the other's does.
    ended = int(scores[0]) + 2
    later = [picture.astype(int) for picture in pictures[ended:]]
    left = [np.abs(p[:, :pane_width] - later[0][:, :pane_width]).mean() for p in later]
    right = [np.abs(p[:, pane_width:] - later[0][:, pane_width:]).mean() for p in later]
    assert max(left) < 1.0 < max(right)


def test_every_agent_plays_from_the_same_seed(tmp_path):
    shipped = SAVES / "fruit.pt"
    out = tmp_path / "twins.gif"
    frames, scores = record_side_by_side(
        GAMES["fruit"], [shipped, shipped], CPU, out=out, seed=4, names=["a", "b"]
    )
    assert scores == [1.0, 1.0]
    pictures = _frames(out)
    width = (pictures[0].shape[1] - GAP_PX) // 2
    # The same agent on the same seed: both games show the same picture at every frame.
    for picture in pictures:
        left = picture[LABEL_PX:, :width]
        right = picture[LABEL_PX:, width + GAP_PX :]
        assert np.array_equal(left, right)


def test_record_with_several_checkpoints_writes_one_side_by_side_gif(tmp_path, capsys):
    from main import main

    out = tmp_path / "lapse" / "fruit.gif"
    argv = ["record", "fruit", "--checkpoint", str(SAVES / "fruit.pt")]
    code = main([*argv, "--checkpoint", str(SAVES / "fruit.pt"), "--out", str(out), "--seed", "2"])
    err = capsys.readouterr().err
    assert code == 0 and "side by side" in err and "created folder" in err
    pictures = _frames(out)
    single = GAMES["fruit"].make_env(train=False)
    single.reset(seed=2)
    width = single.render().shape[1] * GAMES["fruit"].gif_scale
    single.close()
    assert pictures[0].shape[1] == 2 * width + GAP_PX  # two panes, one gap
