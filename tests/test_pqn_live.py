"""PQN in the window: the shown game steps with the others, its updates come a minibatch a
step after each rollout, a person's steps enter the rollout, and a PQN agent loaded in the
window trains on with PQN."""

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


def session_agent(session: TrainingSession):
    """Test-only peek: the session's agent (its config, its trainer once built)."""
    return session._seat.current


def cartpole_trainer(seed: int = 0, **overrides) -> LivePQNTrainer:
    """PQN on CartPole (its MLP steps in a fraction of Breakout's time): 2 games, 8-step
    rollouts, each learned from in 2 minibatches."""
    values = {**SMALL, "update_epochs": 1, "hidden_sizes": [16, 16], **overrides}
    config = load_config("cartpole", overrides=values, algorithm="pqn")
    return LivePQNTrainer(GAMES["cartpole"], config, CPU, seed=seed)


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
    assert trainer.global_step == 30 and len(report.shown.q_values) == 4
    assert report.env_steps == 1 and report.loss is None
    frame = trainer.frame()
    assert frame.shape == (210, 160, 3)
    trainer.close()


@pytest.mark.slow
def test_a_person_action_is_played_in_the_shown_game():
    config = load_config("breakout", PQN_CONFIG, SMALL)
    trainer = LivePQNTrainer(GAMES["breakout"], config, CPU, seed=1)
    for move in (2, 3, 2):
        report = trainer.step(action=move, epsilon=1.0)
        assert report.shown.action == move
    trainer.close()


def test_a_persons_actions_enter_the_rollout_and_count_as_demo_steps():
    """The shown game's stored actions are the person's, the other game's the agent's; each
    step of the person's learned from counts in ``demo_steps``, and only those."""
    trainer = cartpole_trainer(seed=3)
    person = [0, 1, 1, 0, 0, 1, 0]  # 7 of the rollout's 8 steps: it is not learned from yet
    for move in person:
        report = trainer.step(action=move, demo=True, epsilon=0.0)
        shown = report.shown
        assert shown.action == move
        # The agent's own Q-values are still shown; the step was greedy only if they agree.
        assert len(shown.q_values) == 2
        assert shown.greedy == (move == int(np.argmax(shown.q_values)))
    assert trainer.demo_steps == len(person)
    rollout = trainer._rollout  # test-only peek at what is to be learned from
    assert rollout.actions[: len(person), 0].tolist() == person
    agent = trainer.learner.acting_q_values(rollout.obs[: len(person), 1]).argmax(axis=1)
    assert rollout.actions[: len(person), 1].tolist() == agent.tolist()  # epsilon 0: greedy
    assert trainer.learner.updates == 0

    trainer.step(epsilon=0.0)  # the agent's own step closes the rollout: not a demo
    assert trainer.learner.updates == 1 and trainer.demo_steps == len(person)
    trainer.step(action=1, epsilon=0.0)  # a takeover that is not teaching: learned, not a demo
    assert trainer._rollout.actions[0, 0] == 1 and trainer.demo_steps == len(person)
    trainer.step(action=1, demo=True, learn=False)  # played, never learned from
    assert trainer.demo_steps == len(person)
    trainer.close()


def test_playing_without_learning_drops_the_rollout():
    """A step that does not learn moves the shown game alone, so the rollout under way is no
    longer one: it is dropped and a fresh one filled before anything is learned."""
    trainer = cartpole_trainer(seed=4)
    for _ in range(5):
        assert trainer.step().loss is None
    others = trainer._all_obs[1].copy()  # test-only peek: the game not on screen
    report = trainer.step(learn=False)
    assert report.env_steps == 1 and report.loss is None and trainer.global_step == 5 * 2
    assert np.array_equal(trainer._all_obs[1], others)
    losses = [trainer.step().loss for _ in range(7)]
    assert losses == [None] * 7 and trainer.learner.updates == 0  # 12 learning steps, no update
    assert trainer.step().loss is not None  # the 8th step of the fresh rollout closes it
    assert trainer.learner.updates == 1
    trainer.close()


def test_without_a_gap_the_rollout_closes_on_its_last_step():
    """The control for the test above: 8 learning steps in a row close the rollout."""
    trainer = cartpole_trainer(seed=4)
    losses = [trainer.step().loss for _ in range(8)]
    assert losses[:7] == [None] * 7 and losses[7] is not None
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
        assert session_agent(session).config.algorithm == "pqn"
        session.send(SetMode(Mode.TRAIN))
        session.send(SetSpeed(FAST))
        session.send(Resume())
        trained = wait_for(session, lambda s: s.training.updates >= 4, timeout=60)
        assert isinstance(session_agent(session).trainer_built, LivePQNTrainer)
        assert trained.training.learner == "pqn" and not trained.training.has_replay
        assert trained.training.replay_capacity == 0 and np.isfinite(trained.training.loss)
        assert trained.training.global_step > 4096
    finally:
        session.close()


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
        ready = wait_for(session, lambda s: s.ready)
        assert ready.training.learner == "pqn" and not ready.training.trainer_ready
        session.send(Load(tmp_path / "breakout-d.pt"))
        wait_for(session, lambda s: s.message.text.startswith("loaded"))
        agent = session_agent(session)
        assert agent.config.algorithm == "dqn" and agent.config.network == "nature_cnn"
        assert agent.config.learning_rate == dqn.learning_rate  # not PQN's 2.5e-4
        session.send(SetMode(Mode.TRAIN))
        training = wait_for(session, lambda s: s.training.trainer_ready and s.mode is Mode.TRAIN)
        assert training.training.learner == "dqn" and training.training.has_replay
        assert training.training.replay_capacity == 2_000  # the window's DQN memory, not 1M
        assert agent.trainer_built.replay.capacity == 2_000
        session.send(NewAgent())
        wait_for(session, lambda s: s.message.text.startswith("a new agent"))
        new = session_agent(session)
        assert new.config.algorithm == "pqn" and new.config.network == "nature_cnn_ln"
        assert isinstance(new.trainer_built, LivePQNTrainer)  # Train mode goes on
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
