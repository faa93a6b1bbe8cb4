"""Agent files after the one-learner-contract refactor: every shipped agent loads as a Policy,
building no optimizer, and plays; eval, record and export take a PQN checkpoint and a DQN one
alike; a checkpoint of the previous app version (its config flat, not in sections) still
resumes with `train -i`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import agent.adam
import agent.dqn
from agent import commands
from agent.agent_files import load_policy
from agent.checkpoint import read_checkpoint, replay_path, save_checkpoint
from agent.config import SECTIONS, DQNSettings, PQNSettings, load_config
from agent.dqn import DQNLearner
from agent.evaluation import make_game_env
from agent.pqn import PQNLearner
from game.registry import GAMES
from tests.test_cli import call_main, last_json

ROOT = Path(__file__).resolve().parent.parent
SAVES = ROOT / "saves"
CPU = torch.device("cpu")
SHIPPED = sorted(p for p in SAVES.rglob("*.pt") if "mine" not in p.relative_to(SAVES).parts)
COUNTERS = {"global_step": 2048, "episode": 3, "updates": 16}
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def game_of(path: Path) -> str:
    """The game a shipped file is for: ``breakout-after-1h.pt`` and ``breakout-10m.pt`` too."""
    return path.stem.split("-")[0]


@pytest.fixture
def no_optimizers(monkeypatch):
    """Building any optimizer fails the test: playing needs none."""

    def refuse(*args, **kwargs):
        raise AssertionError("an optimizer was built to play")

    for owner, name in ((torch.optim, "RAdam"), (torch.optim, "Adam"), (agent.adam, "Adam")):
        monkeypatch.setattr(owner, name, refuse)
    monkeypatch.setattr(agent.dqn, "Adam", refuse)


def play(agent_file, game: str, steps: int) -> float:
    """Greedy play of up to ``steps`` agent steps of one game; its score."""
    env = make_game_env(GAMES[game], agent_file.config, train=False)
    obs, _ = env.reset(seed=0)
    rng, total = np.random.default_rng(0), 0.0
    for _ in range(steps):
        decision = agent_file.policy.act(obs, 0.0, rng)
        assert decision.greedy and decision.q_values.shape == (agent_file.policy.n_actions,)
        obs, reward, terminated, truncated, _ = env.step(decision.action)
        total += float(reward)
        if terminated or truncated:
            break
    env.close()
    return total


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, marks=[pytest.mark.slow] if "breakout" in p.name else []) for p in SHIPPED],
    ids=lambda p: str(p.relative_to(SAVES)),
)
def test_every_shipped_agent_loads_as_a_policy_and_plays_without_an_optimizer(path, no_optimizers):
    game = game_of(path)
    loaded = load_policy(path, GAMES[game], CPU)
    saved = read_checkpoint(path)
    # Most predate config sections (their config is one flat mapping); the newer have sections.
    sections = [name for name in SECTIONS if isinstance(saved["config"].get(name), dict)]
    assert sections in ([], [loaded.config.algorithm])
    assert loaded.config.algorithm == saved["config"].get("algorithm", "dqn")
    assert loaded.counters == saved["counters"]
    if game == "breakout":  # a whole game of a good agent is long: it scores within 300 steps
        assert play(loaded, game, 300) > 0
    else:  # fruit catch and CartPole were shipped solved: a whole game, a perfect score
        assert play(loaded, game, 1_000) == saved["info"]["eval_max"]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Training checkpoints (with optimizer state) of each learner, each made when first asked
    for: PQN on Breakout, its learner, untrained; DQN on CartPole, small."""
    folder = tmp_path_factory.mktemp("agents")
    made: dict[str, tuple[str, Path]] = {}

    def checkpoint(kind: str) -> tuple[str, Path]:
        if kind not in made:
            torch.manual_seed(0)
            if kind == "pqn":
                game, learner = "breakout", PQNLearner((4, 84, 84), 4, load_config("breakout"), CPU)
            else:
                config = load_config("cartpole", overrides={"hidden_sizes": [32, 32]})
                game, learner = "cartpole", DQNLearner((4,), 2, config, CPU)
            path = save_checkpoint(folder / f"{kind}.pt", game, learner, COUNTERS, {"seed": 0})
            made[kind] = (game, path)
        return made[kind]

    return checkpoint


@pytest.mark.parametrize("kind", [pytest.param("pqn", marks=pytest.mark.slow), "dqn"])
def test_eval_record_and_export_take_a_pqn_and_a_dqn_checkpoint(
    kind, checkpoints, tmp_path, capsys
):
    game, path = checkpoints(kind)
    given = ["--checkpoint", str(path), "--device", "cpu"]
    # An untrained Breakout paddle may stand still for ever: random play ends its game.
    scoring = ["--episodes", "1", "--epsilon", "1.0" if game == "breakout" else "0"]
    code, out, err = call_main(["eval", game, *given, *scoring, "--json"], capsys)
    assert code == 0, err
    summary = last_json(out)
    assert summary["train_steps"] == COUNTERS["global_step"] and summary["eval_episodes"] == 1

    gif = tmp_path / "play.gif"
    recording = ["--out", str(gif), "--max-frames", "8"]
    code, _, err = call_main(["record", game, *given, *recording], capsys)
    assert code == 0, err
    with Image.open(gif) as image:
        assert image.n_frames == 8

    shipped = tmp_path / "shipped.pt"
    code, _, err = call_main(["export", game, *given, *scoring, "--out", str(shipped)], capsys)
    assert code == 0, err
    payload = read_checkpoint(shipped)
    assert payload["config"]["algorithm"] == kind and kind in payload["config"]
    assert "optimizer" not in payload and "target" not in payload
    assert payload["info"]["train_steps"] == COUNTERS["global_step"]
    before, after = load_policy(path, GAMES[game], CPU), load_policy(shipped, GAMES[game], CPU)
    assert after.config == before.config and after.counters == before.counters


# ---- a checkpoint of the previous app version ---------------------------------------------


def flat_config(sectioned: dict, algorithm_key: bool = True) -> dict:
    """A config as checkpoints kept it before sections: every learner's keys at the top level
    (the other learner's at their defaults); the oldest had no ``algorithm`` key (DQN)."""
    algorithm = sectioned["algorithm"]
    flat = {**dataclasses.asdict(DQNSettings()), **dataclasses.asdict(PQNSettings())}
    flat.update({k: v for k, v in sectioned.items() if k not in SECTIONS})
    flat.update(sectioned[algorithm])
    if not algorithm_key:
        del flat["algorithm"]
    return flat


def as_previous_version(path: Path, algorithm_key: bool = True) -> Path:
    """``path`` rewritten with its config in the previous version's flat layout."""
    payload = read_checkpoint(path)
    payload["config"] = flat_config(payload["config"], algorithm_key)
    old = path.with_name(f"old-{path.name}")
    torch.save(payload, old)
    return old


@pytest.mark.parametrize("algorithm_key", [True, False], ids=["algorithm-key", "no-algorithm"])
@pytest.mark.slow
def test_a_dqn_checkpoint_with_a_flat_config_resumes(tmp_path, capsys, algorithm_key):
    config = load_config("fruit", overrides={"learning_starts": 120, "eval_episodes": 5})
    first = tmp_path / "fruit.pt"
    commands.train(
        GAMES["fruit"],
        config,
        CPU,
        seed=0,
        steps=300,
        save_path=first,
        progress=False,
        keep_replay=True,
    )
    old = as_previous_version(first, algorithm_key)
    replay_path(first).rename(replay_path(old))  # its replay memory goes with it
    resumed = tmp_path / "resumed.pt"
    argv = ["train", "fruit", "-i", str(old), "-n", "100", "--save", str(resumed)]
    code, _, err = call_main([*argv, "--device", "cpu"], capsys)
    assert code == 0, err
    assert f"resumed {old} at step 300, with replay memory of 300 transitions" in err
    payload = read_checkpoint(resumed)
    assert payload["counters"]["global_step"] == 400
    assert payload["counters"]["updates"] > read_checkpoint(first)["counters"]["updates"]
    # Its own settings went on (not fruit.yaml's learning_starts of 200), saved in sections.
    assert payload["config"]["dqn"]["learning_starts"] == 120
    assert "num_envs" not in payload["config"] and "pqn" not in payload["config"]


@pytest.mark.slow
def test_a_pqn_checkpoint_with_a_flat_config_resumes(checkpoints, tmp_path, capsys):
    _, path = checkpoints("pqn")
    old = as_previous_version(path)
    resumed = tmp_path / "resumed.pt"
    small = ["--envs", "2", "--set", "rollout_steps=8", "--set", "minibatches=2"]
    small += ["--set", "update_epochs=1", "--eval-episodes", "1"]
    argv = ["train", "breakout", "-i", str(old), "-n", "16", "--save", str(resumed), *small]
    code, _, err = call_main([*argv, "--device", "cpu"], capsys)
    assert code == 0, err
    payload = read_checkpoint(resumed)
    assert payload["counters"]["global_step"] == COUNTERS["global_step"] + 16
    assert payload["counters"]["updates"] == COUNTERS["updates"] + 2
    assert payload["config"]["pqn"]["num_envs"] == 2 and "buffer_size" not in payload["config"]
