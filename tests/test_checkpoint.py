"""Checkpoints: save -> load gives the same agent; a bad file changes nothing and says why in
one line; a save that fails part-way leaves the previous checkpoint whole."""

from __future__ import annotations

import ast
import errno
from pathlib import Path

import numpy as np
import pytest
import torch

import agent.checkpoint as checkpoint_module
from agent.checkpoint import (
    FORMAT,
    CheckpointError,
    load_into,
    read_checkpoint,
    save_checkpoint,
    save_for_shipping,
)
from agent.config import load_config
from agent.dqn import DQNLearner
from game.registry import GAMES

ROOT = Path(__file__).resolve().parent.parent
CPU = torch.device("cpu")
SHAPES = {"fruit": ((1, 15, 15), 3), "cartpole": ((4,), 2), "breakout": ((4, 84, 84), 4)}
SMALL = {"hidden_sizes": [32, 32], "buffer_size": 1_000}
COUNTERS = {"global_step": 1234, "episode": 56, "updates": 78}


def make_learner(game: str, seed: int, **overrides) -> DQNLearner:
    torch.manual_seed(seed)
    config = load_config(game, None, {**SMALL, **overrides}, algorithm="dqn")
    obs_shape, n_actions = SHAPES[game]
    learner = DQNLearner(obs_shape, n_actions, config, CPU)
    learner.updates = seed
    return learner


def random_obs(game: str, count: int, seed: int = 0) -> np.ndarray:
    obs_shape, _ = SHAPES[game]
    rng = np.random.default_rng(seed)
    if game == "breakout":
        return rng.integers(0, 256, size=(count, *obs_shape), dtype=np.uint8)
    if game == "fruit":
        return (rng.random((count, *obs_shape)) < 0.1).astype(np.float32)
    return rng.normal(size=(count, *obs_shape)).astype(np.float32)


def train_a_little(learner: DQNLearner, game: str) -> None:
    """A few Adam steps, so the optimizer has state worth saving."""
    obs = torch.as_tensor(random_obs(game, 8, seed=5))
    for _ in range(2):
        loss = learner.online(obs).pow(2).mean()
        learner.optimizer.zero_grad()
        loss.backward()
        learner.optimizer.step()


def snapshot(learner: DQNLearner) -> dict[str, torch.Tensor]:
    state = {f"online.{k}": v.clone() for k, v in learner.online.state_dict().items()}
    state |= {f"target.{k}": v.clone() for k, v in learner.target.state_dict().items()}
    for i, s in learner.optimizer.state_dict()["state"].items():
        state |= {f"adam.{i}.{k}": torch.as_tensor(v).clone() for k, v in s.items()}
    return state


def assert_unchanged(learner: DQNLearner, before: dict[str, torch.Tensor]) -> None:
    after = snapshot(learner)
    assert after.keys() == before.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


def assert_one_line(error: BaseException) -> str:
    message = str(error)
    assert message.strip() and "\n" not in message, repr(message)
    assert "Traceback" not in message
    return message


@pytest.fixture(scope="module")
def cartpole_file(tmp_path_factory) -> Path:
    learner = make_learner("cartpole", seed=1)
    train_a_little(learner, "cartpole")
    return save_checkpoint(
        tmp_path_factory.mktemp("ckpt") / "cartpole.pt", "cartpole", learner, COUNTERS
    )


@pytest.fixture
def victim() -> tuple[DQNLearner, dict[str, torch.Tensor]]:
    """A cartpole learner that bad files are loaded into, and its state before."""
    learner = make_learner("cartpole", seed=2)
    train_a_little(learner, "cartpole")
    return learner, snapshot(learner)


# ---- save -> load -------------------------------------------------------------------------


@pytest.mark.parametrize("game", sorted(GAMES))
@pytest.mark.slow
def test_save_load_gives_identical_greedy_actions(game, tmp_path):
    saved = make_learner(game, seed=1)
    train_a_little(saved, game)
    fresh = make_learner(game, seed=2)
    obs = random_obs(game, 256)
    assert not np.array_equal(saved.policy.q_values(obs), fresh.policy.q_values(obs))

    path = save_checkpoint(tmp_path / f"{game}.pt", game, saved, COUNTERS, {"eval_mean": 0.5})
    payload = load_into(path, game, fresh)

    ours, theirs = fresh.policy.q_values(obs), saved.policy.q_values(obs)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(ours.argmax(1), theirs.argmax(1))
    assert_unchanged(fresh, snapshot(saved))  # target net and Adam moments too
    assert fresh.updates == COUNTERS["updates"]
    assert payload["counters"] == COUNTERS and payload["game"] == game
    assert payload["info"] == {"eval_mean": 0.5}
    assert payload["format"] == FORMAT


@pytest.mark.parametrize("game", sorted(GAMES))
@pytest.mark.slow
def test_shipping_checkpoint_is_half_precision_and_acts_the_same(game, tmp_path):
    saved = make_learner(game, seed=1)
    full = save_checkpoint(tmp_path / "full.pt", game, saved, COUNTERS)
    ship = save_for_shipping(tmp_path / "ship.pt", game, saved.online, saved.config, COUNTERS)
    payload = read_checkpoint(ship)
    floats = [v for v in payload["online"].values() if v.is_floating_point()]
    assert floats and all(v.dtype == torch.float16 for v in floats)
    assert "optimizer" not in payload and "target" not in payload
    assert ship.stat().st_size < 0.6 * full.stat().st_size

    fresh = make_learner(game, seed=2)
    load_into(ship, game, fresh)
    obs = random_obs(game, 1_000, seed=3)
    ours, theirs = fresh.policy.q_values(obs), saved.policy.q_values(obs)
    assert np.mean(ours.argmax(1) == theirs.argmax(1)) >= 0.99
    # The target starts as the online net (kept in bf16 where the learner trains in bf16).
    target, online = fresh.target.state_dict(), fresh.online.state_dict()
    assert all(torch.equal(target[k], online[k].to(target[k].dtype)) for k in online)


# ---- atomic save --------------------------------------------------------------------------


def failing_save(exception: BaseException):
    def save(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a checkpoint")  # some bytes reach the disk first
        raise exception

    return save


@pytest.mark.parametrize(
    "target, exception",
    [
        ("torch.save", OSError(errno.ENOSPC, "No space left on device")),
        ("torch.save", RuntimeError("PytorchStreamWriter failed writing file data/3\nmore")),
        ("os.replace", PermissionError(errno.EACCES, "Permission denied")),
    ],
)
def test_failed_save_leaves_previous_checkpoint_whole(tmp_path, monkeypatch, target, exception):
    learner = make_learner("cartpole", seed=1)
    path = save_checkpoint(tmp_path / "run.pt", "cartpole", learner, COUNTERS)
    before = path.read_bytes()
    train_a_little(learner, "cartpole")

    if target == "torch.save":
        monkeypatch.setattr(checkpoint_module.torch, "save", failing_save(exception))
    else:

        def failing_replace(src, dst):
            raise exception

        monkeypatch.setattr(checkpoint_module.os, "replace", failing_replace)
    with pytest.raises(CheckpointError) as caught:
        save_checkpoint(path, "cartpole", learner, {"global_step": 9999})
    message = assert_one_line(caught.value)
    assert str(path) in message
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]  # no temp files left
    assert read_checkpoint(path)["counters"] == COUNTERS


def test_interrupted_save_leaves_no_temp_file(tmp_path, monkeypatch):
    """Ctrl+C in the middle of writing: the old checkpoint stays and no temp file is left."""
    learner = make_learner("cartpole", seed=1)
    path = save_checkpoint(tmp_path / "run.pt", "cartpole", learner, COUNTERS)
    before = path.read_bytes()
    monkeypatch.setattr(checkpoint_module.torch, "save", failing_save(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, "cartpole", learner, COUNTERS)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]


def test_save_creates_missing_folders(tmp_path):
    path = tmp_path / "a" / "b" / "run.pt"
    save_checkpoint(path, "cartpole", make_learner("cartpole", seed=1), COUNTERS)
    assert read_checkpoint(path)["game"] == "cartpole"


# ---- bad files ----------------------------------------------------------------------------


def bad_file(kind: str, good: Path, folder: Path) -> Path:
    path = folder / f"{kind}.pt"
    data = good.read_bytes()
    if kind == "corrupt":
        middle = len(data) // 2
        path.write_bytes(
            data[:middle]
            + bytes(b ^ 0x5A for b in data[middle : middle + 64])
            + data[middle + 64 :]
        )
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("gamma: 0.99\nthis is a note, not a checkpoint\n", encoding="utf-8")
    elif kind == "random":
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    elif kind == "other_dict":
        torch.save({"state_dict": {"w": torch.zeros(3)}, "epoch": 3}, path)
    elif kind == "tensor":
        torch.save(torch.zeros(4), path)
    elif kind == "missing_parts":
        payload = read_checkpoint(good)
        del payload["online"]
        torch.save(payload, path)
    elif kind == "wrong_weights":
        payload = read_checkpoint(good)  # signature fits, tensors do not
        name = next(iter(payload["online"]))
        payload["online"][name] = torch.zeros(3, 3)
        torch.save(payload, path)
    elif kind == "online_not_tensors":
        payload = read_checkpoint(good)
        payload["online"] = {"head.0.weight": "not a tensor"}
        torch.save(payload, path)
    elif kind == "bad_counters":
        payload = read_checkpoint(good)
        payload["counters"] = {"global_step": "lots", "updates": 3}
        torch.save(payload, path)
    elif kind == "counters_not_mapping":
        payload = read_checkpoint(good)
        payload["counters"] = "12"
        torch.save(payload, path)
    else:
        raise AssertionError(kind)
    return path


BAD_KINDS = [
    ("corrupt", "corrupt"),
    ("truncated", "corrupt or truncated"),
    ("empty", "corrupt or truncated"),
    ("text", "not a readable checkpoint"),
    ("random", "not a readable checkpoint"),
    ("other_dict", "not a DQN Arcade checkpoint"),
    ("tensor", "not a DQN Arcade checkpoint"),
    ("missing_parts", "online"),
    ("wrong_weights", "do not fit"),
    ("online_not_tensors", "tensors"),
    ("bad_counters", "counters"),
    ("counters_not_mapping", "counters"),
]


@pytest.mark.parametrize(("kind", "words"), BAD_KINDS)
def test_bad_file_gives_one_line_and_changes_nothing(kind, words, cartpole_file, victim, tmp_path):
    learner, before = victim
    path = bad_file(kind, cartpole_file, tmp_path)
    with pytest.raises(CheckpointError) as caught:
        load_into(path, "cartpole", learner)
    message = assert_one_line(caught.value)
    assert words in message
    assert_unchanged(learner, before)


def test_missing_file_is_named(victim, tmp_path):
    learner, before = victim
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_into(tmp_path / "nope.pt", "cartpole", learner)
    assert_unchanged(learner, before)


def test_checkpoint_of_another_game_is_refused(victim, tmp_path):
    learner, before = victim
    fruit = make_learner("fruit", seed=1)
    path = save_checkpoint(tmp_path / "fruit.pt", "fruit", fruit, COUNTERS)
    with pytest.raises(CheckpointError) as caught:
        load_into(path, "cartpole", learner)
    message = assert_one_line(caught.value)
    assert "fruit" in message and "cartpole" in message
    assert_unchanged(learner, before)


@pytest.mark.parametrize(
    "overrides", [{"hidden_sizes": [64, 64]}, {"hidden_sizes": [32]}, {"dueling": True}]
)
def test_checkpoint_of_another_network_shape_is_refused(victim, tmp_path, overrides):
    learner, before = victim
    other = make_learner("cartpole", seed=1, **overrides)
    path = save_checkpoint(tmp_path / "other.pt", "cartpole", other, COUNTERS)
    with pytest.raises(CheckpointError) as caught:
        load_into(path, "cartpole", learner)
    assert "network" in assert_one_line(caught.value)
    assert_unchanged(learner, before)


class RunsCode:
    """Unpickling this creates ``marker``: a stand-in for any code an attacker wants run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_malicious_pickle_is_refused_without_running_code(cartpole_file, victim, tmp_path):
    learner, before = victim
    payload = read_checkpoint(cartpole_file)

    # Proof that the trap is real: an unsafe load would create the marker.
    proof_marker = tmp_path / "proof-marker"
    payload["info"] = {"note": RunsCode(proof_marker)}
    torch.save(payload, tmp_path / "proof.pt")
    torch.load(tmp_path / "proof.pt", weights_only=False)
    assert proof_marker.exists()

    marker = tmp_path / "pwned-marker"
    payload["info"] = {"note": RunsCode(marker)}
    path = tmp_path / "evil.pt"
    torch.save(payload, path)
    with pytest.raises(CheckpointError) as caught:
        load_into(path, "cartpole", learner)
    assert "refused" in assert_one_line(caught.value)
    assert not marker.exists()
    assert_unchanged(learner, before)


# ---- the code itself --------------------------------------------------------------------


def torch_load_calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
            if name == "load" and owner == "torch":
                calls.append(node)
    return calls


@pytest.mark.slow
def test_every_torch_load_uses_weights_only():
    files = [ROOT / "main.py", *(ROOT / "agent").rglob("*.py"), *(ROOT / "ui").rglob("*.py")]
    found = 0
    for path in files:
        for call in torch_load_calls(path):
            found += 1
            flags = {k.arg: k.value for k in call.keywords}
            assert "weights_only" in flags, f"{path}:{call.lineno} torch.load without weights_only"
            value = flags["weights_only"]
            assert isinstance(value, ast.Constant) and value.value is True, (
                f"{path}:{call.lineno} torch.load must pass weights_only=True"
            )
        text = path.read_text(encoding="utf-8")
        assert "pickle.load(" not in text and "pickle.loads(" not in text, path
    assert found >= 1  # the checkpoint loader itself is among them


def test_checkpoint_holds_only_plain_types_and_tensors(cartpole_file):
    """What weights_only loading accepts: had any other type slipped in, loading would fail."""
    payload = torch.load(cartpole_file, map_location="cpu", weights_only=True)

    def plain(value) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, (str, int)) and plain(v) for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return all(plain(v) for v in value)
        return value is None or type(value) in (str, int, float, bool, torch.Tensor)

    assert plain(payload)
    assert isinstance(payload["versions"]["torch"], str)
