"""The game registry: every game can be made, played and controlled from the keyboard."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pygame
import pytest

from game import GAMES, GameSpec, get_game
from game.fruit_catch import FruitCatchEnv
from game.registry import FRUIT_CATCH_ID


@pytest.fixture(scope="module", params=sorted(GAMES))
def spec(request) -> GameSpec:
    return GAMES[request.param]


def test_the_three_games_are_registered() -> None:
    assert set(GAMES) == {"fruit", "cartpole", "breakout"}
    for key, spec in GAMES.items():
        assert spec.key == key


@pytest.mark.parametrize("mode", [{}, {"train": True}, {"human": True}])
def test_every_game_makes_a_working_env(spec: GameSpec, mode: dict) -> None:
    env = spec.make_env(**mode)
    try:
        assert env.spec is not None and env.spec.id == spec.env_id
        obs, info = env.reset(seed=0)
        assert obs in env.observation_space
        assert isinstance(info, dict)
        for action in range(env.action_space.n):
            obs, reward, terminated, truncated, info = env.step(action)
            assert obs in env.observation_space
            assert np.isfinite(float(reward))
            assert isinstance(terminated, bool) and isinstance(truncated, bool)
        frame = env.render()
        assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8
        assert frame.ndim == 3 and frame.shape[2] == 3
    finally:
        env.close()


def test_action_names_match_the_action_space(spec: GameSpec) -> None:
    env = spec.make_env()
    try:
        assert isinstance(env.action_space, gym.spaces.Discrete)
        assert len(spec.action_names) == env.action_space.n
        assert len(set(spec.action_names)) == len(spec.action_names)
    finally:
        env.close()


def test_breakout_action_names_follow_the_ale() -> None:
    env = get_game("breakout").make_env()
    try:
        assert list(get_game("breakout").action_names) == env.unwrapped.get_action_meanings()
    finally:
        env.close()


def test_keymap_sends_valid_actions_from_real_key_names(spec: GameSpec) -> None:
    n = len(spec.action_names)
    assert spec.keymap, "a human must be able to play"
    for action in spec.keymap.values():
        assert isinstance(action, int) and 0 <= action < n
    assert spec.idle_action is None or 0 <= spec.idle_action < n
    started = not pygame.get_init()
    pygame.init()
    try:
        for name in spec.keymap:
            assert pygame.key.name(pygame.key.key_code(name)) == name  # ValueError if unknown
    finally:
        if started:
            pygame.quit()


def test_fruit_keys_move_left_and_right() -> None:
    fruit = get_game("fruit")
    names = fruit.action_names
    assert names[fruit.keymap["left"]] == "LEFT" and names[fruit.keymap["right"]] == "RIGHT"
    assert names[fruit.idle_action] == "STAY"


def test_fruit_grid_size_passes_through() -> None:
    env = get_game("fruit").make_env(grid_size=7)
    try:
        assert isinstance(env.unwrapped, FruitCatchEnv)
        obs, _ = env.reset(seed=0)
        assert obs.shape == (1, 7, 7)
    finally:
        env.close()


def test_fruit_is_registered_with_gymnasium() -> None:
    env = gym.make(FRUIT_CATCH_ID, grid_size=6)
    try:
        assert isinstance(env.unwrapped, FruitCatchEnv)
        assert env.reset(seed=0)[0].shape == (1, 6, 6)
    finally:
        env.close()


@pytest.mark.slow
def test_breakout_modes_pick_frame_skip_and_life_loss_terminal() -> None:
    breakout = get_game("breakout")
    plain, train, human = (
        breakout.make_env(),
        breakout.make_env(train=True),
        breakout.make_env(human=True),
    )
    try:
        assert (plain.frame_skip, plain.terminal_on_life_loss) == (4, False)
        assert (train.frame_skip, train.terminal_on_life_loss) == (4, True)
        assert (human.frame_skip, human.terminal_on_life_loss) == (1, False)
    finally:
        for env in (plain, train, human):
            env.close()


def test_get_game_returns_the_spec() -> None:
    for key, spec in GAMES.items():
        assert get_game(key) is spec


def test_unknown_game_raises_key_error_naming_the_choices() -> None:
    with pytest.raises(KeyError) as excinfo:
        get_game("nope")
    message = str(excinfo.value)
    assert "nope" in message
    for key in GAMES:
        assert key in message


def test_closing_a_rendered_game_leaves_the_windows_display_open(spec: GameSpec) -> None:
    pygame.display.init()
    window = pygame.display.set_mode((64, 64))
    env = spec.make_env()
    env.reset(seed=0)
    env.render()
    env.close()  # gymnasium's CartPole would quit pygame here
    assert pygame.display.get_init() and pygame.display.get_surface() is window
    window.fill((1, 2, 3))  # still drawable
    pygame.display.quit()
