"""GIF recording: a readable file with every frame, written as it goes with flat memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest
from PIL import Image

from agent.recording import GifRecorder

ROOT = Path(__file__).resolve().parent.parent


def game_like_frames(count: int, height: int, width: int, seed: int = 0) -> list[np.ndarray]:
    """Flat-coloured blocks on a dark background, like a game screen, each frame different."""
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, size=(12, 3), dtype=np.uint8)
    frames = []
    for _ in range(count):
        cells = rng.integers(0, len(palette), size=(height // 2 + 1, width // 2 + 1))
        frames.append(palette[cells].repeat(2, 0).repeat(2, 1)[:height, :width].copy())
    return frames


def test_gif_has_every_frame_at_the_right_size_and_colours(tmp_path):
    frames = game_like_frames(7, 10, 12)
    path = tmp_path / "clip.gif"
    with GifRecorder(path, fps=20, scale=3) as gif:
        for frame in frames:
            gif.append(frame)
        assert gif.frames == 7
    read = imageio.mimread(path)
    assert len(read) == 7
    for got, frame in zip(read, frames, strict=True):
        assert got.shape[:2] == (30, 36)
        # Few colours, so the 256-colour palette is exact.
        np.testing.assert_array_equal(got[..., :3], frame.repeat(3, 0).repeat(3, 1))
    with Image.open(path) as image:
        assert image.info["duration"] == 50  # ms per frame at 20 fps
        assert image.info.get("loop") == 0


def test_rgba_frames_and_unscaled_size(tmp_path):
    frames = [
        np.dstack([f, np.full(f.shape[:2], 255, np.uint8)]) for f in game_like_frames(3, 9, 5)
    ]
    path = tmp_path / "rgba.gif"
    with GifRecorder(path, fps=8) as gif:
        for frame in frames:
            gif.append(frame)
    read = imageio.mimread(path)
    assert len(read) == 3 and read[0].shape[:2] == (9, 5)
    np.testing.assert_array_equal(read[2][..., :3], frames[2][..., :3])


def test_no_frames_leaves_no_file(tmp_path):
    path = tmp_path / "empty.gif"
    GifRecorder(path, fps=10).close()
    assert not path.exists()


MEMORY_PROBE = """
import json, resource, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from agent.recording import GifRecorder
from tests.test_recording import game_like_frames

frames = game_like_frames(8, 210, 160)  # Breakout-sized, recorded at scale 2 as `record` does
def peak_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
def record(path, count):
    with GifRecorder(path, fps=15, scale=2) as gif:
        for i in range(count):
            gif.append(frames[i % len(frames)])
record(sys.argv[2] + "/short.gif", 50)
short = peak_kib()
record(sys.argv[2] + "/long.gif", 600)
print(json.dumps({"short_kib": short, "long_kib": peak_kib()}))
"""


@pytest.mark.slow
def test_memory_stays_flat_however_many_frames(tmp_path):
    """600 frames at 420x320 would hold ~240 MB if kept; streaming keeps the peak where 50
    frames put it. Measured in a fresh process, whose peak RSS no other test has raised."""
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(ROOT), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    peaks = json.loads(result.stdout.strip().splitlines()[-1])
    growth_mib = (peaks["long_kib"] - peaks["short_kib"]) / 1024
    assert growth_mib < 40, f"peak memory grew {growth_mib:.0f} MiB from 50 to 600 frames"
    with Image.open(tmp_path / "long.gif") as image:
        assert image.n_frames == 600 and image.size == (320, 420)
