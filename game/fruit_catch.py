"""Fruit catch: a fruit falls down a grid and a 3-wide basket must be under it when it lands."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

# RGB colours of the rendered frame.
_BACKGROUND = np.array([18, 20, 32], dtype=np.uint8)
_GRID_LINE = np.array([30, 34, 52], dtype=np.uint8)
_FRUIT = np.array([236, 72, 84], dtype=np.uint8)
_BASKET = np.array([250, 196, 64], dtype=np.uint8)
_CELL_PX = 16  # rendered pixels per grid cell


class FruitCatchEnv(gym.Env):
    """Catch the falling fruit with the basket.

    Observation: ``Box(0, 1, (1, N, N), float32)``, the grid with fruit and basket cells set to 1.
    Actions: ``Discrete(3)``: 0 moves the basket one column left, 1 keeps it still, 2 moves it
    right. The basket's centre stays within columns 1..N-2, so all three cells stay on the grid.
    Start: the fruit in row 0 at a random column; the basket in the last row, centred on a random
    column in 1..N-2.
    Dynamics: each step moves the basket first, then the fruit falls one row.
    Rewards: +1 when the fruit reaches row N-2 above the basket, -1 when it reaches it elsewhere,
    0 on every other step.
    End: terminates when the fruit reaches row N-2 (after N-2 steps); never truncates.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, render_mode: str | None = None, grid_size: int = 15) -> None:
        if grid_size < 4:
            raise ValueError(f"grid_size must be at least 4, got {grid_size}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.grid_size = grid_size
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0.0, 1.0, (1, grid_size, grid_size), np.float32)
        self.action_space = spaces.Discrete(3)
        self._fruit_row = 0
        self._fruit_col = 0
        self._basket_col = 1

    def _observation(self) -> np.ndarray:
        grid = np.zeros((1, self.grid_size, self.grid_size), dtype=np.float32)
        grid[0, self._fruit_row, self._fruit_col] = 1.0
        grid[0, -1, self._basket_col - 1 : self._basket_col + 2] = 1.0
        return grid

    def _info(self) -> dict[str, Any]:
        return {"fruit": (self._fruit_row, self._fruit_col), "basket": self._basket_col}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        n = self.grid_size
        self._fruit_row = 0
        self._fruit_col = int(self.np_random.integers(0, n))
        self._basket_col = int(self.np_random.integers(1, n - 1))
        return self._observation(), self._info()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise ValueError(f"invalid action {action!r}; expected 0, 1 or 2")
        n = self.grid_size
        self._basket_col = min(max(self._basket_col + int(action) - 1, 1), n - 2)
        self._fruit_row += 1
        terminated = self._fruit_row >= n - 2
        reward = 0.0
        if terminated:
            caught = abs(self._fruit_col - self._basket_col) <= 1
            reward = 1.0 if caught else -1.0
        return self._observation(), reward, terminated, False, self._info()

    def render(self) -> np.ndarray | None:
        """An RGB frame, 16 pixels a cell, with faint grid lines; scales up crisply."""
        if self.render_mode != "rgb_array":
            return None
        n, px = self.grid_size, _CELL_PX
        frame = np.empty((n * px, n * px, 3), dtype=np.uint8)
        frame[:] = _BACKGROUND
        frame[::px, :] = _GRID_LINE
        frame[:, ::px] = _GRID_LINE
        r, c = self._fruit_row, self._fruit_col
        frame[r * px + 3 : (r + 1) * px - 2, c * px + 3 : (c + 1) * px - 2] = _FRUIT
        left = (self._basket_col - 1) * px
        frame[(n - 1) * px + 4 : n * px - 1, left + 1 : left + 3 * px - 1] = _BASKET
        return frame


class FruitCatchVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` fruit-catch games stepped together in numpy, same rules as
    ``FruitCatchEnv``: evaluation plays 100 games in one call a step instead of 100.

    Sub-envs that end are reset on their next step (``AutoresetMode.NEXT_STEP``): that step
    ignores its action and returns the new game's first observation with zero reward.
    """

    metadata = {"render_modes": [], "autoreset_mode": gym.vector.AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int, grid_size: int = 15) -> None:
        if grid_size < 4:
            raise ValueError(f"grid_size must be at least 4, got {grid_size}")
        self.num_envs = num_envs
        self.grid_size = grid_size
        self.single_observation_space = spaces.Box(0.0, 1.0, (1, grid_size, grid_size), np.float32)
        self.single_action_space = spaces.Discrete(3)
        self.observation_space = gym.vector.utils.batch_space(
            self.single_observation_space, num_envs
        )
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self._fruit_row = np.zeros(num_envs, dtype=np.int64)
        self._fruit_col = np.zeros(num_envs, dtype=np.int64)
        self._basket_col = np.ones(num_envs, dtype=np.int64)
        self._ended = np.zeros(num_envs, dtype=bool)

    def _start(self, which: np.ndarray) -> None:
        count = int(which.sum())
        self._fruit_row[which] = 0
        self._fruit_col[which] = self.np_random.integers(0, self.grid_size, size=count)
        self._basket_col[which] = self.np_random.integers(1, self.grid_size - 1, size=count)

    def _observation(self) -> np.ndarray:
        n, envs = self.grid_size, np.arange(self.num_envs)
        grid = np.zeros((self.num_envs, 1, n, n), dtype=np.float32)
        grid[envs, 0, self._fruit_row, self._fruit_col] = 1.0
        for offset in (-1, 0, 1):
            grid[envs, 0, n - 1, self._basket_col + offset] = 1.0
        return grid

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._start(np.ones(self.num_envs, dtype=bool))
        self._ended[:] = False
        return self._observation(), {}

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,) or not np.isin(actions, (0, 1, 2)).all():
            raise ValueError(f"expected {self.num_envs} actions, each 0, 1 or 2")
        n, playing = self.grid_size, ~self._ended
        self._basket_col = np.where(
            playing, np.clip(self._basket_col + actions - 1, 1, n - 2), self._basket_col
        )
        self._fruit_row += playing
        terminated = playing & (self._fruit_row >= n - 2)
        caught = np.abs(self._fruit_col - self._basket_col) <= 1
        reward = np.where(terminated, np.where(caught, 1.0, -1.0), 0.0)
        self._start(self._ended)  # games that ended last step begin again now
        self._ended = terminated
        truncated = np.zeros(self.num_envs, dtype=bool)
        return self._observation(), reward, terminated, truncated, {}
