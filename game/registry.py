"""One place that describes each game: how to make it, name its actions and play it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from game.breakout import make_breakout, make_breakout_vector
from game.fruit_catch import FruitCatchEnv, FruitCatchVectorEnv

FRUIT_CATCH_ID = "FruitCatch-v0"
if FRUIT_CATCH_ID not in gym.registry:
    gym.register(FRUIT_CATCH_ID, entry_point=FruitCatchEnv)  # type: ignore[arg-type]  # an env class is a creator


@dataclass(frozen=True)
class GameSpec:
    """Everything the agent, the command line and the window need to know about one game.

    ``keymap`` maps key names (as pygame's ``key.name`` spells them) to actions; ``idle_action``
    is what a human player does with no key held (``None``: repeat the last action).
    ``agent_fps`` is the natural pace of one agent step on screen; ``human_fps`` that of one
    human step (Breakout is played by people frame by frame, so its human env skips no frames).
    ``human_countdown_s`` is how long a person gets to ready themselves between their
    episodes (0: the next one starts at once).
    """

    key: str
    title: str
    env_id: str
    action_names: tuple[str, ...]
    agent_fps: float
    human_fps: float
    keymap: dict[str, int]
    idle_action: int | None
    make: Callable[..., gym.Env] = field(repr=False)
    # The score that counts as solving the game (a live race's finish line: agent/live/race.py).
    solved_score: float
    # A native vector version, where the game has one: evaluation then steps all its
    # episodes in one numpy call (CartPole: ~40 us for 10 episodes instead of ~200 us). It takes
    # the number of envs and the same keyword arguments as ``make_env``.
    make_vector: Callable[..., gym.vector.VectorEnv] | None = field(default=None, repr=False)
    # A vector version for training (PQN's envs), with the training aids of
    # ``make_env(train=True)``, autoreset NEXT_STEP and ``info["game_over"]``; its observations
    # must match ``make_env``'s, which plays and evaluates the agent it trains. It takes the
    # number of envs and, optionally, ``num_threads`` to step them on (0: the machine's cores).
    make_train_vector: Callable[..., gym.vector.VectorEnv] | None = field(default=None, repr=False)
    human_countdown_s: float = 0.0
    # Frames stacked in one observation (its first axis): the replay memory stores each once.
    frame_stack: int = 1
    # Config fields passed to the env as keyword arguments (fruit catch's grid size).
    env_config_keys: tuple[str, ...] = ()
    gif_scale: int = 1  # how many times bigger ``record`` draws its frames
    # How scores read: each reward a fruit caught (+1) or missed (-1), counted as such; a
    # person's CartPole score is frames balanced, shown in seconds.
    counts_catches: bool = False
    human_score_in_seconds: bool = False

    def make_env(self, *, train: bool = False, human: bool = False, **kwargs) -> gym.Env:
        """An env rendering ``rgb_array``; ``train`` adds training aids, ``human`` suits people
        (Breakout: frame by frame, and the player serves the ball themselves)."""
        return self.make(train=train, human=human, **kwargs)


def _make_fruit(*, train: bool, human: bool, grid_size: int = 15) -> gym.Env:
    return gym.make(FRUIT_CATCH_ID, render_mode="rgb_array", grid_size=grid_size)


def _make_fruit_vector(num_envs: int, grid_size: int = 15) -> gym.vector.VectorEnv:
    return FruitCatchVectorEnv(num_envs, grid_size=grid_size)


class _ClosesOnlyItself(gym.Wrapper):
    """Gymnasium's classic-control ``close()`` quits pygame for the whole process once the env
    has rendered, which would take the window's display with it. Its render surface is an
    offscreen one: closing lets go of it and leaves pygame to the window."""

    def close(self) -> None:
        unwrapped: Any = self.env.unwrapped  # CartPole's, with its render surface
        unwrapped.screen = None
        super().close()


def _make_cartpole(*, train: bool, human: bool) -> gym.Env:
    return _ClosesOnlyItself(gym.make("CartPole-v1", render_mode="rgb_array"))


def _make_cartpole_vector(num_envs: int) -> gym.vector.VectorEnv:
    return gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="vector_entry_point")


def _make_breakout(*, train: bool, human: bool) -> gym.Env:
    return make_breakout(
        frame_skip=1 if human else 4, terminal_on_life_loss=train, auto_fire=not human
    )


def _make_breakout_train_vector(num_envs: int, num_threads: int = 0) -> gym.vector.VectorEnv:
    return make_breakout_vector(num_envs, train=True, num_threads=num_threads)


GAMES: dict[str, GameSpec] = {
    "fruit": GameSpec(
        key="fruit",
        title="Fruit catch",
        env_id=FRUIT_CATCH_ID,
        action_names=("LEFT", "STAY", "RIGHT"),
        agent_fps=8.0,
        human_fps=5.0,
        keymap={"left": 0, "a": 0, "right": 2, "d": 2},
        idle_action=1,
        make=_make_fruit,
        solved_score=0.9,
        make_vector=_make_fruit_vector,
        env_config_keys=("grid_size",),
        counts_catches=True,
    ),
    "cartpole": GameSpec(
        key="cartpole",
        title="CartPole",
        env_id="CartPole-v1",
        action_names=("PUSH LEFT", "PUSH RIGHT"),
        agent_fps=50.0,
        human_fps=50.0,
        keymap={"left": 0, "a": 0, "right": 1, "d": 1},
        idle_action=None,
        make=_make_cartpole,
        solved_score=475.0,
        make_vector=_make_cartpole_vector,
        # A fallen pole restarts at once; a person needs a moment to get their hands ready.
        human_countdown_s=3.0,
        human_score_in_seconds=True,
    ),
    "breakout": GameSpec(
        key="breakout",
        title="Breakout",
        env_id="ALE/Breakout-v5",
        action_names=("NOOP", "FIRE", "RIGHT", "LEFT"),
        agent_fps=15.0,
        human_fps=60.0,
        keymap={"space": 1, "up": 1, "right": 2, "d": 2, "left": 3, "a": 3},
        idle_action=0,
        make=_make_breakout,
        solved_score=30.0,
        make_train_vector=_make_breakout_train_vector,
        frame_stack=4,
        gif_scale=2,  # 160x210 frames
    ),
}


def rendered(env: gym.Env) -> np.ndarray:
    """The frame an env made here (``render_mode="rgb_array"``) shows now, RGB."""
    frame = env.render()
    assert isinstance(frame, np.ndarray), type(frame)
    return frame


def get_game(key: str) -> GameSpec:
    """The game called ``key``; raises ``KeyError`` naming the choices."""
    try:
        return GAMES[key]
    except KeyError:
        raise KeyError(f"unknown game {key!r}; choose from {', '.join(GAMES)}") from None
