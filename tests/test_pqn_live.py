"""PQN in the window: the shown game steps with the others, its updates come a minibatch a
step after each rollout, and a PQN agent loaded in the window trains on with PQN."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agent.checkpoint import save_checkpoint
from agent.config import load_config
from agent.dqn import DQNLearner
from agent.live.channels import FAST, Load, Mode, NewAgent, Resume, SetMode, SetSpeed
from agent.live.session import TrainingSession
from agent.pqn import PQNLearner
from agent.pqn_live import LivePQNTrainer
from game.registry import GAMES
from tests.support import wait_for

CPU = torch.device("cpu")
PQN_CONFIG = None  # Breakout's default learner
SMALL = {"num_envs": 2, "rollout_steps": 8, "update_epochs": 2, "minibatches": 2}
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.slow
def test_updates_follow_each_rollout_one_minibatch_a_step():
    config = load_config("breakout", PQN_CONFIG, SMALL)
    trainer = LivePQNTrainer(GAMES["breakout"], config, CPU, seed=1)
    losses = [trainer.step().loss for _ in range(8 + 4 + 3)]
    # Steps 1-7 fill the rollout; the 8th closes it and makes the first of its 4 updates.
    assert losses[:7] == [None] * 7
    assert all(loss is not None for loss in losses[7:11]) and losses[11:] == [None] * 4
    assert trainer.learner.updates == 4 and trainer.global_step == 15 * 2
    report = trainer.step(learn=False, epsilon=0.0)  # play only: the shown game moves alone
    assert trainer.global_step == 30 and len(report.q_values) == 4
    frame = trainer.frame()
    assert frame.shape == (210, 160, 3)
    trainer.close()


@pytest.mark.slow
def test_a_person_action_is_played_in_the_shown_game():
    config = load_config("breakout", PQN_CONFIG, SMALL)
    trainer = LivePQNTrainer(GAMES["breakout"], config, CPU, seed=1)
    for move in (2, 3, 2):
        report = trainer.step(action=move, epsilon=1.0)
        assert report.action == move
    trainer.close()


@pytest.mark.slow
def test_a_pqn_agent_loaded_in_the_window_trains_on_with_pqn(tmp_path):
    pqn = load_config("breakout", PQN_CONFIG, SMALL)
    learner = PQNLearner((4, 84, 84), 4, pqn, CPU)
    save_checkpoint(tmp_path / "breakout-p.pt", "breakout", learner, {"global_step": 4096})
    config = load_config("breakout", algorithm="dqn", overrides={"buffer_size": 2_000})
    session = TrainingSession(GAMES["breakout"], config, CPU, mode=Mode.AGENT, paused=True)
    session.start()
    try:
        wait_for(session, lambda s: s.ready)
        session.send(Load(tmp_path / "breakout-p.pt"))
        wait_for(session, lambda s: s.message.text.startswith("loaded"))
        assert isinstance(session._trainer, LivePQNTrainer)  # test-only peek
        session.send(SetMode(Mode.TRAIN))
        session.send(SetSpeed(FAST))
        session.send(Resume())
        trained = wait_for(session, lambda s: s.training.updates >= 4, timeout=60)
        assert trained.training.replay_capacity == 0 and np.isfinite(trained.training.loss)
        assert trained.training.global_step > 4096
    finally:
        session.close()


@pytest.mark.slow
def test_the_queue_of_updates_never_outgrows_a_rollout_and_a_restart_drops_it():
    many = {**SMALL, "rollout_steps": 4, "update_epochs": 4, "minibatches": 4}
    config = load_config("breakout", PQN_CONFIG, many)
    trainer = LivePQNTrainer(GAMES["breakout"], config, CPU, seed=2)
    for _ in range(40):
        trainer.step()
        assert len(trainer._pending) <= 16
    assert trainer.learner.updates >= 16 * 9  # every closed rollout was learned from in full
    trainer.restart_episode()  # as after a load: the queued targets were another network's
    assert not trainer._pending and trainer.episode_return == 0.0
    trainer.close()


@pytest.mark.slow
def test_breakout_trains_pqn_and_a_dqn_agent_loaded_trains_with_the_games_dqn_settings(
    tmp_path,
):
    dqn = load_config("breakout", algorithm="dqn", overrides={"buffer_size": 2_000})
    save_checkpoint(
        tmp_path / "breakout-d.pt", "breakout", DQNLearner((4, 84, 84), 4, dqn, CPU), {}
    )
    config = load_config("breakout", None, SMALL)  # the game's default learner: PQN
    session = TrainingSession(
        GAMES["breakout"], config, CPU, mode=Mode.AGENT, paused=True, dqn_config=dqn
    )
    session.start()
    try:
        wait_for(session, lambda s: s.ready)
        assert isinstance(session._trainer, LivePQNTrainer)  # test-only peek, as below
        session.send(Load(tmp_path / "breakout-d.pt"))
        wait_for(session, lambda s: s.message.text.startswith("loaded"))
        trainer = session._trainer
        assert trainer.config.algorithm == "dqn" and trainer.config.network == "nature_cnn"
        assert trainer.config.learning_rate == dqn.learning_rate  # not PQN's 2.5e-4
        assert trainer.replay.capacity == 2_000  # the window's DQN memory, not 1M
        session.send(NewAgent())
        wait_for(session, lambda s: s.message.text.startswith("a new agent"))
        assert isinstance(session._trainer, LivePQNTrainer)
        assert session._trainer.config.network == "nature_cnn_ln"
    finally:
        session.close()
