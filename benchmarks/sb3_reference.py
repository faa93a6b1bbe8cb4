"""The reference figure measured on the same machine: Stable-Baselines3's DQN on Breakout,
env steps/s in the learning phase (one batch-32 update every 4 env steps, Nature CNN, 1 env).

SB3 and OpenCV are not this app's dependencies; run it in a throwaway venv:

    python3 -m venv /tmp/sb3 && /tmp/sb3/bin/pip install torch==2.13.0 stable-baselines3 \\
        "gymnasium[atari]==1.4.0" ale-py==0.12.1 opencv-python-headless
    /tmp/sb3/bin/python benchmarks/sb3_reference.py

The settings match `benchmarks/run.py`'s Breakout figure: 2 torch threads, a 20k replay memory,
learning from step 1,000; the figure is the median of six 1,024-step windows after that.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as main.py and benchmarks/run.py

import statistics
import time

import ale_py
import gymnasium as gym
import stable_baselines3
import torch
from stable_baselines3 import DQN
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_atari_env
from stable_baselines3.common.vec_env import VecFrameStack

WINDOW = 1024
LEARNING_STARTS = 1_000


class WindowClock(BaseCallback):
    """The time at each multiple of WINDOW env steps once learning has started."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: list[float] = []

    def _on_step(self) -> bool:
        if self.num_timesteps >= LEARNING_STARTS and self.num_timesteps % WINDOW == 0:
            self.marks.append(time.perf_counter())
        return True


def main() -> None:
    gym.register_envs(ale_py)
    torch.set_num_threads(2)
    env = VecFrameStack(make_atari_env("BreakoutNoFrameskip-v4", n_envs=1, seed=0), n_stack=4)
    model = DQN(
        "CnnPolicy",
        env,
        buffer_size=20_000,
        learning_starts=LEARNING_STARTS,
        batch_size=32,
        train_freq=4,
        gradient_steps=1,
        target_update_interval=1_000,
        learning_rate=1e-4,
        device="cpu",
        seed=0,
    )
    clock = WindowClock()
    model.learn(total_timesteps=WINDOW * 7, callback=clock)
    rates = [WINDOW / (b - a) for a, b in zip(clock.marks, clock.marks[1:], strict=False)]
    print(
        f"SB3 {stable_baselines3.__version__} DQN, Breakout learning phase: "
        f"{statistics.median(rates):.0f} env steps/s; median of {len(rates)} windows, "
        f"{min(rates):.0f}-{max(rates):.0f}; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )


if __name__ == "__main__":
    main()
