"""The window's session loads agents whose network differs from the game's default one (a PQN
agent with LayerNorm, a checkpoint of another width) and plays them; a bad one changes nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from agent.checkpoint import save_checkpoint
from agent.config import load_config
from agent.live.channels import FAST, Load, Mode, NewAgent, Pause, Resume, SetMode, SetSpeed, Step
from agent.live.session import TrainingSession
from agent.pqn import PQNLearner
from game.registry import GAMES
from tests.support import SMALL, wait_for

CPU = torch.device("cpu")
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.slow
def test_a_pqn_agent_loads_into_the_window_and_its_q_values_show(tmp_path):
    pqn_config = load_config("breakout")
    learner = PQNLearner((4, 84, 84), 4, pqn_config, CPU)
    counters = {"global_step": 1234, "episode": 5, "updates": 7}
    save_checkpoint(tmp_path / "breakout-pqn.pt", "breakout", learner, counters)
    config = load_config("breakout", overrides=SMALL["breakout"])
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
        assert not loaded.message.is_error
        session.send(Step())
        stepped = wait_for(session, lambda s: s.training.env_steps > loaded.training.env_steps)
        trainer = session._trainer  # test-only peek: the agent now playing
        assert trainer.learner.config.network == "nature_cnn_ln"
        obs = trainer.obs[None]
        np.testing.assert_allclose(
            trainer.learner.q_values(obs), learner.q_values(obs), rtol=1e-5, atol=1e-6
        )
        assert len(stepped.decision.q_values) == 4
    finally:
        session.close()


def test_a_checkpoint_of_an_unknown_network_is_refused_and_the_agent_stays(tmp_path):
    config = load_config("cartpole", overrides=SMALL["cartpole"])
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
        refused = wait_for(session, lambda s: "cannot build" in s.message.text)
        assert "\n" not in refused.message.text and refused.training.global_step == 0
        assert refused.message.is_error  # the window shows it as an error, by this flag
        session.send(Pause())
        assert session._trainer.learner.config.hidden_sizes == (32, 32)
    finally:
        session.close()


def test_a_new_agent_replaces_the_shipped_one_and_the_shipped_one_comes_back(tmp_path):
    config = load_config("fruit", overrides=SMALL["fruit"])
    session = TrainingSession(GAMES["fruit"], config, CPU, mode=Mode.AGENT, paused=True).start()
    try:
        wait_for(session, lambda s: s.ready)
        session.send(Load(Path("saves/fruit.pt")))
        shipped = wait_for(session, lambda s: s.message.text.startswith("loaded"))
        assert shipped.training.global_step > 0 and shipped.training.agent_source == "fruit.pt"
        obs = session._trainer.obs[None]  # test-only peek
        shipped_q = session._trainer.learner.q_values(obs)
        session.send(NewAgent())
        fresh = wait_for(session, lambda s: s.message.text.startswith("a new agent"))
        assert (
            fresh.training.global_step == 0
            and fresh.training.updates == 0
            and fresh.training.agent_source == "untrained"
        )
        assert not np.allclose(session._trainer.learner.q_values(obs), shipped_q)
        session.send(SetMode(Mode.TRAIN))
        session.send(SetSpeed(FAST))
        session.send(Resume())
        trained = wait_for(session, lambda s: s.training.updates > 5)
        assert trained.training.agent_source.startswith("trained here")
        session.send(Pause())
        session.send(Load(Path("saves/fruit.pt")))
        back = wait_for(session, lambda s: s.message.text.startswith("loaded"))
        assert back.training.global_step == shipped.training.global_step
        np.testing.assert_allclose(session._trainer.learner.q_values(obs), shipped_q, rtol=1e-6)
    finally:
        session.close()
