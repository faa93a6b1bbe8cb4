"""Imported first by the window benchmarks: the real app, drawn nowhere (SDL's dummy video
driver, no audio), with a one-thread OpenBLAS as main.py sets it (see tests/conftest.py)."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
