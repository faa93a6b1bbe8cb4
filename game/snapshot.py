"""A running game's exact state as plain data, so that a stopped training run can go on from
the very frame it stopped at.

``env_state(env)`` returns numbers, strings, lists, dicts and numpy arrays only (a checkpoint
holds it and is read without running code); ``restore_env_state(env, state)`` puts it back
into an env made the same way. Each layer of the env's wrapper chain contributes what it
keeps: its step count (TimeLimit), the game's own variables and random generator, and for
Atari the emulator's state (ALE's serialized bytes, random generator included) and the
preprocessing's frame stack.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

# The variables each kind of env keeps between steps, by class name.
_GAME_VARIABLES = {
    "CartPoleEnv": ("state", "steps_beyond_terminated"),
    "FruitCatchEnv": ("_fruit_row", "_fruit_col", "_basket_col"),
    "AtariDQNPreprocessing": ("_raw", "_stack", "_lives", "_frames", "_game_over"),
    "TimeLimit": ("_elapsed_steps",),
    "OrderEnforcing": ("_has_reset",),
}


class SnapshotError(ValueError):
    """An env state that does not fit this env."""


def _layers(env: gym.Env) -> list[gym.Env]:
    chain = [env]
    while hasattr(chain[-1], "env"):
        chain.append(chain[-1].env)
    return chain


def env_state(env: gym.Env) -> dict[str, Any]:
    """The env's state, plain data only."""
    layers = []
    for layer in _layers(env):
        names = _GAME_VARIABLES.get(type(layer).__name__, ())
        layers.append({name: _plain(getattr(layer, name)) for name in names})
    unwrapped = env.unwrapped
    state: dict[str, Any] = {
        "kinds": [type(layer).__name__ for layer in _layers(env)],
        "layers": layers,
        "np_random": unwrapped.np_random.bit_generator.state,
    }
    ale = getattr(unwrapped, "ale", None)
    if ale is not None:
        serialized = ale.cloneState(include_rng=True).serialize()
        state["ale"] = np.frombuffer(serialized, dtype=np.uint8).copy()
    return state


def restore_env_state(env: gym.Env, state: dict[str, Any]) -> None:
    """Put ``state`` (from ``env_state`` of an env made the same way) back into ``env``."""
    layers = _layers(env)
    if state.get("kinds") != [type(layer).__name__ for layer in layers]:
        raise SnapshotError("the saved game state is of a different env")
    for layer, saved in zip(layers, state["layers"], strict=True):
        for name, value in saved.items():
            current = getattr(layer, name)
            if isinstance(current, np.ndarray):
                current[...] = value  # in place: views of it stay valid
            else:
                setattr(layer, name, value.copy() if isinstance(value, np.ndarray) else value)
    unwrapped: Any = env.unwrapped  # an ALE env has .ale
    unwrapped.np_random.bit_generator.state = state["np_random"]
    if "ale" in state:
        import ale_py

        unwrapped.ale.restoreState(ale_py.ALEState(np.asarray(state["ale"]).tobytes()))


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    return value
