"""PQN: Q(lambda) returns as the paper defines them, one iteration's rollout and updates, and
agents that play, score and resume as DQN's do."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agent import commands
from agent.agent_files import load_policy
from agent.checkpoint import read_checkpoint
from agent.config import ConfigError, load_config
from agent.networks import build_q_network
from agent.pqn import PQNLearner, annealed_learning_rate, q_lambda_returns
from agent.pqn_trainer import PQNTrainer
from game.registry import GAMES

CPU = torch.device("cpu")
BREAKOUT = GAMES["breakout"]
PQN_CONFIG = None  # Breakout's default learner
SMALL = {
    "num_envs": 2,
    "rollout_steps": 16,
    "update_epochs": 2,
    "minibatches": 2,
    "total_steps": 320,
    "epsilon_decay_steps": 100,
    "eval_episodes": 1,
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _slow_returns(rewards, terminated, truncated, valid, values, gamma, lam):
    """The recursion written out one env and one step at a time."""
    steps, envs = rewards.shape
    returns = np.zeros((steps, envs))
    for env in range(envs):
        for t in reversed(range(steps)):
            following_is_same_game = t + 1 < steps and valid[t + 1, env] and not truncated[t, env]
            if following_is_same_game:
                ahead = lam * returns[t + 1, env] + (1 - lam) * values[t + 1, env]
            else:
                ahead = values[t + 1, env]
            returns[t, env] = rewards[t, env] + gamma * (not terminated[t, env]) * ahead
    return returns


def test_q_lambda_returns_follow_the_recursion():
    rng = np.random.default_rng(0)
    steps, envs = 12, 3
    rewards = rng.choice([0.0, 1.0], (steps, envs)).astype(np.float32)
    terminated = rng.random((steps, envs)) < 0.2
    truncated = np.zeros((steps, envs), dtype=bool)
    truncated[5, 1] = True
    valid = np.ones((steps, envs), dtype=bool)
    valid[6, 1] = False  # the autoreset step after the truncation
    values = rng.normal(size=(steps + 1, envs)).astype(np.float32)
    got = q_lambda_returns(rewards, terminated, truncated, valid, values, 0.9, 0.65)
    want = _slow_returns(rewards, terminated, truncated, valid, values, 0.9, 0.65)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_lambda_zero_is_one_step_q_learning_and_one_is_the_discounted_return():
    rewards = np.array([[1.0], [0.0], [2.0]], dtype=np.float32)
    flags = np.zeros((3, 1), dtype=bool)
    valid = np.ones((3, 1), dtype=bool)
    values = np.array([[5.0], [4.0], [3.0], [10.0]], dtype=np.float32)
    one_step = q_lambda_returns(rewards, flags, flags, valid, values, 0.5, 0.0)
    np.testing.assert_allclose(one_step[:, 0], [1 + 0.5 * 4, 0 + 0.5 * 3, 2 + 0.5 * 10])
    monte_carlo = q_lambda_returns(rewards, flags, flags, valid, values, 0.5, 1.0)
    np.testing.assert_allclose(
        monte_carlo[:, 0], [1 + 0.5 * 0 + 0.25 * 2 + 0.125 * 10, 0.5 * 2 + 0.25 * 10, 7.0]
    )
    terminated = flags.copy()
    terminated[1, 0] = True  # no value flows back past a terminal step
    cut = q_lambda_returns(rewards, terminated, flags, valid, values, 0.5, 1.0)
    np.testing.assert_allclose(cut[:2, 0], [1 + 0.5 * 0, 0.0])


def test_the_layer_norm_network_normalises_every_hidden_layer():
    network = build_q_network("nature_cnn_ln", (4, 84, 84), 4)
    norms = [m for m in network.modules() if isinstance(m, torch.nn.LayerNorm)]
    assert [tuple(n.normalized_shape) for n in norms] == [
        (32, 20, 20),
        (64, 9, 9),
        (64, 7, 7),
        (512,),
    ]
    q = network(torch.randint(0, 256, (3, 4, 84, 84), dtype=torch.uint8))
    assert q.shape == (3, 4) and torch.isfinite(q).all()
    # The shipped Breakout agent, trained by the campaign's PQN run, is this network.
    shipped = read_checkpoint("saves/breakout.pt")
    assert shipped["network"]["kind"] == "nature_cnn_ln"
    assert {k: tuple(v.shape) for k, v in network.state_dict().items()} == {
        k: tuple(v.shape) for k, v in shipped["online"].items()
    }


def test_pqn_config_values_are_checked():
    with pytest.raises(ConfigError, match="algorithm"):
        load_config("breakout", None, {"algorithm": "ppo"})
    with pytest.raises(ConfigError, match="q_lambda"):
        load_config("breakout", PQN_CONFIG, {"q_lambda": 1.5})


@pytest.mark.slow
def test_one_iteration_plays_the_rollout_then_learns_from_it():
    config = load_config("breakout", PQN_CONFIG, SMALL)
    trainer = PQNTrainer(BREAKOUT, config, CPU, seed=2)
    before = [p.detach().clone() for p in trainer.learner.online.parameters()]
    report = trainer.step()
    assert report.global_step == trainer.global_step == 2 * 16
    assert trainer.learner.updates == 2 * 2
    after = list(trainer.learner.online.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))
    # Every stored action is one the games took, and the learning rate anneals towards zero.
    assert set(np.unique(trainer._rollout.actions)) <= set(range(4))
    trainer.step()
    rate = trainer.learner.optimizer.param_groups[0]["lr"]
    assert rate == pytest.approx(config.learning_rate * (1 - 32 / 320))
    trainer.close()


@pytest.mark.slow
def test_a_pqn_run_saves_an_agent_that_plays_and_resumes_repeatably(tmp_path):
    config = load_config("breakout", PQN_CONFIG, SMALL)

    def train(name, steps, resume=None):
        commands.train(
            BREAKOUT,
            config,
            CPU,
            seed=4,
            steps=steps,
            save_path=tmp_path / f"{name}.pt",
            resume=resume,
            progress=False,
        )
        return read_checkpoint(tmp_path / f"{name}.pt")

    first = train("first", 64)
    assert first["network"]["kind"] == "nature_cnn_ln"
    assert first["counters"]["global_step"] == 64
    assert first["config"]["algorithm"] == "pqn"
    assert "target" not in first and "optimizer" in first  # PQN has no target network
    agent = load_policy(tmp_path / "first.pt", BREAKOUT, CPU)
    assert agent.config.algorithm == "pqn" and agent.counters["global_step"] == 64
    obs = np.random.default_rng(0).integers(0, 256, (2, 4, 84, 84), dtype=np.uint8)
    with torch.no_grad():
        saved_net = build_q_network("nature_cnn_ln", (4, 84, 84), 4)
        saved_net.load_state_dict(first["online"])
        want = saved_net(torch.as_tensor(obs)).numpy()
    np.testing.assert_allclose(agent.policy.q_values(obs), want, rtol=1e-5, atol=1e-5)
    returns, counters = commands.evaluate(BREAKOUT, tmp_path / "first.pt", CPU, episodes=1, seed=0)
    assert returns.shape == (1,) and counters["global_step"] == 64

    again = [train(f"again{i}", 64, resume=tmp_path / "first.pt") for i in range(2)]
    assert again[0]["counters"]["global_step"] == 128
    for key, tensor in again[0]["online"].items():
        assert torch.equal(tensor, again[1]["online"][key])
        assert not torch.equal(tensor, first["online"][key])


def test_a_truncated_game_bootstraps_from_its_last_state_and_mixes_in_nothing_after():
    # Env 0: step 0 is truncated (a time limit), step 1 is the autoreset, not a transition.
    rewards = np.array([[1.0], [0.0], [1.0]], dtype=np.float32)
    terminated = np.zeros((3, 1), dtype=bool)
    truncated = np.array([[True], [False], [False]])
    valid = np.array([[True], [False], [True]])
    values = np.array([[0.0], [4.0], [8.0], [2.0]], dtype=np.float32)
    returns = q_lambda_returns(rewards, terminated, truncated, valid, values, 0.5, 0.65)
    assert returns[0, 0] == pytest.approx(1.0 + 0.5 * 4.0)  # the final state's value only
    assert returns[2, 0] == pytest.approx(1.0 + 0.5 * 2.0)


def test_a_pqn_learner_takes_the_online_weights_of_a_checkpoint_with_a_target(tmp_path):
    from agent.checkpoint import load_into, save_checkpoint
    from agent.dqn import DQNLearner

    config = load_config("breakout", PQN_CONFIG)
    # A LayerNorm net trained by DQN: a target network and Adam's state beside the weights.
    dqn_config = load_config("breakout", algorithm="dqn", overrides={"network": "nature_cnn_ln"})
    dqn = DQNLearner((4, 84, 84), 4, dqn_config, CPU)
    with torch.no_grad():
        for p in dqn.target.parameters():
            p.zero_()
    save_checkpoint(tmp_path / "d.pt", "breakout", dqn, {"global_step": 1})
    pqn = PQNLearner((4, 84, 84), 4, config, CPU)
    load_into(tmp_path / "d.pt", "breakout", pqn)
    for mine, saved in zip(pqn.online.parameters(), dqn.online.parameters(), strict=True):
        assert torch.equal(mine, saved.float())


def test_the_annealed_learning_rate_falls_to_zero_at_total_steps_and_stops_at_its_floor():
    config = load_config("breakout", PQN_CONFIG, {"total_steps": 1_000, "learning_rate": 1e-3})
    assert config.pqn.anneal_lr and config.pqn.min_learning_rate_share == 0.0

    def rates(c, steps):
        return [annealed_learning_rate(c, step) for step in steps]

    steps = [0, 250, 500, 900, 999, 1_000, 1_024, 10**7]
    assert rates(config, steps) == pytest.approx([1e-3, 7.5e-4, 5e-4, 1e-4, 1e-6, 0, 0, 0])
    floored = config.with_settings(min_learning_rate_share=0.1)
    assert rates(floored, steps) == pytest.approx(
        [1e-3, 7.5e-4, 5e-4, 1e-4, 1e-4, 1e-4, 1e-4, 1e-4]
    )
    every = rates(floored, range(0, 2_000, 10))
    assert all(a >= b for a, b in zip(every, every[1:], strict=False)) and min(every) > 0
    steady = config.with_settings(anneal_lr=False)
    assert rates(steady, steps) == [1e-3] * len(steps)


@pytest.mark.slow
def test_acting_while_learning_reads_the_online_network_in_bf16_up_to_rounding():
    """PQN acts and bootstraps in bf16 where it is native; play reads the float32 weights. The
    two agree up to bf16 rounding, and every update shows in both at once."""
    config = load_config("breakout", PQN_CONFIG)
    torch.manual_seed(0)
    learner = PQNLearner((4, 84, 84), 4, config, CPU)
    obs = np.random.default_rng(0).integers(0, 256, (6, 4, 84, 84), dtype=np.uint8)

    def agree() -> None:
        exact, acting = learner.policy.q_values(obs), learner.acting_q_values(obs)
        assert acting.dtype == np.float32 and acting.shape == (6, 4)
        scale = max(1.0, float(np.abs(exact).max()))
        if learner.autocast_bf16:
            assert np.abs(acting - exact).max() <= 0.02 * scale  # bf16: ~3 significant digits
        else:
            np.testing.assert_allclose(acting, exact, rtol=1e-5, atol=1e-6)

    agree()
    before = learner.acting_q_values(obs)
    for _ in range(5):  # every target 3: the Q-values of the actions taken climb
        learner.update(obs, np.zeros(6, dtype=np.int64), np.full(6, 3.0, dtype=np.float32))
    assert learner.acting_q_values(obs)[:, 0].mean() > before[:, 0].mean() + 0.1
    agree()
