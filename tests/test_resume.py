"""A training run stopped and resumed trains as one that never stopped: the game mid-play, the
random generators, the optimizer, the counters and (with ``--save-replay``) the replay memory
all go on from the checkpoint."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from agent import commands
from agent.checkpoint import (
    CheckpointError,
    load_replay,
    read_checkpoint,
    replay_path,
    save_replay,
)
from agent.config import load_config
from agent.replay import ReplayBuffer
from game.registry import GAMES
from game.snapshot import SnapshotError, env_state, restore_env_state

CPU = torch.device("cpu")
SMALL = {
    "cartpole": {"eval_episodes": 1, "hidden_sizes": [32, 32], "learning_starts": 200},
    "fruit": {"eval_episodes": 1, "learning_starts": 100},
    "breakout": {
        "algorithm": "dqn",  # PQN keeps no replay memory: tests/test_pqn.py resumes it
        "network": "nature_cnn",
        "eval_episodes": 1,
        "buffer_size": 2_000,
        "learning_starts": 200,
        "batch_size": 8,
        "target_update_interval": 100,
        "epsilon_decay_steps": 600,
    },
}
STEPS = {"cartpole": 1_500, "fruit": 1_000, "breakout": 400}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _train(game, tmp_path, name, steps, **kwargs):
    config = load_config(game, None, SMALL[game])
    return commands.train(
        GAMES[game],
        config,
        CPU,
        seed=3,
        steps=steps,
        save_path=tmp_path / f"{name}.pt",
        **{"progress": "stream" in kwargs, **kwargs},
    )


def _assert_same_run(a, b):
    assert a["counters"] == b["counters"]
    for part in ("online", "target"):
        for key, tensor in a[part].items():
            assert torch.equal(tensor, b[part][key]), f"{part}.{key} differs"
    state_a, state_b = a["optimizer"]["state"], b["optimizer"]["state"]
    for index, tensors in state_a.items():
        for key, tensor in tensors.items():
            assert torch.equal(tensor, state_b[index][key]), f"optimizer {index}.{key} differs"


@pytest.mark.parametrize("game", ["cartpole", "fruit", "breakout"])
@pytest.mark.slow
def test_a_stopped_and_resumed_run_trains_as_one_that_never_stopped(game, tmp_path):
    half = STEPS[game]
    _train(game, tmp_path, "whole", 2 * half)
    _train(game, tmp_path, "first", half, keep_replay=True)
    assert replay_path(tmp_path / "first.pt").is_file()
    _train(game, tmp_path, "second", half, resume=tmp_path / "first.pt")
    whole, second = read_checkpoint(tmp_path / "whole.pt"), read_checkpoint(tmp_path / "second.pt")
    assert whole["counters"]["updates"] > 0
    _assert_same_run(whole, second)


def test_a_resume_without_the_replay_memory_refills_it_before_learning(tmp_path):
    _train("cartpole", tmp_path, "first", 1_000)
    assert not replay_path(tmp_path / "first.pt").exists()
    updates_before = read_checkpoint(tmp_path / "first.pt")["counters"]["updates"]
    log = io.StringIO()
    _train("cartpole", tmp_path, "second", 300, resume=tmp_path / "first.pt", stream=log)
    second = read_checkpoint(tmp_path / "second.pt")
    assert second["counters"]["global_step"] == 1_300
    # learning_starts 200: the first 200 resumed steps refill the memory, the last 100 learn.
    assert 0 < second["counters"]["updates"] - updates_before <= 100
    assert "at step 1,000, with an empty replay memory, refilled before learning" in log.getvalue()


@pytest.mark.parametrize("game", ["cartpole", "fruit", "breakout"])
@pytest.mark.slow
def test_a_restored_env_plays_on_exactly(game):
    spec = GAMES[game]
    env, copy = spec.make_env(train=True), spec.make_env(train=True)
    env.reset(seed=11)
    copy.reset(seed=99)
    for step in range(7):
        env.step(step % env.action_space.n)
    restore_env_state(copy, env_state(env))
    for step in range(40):
        action = (step * 7) % env.action_space.n
        a, b = env.step(action), copy.step(action)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:4] == b[1:4]
        if a[2] or a[3]:
            np.testing.assert_array_equal(env.reset()[0], copy.reset()[0])  # same random start
    env.close()
    copy.close()


def test_a_game_state_from_another_game_is_refused():
    fruit, cartpole = GAMES["fruit"].make_env(), GAMES["cartpole"].make_env()
    fruit.reset(seed=0)
    with pytest.raises(SnapshotError):
        restore_env_state(cartpole, env_state(fruit))


def _filled_replay(seed: int) -> ReplayBuffer:
    rng = np.random.default_rng(seed)
    replay = ReplayBuffer(50, (4, 6, 6), np.uint8, frame_stack=4)
    obs = rng.integers(0, 255, (4, 6, 6), dtype=np.uint8)
    for step in range(70):  # past the capacity: the ring has wrapped
        next_obs = rng.integers(0, 255, (4, 6, 6), dtype=np.uint8)
        replay.add(obs, step % 3, 1.0, next_obs, step % 13 == 12, False)
        obs = next_obs
    return replay


def test_the_replay_memory_round_trips_through_its_file(tmp_path):
    replay = _filled_replay(0)
    save_replay(tmp_path / "run.pt", replay)
    copy = ReplayBuffer(50, (4, 6, 6), np.uint8, frame_stack=4)
    assert load_replay(tmp_path / "run.pt", copy)
    for name in ("frames", "action", "reward", "terminated", "starts_transition", "since_start"):
        np.testing.assert_array_equal(getattr(copy, name), getattr(replay, name))
    assert (copy.pos, copy.size, copy.transitions) == (replay.pos, replay.size, replay.transitions)
    a = replay.sample(16, np.random.default_rng(5))
    b = copy.sample(16, np.random.default_rng(5))
    np.testing.assert_array_equal(a.obs, b.obs)
    np.testing.assert_array_equal(a.next_obs, b.next_obs)


def test_a_damaged_or_mismatched_replay_file_is_refused_and_changes_nothing(tmp_path):
    save_replay(tmp_path / "run.pt", _filled_replay(0))
    other = ReplayBuffer(60, (4, 6, 6), np.uint8, frame_stack=4)
    with pytest.raises(CheckpointError, match="cannot use this replay memory"):
        load_replay(tmp_path / "run.pt", other)
    assert other.size == 0
    data = replay_path(tmp_path / "run.pt").read_bytes()
    replay_path(tmp_path / "run.pt").write_bytes(data[: len(data) // 2])
    same_shape = ReplayBuffer(50, (4, 6, 6), np.uint8, frame_stack=4)
    with pytest.raises(CheckpointError) as error:
        load_replay(tmp_path / "run.pt", same_shape)
    assert "\n" not in str(error.value)
    assert same_shape.size == 0
    assert not load_replay(tmp_path / "missing.pt", same_shape)


def test_a_replay_file_from_another_save_is_not_taken_up(tmp_path):
    _train("cartpole", tmp_path, "run", 600, keep_replay=True)
    # Resumed to the same path without --save-replay: the file beside it is now stale.
    _train("cartpole", tmp_path, "run", 300, resume=tmp_path / "run.pt")
    log = io.StringIO()
    _train("cartpole", tmp_path, "again", 100, resume=tmp_path / "run.pt", stream=log)
    text = log.getvalue()
    assert "saved with another checkpoint" in text
    assert "with an empty replay memory, refilled before learning" in text
