"""Breakout under DQN preprocessing: frames, stacking, seeding, lives and game over."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from game import breakout
from game.breakout import FRAME_SIZE, STACK, AtariDQNPreprocessing, _area_weights, make_breakout
from game.registry import get_game

ROOT = Path(__file__).resolve().parent.parent

NOOP, FIRE, RIGHT, LEFT = 0, 1, 2, 3
MAX_STEPS = 2_000  # agent steps; a random or idle policy loses all five lives well within this


def area_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Area-average resize via integrals of the piecewise-constant image (independent reference)."""

    def along_rows(a: np.ndarray, dst: int) -> np.ndarray:
        src = a.shape[0]
        integral = np.concatenate([np.zeros((1, a.shape[1])), np.cumsum(a, axis=0)])
        edges = np.linspace(0.0, src, dst + 1)
        at_edges = np.stack(
            [np.interp(edges, np.arange(src + 1), integral[:, k]) for k in range(a.shape[1])], 1
        )
        return np.diff(at_edges, axis=0) / (src / dst)

    return along_rows(along_rows(image.astype(np.float64), height).T, width).T


def reference_frame(gray: np.ndarray) -> np.ndarray:
    return np.rint(area_resize(gray, FRAME_SIZE, FRAME_SIZE))


def assert_close_to_reference(frame: np.ndarray, gray: np.ndarray) -> None:
    # Rounding exact .5 averages may go either way, so allow one grey level.
    diff = np.abs(frame.astype(np.int16) - reference_frame(gray))
    assert diff.max() <= 1
    assert (diff > 0).mean() < 0.01


def ale(env: AtariDQNPreprocessing):
    return env.unwrapped.ale


def rollout(env, actions, seed: int) -> list[tuple]:
    obs, info = env.reset(seed=seed)
    out = [(obs, info)]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        out.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            break
    return out


def play_until_end(env, rng: np.random.Generator | None = None) -> tuple[list[dict], tuple]:
    """Step randomly (NOOP without ``rng``) until the episode ends; returns infos and last step."""
    infos = []
    for _ in range(MAX_STEPS):
        action = NOOP if rng is None else int(rng.integers(4))
        obs, reward, terminated, truncated, info = env.step(action)
        infos.append(info)
        if terminated or truncated:
            return infos, (obs, reward, terminated, truncated, info)
    raise AssertionError(f"episode did not end within {MAX_STEPS} steps")


@pytest.fixture
def env() -> AtariDQNPreprocessing:
    env = make_breakout()
    yield env
    env.close()


def test_observation_is_a_stack_of_four_84x84_uint8_frames(env) -> None:
    assert env.observation_space.shape == (STACK, FRAME_SIZE, FRAME_SIZE) == (4, 84, 84)
    assert env.observation_space.dtype == np.uint8
    assert env.action_space.n == 4
    assert env.unwrapped.get_action_meanings() == ["NOOP", "FIRE", "RIGHT", "LEFT"]
    obs, info = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert obs in env.observation_space
    assert info == {"lives": 5, "game_over": False}
    rng = np.random.default_rng(0)
    for _ in range(10):
        obs, reward, terminated, truncated, info = env.step(int(rng.integers(4)))
        assert obs in env.observation_space
        assert isinstance(reward, float)
    assert obs.max() > obs.min()  # the playfield is visible, not a blank frame


@pytest.mark.slow
def test_reset_fills_the_stack_with_the_current_frame(env) -> None:
    for seed in (0, 1):
        obs, _ = env.reset(seed=seed)
        for i in range(1, STACK):
            np.testing.assert_array_equal(obs[i], obs[0])
        assert_close_to_reference(obs[-1], ale(env).getScreenGrayscale())


def test_step_shifts_the_stack_by_one_frame(env) -> None:
    obs, _ = env.reset(seed=0)
    history = [obs]
    rng = np.random.default_rng(1)
    for _ in range(20):
        history.append(env.step(int(rng.integers(4)))[0])
    for before, after in zip(history, history[1:], strict=False):
        np.testing.assert_array_equal(after[:3], before[1:])
    # Returned stacks are independent copies, and the newest frame changes as the ball moves.
    assert len({h[-1].tobytes() for h in history}) > 10


def test_newest_frame_is_the_max_of_the_last_two_raw_frames(env) -> None:
    env.reset(seed=0)
    for _ in range(3):
        env.step(RIGHT)
    state = ale(env).cloneState()
    frame_before = ale(env).getEpisodeFrameNumber()
    obs, *_ = env.step(LEFT)
    assert ale(env).getEpisodeFrameNumber() - frame_before == 4  # frame_skip 4

    ale(env).restoreState(state)  # replay the same four raw frames by hand
    grays = []
    for _ in range(4):
        env.env.step(LEFT)
        grays.append(ale(env).getScreenGrayscale().copy())
    pooled = np.maximum(grays[2], grays[3])
    assert not np.array_equal(reference_frame(pooled), reference_frame(grays[3]))  # pooling shows
    assert_close_to_reference(obs[-1], pooled)


def test_area_weights_rows_sum_to_one() -> None:
    for src, dst in [(210, 84), (160, 84), (84, 84), (7, 3), (40, 84)]:
        weights = _area_weights(src, dst)
        assert weights.shape == (dst, src)
        assert (weights >= 0).all()
        np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(_area_weights(84, 84), np.eye(84, dtype=np.float32))


def test_area_weights_match_an_integral_reference() -> None:
    image = np.random.default_rng(0).integers(0, 256, size=(210, 160)).astype(np.float32)
    resized = _area_weights(210, 84) @ image @ _area_weights(160, 84).T
    np.testing.assert_allclose(resized, area_resize(image, 84, 84), atol=1e-2)


@pytest.mark.parametrize("value", [0, 1, 87, 128, 254, 255])
def test_resizing_a_constant_image_keeps_the_constant(value: int) -> None:
    rows, cols = _area_weights(210, 84), _area_weights(160, 84).T
    image = np.full((210, 160), value, dtype=np.float32)
    resized = np.rint(rows @ image @ cols).clip(0, 255).astype(np.uint8)
    assert resized.shape == (84, 84)
    assert (resized == value).all()


def test_render_returns_the_full_colour_frame(env) -> None:
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (210, 160, 3) and frame.dtype == np.uint8
    np.testing.assert_array_equal(frame, ale(env).getScreenRGB())
    for action in (FIRE, RIGHT, RIGHT, LEFT):
        env.step(action)
        frame = env.render()
        assert frame.shape == (210, 160, 3) and frame.dtype == np.uint8
        np.testing.assert_array_equal(frame, ale(env).getScreenRGB())


def assert_same_rollout(a: list[tuple], b: list[tuple]) -> None:
    assert len(a) == len(b)
    for step_a, step_b in zip(a, b, strict=True):
        np.testing.assert_array_equal(step_a[0], step_b[0])
        assert step_a[1:] == step_b[1:]


@pytest.mark.slow
def test_same_seed_gives_the_same_trajectory() -> None:
    actions = np.random.default_rng(42).integers(4, size=60).tolist()
    first, second = make_breakout(), make_breakout()
    run = rollout(first, actions, seed=3)
    assert_same_rollout(run, rollout(second, actions, seed=3))
    # Reseeding an env that has already played replays it too.
    assert_same_rollout(run, rollout(first, actions, seed=3))


@pytest.mark.slow
def test_seed_picks_the_number_of_noops_at_the_start() -> None:
    def starts(noop_max: int) -> set[bytes]:
        env = make_breakout(noop_max=noop_max)
        return {rollout(env, [NOOP] * 8, seed=s)[-1][0].tobytes() for s in range(6)}

    assert len(starts(30)) > 1
    assert len(starts(0)) == 1


def test_life_loss_is_terminal_when_asked_and_reset_continues_the_game() -> None:
    env = make_breakout(terminal_on_life_loss=True)
    rng = np.random.default_rng(0)
    _, info = env.reset(seed=0)
    assert info == {"lives": 5, "game_over": False}
    lives = 5
    while lives > 1:
        infos, (_, _, terminated, truncated, info) = play_until_end(env, rng)
        assert [i["lives"] for i in infos[:-1]] == [lives] * (len(infos) - 1)
        assert terminated and not truncated
        assert info == {"lives": lives - 1, "game_over": False}
        frame_number = ale(env).getEpisodeFrameNumber()

        obs, info = env.reset()
        assert info == {"lives": lives - 1, "game_over": False}  # same game, not back to 5
        assert ale(env).getEpisodeFrameNumber() > frame_number  # the ALE game was not reset
        for i in range(1, STACK):
            np.testing.assert_array_equal(obs[i], obs[0])
        lives -= 1

    _, (_, _, terminated, _, info) = play_until_end(env, rng)
    assert terminated
    assert info == {"lives": 0, "game_over": True}
    _, info = env.reset()
    assert info == {"lives": 5, "game_over": False}
    assert ale(env).getEpisodeFrameNumber() < 200  # a fresh game


@pytest.mark.parametrize("policy", ["random", "noop"])
@pytest.mark.slow
def test_without_life_loss_terminal_the_episode_runs_to_game_over(policy: str) -> None:
    env = make_breakout(terminal_on_life_loss=False)
    rng = np.random.default_rng(5) if policy == "random" else None
    env.reset(seed=1)
    # An idle agent still reaches game over: the wrapper presses FIRE after each lost life.
    infos, (_, _, terminated, truncated, info) = play_until_end(env, rng)
    lives = [i["lives"] for i in infos]
    assert lives == sorted(lives, reverse=True)
    assert set(lives) == {5, 4, 3, 2, 1, 0}
    assert not any(i["game_over"] for i in infos[:-1])
    assert terminated and not truncated
    assert info == {"lives": 0, "game_over": True}
    _, info = env.reset()
    assert info == {"lives": 5, "game_over": False}


def test_episode_truncates_at_the_frame_cap(monkeypatch) -> None:
    monkeypatch.setattr(breakout, "MAX_EPISODE_FRAMES", 40)
    env = make_breakout(terminal_on_life_loss=True)
    env.reset(seed=0)
    steps = 0
    truncated = False
    while not truncated and steps < 20:
        _, _, terminated, truncated, info = env.step(RIGHT)
        steps += 1
    assert truncated and not terminated
    assert 40 // 4 - 1 <= steps <= 40 // 4  # 40 frames, 4 a step (the FIRE at reset may count)
    assert info["game_over"] is True  # the game cannot go on, so the next reset starts anew
    _, info = env.reset()
    assert info == {"lives": 5, "game_over": False}
    assert ale(env).getEpisodeFrameNumber() < 200
    _, _, terminated, truncated, _ = env.step(RIGHT)
    assert not terminated and not truncated  # the frame count restarted with the game


def test_frame_skip_1_steps_one_frame_at_a_time() -> None:
    env = make_breakout(frame_skip=1)
    obs, info = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert info == {"lives": 5, "game_over": False}
    rng = np.random.default_rng(2)
    for _ in range(30):
        frame_number = ale(env).getEpisodeFrameNumber()
        next_obs, _, terminated, truncated, info = env.step(int(rng.integers(4)))
        assert ale(env).getEpisodeFrameNumber() == frame_number + 1
        np.testing.assert_array_equal(next_obs[:3], obs[1:])
        # No pair to pool over: the newest frame is the current screen.
        assert_close_to_reference(next_obs[-1], ale(env).getScreenGrayscale())
        assert env.render().shape == (210, 160, 3)
        assert not (terminated or truncated)
        obs = next_obs


# ---- the vector env for training (ALE's C++ preprocessing) -------------------------------


class FireForOneFrame(AtariDQNPreprocessing):
    """The numpy wrapper, its reset pressing FIRE for one frame (not a whole 4-frame step) as
    ALE's vector env does: both then start from the same emulator state."""

    def reset(self, **kwargs):
        skip, self.frame_skip = self.frame_skip, 1
        try:
            return super().reset(**kwargs)
        finally:
            self.frame_skip = skip


@pytest.mark.slow
def test_vector_env_shows_the_same_pictures_as_the_numpy_wrapper() -> None:
    """An agent trained in the vector env is played and scored in the numpy wrapper: given
    the same emulator frames, both must make the same 84x84 stacks (to within a grey level:
    OpenCV's and numpy's area resize round differently)."""
    raw = gym.make(
        "ALE/Breakout-v5",
        frameskip=1,
        repeat_action_probability=0.0,
        full_action_space=False,
        max_episode_steps=None,
    )
    single = FireForOneFrame(raw, noop_max=0, terminal_on_life_loss=True)
    vector = breakout.make_breakout_vector(1, noop_max=0)
    diffs = []
    for game in range(4):  # each until its first lost life, where the two part ways
        rng = np.random.default_rng(game)
        obs, _ = single.reset(seed=game)
        vector_obs, _ = vector.reset(seed=game)
        for _ in range(300):
            diffs.append(np.abs(obs.astype(np.int16) - vector_obs[0]))
            action = int(rng.integers(4))
            obs, reward, terminated, _, _ = single.step(action)
            vector_obs, vector_reward, vector_terminated, _, _ = vector.step(np.array([action]))
            assert (reward, terminated) == (vector_reward[0], vector_terminated[0])
            if terminated:
                break
    diffs = np.stack(diffs)
    assert len(diffs) > 80
    assert diffs.max() <= 1
    assert diffs.mean() < 1e-3


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.slow
def test_vector_env_lost_life_terminates_only_when_training_and_game_over_resets(train) -> None:
    envs = breakout.make_breakout_vector(2, train=train)
    obs, info = envs.reset(seed=0)
    assert obs.shape == (2, STACK, FRAME_SIZE, FRAME_SIZE) and obs.dtype == np.uint8
    assert (obs == obs[:, :1]).all()  # the first frame repeated, as the numpy wrapper does
    lives = info["lives"].copy()
    games = np.zeros(2, dtype=int)
    lost_lives_played_on = 0
    resetting = np.zeros(2, dtype=bool)
    rng = np.random.default_rng(0)
    for _ in range(3_000):
        previous = obs
        obs, reward, terminated, truncated, info = envs.step(rng.integers(4, size=2))
        for e in range(2):
            if resetting[e]:  # the step after a game over: action ignored, a new game
                assert reward[e] == 0 and not terminated[e] and info["lives"][e] == 5
                assert (obs[e] == obs[e, 0]).all()
            else:  # the same game goes on, a lost life included: the stack shifts by one
                np.testing.assert_array_equal(obs[e, :-1], previous[e, 1:])
                lost = info["lives"][e] < lives[e]
                assert terminated[e] == (info["game_over"][e] or (train and lost))
                assert info["game_over"][e] == (info["lives"][e] == 0)
                assert not truncated[e]
        lives = info["lives"].copy()
        lost_lives_played_on += int((terminated & ~info["game_over"] & ~resetting).sum())
        games += info["game_over"]
        resetting = info["game_over"]
        if (games >= 2).all():
            break
    assert (games >= 2).all()
    assert (lost_lives_played_on > 0) == train


@pytest.mark.slow
def test_vector_env_presses_fire_after_a_lost_life_so_an_idle_agent_cannot_stall() -> None:
    """As the numpy wrapper does: the step after a lost life launches the ball whatever the
    agent chose, and says so in info["action"] (what the replay memory must store)."""
    envs = breakout.make_breakout_vector(2, train=True)
    envs.reset(seed=3)
    idle = np.zeros(2, dtype=np.int64)  # NOOP, never FIRE
    fired_for_agent = np.zeros(2, dtype=int)
    lost_life = np.zeros(2, dtype=bool)
    game_over = np.zeros(2, dtype=bool)  # each env's first game has ended
    for _ in range(MAX_STEPS):
        _, _, terminated, truncated, info = envs.step(idle)
        np.testing.assert_array_equal(info["action"], np.where(lost_life, 1, 0))
        fired_for_agent += lost_life & ~game_over
        game_over |= info["game_over"]
        if game_over.all():
            break
        lost_life = terminated & ~info["game_over"]
        assert not truncated.any()
    assert game_over.all(), "an idle agent must still reach game over"
    assert (fired_for_agent == 4).all()  # after each of the first four lost lives


# ---- a person's Breakout: they serve the ball themselves ---------------------------------


def lose_a_life(env, limit: int = 2_000) -> dict:
    """Let the ball go by with the paddle still; returns the info of the step that lost it."""
    info = {"lives": ale(env).lives()}
    lives = info["lives"]
    for _ in range(limit):
        _, _, _, _, info = env.step(NOOP)
        if info["lives"] < lives:
            return info
    raise AssertionError(f"no life lost within {limit} frames")


def still_frames(env, frames: int) -> tuple[bool, dict]:
    """Play NOOP for ``frames``; whether the screen stood still (after its first frame) and
    the last info."""
    env.step(NOOP)
    before = env.render().copy()
    still = True
    info = {}
    for _ in range(frames):
        _, _, _, _, info = env.step(NOOP)
        still = still and np.array_equal(env.render(), before)
    return still, info


@pytest.mark.slow
def test_a_players_ball_waits_for_their_fire_at_the_start_and_after_each_lost_life() -> None:
    env = make_breakout(frame_skip=1, auto_fire=False)
    _, info = env.reset(seed=0)
    assert info["lives"] == 5
    still, info = still_frames(env, 300)  # five seconds at 60 Hz
    assert still and info["lives"] == 5  # no ball in play, nothing lost
    env.step(FIRE)  # one frame of FIRE serves, as in the real game
    assert lose_a_life(env)["lives"] == 4
    still, info = still_frames(env, 300)
    assert still and info["lives"] == 4  # the next ball waits for the player too
    env.step(FIRE)
    assert lose_a_life(env)["lives"] == 3
    env.close()


@pytest.mark.slow
def test_the_agents_env_serves_itself_and_a_persons_does_not() -> None:
    spec = get_game("breakout")
    agent, person = spec.make_env(), spec.make_env(human=True)
    try:
        assert agent.auto_fire and not person.auto_fire
        agent.reset(seed=4)
        lives = [agent.step(NOOP)[4]["lives"] for _ in range(400)]  # an idle agent
        assert min(lives) < 5  # its ball was served at reset and after each loss
        person.reset(seed=4)
        still, info = still_frames(person, 400)
        assert still and info["lives"] == 5
    finally:
        agent.close()
        person.close()


@pytest.mark.slow
def test_the_command_line_prints_no_ale_banner(tmp_path) -> None:
    """ALE prints its banner from C++ when an emulator is made; the app turns its logger down
    where it imports ale_py, so eval's output is only what the app says."""
    code = (
        "import sys, torch; from agent.config import load_config; "
        "from agent.pqn import PQNLearner; from agent.checkpoint import save_checkpoint; "
        "learner = PQNLearner((4, 84, 84), 4, load_config('breakout'), torch.device('cpu')); "
        "save_checkpoint(sys.argv[1], 'breakout', learner, {'global_step': 0, 'episode': 0}, {})"
    )
    checkpoint = tmp_path / "untrained.pt"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-c", code, str(checkpoint)], cwd=ROOT, env=env, check=True)
    done = subprocess.run(
        [
            sys.executable,
            "main.py",
            "eval",
            "breakout",
            "--checkpoint",
            str(checkpoint),
            "--episodes",
            "1",
            "--epsilon",
            "1.0",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert "A.L.E" not in output and "Stella" not in output, output
    assert "mean" in output  # the app still says what it found


@pytest.mark.slow
def test_a_person_played_game_is_shown_to_the_agent_four_frames_apart():
    env = make_breakout(frame_skip=1, auto_fire=False)
    env.reset(seed=5)
    newest = []
    for step in range(30):
        env.step(1 if step == 0 else 2 + step % 2)  # serve, then wiggle
        view = env.agent_view()
        assert view.shape == (4, 84, 84) and view.dtype == np.uint8
        newest.append(view[-1].copy())
        if step >= 12:  # each frame shown is the newest of 4, 8 and 12 frames ago
            for k, frames_ago in enumerate((12, 8, 4)):
                np.testing.assert_array_equal(view[k], newest[step - frames_ago])
    assert any(not np.array_equal(a, b) for a, b in zip(newest, newest[1:], strict=False))
    agent_env = make_breakout()
    obs, _ = agent_env.reset(seed=5)
    np.testing.assert_array_equal(agent_env.agent_view(), obs)  # its own observation
    env.close()
    agent_env.close()
