"""Replay memory: a preallocated numpy ring that stores every observation once.

Entry ``i`` holds the newest frame of observation ``o_t`` with the action, reward and flags of the
step taken from it; its next observation is entry ``i + 1``. When an episode ends, one extra
entry holds the final observation (needed to bootstrap a truncated episode) and starts no
transition itself. For frame stacks (Atari) an entry keeps only the newest 84x84 frame and the
stack is rebuilt at sampling time, repeating an episode's first frame rather than reaching
across the episode boundary: the same stack the environment showed the agent. A stored Atari
transition so costs one frame, 7,056 bytes, plus 8 bytes of bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Batch:
    """A sampled minibatch; ``discount`` is gamma**k for the k steps to ``next_obs``."""

    obs: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    discount: np.ndarray
    demo: np.ndarray
    index: np.ndarray


class ReplayBuffer:
    """Ring buffer of transitions, with n-step returns and frame stacks built when sampled.

    ``frame_stack`` > 1 means observations are stacks of that many frames along axis 0 and
    each entry stores only the last one.
    """

    def __init__(
        self,
        capacity: int,
        obs_shape: tuple[int, ...],
        obs_dtype: np.dtype | type = np.float32,
        frame_stack: int = 1,
        gamma: float = 0.99,
        n_step: int = 1,
    ) -> None:
        if capacity < frame_stack + n_step + 1:
            raise ValueError(f"capacity {capacity} is too small")
        self.capacity = capacity
        self.frame_stack = frame_stack
        self.obs_shape = tuple(obs_shape)
        self.gamma = gamma
        self.n_step = n_step
        frame_shape = self.obs_shape[1:] if frame_stack > 1 else self.obs_shape
        self.frames = np.zeros((capacity, *frame_shape), dtype=obs_dtype)
        self.action = np.zeros(capacity, dtype=np.uint8)  # every game has < 256 actions
        self.reward = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=bool)
        self.starts_transition = np.zeros(capacity, dtype=bool)  # False for final observations
        self.demo = np.zeros(capacity, dtype=bool)
        self.since_start = np.zeros(capacity, dtype=np.uint8)  # entries since episode start, capped
        self.pos = 0  # next entry to write
        self.size = 0  # entries held
        self.transitions = 0  # transitions ever added
        self._in_episode = False

    @staticmethod
    def bytes_needed(capacity: int, obs_shape, obs_dtype, frame_stack: int = 1) -> int:
        """Memory a buffer of ``capacity`` entries will take, for refusing one that cannot fit."""
        frame_shape = tuple(obs_shape)[1:] if frame_stack > 1 else tuple(obs_shape)
        frame_bytes = int(np.prod(frame_shape)) * np.dtype(obs_dtype).itemsize
        return capacity * (frame_bytes + 1 + 4 + 1 + 1 + 1 + 1)

    @property
    def nbytes(self) -> int:
        arrays = (self.frames, self.action, self.reward, self.terminated)
        flags = (self.starts_transition, self.demo, self.since_start)
        return sum(a.nbytes for a in arrays + flags)

    def __len__(self) -> int:
        """Transitions that can currently be sampled from (an upper bound near the ring's seam)."""
        return int(self.starts_transition[: self.size].sum()) if self.size else 0

    @property
    def demo_count(self) -> int:
        return int((self.demo[: self.size] & self.starts_transition[: self.size]).sum())

    def _newest_frame(self, obs: np.ndarray) -> np.ndarray:
        return obs[-1] if self.frame_stack > 1 else obs

    def _write(self, frame, action, reward, terminated, starts, demo, since) -> None:
        i = self.pos
        self.frames[i] = frame
        self.action[i] = action
        self.reward[i] = reward
        self.terminated[i] = terminated
        self.starts_transition[i] = starts
        self.demo[i] = demo
        self.since_start[i] = min(since, 255)
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def add(
        self,
        obs: np.ndarray,
        action: int,
        reward: float,
        next_obs: np.ndarray,
        terminated: bool,
        truncated: bool,
        demo: bool = False,
    ) -> None:
        """Store one transition; ``obs`` must be the ``next_obs`` of the previous call unless an
        episode ended there."""
        previous = (self.pos - 1) % self.capacity
        since = int(self.since_start[previous]) + 1 if self._in_episode else 0
        self._write(self._newest_frame(obs), action, reward, terminated, True, demo, since)
        self.transitions += 1
        self._in_episode = not (terminated or truncated)
        if not self._in_episode:
            self._write(self._newest_frame(next_obs), 0, 0.0, False, False, False, since + 1)

    def end_episode(self) -> None:
        """Forget the running episode, e.g. after the env was reset without a final transition."""
        if self._in_episode and self.size:
            # The newest entry's next observation was never stored; without this it would be
            # paired with the next episode's first frame. It stays as a final observation.
            self.starts_transition[(self.pos - 1) % self.capacity] = False
        self._in_episode = False

    def _age(self, index: np.ndarray) -> np.ndarray:
        """Position of entries counted from the oldest one held."""
        oldest = (self.pos - self.size) % self.capacity
        return (index - oldest) % self.capacity

    def _sample_indices(
        self, count: int, rng: np.random.Generator, demo: bool | None
    ) -> np.ndarray:
        chosen: list[np.ndarray] = []
        found = 0
        for _ in range(1000):
            index = rng.integers(0, self.size, size=max(2 * count, 16))
            ok = self.starts_transition[index] & (self._age(index) < self.size - 1)
            if self.frame_stack > 1:
                history = np.minimum(self.since_start[index], self.frame_stack - 1)
                ok &= self._age(index) >= history
            if demo is not None:
                ok &= self.demo[index] == demo
            index = index[ok]
            chosen.append(index)
            found += len(index)
            if found >= count:
                return np.concatenate(chosen)[:count]
        raise ValueError("not enough transitions to sample from")

    def _stack(self, index: np.ndarray) -> np.ndarray:
        if self.frame_stack == 1:
            return self.frames[index]
        back = np.arange(self.frame_stack - 1, -1, -1)
        offset = np.minimum(back[None, :], self.since_start[index][:, None].astype(np.int64))
        return self.frames[(index[:, None] - offset) % self.capacity]

    def sample(
        self, batch_size: int, rng: np.random.Generator, demo_fraction: float = 0.0
    ) -> Batch:
        """A uniform minibatch; ``demo_fraction`` of it from demonstrations while any exist."""
        demos = round(batch_size * demo_fraction) if demo_fraction > 0 and self.demo_count else 0
        if demos:
            index = np.concatenate(
                [
                    self._sample_indices(demos, rng, demo=True),
                    self._sample_indices(batch_size - demos, rng, demo=None),
                ]
            )
        else:
            index = self._sample_indices(batch_size, rng, demo=None)
        reward, next_index, terminated, discount = self._n_step(index)
        return Batch(
            obs=self._stack(index),
            action=self.action[index].astype(np.int64),
            reward=reward,
            next_obs=self._stack(next_index),
            terminated=terminated,
            discount=discount,
            demo=self.demo[index],
            index=index,
        )

    def _n_step(self, index: np.ndarray):
        """Discounted reward over up to n steps; stops at an episode's end or the newest entry."""
        reward = np.zeros(len(index), dtype=np.float32)
        discount = np.ones(len(index), dtype=np.float32)
        terminated = np.zeros(len(index), dtype=bool)
        current = index.copy()
        running = np.ones(len(index), dtype=bool)
        for _ in range(self.n_step):
            reward += np.where(running, discount * self.reward[current], 0.0)
            terminated |= running & self.terminated[current]
            discount = np.where(running, discount * self.gamma, discount)
            nxt = (current + 1) % self.capacity
            current = np.where(running, nxt, current)
            # Go on only from an entry that starts a transition and whose successor is held.
            running &= (
                ~self.terminated[(current - 1) % self.capacity]
                & self.starts_transition[current]
                & (self._age(current) < self.size - 1)
            )
        return reward, current, terminated, discount.astype(np.float32)
