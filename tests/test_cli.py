"""The command line end to end: train, eval and record on small budgets, and every expected
failure as one line on stderr with no traceback.

Happy paths run ``main.py`` in a fresh interpreter, as a user would; usage errors, which stop
before any training, call ``main.main`` in this process to keep the suite quick.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import main
from agent.checkpoint import read_checkpoint, trainer_state

ROOT = Path(__file__).resolve().parent.parent
# What `eval --json` prints with the meaning `train --json` gives it, under the same names.
SHARED_KEYS = {
    "game",
    "seconds",
    "eval_mean",
    "eval_std",
    "eval_min",
    "eval_max",
    "eval_episodes",
    "checkpoint",
}
TRAIN_KEYS = SHARED_KEYS | {"env_steps", "episodes", "interrupted", "solved"}


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def assert_one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.fixture(scope="module")
def fruit_run(tmp_path_factory):
    """One small training run shared by the eval, record and bad-checkpoint tests."""
    folder = tmp_path_factory.mktemp("fruit")
    save = folder / "x.pt"
    result = run_cli(
        "train", "fruit", "--steps", "600", "--set", "learning_starts=100",
        "--save", str(save), "--json", "--device", "cpu",
    )  # fmt: skip
    return result, save


@pytest.mark.slow
def test_train_writes_checkpoint_metrics_and_a_json_summary(fruit_run):
    result, save = fruit_run
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    summary = last_json(result.stdout)
    assert summary.keys() >= TRAIN_KEYS
    assert summary["game"] == "fruit" and summary["env_steps"] == 600
    assert summary["episodes"] >= 600 // 13  # every fruit-catch episode lasts 13 steps
    assert summary["eval_min"] <= summary["eval_mean"] <= summary["eval_max"]
    assert summary["seconds"] > 0 and summary["eval_std"] >= 0
    assert Path(summary["checkpoint"]) == save and save.is_file()

    payload = read_checkpoint(save)
    assert payload["game"] == "fruit"
    assert payload["counters"]["global_step"] == 600
    assert payload["config"]["dqn"]["learning_starts"] == 100  # --set reached the run
    # One update every train_frequency steps from step 100 through step 600.
    every = payload["config"]["dqn"]["train_frequency"]
    assert payload["counters"]["updates"] == sum(1 for s in range(100, 601) if s % every == 0)

    with open(save.with_suffix(".metrics.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    episodes = [r for r in rows if r["kind"] == "episode"]
    assert len(episodes) == summary["episodes"]
    steps = [int(r["global_step"]) for r in episodes]
    assert steps == sorted(steps) and steps[-1] <= 600
    assert all(r["return"] in ("1", "-1") for r in episodes)


@pytest.mark.slow
def test_eval_scores_the_checkpoint(fruit_run):
    _, save = fruit_run
    result = run_cli("eval", "fruit", "--checkpoint", str(save), "--episodes", "5", "--json")
    assert result.returncode == 0, result.stderr
    summary = last_json(result.stdout)
    assert summary.keys() == SHARED_KEYS | {"train_steps", "eval_epsilon"}
    assert summary["game"] == "fruit" and summary["eval_episodes"] == 5
    assert summary["train_steps"] == 600  # the agent's own, from the file's counters
    assert summary["checkpoint"] == str(save) and summary["eval_epsilon"] == 0.0
    assert -1.0 <= summary["eval_min"] <= summary["eval_mean"] <= summary["eval_max"] <= 1.0


@pytest.mark.slow
def test_record_writes_a_gif(fruit_run, tmp_path):
    _, save = fruit_run
    out = tmp_path / "clips" / "x.gif"
    result = run_cli("record", "fruit", "--checkpoint", str(save), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"created folder {out.parent}" in result.stderr
    with Image.open(out) as gif:
        assert gif.n_frames > 1
        assert gif.size[0] >= 15 and gif.size[1] >= 15


@pytest.mark.slow
def test_resume_continues_the_global_step(tmp_path):
    from agent import commands
    from agent.config import load_config
    from agent.device import pick_device
    from game.registry import GAMES

    tweaks = ["--set", "learning_starts=100", "--set", "hidden_sizes=[32,32]"]
    tweaks += ["--eval-episodes", "2"]
    config = load_config(
        "cartpole", None, {"learning_starts": 100, "hidden_sizes": [32, 32], "eval_episodes": 2}
    )
    first = tmp_path / "first.pt"
    # The first leg runs in this process, to save an interpreter start.
    commands.train(
        GAMES["cartpole"],
        config,
        pick_device("cpu"),
        seed=0,
        steps=300,
        save_path=first,
        progress=False,
    )
    assert read_checkpoint(first)["counters"]["global_step"] == 300

    second = tmp_path / "second.pt"
    result = run_cli(
        "train", "cartpole", "--steps", "300", "--resume", str(first), "--save", str(second),
        "--json", "--device", "cpu", *tweaks,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert last_json(result.stdout)["env_steps"] == 600
    counters = read_checkpoint(second)["counters"]
    assert counters["global_step"] == 600
    assert counters["episode"] > read_checkpoint(first)["counters"]["episode"]
    assert counters["updates"] > read_checkpoint(first)["counters"]["updates"]


# ---- failures -----------------------------------------------------------------------------


def call_main(argv: list[str], capsys) -> tuple[int, str, str]:
    threads = torch.get_num_threads()  # `train` may pin torch to one thread
    try:
        code = main.main(argv)
    except SystemExit as stop:
        code = stop.code
    finally:
        torch.set_num_threads(threads)
    out, err = capsys.readouterr()
    return code, out, err


USAGE_ERRORS = [
    (["train", "pong"], "pong"),
    (["train", "fruit", "--set", "badkey=1"], "badkey"),
    (["train", "fruit", "--set", "gamma=2"], "gamma"),
    (["train", "fruit", "--set", "lr"], "lr"),
    (["train", "fruit", "--config", "missing.yaml"], "missing.yaml"),
    (["train", "fruit", "--steps", "-5"], "--steps"),
    (["train", "fruit", "--steps", "many"], "--steps"),
    (["eval", "fruit", "--checkpoint", "x.pt", "--episodes", "0"], "--episodes"),
    (["record", "fruit", "--checkpoint", "x.pt", "--out", "x.png"], "gif"),
    (["eval", "fruit", "--epsilon", "2"], "--epsilon"),
    (["train", "fruit", "--envs", "4"], "--envs: dqn trains in one env"),
    (["train", "fruit", "--set", "learnig_rate=1e-3"], "did you mean 'learning_rate'?"),
    (["train", "fruit", "--set", "num_envs=4"], "'num_envs' is a pqn key"),
]


@pytest.mark.parametrize(("argv", "named"), USAGE_ERRORS)
def test_usage_errors_exit_2_with_one_line(argv, named, capsys):
    code, out, err = call_main(argv, capsys)
    assert code == 2
    assert named in assert_one_line_error(err)
    assert out == ""


def test_config_file_errors_exit_2_naming_file_and_key(tmp_path, capsys):
    path = tmp_path / "mine.yaml"
    path.write_text("batch_size: 12.5\n", encoding="utf-8")
    code, _, err = call_main(["train", "fruit", "--config", str(path)], capsys)
    line = assert_one_line_error(err)
    assert code == 2 and str(path) in line and "batch_size" in line


@pytest.mark.slow
def test_usage_error_in_a_real_process_has_no_traceback():
    result = run_cli("train", "fruit", "--set", "gamma=2")
    assert result.returncode == 2
    assert "gamma" in assert_one_line_error(result.stderr)


def test_bad_checkpoints_fail_with_one_line(fruit_run, tmp_path, capsys):
    _, save = fruit_run
    corrupt = tmp_path / "corrupt.pt"
    data = save.read_bytes()
    corrupt.write_bytes(data[: len(data) // 3] + b"\0" * 100 + data[len(data) // 3 + 100 :])
    cases = [
        (["eval", "fruit", "--checkpoint", str(corrupt)], "corrupt"),
        (["eval", "cartpole", "--checkpoint", str(save)], "fruit"),  # another game's
        (["eval", "fruit", "--checkpoint", str(tmp_path / "none.pt")], "none.pt"),
        (["record", "fruit", "--checkpoint", str(corrupt), "--out", str(tmp_path / "a.gif")],
         "corrupt"),
        (["train", "cartpole", "--steps", "10", "--resume", str(save),
          "--save", str(tmp_path / "r.pt")], "fruit"),
    ]  # fmt: skip
    for argv, named in cases:
        code, out, err = call_main(argv, capsys)
        assert code not in (0, None), argv
        assert named in assert_one_line_error(err), argv
    assert not (tmp_path / "a.gif").exists()
    assert not (tmp_path / "r.pt").exists()


def test_a_replay_memory_too_big_for_this_machine_is_refused_at_start(tmp_path, capsys):
    # 10^9 Breakout transitions would need ~6.6 TB: refused before anything is allocated.
    code = main.main(
        ["train", "breakout", "--config", "agent/configs/breakout_dqn.yaml", "--steps", "10",
         "--set", "buffer_size=1000000000", "--save", str(tmp_path / "b.pt"), "--device", "cpu"]
    )  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert len(err.splitlines()) == 1 and "buffer_size" in err and "GiB" in err
    assert not (tmp_path / "b.pt").exists()


@pytest.mark.slow
def test_export_writes_a_small_scored_checkpoint_that_plays_the_same(fruit_run, tmp_path):
    _, save = fruit_run
    out = tmp_path / "shipped.pt"
    code = main.main(
        ["export", "fruit", "--checkpoint", str(save), "--out", str(out), "--episodes", "20",
         "--device", "cpu"]
    )  # fmt: skip
    assert code == 0
    shipped = read_checkpoint(out)
    assert "optimizer" not in shipped and "target" not in shipped
    assert all(
        t.dtype == torch.float16 for t in shipped["online"].values() if t.is_floating_point()
    )
    info = shipped["info"]
    assert info["eval_episodes"] == 20 and info["eval_epsilon"] == 0.0
    assert info["eval_min"] <= info["eval_mean"] <= info["eval_max"]
    assert info["train_steps"] == read_checkpoint(save)["counters"]["global_step"]
    assert out.stat().st_size < save.stat().st_size


def test_export_without_out_writes_beside_the_checkpoint_not_over_a_shipped_agent(fruit_run):
    _, save = fruit_run
    shipped = ROOT / "saves" / "fruit.pt"
    before = shipped.read_bytes()
    code = main.main(["export", "fruit", "--checkpoint", str(save), "--episodes", "2"])
    assert code == 0
    beside = save.with_name(f"{save.stem}-export.pt")
    assert read_checkpoint(beside)["info"]["eval_episodes"] == 2
    assert shipped.read_bytes() == before


@pytest.mark.slow
def test_sigterm_saves_like_ctrl_c(tmp_path):
    save = tmp_path / "term.pt"
    proc = subprocess.Popen(
        [sys.executable, "main.py", "train", "cartpole", "--steps", "1000000", "--save", str(save),
         "--device", "cpu", "--set", "eval_every=0"],
        cwd=ROOT, env={**os.environ, "SDL_VIDEODRIVER": "dummy"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    metrics = save.with_suffix(".metrics.csv")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not metrics.exists() or metrics.stat().st_size < 200):
        time.sleep(0.1)  # wait until training is under way (episodes are being logged)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    payload = read_checkpoint(save)
    assert payload["counters"]["global_step"] > 0
    # Saved between two steps: the observation is the one the saved game shows.
    state = trainer_state(payload)
    cartpole = state["env"]["layers"][-1]["state"]
    np.testing.assert_allclose(state["obs"], cartpole, rtol=1e-6)


@pytest.mark.slow
def test_rl_zoo_style_aliases(tmp_path, capsys):
    save = tmp_path / "z.pt"
    code, _, err = call_main(
        ["train", "fruit", "-n", "300", "--eval-freq", "150", "--save-freq", "100",
         "--set", "learning_starts=100", "--save", str(save), "--device", "cpu"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    first = read_checkpoint(save)
    assert first["counters"]["global_step"] == 300
    assert first["config"]["eval_every"] == 150 and first["config"]["save_every"] == 100
    code, _, err = call_main(["train", "fruit", "-n", "100", "-i", str(save), "--save", str(save)],
                             capsys)  # fmt: skip
    assert code == 0, err
    assert read_checkpoint(save)["counters"]["global_step"] == 400


@pytest.mark.slow
def test_a_resume_goes_on_with_the_checkpoints_own_config(tmp_path, capsys):
    save = tmp_path / "r.pt"
    argv = ["train", "fruit", "-n", "300", "--set", "learning_starts=120", "--set",
            "total_steps=500", "--save", str(save)]  # fmt: skip
    assert call_main(argv, capsys)[0] == 0
    code, _, err = call_main(["train", "fruit", "-i", str(save), "--save", str(save)], capsys)
    assert code == 0, err
    payload = read_checkpoint(save)
    assert payload["config"]["dqn"]["learning_starts"] == 120  # not fruit.yaml's 200
    assert payload["counters"]["global_step"] == 500  # the 200 steps the run had left
    code, _, err = call_main(["train", "fruit", "-i", str(save)], capsys)
    assert code == 2 and "total_steps" in assert_one_line_error(err)


@pytest.mark.slow
def test_tensorboard_event_files_carry_cleanrls_tags(tmp_path, capsys):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    board = tmp_path / "tb"
    code, _, err = call_main(
        ["train", "fruit", "-n", "2500", "--set", "learning_starts=100", "--eval-freq", "1000",
         "--save", str(tmp_path / "t.pt"), "--tensorboard", str(board)],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    events = EventAccumulator(str(board))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"charts/episodic_return", "charts/episodic_length", "charts/epsilon", "charts/SPS",
            "losses/td_loss", "losses/q_values", "eval/episodic_return"} <= tags  # fmt: skip
    returns = events.Scalars("charts/episodic_return")
    assert len(returns) == 2500 // 13  # every fruit lasts 13 steps
    assert {r.value for r in returns} <= {-1.0, 1.0}
    assert {e.value for e in events.Scalars("charts/episodic_length")} == {13.0}
    # Fruit rewards are -1 / +1 at most: the Q-values learned stay within them.
    q_values = [e.value for e in events.Scalars("losses/q_values")]
    assert q_values and all(-1.5 < q < 1.5 for q in q_values)
    assert min(e.step for e in events.Scalars("losses/q_values")) >= 100  # learning starts
    assert [e.step for e in events.Scalars("eval/episodic_return")] == [1000, 2000]


def test_tensorboard_without_the_package_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name.startswith("torch.utils.tensorboard"):
            raise ImportError("No module named 'tensorboard'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    code, _, err = call_main(
        ["train", "fruit", "-n", "10", "--save", str(tmp_path / "t.pt"), "--tensorboard",
         str(tmp_path / "tb")],
        capsys,
    )  # fmt: skip
    assert code == 1 and "pip install tensorboard" in assert_one_line_error(err)
    assert not (tmp_path / "t.pt").exists()
