"""Other libraries' DQN agents play here as they play in their own library, and ours open in
Stable-Baselines3: real SB3 models (trained or saved by the pinned dev dependency), CleanRL's
network classes as its scripts define them, the same actions on the same observations."""

from __future__ import annotations

import base64
import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from agent.agent_files import load_policy
from agent.checkpoint import CheckpointError
from agent.config import load_config
from agent.dqn import DQNLearner
from agent.interop import read_agent_file, write_sb3_zip
from agent.pqn import PQNLearner
from game.registry import GAMES
from tests.test_cli import assert_one_line_error, call_main

sb3 = pytest.importorskip("stable_baselines3")
CPU = torch.device("cpu")
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def cartpole_observations(count: int = 300) -> np.ndarray:
    """States a CartPole agent meets, and some it rarely does (where actions differ most)."""
    rng = np.random.default_rng(0)
    scale = np.array([1.5, 1.5, 0.15, 1.5], dtype=np.float32)
    return (rng.normal(size=(count, 4)) * scale).astype(np.float32)


def breakout_observations(count: int = 12) -> np.ndarray:
    """Real frame stacks from a few hundred random steps of the game."""
    env = GAMES["breakout"].make_env()
    obs, _ = env.reset(seed=3)
    stacks, rng = [], np.random.default_rng(3)
    while len(stacks) < count:
        for _ in range(20):
            obs, _, terminated, truncated, _ = env.step(int(rng.integers(4)))
            if terminated or truncated:
                obs, _ = env.reset()
        stacks.append(obs)
    env.close()
    return np.stack(stacks)


def sb3_q_values(model, obs: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        tensor, _ = model.policy.obs_to_tensor(obs)
        return model.q_net(tensor).numpy()


@pytest.fixture(scope="module")
def sb3_cartpole(tmp_path_factory) -> Path:
    """A real SB3 DQN, trained a few hundred steps on CartPole and saved as ``model.save``."""
    model = sb3.DQN(
        "MlpPolicy", "CartPole-v1", learning_starts=100, buffer_size=1_000, learning_rate=2.3e-3,
        target_update_interval=100, seed=0, device="cpu",
    )  # fmt: skip
    model.learn(600)
    path = tmp_path_factory.mktemp("sb3") / "dqn-CartPole-v1.zip"
    model.save(path)
    return path


@pytest.mark.slow
def test_an_sb3_cartpole_dqn_chooses_here_what_it_chooses_in_sb3(sb3_cartpole):
    model = sb3.DQN.load(sb3_cartpole, device="cpu")
    agent = load_policy(sb3_cartpole, GAMES["cartpole"], CPU)
    obs = cartpole_observations()
    ours = agent.policy.q_values(obs)
    np.testing.assert_allclose(ours, sb3_q_values(model, obs), rtol=1e-5, atol=1e-6)
    theirs, _ = model.predict(obs, deterministic=True)
    assert np.array_equal(ours.argmax(axis=1), theirs)
    assert len(set(theirs)) == 2  # both actions occur: the comparison can tell them apart
    assert agent.config.hidden_sizes == (64, 64)  # SB3's default net_arch, read off the weights
    assert agent.counters["global_step"] == 600
    assert "Stable-Baselines3" in agent.info["source"]


@pytest.mark.parametrize("normalize_images", [True, False])
@pytest.mark.slow
def test_an_sb3_breakout_cnn_gives_the_same_q_values_here(tmp_path, normalize_images):
    env = GAMES["breakout"].make_env()
    model = sb3.DQN("CnnPolicy", env, buffer_size=100, seed=1, device="cpu",
                    policy_kwargs={"normalize_images": normalize_images})  # fmt: skip
    env.close()
    path = tmp_path / "dqn-BreakoutNoFrameskip-v4.zip"
    model.save(path)
    agent = load_policy(path, GAMES["breakout"], CPU)
    assert agent.config.network == "nature_cnn"
    obs = breakout_observations()
    ours, theirs = agent.policy.q_values(obs), sb3_q_values(model, obs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    assert np.array_equal(ours.argmax(1), model.predict(obs, True)[0])


class CleanRLQNetwork(nn.Module):
    """CleanRL dqn.py's QNetwork, as that script defines it."""

    def __init__(self, n_inputs: int, n_actions: int) -> None:
        super().__init__()
        self.network = nn.Sequential(
            nn.Linear(n_inputs, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, n_actions),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)


class CleanRLAtariQNetwork(nn.Module):
    """CleanRL dqn_atari.py's QNetwork: pixels scaled inside the forward pass."""

    def __init__(self, n_actions: int) -> None:
        super().__init__()
        self.network = nn.Sequential(
            nn.Conv2d(4, 32, 8, stride=4), nn.ReLU(), nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(), nn.Flatten(),
            nn.Linear(3136, 512), nn.ReLU(), nn.Linear(512, n_actions),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x / 255.0)


@pytest.mark.slow
def test_cleanrl_models_give_the_same_q_values_here(tmp_path):
    torch.manual_seed(0)
    cases = [
        ("cartpole", CleanRLQNetwork(4, 2), cartpole_observations()),
        ("breakout", CleanRLAtariQNetwork(4), breakout_observations()),
    ]
    for game, network, obs in cases:
        path = tmp_path / f"{game}-dqn.cleanrl_model"
        torch.save(network.state_dict(), path)  # as CleanRL's scripts save their models
        agent = load_policy(path, GAMES[game], CPU)
        with torch.no_grad():
            theirs = network(torch.as_tensor(obs).float()).numpy()
        np.testing.assert_allclose(agent.policy.q_values(obs), theirs, rtol=1e-4, atol=1e-5)
        assert "CleanRL" in agent.info["source"]


@pytest.mark.slow
def test_our_agents_open_in_sb3_and_choose_the_same_actions(tmp_path):
    shipped = load_policy(Path("saves/cartpole.pt"), GAMES["cartpole"], CPU)
    config = load_config(
        "breakout", algorithm="dqn", overrides={"buffer_size": 1000, "mixed_precision": False}
    )
    torch.manual_seed(2)
    cnn = DQNLearner((4, 84, 84), 4, config, CPU)
    cases = [
        ("cartpole", shipped.policy, shipped.config, cartpole_observations(), shipped.counters),
        ("breakout", cnn.policy, config, breakout_observations(), {"global_step": 7}),
    ]
    for game, policy, agent_config, obs, counters in cases:
        path = write_sb3_zip(tmp_path / f"{game}.zip", GAMES[game], policy, agent_config, counters)
        model = sb3.DQN.load(path, device="cpu")
        actions, _ = model.predict(obs, deterministic=True)
        ours = policy.q_values(obs)
        assert np.array_equal(actions, ours.argmax(axis=1)), game
        np.testing.assert_allclose(sb3_q_values(model, obs), ours, rtol=1e-4, atol=1e-5)
        assert model.num_timesteps == counters["global_step"]
        # And back again: the zip reads here as the agent it was written from.
        again = read_agent_file(path, GAMES[game])
        for name, weight in policy.network.state_dict().items():
            torch.testing.assert_close(again["online"][name], weight.float())


def test_export_format_sb3_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "cartpole-sb3.zip"
    code, _, err = call_main(
        ["export", "cartpole", "--format", "sb3", "--out", str(out), "--episodes", "2"], capsys
    )
    assert code == 0, err
    model = sb3.DQN.load(out, device="cpu")
    obs = cartpole_observations(50)
    shipped = load_policy(Path("saves/cartpole.pt"), GAMES["cartpole"], CPU).policy
    assert np.array_equal(model.predict(obs, True)[0], shipped.q_values(obs).argmax(1))


def test_networks_sb3_has_not_are_refused_with_one_line(tmp_path):
    pqn_config = load_config("breakout")
    pqn = PQNLearner((4, 84, 84), 4, pqn_config, CPU)
    dueling = DQNLearner((4,), 2, load_config("cartpole", overrides={"dueling": True}), CPU)
    for learner, what in ((pqn, "nature_cnn_ln"), (dueling, "dueling")):
        game = GAMES["breakout" if learner is pqn else "cartpole"]
        with pytest.raises(CheckpointError, match=what) as refused:
            write_sb3_zip(tmp_path / "x.zip", game, learner.policy, learner.config, {})
        assert "\n" not in str(refused.value)
    assert not (tmp_path / "x.zip").exists()


def _rewrite(source: Path, target: Path, **entries: bytes) -> Path:
    """``source``'s zip with some entries replaced."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            new.writestr(name, entries.get(name.replace(".", "_"), old.read(name)))
    return target


def torch_bytes(value) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


class Boom:
    def __reduce__(self):
        return (print, ("this ran",))


def test_foreign_files_that_are_not_what_they_claim_are_refused(sb3_cartpole, tmp_path, capsys):
    data = json.loads(zipfile.ZipFile(sb3_cartpole).read("data"))
    data["policy_class"]["__module__"] = "stable_baselines3.ppo.policies"
    ppo = _rewrite(sb3_cartpole, tmp_path / "ppo.zip", data=json.dumps(data).encode())
    code_in_weights = tmp_path / "evil.zip"
    _rewrite(sb3_cartpole, code_in_weights, policy_pth=torch_bytes(Boom()))
    # A serialized value that would run code if anything unpickled it.
    data = json.loads(zipfile.ZipFile(sb3_cartpole).read("data"))
    data["observation_space"][":serialized:"] = base64.b64encode(pickle.dumps(Boom())).decode()
    evil_data = _rewrite(sb3_cartpole, tmp_path / "evil-data.zip", data=json.dumps(data).encode())
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(sb3_cartpole.read_bytes()[:-300])
    cleanrl_cartpole = tmp_path / "cartpole.cleanrl_model"
    torch.save(CleanRLQNetwork(4, 2).state_dict(), cleanrl_cartpole)
    stray = tmp_path / "notes.cleanrl_model"
    torch.save({"step": torch.tensor(3)}, stray)
    cases = [
        ("cartpole", ppo, "PPO model; only DQN"),
        ("cartpole", code_in_weights, "refused, it holds objects other than tensors"),
        ("cartpole", truncated, "corrupt or truncated"),
        ("breakout", sb3_cartpole, "does not fit Breakout"),
        ("breakout", cleanrl_cartpole, "does not fit Breakout"),
        ("cartpole", stray, "no Q-network weights"),
    ]
    for game, path, message in cases:
        code, out, err = call_main(["eval", game, "--checkpoint", str(path)], capsys)
        assert code == 1 and message in assert_one_line_error(err), (path, err)
        assert "this ran" not in out
    # The pickled values in ``data`` are never unpickled: the weights alone are enough.
    agent = load_policy(evil_data, GAMES["cartpole"], CPU)
    assert capsys.readouterr().out == ""
    assert agent.config.hidden_sizes == (64, 64)


def test_the_window_loads_an_sb3_model_and_lists_one_named_for_the_game(sb3_cartpole, tmp_path):
    from agent.live.channels import Load, Step
    from agent.live.session import TrainingSession
    from tests.support import SMALL, wait_for
    from ui.saves import list_checkpoints

    (tmp_path / "mine").mkdir()
    listed = tmp_path / "mine" / sb3_cartpole.name
    listed.write_bytes(sb3_cartpole.read_bytes())
    (tmp_path / "dqn-BreakoutNoFrameskip-v4.zip").write_bytes(b"not for cartpole")
    assert list_checkpoints(tmp_path, "cartpole") == [listed]
    config = load_config("cartpole", overrides=SMALL["cartpole"])
    session = TrainingSession(GAMES["cartpole"], config, CPU, paused=True).start()
    try:
        wait_for(session, lambda s: s.ready)
        session.send(Load(listed))
        loaded = wait_for(session, lambda s: s.message.text.startswith("loaded"))
        assert (
            loaded.training.global_step == 600 and sb3_cartpole.name in loaded.training.agent_source
        )
        obs = loaded.picture.obs  # what the network receives next
        session.send(Step())
        stepped = wait_for(session, lambda s: s.training.env_steps > loaded.training.env_steps)
        model = sb3.DQN.load(sb3_cartpole, device="cpu")
        # The Q-values the window shows for that step are SB3's for that observation.
        theirs = sb3_q_values(model, obs[None])[0]
        np.testing.assert_allclose(stepped.decision.q_values, theirs, rtol=1e-5)
        assert len(stepped.decision.q_values) == 2
    finally:
        session.close()


def test_a_model_dropped_onto_the_window_loads(make_app, sb3_cartpole):
    import pygame

    from tests.test_app import run_until

    app = make_app("cartpole")
    run_until(app, lambda s: s.ready)
    pygame.event.post(pygame.event.Event(pygame.DROPFILE, file=str(sb3_cartpole)))
    loaded = run_until(app, lambda s: s.message.text.startswith("loaded"))
    assert sb3_cartpole.name in loaded.training.agent_source and loaded.training.global_step == 600
