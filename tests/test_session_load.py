"""The window's session loads agents whose network differs from the game's default one (a PQN
agent with LayerNorm, a checkpoint of another width) and plays them; a bad one changes nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from agent.checkpoint import save_checkpoint
from agent.config import load_config
from agent.live.agents import LiveAgent
from agent.live.channels import FAST, Load, Mode, NewAgent, Pause, Resume, SetMode, SetSpeed, Step
from agent.live.session import TrainingSession
from agent.pqn import PQNLearner
from game.registry import GAMES
from tests.support import small_config, wait_for

CPU = torch.device("cpu")
ROOT = Path(__file__).resolve().parent.parent
SHIPPED_FRUIT = ROOT / "saves" / "fruit.pt"
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def agent_of(session: TrainingSession) -> LiveAgent:
    """Test-only peek at the agent playing; the UI never does this."""
    return session._seat.current


@pytest.mark.slow
def test_a_pqn_agent_loads_into_the_window_and_its_q_values_show(tmp_path):
    pqn_config = load_config("breakout")
    learner = PQNLearner((4, 84, 84), 4, pqn_config, CPU)
    counters = {"global_step": 1234, "episode": 5, "updates": 7}
    save_checkpoint(tmp_path / "breakout-pqn.pt", "breakout", learner, counters)
    config = small_config("breakout")
    session = TrainingSession(GAMES["breakout"], config, CPU, mode=Mode.AGENT, paused=True)
    session.start()
    try:
        wait_for(session, lambda s: s.ready)
        session.send(Load(tmp_path / "breakout-pqn.pt"))
        loaded = wait_for(session, lambda s: s.message.text.startswith("loaded"))
        assert (
            loaded.training.global_step == 1234
            and "breakout-pqn.pt" in loaded.training.agent_source
        )
        assert not loaded.message.is_error and not loaded.training.trainer_ready
        session.send(Step())
        stepped = wait_for(session, lambda s: s.training.env_steps > loaded.training.env_steps)
        agent = agent_of(session)
        assert agent.config.network == "nature_cnn_ln" and agent.trainer_built is None
        obs = stepped.picture.obs[None]
        np.testing.assert_allclose(
            agent.policy.q_values(obs), learner.policy.q_values(obs), rtol=1e-5, atol=1e-6
        )
        assert len(stepped.decision.q_values) == 4
        before = agent.policy.q_values(loaded.picture.obs[None])[0]  # what the step acted on
        np.testing.assert_allclose(stepped.decision.q_values, before, rtol=1e-5)
    finally:
        session.close()


def test_a_checkpoint_of_an_unknown_network_is_refused_and_the_agent_stays(tmp_path):
    config = small_config("cartpole")
    session = TrainingSession(GAMES["cartpole"], config, CPU, paused=True).start()
    try:
        wait_for(session, lambda s: s.ready)
        bad = tmp_path / "cartpole-bad.pt"
        other = load_config("cartpole", overrides={"hidden_sizes": [8]})
        from agent.dqn import DQNLearner

        save_checkpoint(bad, "cartpole", DQNLearner((4,), 2, other, CPU), {"global_step": 3})
        payload = torch.load(bad, weights_only=True)
        payload["network"]["kind"] = "transformer"
        torch.save(payload, bad)
        session.send(Load(bad))
        refused = wait_for(session, lambda s: "unknown network 'transformer'" in s.message.text)
        assert "\n" not in refused.message.text and refused.training.global_step == 0
        assert refused.message.is_error  # the window shows it as an error, by this flag
        session.send(Pause())
        assert agent_of(session).config.hidden_sizes == (32, 32)
    finally:
        session.close()


def test_a_new_agent_replaces_the_shipped_one_and_the_shipped_one_comes_back(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the new agent's training is kept in saves/mine/ here
    config = small_config("fruit")
    session = TrainingSession(GAMES["fruit"], config, CPU, mode=Mode.AGENT, paused=True).start()
    try:
        wait_for(session, lambda s: s.ready)
        session.send(Load(SHIPPED_FRUIT))
        shipped = wait_for(session, lambda s: s.message.text.startswith("loaded"))
        assert shipped.training.global_step > 0 and shipped.training.agent_source == "fruit.pt"
        obs = shipped.picture.obs[None]
        shipped_q = agent_of(session).policy.q_values(obs)
        session.send(NewAgent())
        fresh = wait_for(session, lambda s: s.message.text.startswith("a new agent"))
        assert (
            fresh.training.global_step == 0
            and fresh.training.updates == 0
            and fresh.training.agent_source == "untrained"
        )
        assert not np.allclose(agent_of(session).policy.q_values(obs), shipped_q)
        session.send(SetMode(Mode.TRAIN))
        session.send(SetSpeed(FAST))
        session.send(Resume())
        trained = wait_for(session, lambda s: s.training.updates > 5)
        assert trained.training.agent_source.startswith("trained here")
        session.send(Pause())
        session.send(Load(SHIPPED_FRUIT))
        back = wait_for(session, lambda s: s.message.text.startswith("loaded"))
        assert back.training.global_step == shipped.training.global_step
        np.testing.assert_allclose(agent_of(session).policy.q_values(obs), shipped_q, rtol=1e-6)
        assert "saves/mine/fruit-unsaved-" in back.message.text  # the new agent's training
    finally:
        session.close()
