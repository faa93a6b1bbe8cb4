"""The session's agent under the one learner contract: a game picked plays at once with no
trainer, and Train or Teach builds one (busy meanwhile); an agent replaced keeps its unsaved
training in saves/mine/; the agent's record counts only the games it played alone; an early
load of the shipped agent is the agent that plays; Versus plays the current policy."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from agent.checkpoint import read_checkpoint
from agent.live.agents import LiveAgent
from agent.live.channels import (
    FAST,
    HandBack,
    HumanAction,
    KeepUnsaved,
    Load,
    Mode,
    NewAgent,
    NextRound,
    Pause,
    Resume,
    SetDemoFraction,
    SetMode,
    SetSpeed,
    SetTeach,
    Snapshot,
    Step,
)
from agent.live.session import TrainingSession
from game.registry import GAMES
from tests.support import small_config, wait_for

CPU = torch.device("cpu")
ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "saves" / "fruit.pt"
LEFT, STAY, RIGHT = 0, 1, 2
pytestmark = pytest.mark.usefixtures("one_torch_thread")


class Watched(TrainingSession):
    """A session that also notes what ``busy`` said at each snapshot it published."""

    def __init__(self, *args, **kwargs) -> None:
        self.busy_seen: list[str] = []
        super().__init__(*args, **kwargs)

    def _publish(self, *, frame: bool = False, ready: bool = True) -> None:
        self.busy_seen.append(self._busy)
        super()._publish(frame=frame, ready=ready)


@pytest.fixture
def sessions():
    made: list[TrainingSession] = []

    def make(game: str = "fruit", *, start: bool = True, **kwargs) -> Watched:
        session = Watched(GAMES[game], small_config(game), CPU, **kwargs)
        made.append(session)
        return session.start() if start else session

    yield make
    for session in made:
        session.close()


def agent_of(session: TrainingSession) -> LiveAgent:
    """Test-only peek at the agent playing; the UI never does this."""
    return session._seat.current


_MARKS = itertools.count(1)


def settle(session: TrainingSession) -> Snapshot:
    """A barrier: the first snapshot after every command sent so far was handled (marked by a
    speed no test asks for; a paused session does not mind its speed)."""
    mark = 1.0 + next(_MARKS) / 1_000
    session.send(SetSpeed(mark))
    return wait_for(session, lambda s: s.speed == mark)


def step(session: TrainingSession) -> Snapshot:
    serial = settle(session).picture.serial
    session.send(Step())
    return wait_for(session, lambda s: s.picture.serial > serial)


def play_out_a_game(session: TrainingSession) -> Snapshot:
    """Step until a game of the agent's ends, in its record or among the assisted ones."""
    before = settle(session).scores
    games = len(before.returns) + before.assisted_games
    for _ in range(200):
        shot = step(session)
        if len(shot.scores.returns) + shot.scores.assisted_games > games:
            return shot
    raise AssertionError("no game ended in 200 steps")


def test_a_game_picked_plays_at_once_and_train_mode_builds_the_trainer(sessions):
    session = sessions("fruit", mode=Mode.AGENT, paused=True)
    wait_for(session, lambda s: s.ready)
    for _ in range(3):
        played = step(session)
    assert len(played.decision.q_values) == 3 and played.training.env_steps == 3
    assert not played.training.trainer_ready and agent_of(session).trainer_built is None
    assert played.training.has_replay and played.training.replay_capacity == 0
    session.busy_seen.clear()
    session.send(SetMode(Mode.TRAIN))
    built = wait_for(session, lambda s: s.mode is Mode.TRAIN)
    assert built.training.trainer_ready and built.busy == "" and built.ready
    assert built.training.replay_capacity == 2_000
    assert "preparing training: building the DQN trainer" in session.busy_seen
    assert session.busy_seen[-1] == ""


def test_teach_builds_the_trainer_only_where_it_teaches(sessions):
    session = sessions("fruit", mode=Mode.AGENT, paused=True)
    wait_for(session, lambda s: s.ready)
    session.send(SetTeach(True))  # the window keeps Teach on across modes: nothing to teach yet
    agent_mode = wait_for(session, lambda s: s.control.teach)
    assert not agent_mode.training.trainer_ready
    session.busy_seen.clear()
    session.send(SetMode(Mode.HUMAN))
    taught = wait_for(session, lambda s: s.mode is Mode.HUMAN and s.training.trainer_ready)
    assert "preparing teaching: building the DQN trainer" in session.busy_seen
    session.send(HumanAction(LEFT))
    assert step(session).training.demo_count == 1 and taught.busy == ""


def test_a_replaced_agent_keeps_its_unsaved_training_in_saves_mine(sessions, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "saves" / "mine"
    session = sessions("fruit", mode=Mode.TRAIN, speed=FAST)
    wait_for(session, lambda s: s.training.updates > 5)
    session.send(Pause())
    trained = wait_for(session, lambda s: s.paused)
    session.send(NewAgent())
    fresh = wait_for(session, lambda s: s.message.text.startswith("a new agent"))
    (kept,) = mine.glob("fruit-unsaved-*.pt")
    assert f"your unsaved training is kept in saves/mine/{kept.name}" in fresh.message.text
    assert read_checkpoint(kept)["counters"]["updates"] == trained.training.updates
    assert fresh.training.trainer_ready  # Train mode: the new agent trains at once

    session.send(NewAgent())  # nothing learned since: nothing written
    again = wait_for(session, lambda s: s.message.serial > fresh.message.serial)
    assert "kept" not in again.message.text and len(list(mine.iterdir())) == 1

    session.send(SetSpeed(FAST))
    session.send(Resume())
    wait_for(session, lambda s: s.training.unsaved_updates > 0)
    session.send(Pause())
    session.send(KeepUnsaved())  # on demand (before a quit): the agent stays
    on_demand = wait_for(session, lambda s: "kept in saves/mine/" in s.message.text)
    assert on_demand.training.unsaved_updates == 0 and len(list(mine.iterdir())) == 2
    assert on_demand.training.agent_source.startswith("trained here")
    session.send(KeepUnsaved())
    session.send(Load(SHIPPED))  # nothing unsaved now: loads without writing
    loaded = wait_for(session, lambda s: s.message.text.startswith("loaded"))
    assert "kept" not in loaded.message.text and len(list(mine.iterdir())) == 2


def test_training_that_cannot_be_kept_keeps_the_agent(sessions, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "saves").mkdir()
    (tmp_path / "saves" / "mine").write_text("a file where the folder should be")
    session = sessions("fruit", mode=Mode.TRAIN, speed=FAST)
    wait_for(session, lambda s: s.training.updates > 5)
    session.send(Pause())
    trained = wait_for(session, lambda s: s.paused)
    session.send(Load(SHIPPED))
    refused = wait_for(session, lambda s: s.message.serial > trained.message.serial)
    assert refused.message.is_error and "the agent stays" in refused.message.text
    assert refused.training.agent_source.startswith("trained here")
    assert refused.training.updates == trained.training.updates > 0


def test_load_builds_a_trainer_only_where_the_mode_needs_one(sessions, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    built: list[LiveAgent] = []  # the agents whose trainer was built, in order
    trainer = LiveAgent.trainer

    def noted(agent: LiveAgent):
        if agent.trainer_built is None:
            built.append(agent)
        return trainer(agent)

    monkeypatch.setattr(LiveAgent, "trainer", noted)
    session = sessions("fruit", mode=Mode.TRAIN, speed=FAST)
    wait_for(session, lambda s: s.training.updates > 0)
    session.send(SetMode(Mode.AGENT))
    session.send(Load(SHIPPED))
    played = wait_for(session, lambda s: s.training.agent_source == "fruit.pt")
    assert played.mode is Mode.AGENT and not played.training.trainer_ready
    session.send(NewAgent())
    session.send(SetMode(Mode.TRAIN))
    session.send(Load(SHIPPED))  # right behind the build of the new agent's trainer
    trains = settle(session)
    assert trains.training.agent_source == "fruit.pt" and trains.ready
    assert trains.mode is Mode.TRAIN and trains.training.trainer_ready
    shipped_steps = read_checkpoint(SHIPPED)["counters"]["global_step"]
    assert f"(trained {shipped_steps:,} steps)" in trains.message.text
    session.send(Pause())
    settle(session)
    # The first agent's, the new one's and the shipped one's: only the one playing is open.
    assert len(built) == 3 and [a.trainer_built is not None for a in built] == [0, 0, 1]
    assert built[-1] is agent_of(session)


def test_the_agents_record_counts_only_the_games_it_played_alone(sessions):
    session = sessions("fruit", mode=Mode.AGENT, paused=True)
    wait_for(session, lambda s: s.ready)
    alone = play_out_a_game(session)
    assert len(alone.scores.returns) == 1 and alone.scores.assisted_games == 0
    assert alone.scores.mean_return == alone.scores.last_return == alone.scores.returns[0]

    session.send(HumanAction(LEFT))  # a takeover in Agent mode
    step(session)
    session.send(HumanAction(None))
    session.send(HandBack())
    helped = play_out_a_game(session)
    assert helped.scores.assisted_games == 1 and helped.scores.returns == alone.scores.returns
    assert helped.scores.assisted_last_return is not None
    assert helped.scores.mean_return == alone.scores.mean_return

    session.send(SetMode(Mode.TRAIN))
    session.send(HumanAction(RIGHT))  # a takeover in Train mode
    step(session)
    session.send(HumanAction(None))
    session.send(HandBack())
    assert play_out_a_game(session).scores.assisted_games == 2

    session.send(SetMode(Mode.HUMAN))
    session.send(SetTeach(True))  # a game the person plays for the agent
    taught = play_out_a_game(session)
    assert taught.scores.assisted_games == 3 and taught.scores.returns == alone.scores.returns

    session.send(SetTeach(False))
    session.send(SetMode(Mode.TRAIN))
    own = play_out_a_game(session)
    assert len(own.scores.returns) == 2 and own.scores.assisted_games == 3


@pytest.mark.slow
def test_breakouts_pqn_keeps_no_replay_memory_and_learns_from_teaching(sessions):
    session = sessions("breakout", mode=Mode.AGENT, paused=True)
    wait_for(session, lambda s: s.ready)
    played = step(session)
    assert len(played.decision.q_values) == 4 and not played.training.trainer_ready
    assert played.training.learner == "pqn" and not played.training.has_replay
    assert not played.training.demo_fraction_applies
    session.send(SetDemoFraction(0.3))
    refused = wait_for(session, lambda s: s.message.serial > 0)
    assert refused.message.is_error and "PQN keeps no replay memory" in refused.message.text
    assert refused.training.demo_fraction == 0.0

    session.send(SetMode(Mode.HUMAN))
    session.send(SetTeach(True))
    wait_for(session, lambda s: s.training.trainer_ready and s.control.teach)
    steps_before = session._rate.steps  # env steps of all the agent's games so far
    session.send(HumanAction(1))  # FIRE, then the paddle sits still
    for _ in range(20):
        taught = step(session)
    assert taught.training.demo_count == 20 and taught.training.env_steps == 20
    assert taught.training.replay_size == taught.training.replay_capacity == 0
    assert taught.training.global_step == 2 * 20  # two games learn: the shown one and one more
    assert taught.training.updates >= 2  # two rollouts of 8 steps closed, a minibatch a step
    assert session._rate.steps - steps_before == 2 * 20  # steps/s counts both games

    session.send(SetTeach(False))
    session.send(SetMode(Mode.TRAIN))
    session.send(SetSpeed(FAST))
    session.send(Resume())
    fast = wait_for(session, lambda s: s.training.steps_per_second > 0 and s.mode is Mode.TRAIN)
    assert fast.training.demo_count == 20 and not fast.message.text.startswith("paused")


def test_an_early_load_of_the_shipped_agent_is_the_agent_that_plays(sessions, monkeypatch):
    made: list[int] = []
    new = LiveAgent.new
    monkeypatch.setattr(LiveAgent, "new", lambda *a, **k: made.append(1) or new(*a, **k))
    before = sessions("fruit", mode=Mode.AGENT, paused=True, start=False)
    assert before.snapshot().busy == "starting Fruit catch" and not before.snapshot().ready
    before.send(Load(SHIPPED, if_fresh=True, label="the shipped agent"))
    before.start()
    shot = wait_for(before, lambda s: s.ready and s.message.text.startswith("loaded"))
    assert shot.training.agent_source == "the shipped agent" and shot.training.global_step > 0
    assert not shot.training.trainer_ready and made == []  # read straight away, nothing built

    after = sessions("fruit", mode=Mode.AGENT)
    after.send(Load(SHIPPED, if_fresh=True))  # right after start(): the thread may be running
    shot = wait_for(after, lambda s: s.ready and s.training.agent_source == "fruit.pt")
    assert "fruit.pt (trained" in shot.message.text


def test_versus_plays_the_current_policy_and_the_demo_share_stays(sessions, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    session = sessions("fruit", mode=Mode.TRAIN, speed=FAST)
    session.send(SetDemoFraction(0.25))
    wait_for(session, lambda s: s.training.updates > 20)
    session.send(Pause())
    session.send(SetMode(Mode.VERSUS))
    session.send(NextRound())
    ready = settle(session)
    assert ready.mode is Mode.VERSUS and ready.versus.phase == "playing"
    agent = agent_of(session)
    assert agent.trainer_built is not None and agent.policy is agent.trainer_built.learner.policy
    played = step(session)
    np.testing.assert_allclose(
        played.decision.q_values, agent.policy.q_values(ready.picture.obs[None])[0], rtol=1e-5
    )
    session.send(NewAgent())  # another opponent: its own policy plays the next round
    fresh = wait_for(session, lambda s: s.message.text.startswith("a new agent"))
    assert fresh.training.demo_fraction == 0.25  # the person's share holds for it too
    session.send(NextRound())
    played = step(session)
    mine = agent_of(session).policy.q_values(fresh.picture.obs[None])[0]
    np.testing.assert_allclose(played.decision.q_values, mine, rtol=1e-5)
