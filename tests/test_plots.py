"""`main.py plot`: learning curves from training metrics and from the campaign record."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agent.plots import PlotError, plot_files, running_mean
from tests.test_cli import assert_one_line_error, call_main

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import campaign  # noqa: E402


def _metrics(path: Path, returns: list[float], evals: dict[int, float]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["kind", "global_step", "seconds", "episode", "return", "eval_mean"])
        for episode, value in enumerate(returns, start=1):
            writer.writerow(["episode", episode * 10, episode, episode, value, ""])
        for step, mean in evals.items():
            writer.writerow(["eval", step, step / 10, "", "", mean])
    return path


def test_running_mean_averages_up_to_the_window():
    values = np.array([1.0, 3.0, 5.0, 7.0])
    np.testing.assert_allclose(running_mean(values, window=2), [1.0, 2.0, 4.0, 6.0])
    np.testing.assert_allclose(running_mean(values, window=100), [1.0, 2.0, 3.0, 4.0])


@pytest.mark.slow
def test_plot_draws_several_runs_into_a_png(tmp_path, capsys):
    a = _metrics(tmp_path / "a.metrics.csv", [0, 1, 2, 3, 4], {50: 3.5})
    b = _metrics(tmp_path / "b.metrics.csv", [4, 3, 2], {})
    out = tmp_path / "curves" / "c.png"
    code, _, err = call_main(["plot", str(a), str(b), "--out", str(out)], capsys)
    assert code == 0, err
    assert assert_one_line_error(err) == f"wrote {out}; created folder {out.parent}"
    with Image.open(out) as image:
        assert image.format == "PNG"
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.shape[0] > 300 and pixels.shape[1] > 500
    assert (pixels != 255).any(axis=2).mean() > 0.02  # something was drawn


@pytest.mark.slow
def test_a_campaign_record_is_drawn_against_steps_and_hours(tmp_path):
    record = tmp_path / "campaign.csv"
    with open(record, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, campaign.COLUMNS)
        writer.writeheader()
        for chunk, (steps, hours, score) in enumerate([(1e6, 1.0, 20.0), (2e6, 2.0, 60.0)]):
            writer.writerow({"chunk": chunk, "env_steps": int(steps), "hours": hours,
                             "score_mean": score, "score_std": 5.0})  # fmt: skip
    plot_files([record], tmp_path / "curve.png")
    assert (tmp_path / "curve.png").stat().st_size > 10_000
    reached = campaign.hours_to_levels(record)
    assert reached == {"human level (31.8)": (2.0, 2_000_000), "100": None}


def test_files_that_are_not_metrics_get_one_line(tmp_path, capsys):
    junk = tmp_path / "junk.csv"
    junk.write_text("a,b\n1,2\n", encoding="utf-8")
    code, _, err = call_main(["plot", str(junk), "--out", str(tmp_path / "x.png")], capsys)
    assert code == 1
    assert_one_line_error(err)
    with pytest.raises(PlotError, match="no such|cannot read"):
        plot_files([tmp_path / "missing.csv"], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_the_sb3_estimate_reads_steps_off_the_published_curve():
    import run

    assert run.steps_on_curve(15.0) == 1_000_000
    assert run.steps_on_curve(31.8) == pytest.approx(1_000_000 + 1_000_000 * 16.8 / 85)
    assert np.isnan(run.steps_on_curve(400.0))


def test_a_side_by_side_record_draws_one_line_per_learner(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from agent.plots import _campaign_figure

    rows = [
        {"chunk": "0", "env_steps": str(steps), "hours": str(hours), "score_mean": str(score),
         "score_std": "1.0", "algorithm": learner}
        for learner, steps, hours, score in [
            ("pqn", 2_000_000, 1.0, 30.0), ("dqn", 500_000, 1.0, 20.0),
            ("pqn", 1_000_000, 0.5, 10.0), ("dqn", 1_000_000, 2.0, 40.0),
        ]
    ]  # fmt: skip
    figure = _campaign_figure(plt, tmp_path / "side.csv", rows, None)
    by_steps, by_hours = figure.axes
    lines = {line.get_label(): line for line in by_hours.get_lines()}
    assert set(lines) >= {"DQN (30 games, epsilon 0.05)", "PQN (30 games, epsilon 0.05)"}
    pqn = lines["PQN (30 games, epsilon 0.05)"]
    assert list(pqn.get_xdata()) == [0.5, 1.0] and list(pqn.get_ydata()) == [10.0, 30.0]
    plt.close(figure)


def test_each_seed_of_a_campaign_is_its_own_line_and_its_own_hours(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from agent.plots import _campaign_figure

    record = tmp_path / "campaign.csv"
    with open(record, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, campaign.COLUMNS)
        writer.writeheader()
        for seed, steps, hours, score in [
            ("1", 1_000_000, 1.0, 20.0), ("1", 2_000_000, 2.0, 40.0),
            ("2", 1_000_000, 0.5, 35.0), ("2", 2_000_000, 1.0, 120.0),
        ]:  # fmt: skip
            row = {"chunk": 1, "seed": seed, "env_steps": steps, "hours": hours}
            writer.writerow({**row, "score_mean": score, "score_std": 5.0, "algorithm": "pqn"})
    assert campaign.seeds_in(record) == ["1", "2"]
    assert campaign.hours_to_levels(record, "1") == {
        "human level (31.8)": (2.0, 2_000_000),
        "100": None,
    }
    assert campaign.hours_to_levels(record, "2") == {
        "human level (31.8)": (0.5, 1_000_000),
        "100": (1.0, 2_000_000),
    }
    figure = _campaign_figure(plt, record, campaign.read_record(record), None)
    by_steps, by_hours = figure.axes
    lines = {line.get_label(): line for line in by_hours.get_lines()}
    seed_2 = lines["seed 2 (30 games, epsilon 0.05)"]
    assert list(seed_2.get_xdata()) == [0.5, 1.0] and list(seed_2.get_ydata()) == [35.0, 120.0]
    assert "seed 1 (30 games, epsilon 0.05)" in lines
    plt.close(figure)
