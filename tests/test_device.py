"""What runs on the device: the learners' updates, play and checkpoints. On the CPU by default;
``ARCADE_TEST_DEVICE=cuda`` runs the same on a GPU (benchmarks/gpu_check.py does), where each
result must match the CPU's to within float rounding."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from agent.agent_files import load_policy
from agent.checkpoint import save_checkpoint
from agent.config import load_config
from agent.dqn import DQNLearner
from agent.dqn_trainer import DQNTrainer
from agent.pqn import PQNLearner
from agent.replay import Batch
from game.registry import GAMES

DEVICE = torch.device(os.environ.get("ARCADE_TEST_DEVICE", "cpu"))
CPU = torch.device("cpu")
SAVES = Path(__file__).resolve().parent.parent / "saves"
TOLERANCE = 1e-3  # a GPU's float32 kernels round differently, not by more


def _fruit_batch(rng: np.random.Generator, size: int = 32) -> Batch:
    obs = rng.integers(0, 2, size=(size, 1, 15, 15)).astype(np.float32)
    return Batch(
        obs=obs,
        action=rng.integers(0, 3, size=size),
        reward=rng.choice([-1.0, 0.0, 1.0], size=size).astype(np.float32),
        next_obs=rng.permutation(obs),
        discount=np.full(size, 0.81, dtype=np.float32),
        terminated=rng.random(size) < 0.1,
        demo=np.zeros(size, dtype=bool),
        index=np.arange(size),
    )


def test_a_dqn_update_on_the_device_matches_the_cpu():
    config = load_config("fruit").with_settings(mixed_precision=False)
    learners = {}
    for device in (CPU, DEVICE):
        torch.manual_seed(0)
        learners[device.type] = DQNLearner((1, 15, 15), 3, config, device)
    batch = _fruit_batch(np.random.default_rng(0))
    losses = {name: [learner.update(batch) for _ in range(3)] for name, learner in learners.items()}
    assert np.allclose(losses["cpu"], losses[DEVICE.type], atol=TOLERANCE)
    obs = batch.obs[:4]
    cpu_q = learners["cpu"].policy.q_values(obs)
    device_q = learners[DEVICE.type].policy.q_values(obs)
    assert np.allclose(cpu_q, device_q, atol=TOLERANCE)


def test_a_pqn_update_on_the_device_matches_the_cpu():
    config = load_config("breakout").with_settings(mixed_precision=False)
    learners = {}
    for device in (CPU, DEVICE):
        torch.manual_seed(0)
        learners[device.type] = PQNLearner((4, 84, 84), 4, config, device)
    rng = np.random.default_rng(1)
    obs = rng.integers(0, 256, size=(16, 4, 84, 84), dtype=np.uint8)
    actions, returns = rng.integers(0, 4, size=16), rng.normal(size=16).astype(np.float32)
    losses = {name: learner.update(obs, actions, returns) for name, learner in learners.items()}
    assert losses["cpu"] == pytest.approx(losses[DEVICE.type], abs=TOLERANCE)
    assert learners[DEVICE.type].target is None  # PQN learns without one, on any device


@pytest.mark.parametrize("game", ["fruit", "cartpole", "breakout"])
def test_the_shipped_agent_plays_the_same_on_the_device(game):
    on_cpu = load_policy(SAVES / f"{game}.pt", GAMES[game], CPU)
    on_device = load_policy(SAVES / f"{game}.pt", GAMES[game], DEVICE)
    assert next(on_device.policy.network.parameters()).device.type == DEVICE.type
    env = GAMES[game].make_env(train=False)
    obs, _ = env.reset(seed=3)
    env.close()
    cpu_q, device_q = on_cpu.policy.q_values(obs[None]), on_device.policy.q_values(obs[None])
    assert np.allclose(cpu_q, device_q, atol=TOLERANCE)
    assert cpu_q.argmax() == device_q.argmax()


def test_a_checkpoint_from_the_device_loads_anywhere_and_keeps_its_generators(tmp_path):
    config = load_config("fruit", overrides={"learning_starts": 50, "buffer_size": 500})
    trainer = DQNTrainer(GAMES["fruit"], config, DEVICE, seed=2)
    for _ in range(120):
        report = trainer.step()
    assert report.global_step == 120 and trainer.learner.updates > 0
    counters = {"global_step": trainer.global_step, "episode": trainer.episode}
    state = trainer.state_dict()
    assert ("cuda_rng" in state) == (DEVICE.type == "cuda")  # a GPU resume needs its generator
    path = save_checkpoint(tmp_path / "run.pt", "fruit", trainer.learner, counters, None, state)
    trainer.close()
    payload = torch.load(path, map_location="cpu", weights_only=True)
    assert all(tensor.device.type == "cpu" for tensor in payload["online"].values())
    loaded = load_policy(path, GAMES["fruit"], CPU)
    obs = np.zeros((1, 1, 15, 15), dtype=np.float32)
    expected = trainer.learner.policy.q_values(obs)
    assert np.allclose(loaded.policy.q_values(obs), expected, atol=TOLERANCE)
