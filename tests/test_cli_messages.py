"""What the command line says and where it writes: `export` without --out, a --set typo's hint,
the folder `record` creates, eval's JSON, help and version, and the warning of a PQN run that
goes past the step where its learning rate reaches 0."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

import main
from agent import commands
from agent.commands import _warn_if_learning_stops
from agent.config import load_config
from agent.interop import SB3_SUFFIX
from agent.pqn_trainer import PQNTrainer
from tests.test_cli import assert_one_line_error, call_main, last_json

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "saves"


def tracked_files() -> list[Path]:
    return sorted(p for p in SHIPPED.rglob("*") if "mine" not in p.relative_to(SHIPPED).parts)


@pytest.fixture
def mine(monkeypatch, tmp_path) -> Path:
    """saves/mine/, moved into ``tmp_path`` (not yet made) for the test."""
    folder = tmp_path / "mine"
    monkeypatch.setattr(main, "USER_SAVES", folder)
    return folder


EXPORTS = [("fruit", "arcade", "fruit-export.pt"), ("cartpole", "sb3", "cartpole-sb3.zip")]


@pytest.mark.parametrize(("game", "form", "name"), EXPORTS)
@pytest.mark.slow
def test_export_of_a_shipped_agent_without_out_writes_into_saves_mine(
    mine, game, form, name, capsys
):
    before = tracked_files()
    argv = ["export", game, "--episodes", "2", "--format", form, "--device", "cpu"]
    code, _, err = call_main(argv, capsys)
    assert code == 0, err
    line = assert_one_line_error(err)
    assert line.startswith(f"wrote {mine / name}: ") and f"created folder {mine}" in line
    assert (mine / name).is_file()
    assert tracked_files() == before  # nothing new in the tracked folder


def test_an_export_sb3_cannot_take_is_refused_before_scoring(tmp_path, monkeypatch, capsys):
    def no_games(*args, **kwargs):
        raise AssertionError("scored an agent it then refused")

    monkeypatch.setattr(commands, "evaluate_policy", no_games)
    out = tmp_path / "fruit.zip"
    code, _, err = call_main(["export", "fruit", "--format", "sb3", "--out", str(out)], capsys)
    assert code == 1 and "no fruit_conv network" in assert_one_line_error(err)
    assert not out.exists()


def test_export_writes_beside_any_other_checkpoint(mine, tmp_path):
    assert main._export_path(SHIPPED / "campaign" / "b.pt", sb3=False) == mine / "b-export.pt"
    assert main._export_path(mine / "run.pt", sb3=False) == mine / "run-export.pt"
    elsewhere = tmp_path / "runs" / "run.pt"
    assert main._export_path(elsewhere, sb3=True) == elsewhere.with_name("run-sb3" + SB3_SUFFIX)


def test_a_set_typo_on_resume_says_what_was_meant(capsys):
    # The shipped agent is an old checkpoint: its own config goes on, and the typo is caught.
    argv = ["train", "fruit", "-i", str(SHIPPED / "fruit.pt"), "--set", "learnig_rate=1e-3"]
    code, out, err = call_main(argv, capsys)
    assert code == 2 and out == ""
    assert "did you mean 'learning_rate'?" in assert_one_line_error(err)


def test_record_says_when_it_creates_the_folder(tmp_path, capsys):
    out = tmp_path / "clips" / "new" / "fruit.gif"
    argv = ["record", "fruit", "--out", str(out), "--max-frames", "3", "--device", "cpu"]
    code, _, err = call_main(argv, capsys)
    assert code == 0, err
    assert assert_one_line_error(err).endswith(f"; created folder {out.parent}")
    code, _, err = call_main(argv, capsys)  # the folder is there now: nothing to say
    assert code == 0 and "created" not in assert_one_line_error(err) and out.is_file()


def test_eval_defaults_to_the_shipped_agent_and_gives_its_training_steps(capsys):
    code, out, err = call_main(["eval", "cartpole", "--episodes", "2", "--json"], capsys)
    assert code == 0, err
    summary = last_json(out)
    assert Path(summary["checkpoint"]) == SHIPPED / "cartpole.pt"
    assert summary["train_steps"] == 21_000  # the file's own counters, not this run's
    assert "env_steps" not in summary and summary["eval_episodes"] == 2


def test_version_names_the_app_and_its_libraries(capsys):
    code, out, _ = call_main(["--version"], capsys)
    assert code == 0
    assert out.startswith("DQN Arcade ") and "torch " in out and "gymnasium " in out


def test_every_command_has_help_with_defaults_and_examples(capsys):
    for command in ("train", "eval", "record", "export", "plot"):
        with pytest.raises(SystemExit) as stop:
            main.main([command, "--help"])
        assert stop.value.code == 0
        text = capsys.readouterr().out
        assert "examples:" in text and f"main.py {command}" in text
        assert command == "plot" or "(default: " in text
    main_help = main.build_parser().format_help()
    assert "examples:" in main_help and "--version" in main_help


def test_an_option_before_the_command_is_not_dropped(capsys):
    # No CUDA here: `--device cuda` before `eval` must reach it and be refused, not ignored.
    code, _, err = call_main(["--device", "cuda", "eval", "cartpole", "--episodes", "1"], capsys)
    assert code == 2 and "cuda" in assert_one_line_error(err)


def pqn_config(**settings):
    config = load_config("breakout", overrides={"total_steps": 1_000})
    return config.with_settings(**settings)


@pytest.mark.parametrize(
    ("config", "end_step", "warned"),
    [
        (pqn_config(), 1_001, True),
        (pqn_config(), 1_000, False),  # a run from scratch to total_steps learns all along
        (pqn_config(min_learning_rate_share=0.1), 5_000, False),  # a floor: learns on
        (pqn_config(anneal_lr=False), 5_000, False),
        (load_config("fruit", overrides={"total_steps": 1_000}), 5_000, False),  # DQN
    ],
)
def test_a_run_past_the_learning_rates_end_is_warned_in_one_line(config, end_step, warned):
    stream = io.StringIO()
    _warn_if_learning_stops(config, end_step, stream)
    text = stream.getvalue()
    assert (text != "") == warned
    if warned:
        assert text.count("\n") == 1 and text.startswith("warning: the learning rate anneals")


@pytest.mark.slow
def test_train_warns_when_a_pqn_run_goes_past_total_steps(tmp_path, capsys, monkeypatch):
    # Not what is tested, and an untrained paddle's greedy game may last minutes.
    monkeypatch.setattr(PQNTrainer, "evaluate", lambda self, *args, **kw: np.zeros(1))
    small = ["--envs", "2", "--set", "rollout_steps=8", "--set", "minibatches=2"]
    small += ["--set", "update_epochs=1", "--set", "total_steps=16", "--eval-episodes", "1"]
    argv = ["train", "breakout", "-n", "32", "--save", str(tmp_path / "p.pt"), *small]
    code, _, err = call_main([*argv, "--device", "cpu"], capsys)
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "anneals to 0 at step 16" in warnings[0]
    assert "this run goes to 32" in warnings[0] and "min_learning_rate_share" in warnings[0]
