"""Several agents playing the same game side by side, as one GIF: the time-lapse as a picture.

Every agent plays its own copy of the game from the same seed, one step each per frame. Each
pane shows its agent's name and score as it rises; a game that ends holds its last frame under
"game over" until every game has ended (or the recording reaches its length). Frames are
streamed to the file as they are made, so memory stays flat however long it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from agent.agent_files import AgentFile, load_policy
from agent.evaluation import make_game_env
from agent.recording import GifRecorder
from game.registry import GameSpec

LABEL_PX = 22  # the height of each pane's label bar
GAP_PX = 4  # between panes
BACKGROUND = (24, 26, 33)
TEXT = (235, 235, 235)
OVER = (255, 120, 100)


@dataclass
class Pane:
    """One agent's game in the picture."""

    name: str
    agent: AgentFile
    env: object
    obs: np.ndarray
    frame: np.ndarray
    score: float = 0.0
    done: bool = False


def agent_name(agent: AgentFile, game_key: str) -> str:
    """A short name for a pane: the file's stem and, when the file says, its hours of training."""
    seconds = agent.info.get("train_seconds")
    hours = f" ({float(seconds) / 3600:.1f} h)" if isinstance(seconds, (int, float)) else ""
    stem = agent.path.stem
    return ("shipped agent" if stem == game_key else stem) + hours


def record_side_by_side(
    game: GameSpec,
    checkpoints: list[Path],
    device: torch.device,
    *,
    out: Path,
    seed: int = 0,
    epsilon: float = 0.0,
    fps: float | None = None,
    max_frames: int | None = None,
    names: list[str] | None = None,
) -> tuple[int, list[float]]:
    """Write ``out``: the agents in ``checkpoints`` each playing a game from ``seed``, side by
    side; returns (frames written, each agent's score)."""
    agents = [load_policy(path, game, device) for path in checkpoints]
    labels = names or [agent_name(agent, game.key) for agent in agents]
    panes = []
    for label, agent in zip(labels, agents, strict=True):
        env = make_game_env(game, agent.config, train=False)
        obs, _ = env.reset(seed=seed)
        panes.append(Pane(label, agent, env, obs, env.render()))
    rngs = [np.random.default_rng(seed) for _ in panes]
    font = _font()
    try:
        with GifRecorder(out, fps or game.agent_fps, scale=1) as gif:
            gif.append(_compose(panes, game.gif_scale, font))
            while not all(pane.done for pane in panes):
                if max_frames is not None and gif.frames >= max_frames:
                    break
                for pane, rng in zip(panes, rngs, strict=True):
                    if not pane.done:
                        _step(pane, epsilon, rng)
                gif.append(_compose(panes, game.gif_scale, font))
            frames = gif.frames
    finally:
        for pane in panes:
            pane.env.close()  # type: ignore[attr-defined]
    return frames, [pane.score for pane in panes]


def _step(pane: Pane, epsilon: float, rng: np.random.Generator) -> None:
    action = pane.agent.policy.act(pane.obs, epsilon, rng).action
    env = pane.env
    pane.obs, reward, terminated, truncated, _ = env.step(action)  # type: ignore[attr-defined]
    pane.score += float(reward)
    pane.frame = env.render()  # type: ignore[attr-defined]
    pane.done = bool(terminated or truncated)


def _compose(panes: list[Pane], scale: int, font: ImageFont.ImageFont) -> np.ndarray:
    """The panes in a row, each with its label bar; ended games dimmed under "game over"."""
    images = []
    for pane in panes:
        frame = np.asarray(pane.frame[..., :3], dtype=np.uint8)
        if scale > 1:
            frame = frame.repeat(scale, axis=0).repeat(scale, axis=1)
        if pane.done:
            frame = (frame * 0.45).astype(np.uint8)
        height, width = frame.shape[:2]
        image = Image.new("RGB", (width, height + LABEL_PX), BACKGROUND)
        image.paste(Image.fromarray(frame), (0, LABEL_PX))
        draw = ImageDraw.Draw(image)
        draw.text((4, 4), f"{pane.name}  {pane.score:g}", fill=TEXT, font=font)
        if pane.done:
            text = "game over"
            left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
            x, y = (width - (right - left)) // 2, LABEL_PX + (height - (bottom - top)) // 2
            draw.text((x, y), text, fill=OVER, font=font)
        images.append(image)
    total = sum(image.width for image in images) + GAP_PX * (len(images) - 1)
    picture = Image.new("RGB", (total, max(image.height for image in images)), BACKGROUND)
    x = 0
    for image in images:
        picture.paste(image, (x, 0))
        x += image.width + GAP_PX
    return np.asarray(picture)


def _font() -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=14)  # type: ignore[return-value]
    except TypeError:  # a Pillow without scalable default fonts
        return ImageFont.load_default()  # type: ignore[return-value]
