"""GIF recording that streams frames to disk, so memory stays flat however long it runs.

imageio's GIF writer keeps every frame until it closes (2,000 Breakout frames: 300 MB), so this
writes the file frame by frame with Pillow's GIF encoder: the header once, then each frame with
its own 256-colour palette, then the trailer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import GifImagePlugin, Image


class GifRecorder:
    """Append RGB frames one at a time; ``close()`` finishes the file."""

    def __init__(self, path: str | Path, fps: float, scale: int = 1) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.scale = max(1, int(scale))
        # GIF timing is in 10 ms steps: round to the nearest (15 fps: 70 ms, not a truncated 60).
        self.frame_ms = max(20, 10 * round(100.0 / fps))
        self.frames = 0
        self._file = open(self.path, "wb")  # noqa: SIM115 - closed in close()

    def append(self, frame: np.ndarray) -> None:
        if self.scale > 1:
            frame = frame.repeat(self.scale, axis=0).repeat(self.scale, axis=1)
        image = Image.fromarray(np.ascontiguousarray(frame[..., :3], dtype=np.uint8)).quantize(
            colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
        if self.frames == 0:
            header, _ = GifImagePlugin.getheader(image, info={"loop": 0})
            self._file.writelines(header)
        chunks = GifImagePlugin.getdata(image, duration=self.frame_ms, include_color_table=True)
        self._file.writelines(chunks)
        self.frames += 1

    def close(self) -> None:
        if self._file.closed:
            return
        try:
            if self.frames:
                self._file.write(b";")
        finally:
            self._file.close()
        if not self.frames:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> GifRecorder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
