"""Training from several Breakout envs at once (``train --envs N``): the replay ratio, target
syncs and epsilon count env steps as the one-env trainer does, returns are whole games, and
what it saves plays in ``eval`` and trains on in the one-env trainer."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from agent import runs
from agent.checkpoint import read_checkpoint
from agent.config import load_config
from agent.dqn import linear_epsilon
from agent.trainer import multiples_crossed
from agent.vector_trainer import VectorTrainer
from game.registry import GAMES
from tests.test_cli import assert_one_line_error, call_main, last_json, run_cli

CPU = torch.device("cpu")
BREAKOUT = GAMES["breakout"]
SMALL = {
    "buffer_size": 600,
    "learning_starts": 48,
    "batch_size": 4,
    "train_frequency": 4,
    "target_update_interval": 50,
    "epsilon_decay_steps": 200,
}


@pytest.fixture(autouse=True)
def one_torch_thread(monkeypatch):
    """Small batches run fastest on one thread, and two spin badly on a busy 2-core machine
    (20x slower when another process holds a core); the CLI runs inherit it too."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    yield
    torch.set_num_threads(threads)


def test_multiples_crossed_counts_each_multiple_passed_once():
    assert [multiples_crossed(s - 6, s, 4) for s in range(6, 31, 6)] == [1, 2, 1, 2, 1]
    assert multiples_crossed(7, 8, 4) == 1 and multiples_crossed(8, 9, 4) == 0
    assert multiples_crossed(0, 100, 0) == 0  # a schedule switched off


@pytest.mark.slow
def test_updates_target_syncs_and_epsilon_count_env_steps_of_all_envs():
    config = load_config("breakout", algorithm="dqn", overrides=SMALL)
    # 6 env steps a vector step: the one update per 4 env steps comes 1, 2, 1, 2, ... a step.
    trainer = VectorTrainer(BREAKOUT, config, CPU, num_envs=6, seed=0)
    synced_at = []
    sync = trainer.learner.sync_target

    def counting_sync() -> None:
        synced_at.append(trainer.global_step)
        sync()

    trainer.learner.sync_target = counting_sync
    updates, reports = [], []
    for _ in range(40):
        reports.append(trainer.step())
        updates.append(trainer.learner.updates)
    trainer.close()

    assert [r.global_step for r in reports] == list(range(6, 241, 6))
    assert trainer.learner.updates == len(range(48, 241, 4))  # one at each 4th step from 48
    per_step = np.diff([0, *updates])
    assert per_step[:7].sum() == 0 and per_step[7] == 1  # 42 -> 48 reaches learning_starts
    assert set(per_step[8:]) == {1, 2}
    assert synced_at == [54, 102, 150, 204]  # the steps that passed 50, 100, 150, 200
    for report in reports:
        before = report.global_step - 6
        assert report.epsilon == pytest.approx(linear_epsilon(before, 1.0, 0.01, 200))
    assert reports[-1].loss is not None and trainer.last_loss == reports[-1].loss
    assert trainer.replay.size == 240  # one entry per env step


@pytest.mark.slow
def test_returns_are_whole_games_and_the_memory_replays_what_each_env_showed():
    # No learning: DQN's warm-up outlasts the test.
    config = load_config("breakout", algorithm="dqn", overrides={"buffer_size": 4_000})
    trainer = VectorTrainer(BREAKOUT, config, CPU, num_envs=4, seed=1)
    step = trainer.envs.step
    seen: list[tuple] = []
    # (observation, next observation) -> what the env did between them: (action it took,
    # clipped reward, terminated)
    made: dict[tuple[bytes, bytes], set[tuple[int, float, bool]]] = {}

    def recording_step(actions):
        out = step(actions)
        next_obs, reward, terminated, _, info = out
        for i, obs in enumerate(trainer.obs):
            what = (int(info["action"][i]), float(np.clip(reward[i], -1, 1)), bool(terminated[i]))
            made.setdefault((obs.tobytes(), next_obs[i].tobytes()), set()).add(what)
        seen.append((reward.copy(), info["lives"].copy(), info["game_over"].copy()))
        return out

    trainer.envs.step = recording_step
    expected, running, resetting, finals = [], np.zeros(4), np.zeros(4, dtype=bool), 0
    while trainer.episode < 6:
        report = trainer.step()
        reward, lives, game_over = seen[-1]
        finals += int(resetting.sum())
        running += np.where(resetting, 0.0, reward)
        ended = game_over & ~resetting
        assert (lives[ended] == 0).all()  # a game ends at its last life, not at a lost one
        assert report.episode_returns == tuple(running[ended])
        expected += list(running[ended])
        running[ended] = 0.0
        resetting = game_over
    trainer.close()
    assert list(trainer.recent_returns) == expected and trainer.episode == len(expected)
    assert trainer.replay.size == trainer.global_step  # one entry per env step
    assert trainer.replay.transitions == trainer.global_step - finals
    # Stacks rebuilt from single frames, across lost lives and from each game's first frame,
    # are the stacks the env showed; each next observation is the one that came next, and the
    # action, reward and terminal flag replayed with them are what the env did in between
    # (the FIRE it pressed after a lost life included).
    batch = trainer.replay.sample(512, np.random.default_rng(0))
    assert batch.terminated.any() and (batch.reward != 0).any()
    for obs, action, reward, terminated, next_obs in zip(
        batch.obs, batch.action, batch.reward, batch.terminated, batch.next_obs, strict=True
    ):
        # tobytes() gives C-order bytes whatever the layout, so channels-last stacks match.
        what = (int(action), float(reward), bool(terminated))
        assert what in made[obs.tobytes(), next_obs.tobytes()]


@pytest.mark.slow
def test_eval_and_save_come_at_each_multiple_the_step_counter_passes(tmp_path, monkeypatch):
    config = load_config(
        "breakout",
        algorithm="dqn",
        overrides={"buffer_size": 600, "eval_every": 25, "save_every": 40},
    )
    monkeypatch.setattr(VectorTrainer, "evaluate", lambda self, n, seed: np.zeros(n))
    saved_at = []
    save = runs.save_checkpoint
    monkeypatch.setattr(
        runs,
        "save_checkpoint",
        lambda path, game, learner, counters, info, **kwargs: (
            saved_at.append((counters["global_step"], info["envs"])),
            save(path, game, learner, counters, info, **kwargs),
        ),
    )
    result = runs.train(
        BREAKOUT, config, CPU, seed=0, steps=60, save_path=tmp_path / "v.pt", progress=False,
        envs=6,
    )  # fmt: skip
    assert result.env_steps == 60
    with open(tmp_path / "v.metrics.csv", encoding="utf-8") as f:
        evals = [int(row["global_step"]) for row in csv.DictReader(f) if row["kind"] == "eval"]
    assert evals == [30, 54]  # passed 25 and 50
    assert saved_at == [(42, 6), (60, 6)]  # passed 40, then the end


@pytest.mark.slow
def test_cli_trains_with_envs_and_eval_and_the_one_env_trainer_take_the_checkpoint(tmp_path):
    save = tmp_path / "v.pt"
    result = run_cli(
        "train", "breakout", "--config", "agent/configs/breakout_dqn.yaml", "--envs", "4",
        "--steps", "200", "--set", "buffer_size=2000",
        "--set", "learning_starts=160", "--set", "batch_size=8", "--eval-episodes", "1",
        "--save", str(save), "--json", "--device", "cpu",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert last_json(result.stdout)["env_steps"] == 200
    payload = read_checkpoint(save)
    assert payload["counters"]["global_step"] == 200
    assert payload["counters"]["updates"] == len(range(160, 201, 4))
    assert payload["info"]["envs"] == 4
    assert save.with_suffix(".metrics.csv").exists()

    scored = run_cli("eval", "breakout", "--checkpoint", str(save), "--episodes", "1", "--json",
                     "--device", "cpu")  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    assert last_json(scored.stdout)["episodes"] == 1

    # The one-env trainer takes it up (--resume without --envs), counters and all.
    small = {"buffer_size": 2_000, "eval_episodes": 1}
    config = load_config("breakout", algorithm="dqn", overrides=small)
    resumed = runs.train(
        BREAKOUT, config, CPU, seed=0, steps=4, save_path=tmp_path / "one.pt", resume=save,
        progress=False,
    )  # fmt: skip
    assert resumed.env_steps == 204
    assert read_checkpoint(tmp_path / "one.pt")["info"]["envs"] == 1


@pytest.mark.parametrize(
    "argv", [["train", "fruit", "--envs", "4"], ["train", "breakout", "--envs", "0"]]
)
def test_envs_usage_errors_exit_2_with_one_line(argv, capsys):
    code, out, err = call_main(argv, capsys)
    assert code == 2 and out == ""
    assert "--envs" in assert_one_line_error(err)
