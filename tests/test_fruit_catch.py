"""Fruit catch, step by step against the rules of the game."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

from game.fruit_catch import _BASKET, _CELL_PX, _FRUIT, FruitCatchEnv
from game.registry import FRUIT_CATCH_ID

LEFT, STAY, RIGHT = 0, 1, 2


def decode(obs: np.ndarray) -> tuple[int, int, int]:
    """(fruit row, fruit column, basket centre) read from the grid alone."""
    grid = obs[0]
    fruit = np.argwhere(grid[:-1] == 1.0)
    assert len(fruit) == 1, f"expected one fruit cell above the last row, got {fruit.tolist()}"
    basket = np.flatnonzero(grid[-1] == 1.0)
    assert len(basket) == 3 and basket[2] - basket[0] == 2, f"basket cells {basket.tolist()}"
    return int(fruit[0][0]), int(fruit[0][1]), int(basket[1])


def assert_grid(obs: np.ndarray, n: int, fruit: tuple[int, int], basket: int) -> None:
    """The grid holds exactly the fruit cell and the three basket cells, all 1, rest 0."""
    expected = np.zeros((1, n, n), dtype=np.float32)
    expected[0, fruit[0], fruit[1]] = 1.0
    expected[0, n - 1, basket - 1 : basket + 2] = 1.0
    assert obs.dtype == np.float32
    np.testing.assert_array_equal(obs, expected)


def play(env: FruitCatchEnv, info: dict, policy: Callable[[dict], int]) -> list[tuple]:
    """Play from the state ``info`` describes to the end; ``policy(info)`` picks each action."""
    transitions = []
    for _ in range(env.grid_size + 5):
        obs, reward, terminated, truncated, info = env.step(policy(info))
        transitions.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            return transitions
    raise AssertionError("episode did not end")


def steer_to(target: int) -> Callable[[dict], int]:
    """A policy that moves the basket centre towards column ``target`` and then stays."""

    def policy(info: dict) -> int:
        return int(np.sign(target - info["basket"])) + 1

    return policy


@pytest.mark.parametrize("n", [4, 5, 15, 20])
def test_passes_gymnasium_env_checker(n: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a checker warning is a contract break too
        # Through gym.make so the checker also sees the spec and tries the other render modes.
        env = gym.make(FRUIT_CATCH_ID, render_mode="rgb_array", grid_size=n).unwrapped
        check_env(env, skip_render_check=False)


@pytest.mark.parametrize("n", [4, 5, 15, 20])
def test_spaces_follow_grid_size(n: int) -> None:
    env = FruitCatchEnv(grid_size=n)
    assert env.observation_space == spaces.Box(0.0, 1.0, (1, n, n), np.float32)
    assert env.action_space == spaces.Discrete(3)


def test_default_grid_is_15() -> None:
    env = FruitCatchEnv()
    obs, _ = env.reset(seed=0)
    assert obs.shape == (1, 15, 15)


@pytest.mark.parametrize("n", [5, 15, 20])
def test_reset_observation_has_fruit_in_row_0_and_basket_in_last_row(n: int) -> None:
    env = FruitCatchEnv(grid_size=n)
    for seed in range(20):
        obs, info = env.reset(seed=seed)
        assert obs in env.observation_space
        row, col, basket = decode(obs)
        assert row == 0
        assert (row, col) == info["fruit"]
        assert basket == info["basket"]
        assert_grid(obs, n, (0, col), basket)


@pytest.mark.parametrize("n", [5, 15])
def test_start_positions_cover_every_allowed_column(n: int) -> None:
    env = FruitCatchEnv(grid_size=n)
    fruit_cols, basket_cols = set(), set()
    for seed in range(600):
        _, info = env.reset(seed=seed)
        fruit_cols.add(info["fruit"][1])
        basket_cols.add(info["basket"])
    assert fruit_cols == set(range(n))
    assert basket_cols == set(range(1, n - 1))


@pytest.mark.parametrize("action, shift", [(LEFT, -1), (STAY, 0), (RIGHT, +1)])
def test_actions_move_basket_by_one_column(action: int, shift: int) -> None:
    env = FruitCatchEnv()
    seed = next(s for s in range(1000) if 2 <= env.reset(seed=s)[1]["basket"] <= 12)
    _, info = env.reset(seed=seed)
    start = info["basket"]
    obs, _, _, _, info = env.step(action)
    assert info["basket"] == start + shift
    assert decode(obs)[2] == start + shift


@pytest.mark.parametrize("n", [5, 15, 20])
def test_basket_is_clamped_at_left_wall(n: int) -> None:
    env = FruitCatchEnv(grid_size=n)
    for seed in range(10):
        _, start = env.reset(seed=seed)
        previous = start["basket"]
        transitions = play(env, start, lambda _info: LEFT)
        for *_, info in transitions:
            assert info["basket"] == max(previous - 1, 1)
            previous = info["basket"]
        obs = transitions[-1][0]
        # N-2 steps are enough to reach the wall from any start (at most N-3 moves away).
        assert info["basket"] == 1
        assert obs[0, -1, :3].tolist() == [1.0, 1.0, 1.0]
        assert obs[0, -1].sum() == 3.0


@pytest.mark.parametrize("n", [5, 15, 20])
def test_basket_is_clamped_at_right_wall(n: int) -> None:
    env = FruitCatchEnv(grid_size=n)
    for seed in range(10):
        _, start = env.reset(seed=seed)
        previous = start["basket"]
        transitions = play(env, start, lambda _info: RIGHT)
        for *_, info in transitions:
            assert info["basket"] == min(previous + 1, n - 2)
            previous = info["basket"]
        obs = transitions[-1][0]
        assert info["basket"] == n - 2
        assert obs[0, -1, -3:].tolist() == [1.0, 1.0, 1.0]
        assert obs[0, -1].sum() == 3.0


@pytest.mark.parametrize("n", [4, 5, 15, 20])
def test_fruit_falls_one_row_a_step_and_episode_ends_after_n_minus_2_steps(n: int) -> None:
    env = FruitCatchEnv(grid_size=n)
    rng = np.random.default_rng(n)
    for seed in range(5):
        _, info = env.reset(seed=seed)
        col = info["fruit"][1]
        for step in range(1, n - 1):
            obs, reward, terminated, truncated, info = env.step(int(rng.integers(3)))
            assert info["fruit"] == (step, col)
            assert_grid(obs, n, (step, col), info["basket"])
            assert truncated is False
            assert terminated is (step == n - 2)
            if not terminated:
                assert reward == 0.0
        assert info["fruit"] == (n - 2, col)
        assert reward in (1.0, -1.0)


@pytest.mark.parametrize("n", [5, 15, 20])
def test_steering_under_the_fruit_catches_it(n: int) -> None:
    env = FruitCatchEnv(grid_size=n)
    for seed in range(30):
        _, info = env.reset(seed=seed)
        policy = steer_to(int(np.clip(info["fruit"][1], 1, n - 2)))
        rewards = [t[1] for t in play(env, info, policy)]
        assert rewards == [0.0] * (n - 3) + [1.0]


@pytest.mark.parametrize("n", [5, 15, 20])
def test_steering_away_from_the_fruit_misses_it(n: int) -> None:
    env = FruitCatchEnv(grid_size=n)
    for seed in range(30):
        _, info = env.reset(seed=seed)
        col = info["fruit"][1]
        target = n - 2 if col < n / 2 else 1  # the far wall
        if abs(target - col) <= 1:  # grid too small to get away from this fruit
            continue
        transitions = play(env, info, steer_to(target))
        assert [t[1] for t in transitions] == [0.0] * (n - 3) + [-1.0]
        assert transitions[-1][4]["basket"] == target


@pytest.mark.parametrize("offset, reward", [(-2, -1.0), (-1, 1.0), (0, 1.0), (1, 1.0), (2, -1.0)])
def test_fruit_is_caught_by_any_of_the_three_basket_cells(offset: int, reward: float) -> None:
    n = 15
    env = FruitCatchEnv(grid_size=n)
    found = 0
    for seed in range(100):
        _, info = env.reset(seed=seed)
        target = info["fruit"][1] - offset  # basket centre `offset` columns left of the fruit
        if not 1 <= target <= n - 2:
            continue
        transitions = play(env, info, steer_to(target))
        obs, last_reward, terminated, _, info = transitions[-1]
        assert terminated
        assert info["basket"] == target
        assert last_reward == reward
        found += 1
    assert found >= 10


def test_episode_matches_a_reference_model_of_the_rules() -> None:
    """Random play on several grids against a direct transcription of the issue's rules."""
    rng = np.random.default_rng(1234)
    for n in (4, 5, 7, 15, 20):
        env = FruitCatchEnv(grid_size=n)
        for seed in range(15):
            obs, _ = env.reset(seed=seed)
            row, col, basket = decode(obs)
            terminated = False
            while not terminated:
                action = int(rng.integers(3))
                obs, reward, terminated, truncated, _ = env.step(action)
                basket = min(max(basket + action - 1, 1), n - 2)
                row += 1
                expected_end = row == n - 2
                expected_reward = (1.0 if col in (basket - 1, basket, basket + 1) else -1.0) * (
                    expected_end
                )
                assert decode(obs) == (row, col, basket)
                assert (reward, terminated, truncated) == (expected_reward, expected_end, False)
                assert isinstance(reward, float)


@pytest.mark.parametrize("n", [3, 2, 0, -1])
def test_too_small_grid_is_rejected(n: int) -> None:
    with pytest.raises(ValueError, match="grid_size"):
        FruitCatchEnv(grid_size=n)


def test_unknown_render_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="render_mode"):
        FruitCatchEnv(render_mode="human")


@pytest.mark.parametrize("action", [3, -1, 10])
def test_invalid_action_raises(action: int) -> None:
    env = FruitCatchEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="invalid action"):
        env.step(action)


def test_numpy_integer_actions_are_accepted() -> None:
    env = FruitCatchEnv()
    _, info = env.reset(seed=3)
    basket = info["basket"]
    _, _, _, _, info = env.step(np.int64(STAY))
    assert info["basket"] == basket


def test_same_seed_gives_the_same_episode() -> None:
    rng = np.random.default_rng(7)
    actions = rng.integers(3, size=13).tolist()
    a, b = FruitCatchEnv(), FruitCatchEnv()
    for seed in (0, 1, 99):
        obs_a, info_a = a.reset(seed=seed)
        obs_b, info_b = b.reset(seed=seed)
        np.testing.assert_array_equal(obs_a, obs_b)
        assert info_a == info_b
        for action in actions:
            step_a, step_b = a.step(action), b.step(action)
            np.testing.assert_array_equal(step_a[0], step_b[0])
            assert step_a[1:] == step_b[1:]
        # The unseeded resets that follow a seeded one are reproducible too.
        for _ in range(3):
            assert a.reset()[1] == b.reset()[1]


def test_reseeding_the_same_env_replays_its_start() -> None:
    env = FruitCatchEnv()
    starts = [env.reset(seed=s)[1] for s in range(10)]
    assert [env.reset(seed=s)[1] for s in range(10)] == starts
    assert len({(s["fruit"], s["basket"]) for s in starts}) > 1  # seeds do matter


def test_render_without_render_mode_returns_none() -> None:
    env = FruitCatchEnv()
    env.reset(seed=0)
    assert env.render() is None


def cells_with_colour(frame: np.ndarray, colour: np.ndarray, n: int) -> set[tuple[int, int]]:
    """Grid cells (row, column) of the rendered frame that contain ``colour``."""
    hits = np.all(frame == colour, axis=-1)
    per_cell = hits.reshape(n, _CELL_PX, n, _CELL_PX).any(axis=(1, 3))
    return {(int(r), int(c)) for r, c in np.argwhere(per_cell)}


@pytest.mark.parametrize("n", [5, 15, 20])
def test_render_draws_fruit_and_basket_where_they_are(n: int) -> None:
    env = FruitCatchEnv(render_mode="rgb_array", grid_size=n)
    rng = np.random.default_rng(n)
    for seed in range(3):
        _, info = env.reset(seed=seed)
        terminated = False
        while True:
            frame = env.render()
            assert frame.shape == (n * _CELL_PX, n * _CELL_PX, 3)
            assert frame.dtype == np.uint8
            assert cells_with_colour(frame, _FRUIT, n) == {info["fruit"]}
            b = info["basket"]
            assert cells_with_colour(frame, _BASKET, n) == {(n - 1, c) for c in (b - 1, b, b + 1)}
            if terminated:
                break
            _, _, terminated, _, info = env.step(int(rng.integers(3)))


def test_render_frames_differ_between_states() -> None:
    env = FruitCatchEnv(render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render().copy()
    env.step(STAY)
    assert not np.array_equal(first, env.render())


# The vector version, used to play evaluation games side by side.


def test_vector_env_plays_by_the_same_rules_as_the_single_env():
    """Each sub-env, started in the same state as a single env and given the same actions,
    shows the same grids, rewards and ends."""
    from game.fruit_catch import FruitCatchVectorEnv

    n, envs = 15, 6
    vector = FruitCatchVectorEnv(envs, grid_size=n)
    obs, _ = vector.reset(seed=3)
    singles = []
    for i in range(envs):
        single = FruitCatchEnv(grid_size=n)
        single.reset(seed=0)
        _, single._fruit_col, single._basket_col = decode(obs[i])
        singles.append(single)
    rng = np.random.default_rng(0)
    for _ in range(n - 2):
        actions = rng.integers(0, 3, size=envs)
        obs, reward, terminated, truncated, _ = vector.step(actions)
        for i, single in enumerate(singles):
            s_obs, s_reward, s_terminated, s_truncated, _ = single.step(int(actions[i]))
            np.testing.assert_array_equal(obs[i], s_obs)
            assert (reward[i], terminated[i], truncated[i]) == (s_reward, s_terminated, s_truncated)
    assert terminated.all()


def test_vector_env_starts_a_new_game_on_the_step_after_one_ends():
    from game.fruit_catch import FruitCatchVectorEnv

    vector = FruitCatchVectorEnv(4, grid_size=6)
    vector.reset(seed=1)
    stay = np.full(4, STAY)
    for _ in range(3):
        vector.step(stay)
    obs, reward, terminated, _, _ = vector.step(stay)
    assert terminated.all() and set(np.abs(reward)) == {1.0}
    obs, reward, terminated, _, _ = vector.step(np.full(4, LEFT))  # ignored: a new game starts
    assert not terminated.any() and not reward.any()
    assert all(decode(o)[0] == 0 for o in obs)


def test_vector_env_same_seed_same_games_and_bad_actions_refused():
    from game.fruit_catch import FruitCatchVectorEnv

    first, second = FruitCatchVectorEnv(8), FruitCatchVectorEnv(8)
    np.testing.assert_array_equal(first.reset(seed=5)[0], second.reset(seed=5)[0])
    assert not np.array_equal(first.reset(seed=5)[0], first.reset(seed=6)[0])
    with pytest.raises(ValueError):
        first.step(np.full(8, 3))
    with pytest.raises(ValueError):
        first.step(np.ones(7, dtype=int))
