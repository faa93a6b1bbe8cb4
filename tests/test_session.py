"""The training session behind the window: commands in, snapshots out, the trainer on its own
thread; pauses, single steps, epsilon, human play, save -> load, and a prompt shutdown."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch

from agent.checkpoint import load_into, read_checkpoint, save_checkpoint
from agent.config import load_config
from agent.dqn import DQNLearner
from agent.live.agents import LiveAgent
from agent.live.channels import (
    FAST,
    HumanAction,
    Load,
    Mode,
    Pause,
    Resume,
    Save,
    SetEpsilon,
    SetMode,
    SetSpeed,
    Step,
)
from agent.live.session import TrainingSession
from game.registry import GAMES
from tests.support import small_config, wait_for

CPU = torch.device("cpu")


def agent_of(session: TrainingSession) -> LiveAgent:
    """Test-only peek at the agent playing; the UI never does this."""
    return session._seat.current


def start(game: str = "fruit", **kwargs) -> TrainingSession:
    return TrainingSession(GAMES[game], small_config(game), CPU, **kwargs).start()


@pytest.fixture
def sessions():
    made: list[TrainingSession] = []

    def make(*args, **kwargs) -> TrainingSession:
        made.append(start(*args, **kwargs))
        return made[-1]

    yield make
    for session in made:
        session.close()


@pytest.mark.slow
def test_trains_flat_out_and_publishes_frames_and_stats(sessions):
    session = sessions("fruit", mode=Mode.TRAIN, speed=FAST)
    snapshot = wait_for(session, lambda s: s.training.updates > 20 and len(s.scores.returns) >= 2)
    assert snapshot.ready and snapshot.mode is Mode.TRAIN and not snapshot.paused
    assert snapshot.picture.frame is not None and snapshot.picture.frame.shape == (240, 240, 3)
    assert snapshot.picture.frame.dtype == np.uint8
    assert len(snapshot.decision.q_values) == 3 and snapshot.decision.action in (0, 1, 2)
    assert snapshot.training.loss is not None and snapshot.training.replay_size > 0
    assert snapshot.training.replay_capacity == 2_000 and snapshot.training.device == "CPU"
    assert (
        snapshot.scores.returns[-1] in (-1.0, 1.0)
        and snapshot.scores.last_return == snapshot.scores.returns[-1]
    )
    assert (
        snapshot.training.epsilon == snapshot.training.scheduled_epsilon
        and not snapshot.training.epsilon_overridden
    )
    with pytest.raises(AttributeError):
        snapshot.training.global_step = 0  # frozen: the UI cannot change what it reads


@pytest.mark.slow
def test_pause_holds_still_and_step_moves_exactly_one(sessions):
    session = sessions("fruit", mode=Mode.AGENT, speed=FAST)
    wait_for(session, lambda s: s.training.env_steps > 5)
    session.send(Pause())
    paused = wait_for(session, lambda s: s.paused)
    time.sleep(0.1)
    held = session.snapshot()
    assert held.training.env_steps == paused.training.env_steps
    session.send(Step())
    stepped = wait_for(session, lambda s: s.training.env_steps == held.training.env_steps + 1)
    assert stepped.picture.serial > held.picture.serial
    time.sleep(0.1)
    assert session.snapshot().training.env_steps == held.training.env_steps + 1
    session.send(Resume())
    wait_for(session, lambda s: s.training.env_steps > held.training.env_steps + 3)


@pytest.mark.slow
def test_watch_speed_keeps_the_game_pace(sessions):
    session = sessions("fruit", mode=Mode.AGENT)  # 8 steps a second
    first = wait_for(session, lambda s: s.training.env_steps >= 1)
    time.sleep(1.0)
    steps = session.snapshot().training.env_steps - first.training.env_steps
    assert 2 <= steps <= 10  # never faster than the game's pace (slower on a busy machine)
    session.send(SetSpeed(4.0))
    mark = session.snapshot().training.env_steps
    began = time.monotonic()
    wait_for(session, lambda s: s.training.env_steps >= mark + 16)
    assert time.monotonic() - began < 16 / 8  # faster than watch speed could have done it


def test_epsilon_override_and_hand_back(sessions):
    session = sessions("fruit", mode=Mode.AGENT, paused=True)
    wait_for(session, lambda s: s.ready)
    assert session.snapshot().training.epsilon == 0.0  # Agent mode plays greedily by default
    session.send(SetEpsilon(1.0))
    for _ in range(20):
        session.send(Step())
    snapshot = wait_for(session, lambda s: s.training.env_steps >= 20)
    assert snapshot.training.epsilon == 1.0 and snapshot.training.epsilon_overridden
    session.send(SetMode(Mode.TRAIN))
    session.send(SetEpsilon(None))
    snapshot = wait_for(
        session, lambda s: s.mode is Mode.TRAIN and not s.training.epsilon_overridden
    )
    assert snapshot.training.epsilon == snapshot.training.scheduled_epsilon
    session.send(SetEpsilon(7.0))  # clamped, never an error
    assert wait_for(session, lambda s: s.training.epsilon_overridden).training.epsilon == 1.0


@pytest.mark.slow
def test_agent_mode_learns_nothing_and_switching_keeps_the_memory(sessions):
    session = sessions("fruit", mode=Mode.TRAIN, speed=FAST)
    trained = wait_for(session, lambda s: s.training.updates > 5)
    session.send(SetMode(Mode.AGENT))
    agent = wait_for(session, lambda s: s.mode is Mode.AGENT)
    after = wait_for(session, lambda s: s.training.env_steps > agent.training.env_steps + 10)
    assert (
        after.training.updates == agent.training.updates
        and after.training.replay_size == agent.training.replay_size
    )
    session.send(SetMode(Mode.HUMAN))
    session.send(SetMode(Mode.TRAIN))
    resumed = wait_for(
        session, lambda s: s.mode is Mode.TRAIN and s.training.updates > after.training.updates
    )
    assert resumed.training.replay_size >= trained.training.replay_size


def test_human_play_uses_the_held_key_then_the_idle_action(sessions):
    session = sessions("fruit", mode=Mode.HUMAN, paused=True)
    wait_for(session, lambda s: s.ready)
    session.send(HumanAction(0))
    session.send(Step())
    snapshot = wait_for(session, lambda s: s.decision.action == 0)
    assert len(snapshot.decision.q_values) == 3 and snapshot.decision.agent_action in (0, 1, 2)
    assert snapshot.training.global_step == 0  # the person's game is not the trainer's
    session.send(HumanAction(None))
    session.send(Step())
    assert wait_for(session, lambda s: s.decision.action == 1).mode is Mode.HUMAN  # STAY when idle
    session.send(HumanAction(99))  # not an action of this game: ignored, like no key
    session.send(Step())
    wait_for(session, lambda s: s.picture.serial >= snapshot.picture.serial + 2)


def test_cartpole_repeats_the_last_push_when_no_key_is_held(sessions):
    session = sessions("cartpole", mode=Mode.HUMAN, paused=True)
    wait_for(session, lambda s: s.ready)
    session.send(HumanAction(1))
    session.send(Step())
    wait_for(session, lambda s: s.decision.action == 1)
    session.send(HumanAction(None))
    serial = session.snapshot().picture.serial
    session.send(Step())
    assert wait_for(session, lambda s: s.picture.serial > serial).decision.action == 1


@pytest.mark.slow
def test_save_then_load_restores_the_agent(sessions, tmp_path: Path):
    session = sessions("fruit", mode=Mode.TRAIN, speed=FAST)
    wait_for(session, lambda s: s.training.updates > 10)
    session.send(Pause())
    path = tmp_path / "fruit-test.pt"
    session.send(Save(path))
    saved = wait_for(session, lambda s: s.message.text.startswith("saved"))
    payload = read_checkpoint(path)
    assert (
        payload["game"] == "fruit"
        and payload["counters"]["global_step"] == saved.training.global_step
    )
    obs = np.zeros((1, 1, 15, 15), np.float32)
    obs[0, 0, 0, 3] = obs[0, 0, -1, 6:9] = 1.0
    restored = DQNLearner((1, 15, 15), 3, small_config("fruit"), CPU)
    load_into(path, "fruit", restored)
    session.send(Resume())
    wait_for(session, lambda s: s.training.updates > saved.training.updates + 20)
    session.send(Pause())
    wait_for(session, lambda s: s.paused)
    assert not np.allclose(agent_of(session).policy.q_values(obs), restored.policy.q_values(obs))
    session.send(Load(path))
    loaded = wait_for(session, lambda s: s.message.text.startswith("loaded"))
    played = agent_of(session).policy  # Train mode: the loaded agent's new trainer's
    np.testing.assert_allclose(played.q_values(obs), restored.policy.q_values(obs), rtol=1e-6)
    assert loaded.training.global_step == saved.training.global_step and loaded.scores.returns == ()
    assert loaded.training.trainer_ready


def test_bad_files_become_the_message_line(sessions, tmp_path: Path):
    session = sessions("fruit", mode=Mode.AGENT, paused=True)
    wait_for(session, lambda s: s.ready)
    junk = tmp_path / "fruit-junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    session.send(Load(junk))
    assert "fruit-junk.pt" in wait_for(session, lambda s: s.message.serial == 1).message.text
    session.send(Load(tmp_path / "missing.pt"))
    assert "no such" in wait_for(session, lambda s: s.message.serial == 2).message.text
    blocker = tmp_path / "file"
    blocker.write_text("x")
    session.send(Save(blocker / "sub" / "x.pt"))  # a file where a folder should be
    assert "cannot save" in wait_for(session, lambda s: s.message.serial == 3).message.text
    assert session.alive


def test_load_if_fresh_leaves_a_trained_agent_alone(sessions, tmp_path: Path):
    session = sessions("fruit", mode=Mode.TRAIN, speed=FAST)
    wait_for(session, lambda s: s.training.updates > 0)
    session.send(Save(tmp_path / "fruit-a.pt"))
    wait_for(session, lambda s: s.message.text.startswith("saved"))
    session.send(Load(tmp_path / "fruit-a.pt", if_fresh=True))
    session.send(Pause())
    snapshot = wait_for(session, lambda s: s.paused)
    assert snapshot.message.text.startswith("saved")  # the offer was declined, silently


def test_shutdown_is_prompt_even_flat_out(sessions):
    session = sessions("cartpole", mode=Mode.TRAIN, speed=FAST)
    wait_for(session, lambda s: s.training.updates > 0)
    began = time.monotonic()
    session.close()
    assert not session.alive
    assert time.monotonic() - began < 1.0


@pytest.mark.slow
def test_a_loaded_agent_goes_on_training_from_an_empty_memory(sessions, tmp_path: Path):
    first = sessions("fruit", mode=Mode.TRAIN, speed=FAST)
    wait_for(first, lambda s: s.training.updates > 10)
    first.send(Save(tmp_path / "fruit-a.pt"))
    saved = wait_for(first, lambda s: s.message.text.startswith("saved"))
    fresh = sessions("fruit", mode=Mode.TRAIN, paused=True)
    fresh.send(Load(tmp_path / "fruit-a.pt"))
    loaded = wait_for(fresh, lambda s: s.message.text.startswith("loaded"))
    assert (
        loaded.training.global_step == saved.training.global_step
        and loaded.training.replay_size == 0
    )
    fresh.send(SetSpeed(FAST))
    fresh.send(Resume())
    trained = wait_for(fresh, lambda s: s.training.updates > loaded.training.updates + 5)
    assert not trained.paused and "error" not in trained.message.text


def test_a_session_that_cannot_start_says_why_and_still_shuts_down(monkeypatch):
    def no_game(*args, **kwargs):
        raise RuntimeError("no emulator here\nsecond line")

    monkeypatch.setattr(LiveAgent, "new", no_game)
    session = TrainingSession(GAMES["fruit"], small_config("fruit"), CPU).start()
    snapshot = wait_for(session, lambda s: s.message.serial > 0)
    assert not snapshot.ready and snapshot.message.text.startswith("cannot start Fruit catch")
    assert snapshot.message.text.endswith("no emulator here") and snapshot.busy == ""
    session.send(Step())  # ignored, not an error
    session.send(Load(Path("saves/fruit.pt")))  # no agent to replace: ignored too
    session.close()
    assert not session.alive


def test_a_trainer_that_cannot_be_built_leaves_the_agent_playing():
    """A replay memory of 900 GB: Train mode cannot start, but the agent plays in Agent mode."""
    config = load_config("fruit", overrides={"buffer_size": 10**9})
    session = TrainingSession(GAMES["fruit"], config, CPU, mode=Mode.TRAIN, speed=FAST).start()
    try:
        snapshot = wait_for(session, lambda s: s.message.serial > 0 and s.ready)
        assert (
            snapshot.message.text.startswith("cannot start training") and snapshot.message.is_error
        )
        assert snapshot.mode is Mode.AGENT and not snapshot.training.trainer_ready
        wait_for(session, lambda s: s.training.env_steps > 3 and len(s.decision.q_values) == 3)
        session.send(SetMode(Mode.TRAIN))  # asked again: refused again, the mode stays
        again = wait_for(session, lambda s: s.message.serial > snapshot.message.serial)
        assert again.mode is Mode.AGENT and again.message.text.startswith("cannot start training")
    finally:
        session.close()


def test_a_loaded_agent_keeps_the_exploration_its_own_schedule_reached(sessions, tmp_path):
    """The shipped Breakout agent decays epsilon over 250k steps; the window's default is 1M.
    After loading, Train mode must explore at the checkpoint's rate, not restart at ~0.75."""
    trained = small_config("fruit").with_settings(epsilon_decay_steps=100)
    learner = DQNLearner((1, 15, 15), 3, trained, CPU)
    path = tmp_path / "fruit-explored.pt"
    save_checkpoint(path, "fruit", learner, {"global_step": 300, "episode": 20, "updates": 0})
    session = sessions("fruit", mode=Mode.TRAIN, paused=True)  # default: decay over 400 steps
    session.send(Load(path))
    loaded = wait_for(session, lambda s: s.message.text.startswith("loaded"))
    assert loaded.training.global_step == 300
    assert loaded.training.scheduled_epsilon == pytest.approx(trained.epsilon_end)
