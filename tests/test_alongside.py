"""Playing alongside the agent: a takeover changes who acts on the next step and hands back
(after the idle time, or at once); taught moves reach the replay memory marked as
demonstrations and are sampled at their share; the observation and the saliency map travel in
the snapshot, the map only while asked for."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from agent.config import load_config
from agent.dqn_trainer import DQNTrainer
from agent.live.channels import (
    HandBack,
    HumanAction,
    Mode,
    SetDemoFraction,
    SetMode,
    SetSaliency,
    SetTeach,
    Step,
)
from agent.live.human_play import HumanInput, Takeover
from agent.live.session import TrainingSession
from game.registry import GAMES
from tests.support import wait_for

CPU = torch.device("cpu")
LEFT, STAY, RIGHT = 0, 1, 2
SMALL = {
    "fruit": {"learning_starts": 40, "batch_size": 16, "buffer_size": 2_000},
    "cartpole": {"learning_starts": 40, "batch_size": 16, "buffer_size": 2_000},
}


def start(game: str = "fruit", **kwargs) -> TrainingSession:
    config = load_config(game, overrides=SMALL.get(game))
    return TrainingSession(GAMES[game], config, CPU, paused=True, **kwargs).start()


def step(session: TrainingSession) -> None:
    serial = session.snapshot().picture.serial
    session.send(Step())
    wait_for(session, lambda s: s.picture.serial > serial)


def test_takeover_hands_back_after_the_idle_time_or_at_once():
    takeover = Takeover(idle_s=2.0)
    assert not takeover.active(0.0) and takeover.seconds_left(0.0) is None
    takeover.hold(RIGHT, now=10.0)
    assert takeover.active(50.0) and takeover.seconds_left(50.0) == 2.0  # held: no countdown
    takeover.hold(None, now=51.0)
    assert takeover.seconds_left(52.5) == 0.5
    assert not takeover.active(53.0)
    takeover.hold(LEFT, now=60.0)
    takeover.hand_back()
    assert not takeover.active(60.0)
    takeover.hold(None, now=60.1)  # letting go after the hand-back changes nothing
    assert not takeover.active(60.1)


def test_a_tap_between_two_steps_still_moves_once():
    keys = HumanInput(idle_action=STAY)
    keys.hold(LEFT)
    keys.hold(None)
    assert keys.take() == LEFT and keys.take() == STAY
    pushes = HumanInput(idle_action=None)  # CartPole: no key keeps the last push
    pushes.hold(1)
    pushes.hold(None)
    assert [pushes.take(), pushes.take()] == [1, 1]


@pytest.mark.slow
def test_a_takeover_changes_who_acts_on_the_next_step_and_hands_back():
    session = start("fruit", mode=Mode.AGENT, takeover_idle_s=0.3)
    try:
        wait_for(session, lambda s: s.ready)
        step(session)
        agent = session.snapshot()
        assert (
            agent.control.controller == "agent"
            and agent.decision.action == agent.decision.agent_action
        )
        human_move = LEFT if agent.decision.agent_action != LEFT else RIGHT
        session.send(HumanAction(human_move))
        step(session)
        taken = session.snapshot()
        assert taken.control.controller == "human" and taken.decision.action == human_move
        assert (
            taken.control.hand_back_in == 0.3 and taken.decision.agent_action is not None
        )  # still shown
        assert taken.training.global_step == 0  # Agent mode: nothing stored, nothing learned
        session.send(HumanAction(None))
        time.sleep(0.35)
        step(session)
        back = session.snapshot()
        assert (
            back.control.controller == "agent"
            and back.decision.action == back.decision.agent_action
        )
        assert back.control.hand_back_in is None

        session.send(HumanAction(human_move))
        step(session)
        assert session.snapshot().control.controller == "human"
        session.send(HandBack())  # the key hands back at once, even with a key held
        step(session)
        assert session.snapshot().control.controller == "agent"
    finally:
        session.close()


def test_taught_moves_are_stored_as_demonstrations_and_sampled_at_their_share():
    session = start("fruit", mode=Mode.HUMAN)
    try:
        wait_for(session, lambda s: s.ready)
        session.send(SetTeach(True))
        session.send(SetDemoFraction(0.25))
        wait_for(session, lambda s: s.control.teach and s.training.demo_fraction == 0.25)
        assert session.snapshot().pace_hz == 5.0  # a person's pace, in the agent's own game
        for move in (LEFT, RIGHT, STAY) * 10:
            session.send(HumanAction(move))
            step(session)
        taught = session.snapshot()
        assert taught.training.demo_count == 30 and taught.training.replay_size == 30
        assert taught.training.global_step == 30  # the agent's own game, learning steps
        assert taught.control.controller == "human"

        session.send(SetTeach(False))
        session.send(SetMode(Mode.TRAIN))
        for _ in range(50):  # the agent's own play: ordinary memories
            step(session)
        session.send(HumanAction(RIGHT))  # a takeover in Train teaches too
        for _ in range(5):
            step(session)
        trained = session.snapshot()
        assert trained.training.demo_count == 35 and trained.training.replay_size == 85
        assert trained.training.updates > 0  # learned from a memory holding the demonstrations

        replay = session._seat.current.trainer().replay  # test-only peek; the UI never does
        demo_actions = replay.action[: replay.size][replay.demo[: replay.size]]
        assert set(demo_actions.tolist()) == {LEFT, RIGHT, STAY}
        batch = replay.sample(32, np.random.default_rng(0), taught.training.demo_fraction)
        assert batch.demo.sum() >= 8  # at least their share of each batch
        uniform = replay.sample(2000, np.random.default_rng(0))
        assert 0.2 < uniform.demo.mean() < 0.6  # about 35 of 85, sampled like any other
    finally:
        session.close()


def test_the_trainer_marks_demonstrations_and_samples_them_at_their_share():
    config = load_config("fruit", overrides={"buffer_size": 500, "learning_starts": 10_000})
    trainer = DQNTrainer(GAMES["fruit"], config, CPU, seed=0)
    for i in range(60):
        demo = i % 6 == 0
        report = trainer.step(action=LEFT if demo else None, demo=demo)
        assert report.shown is not None and (report.shown.action == LEFT or not demo)
    assert trainer.replay.demo_count == 10 and trainer.demo_steps == 10
    batch = trainer.replay.sample(40, np.random.default_rng(1), demo_fraction=0.5)
    assert batch.demo.sum() >= 20 and (batch.action[batch.demo] == LEFT).all()
    trainer.close()


def test_the_snapshot_carries_the_observation_and_the_saliency_map_when_asked():
    for game, obs_shape, map_shape in (("fruit", (1, 15, 15), (15, 15)), ("cartpole", (4,), (4,))):
        session = start(game, mode=Mode.AGENT)
        try:
            ready = wait_for(session, lambda s: s.ready and s.picture.obs is not None)
            assert ready.picture.obs.shape == obs_shape and ready.picture.saliency is None
            session.send(SetSaliency(True))
            shown = wait_for(session, lambda s: s.picture.saliency is not None)
            assert (
                shown.picture.saliency.shape == map_shape
                and shown.picture.saliency_action is not None
            )
            assert shown.picture.saliency.min() >= 0.0 and shown.picture.saliency.max() <= 1.0
            step(session)
            assert (
                session.snapshot().picture.obs is not shown.picture.obs
            )  # a fresh copy with each frame
            session.send(SetSaliency(False))
            assert (
                wait_for(session, lambda s: s.picture.saliency is None).picture.saliency_action
                is None
            )
        finally:
            session.close()
