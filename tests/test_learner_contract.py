"""The one learner contract: each learner's trainers, from ``make_trainer`` (the command line)
and ``make_live_trainer`` (the window), do what ``Trainer`` and ``LiveTrainer`` say; one
epsilon-greedy explores for all of them; a trainer's counters and random generators go on
exactly from its state."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import agent.policy as policy_module
import agent.pqn_live
import agent.pqn_trainer
from agent.checkpoint import read_checkpoint, save_checkpoint, trainer_state
from agent.config import load_config
from agent.dqn_trainer import DQNTrainer
from agent.learners import LEARNERS, make_live_trainer, make_trainer
from agent.networks import build_q_network
from agent.policy import Decision, Policy, epsilon_greedy
from agent.pqn_live import LivePQNTrainer
from agent.pqn_trainer import PQNTrainer
from agent.replay import ReplayBuffer
from agent.training import LiveTrainer, ShownStep, StepReport, Trainer, scheduled_epsilon
from game.registry import GAMES

CPU = torch.device("cpu")
CARTPOLE = GAMES["cartpole"]
DQN_SMALL = {
    "learning_starts": 50,
    "batch_size": 16,
    "buffer_size": 1_000,
    "hidden_sizes": [16, 16],
    "train_frequency": 4,
    "epsilon_decay_steps": 200,
    "eval_episodes": 2,
}
PQN_SMALL = {
    "num_envs": 2,
    "rollout_steps": 8,
    "update_epochs": 1,
    "minibatches": 2,
    "hidden_sizes": [16, 16],
    "epsilon_decay_steps": 200,
    "eval_episodes": 2,
}
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def dqn_config():
    return load_config("cartpole", overrides=DQN_SMALL)


def pqn_config():
    return load_config("cartpole", overrides=PQN_SMALL, algorithm="pqn")


def members(protocol: type) -> set[str]:
    """The attributes and methods a protocol (and the protocols it extends) names."""
    names: set[str] = set()
    for kind in protocol.__mro__:
        if kind in (object,) or kind.__module__ == "typing":
            continue
        names |= set(getattr(kind, "__annotations__", {}))
        names |= {name for name in vars(kind) if not name.startswith("_")}
    return names


def test_each_learner_has_both_trainers_and_they_build_from_the_configs_algorithm():
    assert set(LEARNERS) == {"dqn", "pqn"}
    assert isinstance(make_trainer(CARTPOLE, dqn_config(), CPU, 0), DQNTrainer)
    assert isinstance(make_live_trainer(CARTPOLE, dqn_config(), CPU, 0), DQNTrainer)
    assert isinstance(make_live_trainer(CARTPOLE, pqn_config(), CPU, 0), LivePQNTrainer)
    with pytest.raises(ValueError, match="no vector env"):  # PQN's C++ vector envs: Breakout's
        make_trainer(CARTPOLE, pqn_config(), CPU, 0)


def check_trainer(trainer: Trainer, steps: int) -> list[StepReport]:
    """Step ``trainer`` as the command line does and check each report against its counters."""
    assert members(Trainer) <= set(dir(trainer)), members(Trainer) - set(dir(trainer))
    reports, episodes = [], 0
    for _ in range(steps):
        before, schedule = trainer.global_step, trainer.scheduled_epsilon
        report = trainer.step()
        assert isinstance(report, StepReport)
        assert report.global_step == trainer.global_step > before
        assert report.env_steps == trainer.global_step - before
        assert report.epsilon <= schedule  # read at the step's start, falling since
        assert len(report.episode_returns) == len(report.episode_lengths)
        assert all(length > 0 for length in report.episode_lengths)
        episodes += len(report.episode_returns)
        assert report.episode == trainer.episode == episodes
        reports.append(report)
    assert episodes > 0, "no game ended: the test learned nothing about episodes"
    assert (
        list(trainer.recent_returns)[-3:]
        == [r for report in reports for r in report.episode_returns][-3:]
    )
    returns = trainer.evaluate(2, seed=5)
    assert returns.shape == (2,) and trainer.global_step == reports[-1].global_step
    assert trainer.last_loss is not None and trainer.learner.updates > 0
    return reports


def test_the_dqn_trainer_keeps_the_contract_and_a_real_replay_memory():
    trainer = make_trainer(CARTPOLE, dqn_config(), CPU, seed=1)
    assert type(trainer.replay) is ReplayBuffer and trainer.learner.target is not None
    reports = check_trainer(trainer, 120)
    assert [r.env_steps for r in reports] == [1] * 120
    assert [r.epsilon for r in reports[:3]] == [
        pytest.approx(scheduled_epsilon(trainer.config, step)) for step in range(3)
    ]
    assert trainer.replay.transitions == 120
    assert reports[30].loss is None and any(r.loss is not None for r in reports[50:])
    trainer.continue_counting({"global_step": 5_000, "episode": 7})
    assert (trainer.global_step, trainer.episode) == (5_000, 7)
    assert trainer.step().global_step == 5_001
    trainer.close()


@pytest.mark.slow
def test_the_command_lines_pqn_trainer_keeps_the_contract_with_no_replay_memory():
    config = load_config("breakout", overrides={**PQN_SMALL, "rollout_steps": 32})
    config = config.with_settings(hidden_sizes=[256, 256])  # Breakout's conv net ignores it
    trainer = make_trainer(GAMES["breakout"], config, CPU, seed=2)
    assert isinstance(trainer, PQNTrainer)
    assert trainer.replay is None and trainer.learner.target is None
    # One step is one iteration: every env plays the rollout, then it is learned from.
    reports = [trainer.step() for _ in range(2)]
    assert [r.global_step for r in reports] == [64, 128]
    assert [r.env_steps for r in reports] == [64, 64]
    assert all(r.shown is None for r in reports)  # the command line shows no game
    assert trainer.learner.updates == 2 * 2 and reports[-1].loss == trainer.last_loss
    assert trainer.episode == sum(len(r.episode_returns) for r in reports)
    trainer.close()


def check_live_trainer(trainer: LiveTrainer, n_actions: int, envs: int) -> None:
    """What the window asks of a live trainer, whatever its learner."""
    assert members(LiveTrainer) <= set(dir(trainer)), members(LiveTrainer) - set(dir(trainer))
    step, shown_steps = trainer.global_step, trainer.env_steps
    report = trainer.step()
    assert report.global_step == trainer.global_step == step + envs
    assert report.env_steps == envs and trainer.env_steps == shown_steps + 1
    shown = report.shown
    assert isinstance(shown, ShownStep)
    assert 0 <= shown.action < n_actions and len(shown.q_values) == n_actions
    assert isinstance(shown.greedy, bool) and isinstance(shown.reward, float)
    # Play without learning: the shown game moves, the schedule's clock does not.
    report = trainer.step(learn=False, epsilon=0.0)
    assert report.global_step == trainer.global_step == step + envs
    assert report.env_steps == 1 and report.loss is None
    assert report.shown.greedy and report.shown.action == int(np.argmax(report.shown.q_values))
    assert trainer.env_steps == shown_steps + 2
    # A person's action is played in the shown game; the agent's Q-values are still shown.
    for move in range(n_actions):
        report = trainer.step(action=move, epsilon=0.0)
        assert report.shown.action == move
        assert report.shown.greedy == (move == int(np.argmax(report.shown.q_values)))
    # Games end, with their score, in the shown game and the report.
    ends = [trainer.step(epsilon=1.0) for _ in range(120)]  # CartPole's random games: ~20 steps
    shown_ends = [r.shown.episode_return for r in ends if r.shown.episode_return is not None]
    assert shown_ends and all(
        r.shown.episode_return in r.episode_returns
        for r in ends
        if r.shown.episode_return is not None
    )
    assert trainer.obs.shape == (4,)  # CartPole's observation
    frame = trainer.frame()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    trainer.step(learn=False)
    trainer.restart_episode()
    assert trainer.episode_return == 0.0


def test_the_live_dqn_trainer_keeps_the_live_contract():
    trainer = make_live_trainer(CARTPOLE, dqn_config(), CPU, seed=3)
    check_live_trainer(trainer, n_actions=2, envs=1)
    assert type(trainer.replay) is ReplayBuffer
    trainer.step(action=0, demo=True)
    assert trainer.demo_steps == 1 and trainer.replay.demo_count >= 1
    trainer.close()


def test_the_live_pqn_trainer_keeps_the_live_contract_with_no_replay_memory():
    trainer = make_live_trainer(CARTPOLE, pqn_config(), CPU, seed=3)
    assert trainer.replay is None and trainer.learner.target is None
    check_live_trainer(trainer, n_actions=2, envs=2)
    assert trainer.learner.updates > 0
    trainer.close()


# ---- one epsilon-greedy ------------------------------------------------------------------------

ROWS = 20_000  # the share explored has a standard deviation <= 0.0036 at this many rows


@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.3, 0.5, 1.0])
def test_epsilon_greedy_explores_at_the_rate_asked(epsilon):
    q_values = np.random.default_rng(1).normal(size=(ROWS, 4)).astype(np.float32)
    best = q_values.argmax(axis=1)
    actions, greedy = epsilon_greedy(q_values, epsilon, np.random.default_rng(0))
    assert actions.shape == greedy.shape == (ROWS,)
    assert (~greedy).mean() == pytest.approx(epsilon, abs=0.015)  # > 4 standard deviations
    assert np.array_equal(actions[greedy], best[greedy])
    # Exploring picks any of the 4 actions alike, the greedy one included.
    assert (actions != best).mean() == pytest.approx(0.75 * epsilon, abs=0.015)
    explored = actions[~greedy]
    if len(explored) >= 1_000:
        shares = np.bincount(explored, minlength=4) / len(explored)
        assert shares == pytest.approx([0.25] * 4, abs=0.04)
    if epsilon == 0.0:
        assert greedy.all()
    if epsilon == 1.0:
        assert not greedy.any()


def test_the_policy_and_the_trainers_explore_with_the_one_epsilon_greedy(monkeypatch):
    torch.manual_seed(0)
    policy = Policy(build_q_network("mlp", (4,), 3, (8, 8)), CPU)
    obs = np.random.default_rng(2).normal(size=(500, 4)).astype(np.float32)
    # The same random draws as epsilon_greedy itself, batch or one observation.
    expected, _ = epsilon_greedy(policy.q_values(obs), 0.3, np.random.default_rng(5))
    assert np.array_equal(policy.actions(obs, 0.3, np.random.default_rng(5)), expected)
    mine, theirs = np.random.default_rng(6), np.random.default_rng(6)
    for row in obs[:50]:
        decision = policy.act(row, 0.3, mine)
        actions, greedy = epsilon_greedy(policy.q_values(row[None]), 0.3, theirs)
        assert isinstance(decision, Decision)
        assert (decision.action, decision.greedy) == (int(actions[0]), bool(greedy[0]))
    # The policy calls it, and PQN's trainers act through it too.
    calls = []

    def spy(q_values, epsilon, rng):
        calls.append(epsilon)
        return epsilon_greedy(q_values, epsilon, rng)

    monkeypatch.setattr(policy_module, "epsilon_greedy", spy)
    policy.act(obs[0], 0.25, mine)
    policy.actions(obs, 0.5, mine)
    assert calls == [0.25, 0.5]
    assert agent.pqn_live.epsilon_greedy is epsilon_greedy
    assert agent.pqn_trainer.epsilon_greedy is epsilon_greedy


@pytest.mark.parametrize("learner", ["dqn", "pqn"])
def test_a_live_trainer_explores_the_shown_game_at_the_rate_asked(learner):
    config = dqn_config() if learner == "dqn" else pqn_config()
    trainer = make_live_trainer(CARTPOLE, config, CPU, seed=8)
    shown = [trainer.step(learn=False, epsilon=0.3).shown for _ in range(1_500)]
    explored = np.mean([not step.greedy for step in shown])
    assert explored == pytest.approx(0.3, abs=0.05)  # sd 0.012 at 1,500 steps
    trainer.close()


# ---- counters and random generators go on exactly ------------------------------------------


def next_draws(trainer) -> tuple[np.ndarray, torch.Tensor]:
    return trainer.rng.random(8), torch.rand(8)


@pytest.mark.parametrize("learner", ["dqn", "pqn"])
def test_a_trainers_state_round_trips_its_random_generators(learner):
    config = dqn_config() if learner == "dqn" else pqn_config()
    first = make_live_trainer(CARTPOLE, config, CPU, seed=1)
    for _ in range(60):
        first.step()
    assert first.recent_returns
    state = first.state_dict()
    expected_np, expected_torch = next_draws(first)
    other = make_live_trainer(CARTPOLE, config, CPU, seed=99)
    assert not np.array_equal(next_draws(other)[0], expected_np)
    other.load_state_dict(state, replay_kept=False)
    got_np, got_torch = next_draws(other)
    assert np.array_equal(got_np, expected_np) and torch.equal(got_torch, expected_torch)
    assert list(other.recent_returns) == list(first.recent_returns)
    first.close()
    other.close()


def test_a_checkpoint_saved_on_a_cpu_keeps_no_cuda_generator(tmp_path):
    trainer = DQNTrainer(CARTPOLE, dqn_config(), CPU, seed=4)
    for _ in range(20):
        trainer.step()
    counters = {"global_step": trainer.global_step, "episode": trainer.episode}
    path = save_checkpoint(
        tmp_path / "run.pt", "cartpole", trainer.learner, counters,
        trainer_state=trainer.state_dict(),
    )  # fmt: skip
    state = trainer_state(read_checkpoint(path))
    assert state is not None and "cuda_rng" not in state
    assert {"rng", "torch_rng", "recent_returns"} <= set(state)
    expected = next_draws(trainer)
    resumed = DQNTrainer(CARTPOLE, dqn_config(), CPU, seed=5)
    resumed.load_state_dict(state, replay_kept=False)  # read back from the file
    got = next_draws(resumed)
    assert np.array_equal(got[0], expected[0]) and torch.equal(got[1], expected[1])
    trainer.close()
    resumed.close()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_a_trainer_on_a_gpu_keeps_and_restores_the_gpus_generator():
    cuda = torch.device("cuda")
    trainer = DQNTrainer(CARTPOLE, dqn_config(), cuda, seed=4)
    for _ in range(60):
        trainer.step()
    state = trainer.state_dict()
    assert "cuda_rng" in state
    expected = torch.rand(8, device=cuda)
    resumed = DQNTrainer(CARTPOLE, dqn_config(), cuda, seed=5)
    resumed.load_state_dict(state, replay_kept=False)
    assert torch.equal(torch.rand(8, device=cuda), expected)
    trainer.close()
    resumed.close()
