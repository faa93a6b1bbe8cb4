"""Replay memory: what is sampled is exactly what the environment showed, however the ring wraps.

The fake environments below number every observation: an episode's observations count up by
one, and each new episode jumps ahead by 1,000. So a sampled transition can be checked against
a record of what was really played, and a stack or a next observation taken from the wrong
entry (an overwritten one, or one from another episode) shows up as a wrong number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
import torch

from agent.replay import ReplayBuffer

EPISODE_GAP = 1_000  # jump in the observation counter at each reset
FRAME_STACK = 4
FRAME_HW = (2, 3)  # tiny "Atari" frames: the counter is spread over a few pixels


@dataclass(eq=False)
class Played:
    """One transition as the environment produced it."""

    index: int  # position in the order played
    obs: np.ndarray
    action: int
    reward: float
    next_obs: np.ndarray
    terminated: bool
    truncated: bool
    demo: bool
    episode: int
    t: int  # step index within its episode


@dataclass
class Record:
    """Everything fed to the buffer, in order, and the entries it should hold for it."""

    played: list[Played] = field(default_factory=list)
    # One per buffer entry in write order: (index into ``played`` or None for a final
    # observation, position of the entry within its episode).
    entries: list[tuple[int | None, int]] = field(default_factory=list)

    def by_key(self, key) -> dict:
        return {key(p.obs): p for p in self.played}


def counter_frame(counter: int) -> np.ndarray:
    """A uint8 frame that spells out ``counter`` (< 2**24)."""
    frame = np.zeros(FRAME_HW, dtype=np.uint8)
    frame[0, 0] = counter & 0xFF
    frame[0, 1] = (counter >> 8) & 0xFF
    frame[0, 2] = (counter >> 16) & 0xFF
    frame[1, :] = 7  # constant background, like most of a real screen
    return frame


def frame_counter(frame: np.ndarray) -> int:
    return int(frame[0, 0]) | int(frame[0, 1]) << 8 | int(frame[0, 2]) << 16


def play(
    buffer: ReplayBuffer,
    episodes: list[tuple[int, str]],
    *,
    stacked: bool,
    seed: int = 0,
    demo_episodes: frozenset[int] = frozenset(),
) -> Record:
    """Play ``episodes`` (length, how it ends: "terminated", "truncated" or "running") into
    ``buffer`` the way the trainer does, and record what an env would have shown."""
    rng = np.random.default_rng(seed)
    record = Record()
    counter = 0
    for episode, (length, end) in enumerate(episodes):
        counter += EPISODE_GAP
        if stacked:
            stack = np.stack([counter_frame(counter)] * FRAME_STACK)  # reset repeats frame 0
            obs = stack.copy()
        else:
            obs = np.array([counter, episode, 0, 0], dtype=np.float32)
        for t in range(length):
            counter += 1
            if stacked:
                stack = np.concatenate([stack[1:], counter_frame(counter)[None]])
                next_obs = stack.copy()
            else:
                next_obs = np.array([counter, episode, t + 1, 0], dtype=np.float32)
            last = t == length - 1
            terminated = last and end == "terminated"
            truncated = last and end == "truncated"
            played = Played(
                index=len(record.played),
                obs=obs,
                action=int(rng.integers(0, 4)),
                reward=float(rng.integers(-3, 4)),  # small integers: sums stay exact in float32
                next_obs=next_obs,
                terminated=terminated,
                truncated=truncated,
                demo=episode in demo_episodes,
                episode=episode,
                t=t,
            )
            buffer.add(
                obs,
                played.action,
                played.reward,
                next_obs,
                terminated,
                truncated,
                demo=played.demo,
            )
            record.played.append(played)
            record.entries.append((len(record.played) - 1, t))
            if terminated or truncated:
                record.entries.append((None, t + 1))
            obs = next_obs
    return record


def vector_key(obs: np.ndarray) -> int:
    return int(obs[0])


def stack_key(obs: np.ndarray) -> int:
    return frame_counter(obs[-1])


def sampleable(record: Record, capacity: int, frame_stack: int) -> set[int]:
    """Indices into ``record.played`` of transitions the buffer must be able to give back:
    held, with their next observation held, and with the frames of their stack held."""
    held = record.entries[-capacity:]
    out = set()
    for age, (played, t) in enumerate(held):
        is_newest = age == len(held) - 1
        if played is None or is_newest:
            continue
        if age < min(t, frame_stack - 1):
            continue  # part of its stack was overwritten
        out.add(played)
    return out


def sample_many(buffer: ReplayBuffer, batches: int, batch_size: int = 64, seed: int = 1, **kw):
    rng = np.random.default_rng(seed)
    return [buffer.sample(batch_size, rng, **kw) for _ in range(batches)]


RANDOM_EPISODES = [
    (int(n), end)
    for n, end in zip(
        np.random.default_rng(7).integers(1, 12, size=40),
        ["terminated", "truncated", "terminated", "terminated", "truncated"] * 8,
        strict=True,
    )
]


# ---- vector observations ---------------------------------------------------------------


def test_wraparound_never_returns_overwritten_or_mismatched_transitions():
    capacity = 20
    buffer = ReplayBuffer(capacity, (4,), np.float32, gamma=0.9)
    record = play(buffer, RANDOM_EPISODES, stacked=False)
    assert len(record.entries) > 5 * capacity  # the ring went round several times
    truth = record.by_key(vector_key)

    seen = set()
    for batch in sample_many(buffer, 40):
        for i in range(len(batch.index)):
            played = truth[vector_key(batch.obs[i])]
            np.testing.assert_array_equal(batch.obs[i], played.obs)
            np.testing.assert_array_equal(batch.next_obs[i], played.next_obs)
            assert batch.next_obs[i][1] == batch.obs[i][1]  # same episode
            assert batch.next_obs[i][0] == batch.obs[i][0] + 1
            assert batch.action[i] == played.action
            assert batch.reward[i] == played.reward
            assert bool(batch.terminated[i]) == played.terminated
            seen.add(played.index)
    # Everything still held is sampled, and nothing older than the ring holds.
    assert seen == sampleable(record, capacity, frame_stack=1)


def test_running_episode_newest_transition_waits_for_its_next_observation():
    buffer = ReplayBuffer(50, (4,), np.float32)
    record = play(buffer, [(5, "terminated"), (4, "running")], stacked=False)
    newest = record.played[-1]
    keys = {vector_key(o) for b in sample_many(buffer, 10) for o in b.obs}
    assert vector_key(newest.obs) not in keys  # its next obs is not in the buffer yet
    assert len(keys) == 5 + 3


def test_truncated_bootstraps_from_stored_final_obs_terminated_does_not():
    buffer = ReplayBuffer(100, (4,), np.float32, gamma=0.9)
    record = play(buffer, [(3, "truncated"), (4, "terminated"), (2, "truncated")], stacked=False)
    truth = record.by_key(vector_key)
    finals = {"terminated": 0, "truncated": 0}
    for batch in sample_many(buffer, 5):
        for i in range(len(batch.index)):
            played = truth[vector_key(batch.obs[i])]
            np.testing.assert_array_equal(batch.next_obs[i], played.next_obs)
            assert bool(batch.terminated[i]) == played.terminated
            assert batch.discount[i] == pytest.approx(0.9)
            if played.truncated:
                finals["truncated"] += 1
                assert not batch.terminated[i]
            if played.terminated:
                finals["terminated"] += 1
    assert finals["terminated"] and finals["truncated"]


def test_end_episode_without_final_transition_does_not_join_episodes():
    """After ``end_episode`` (the env reset mid-episode), the abandoned episode's last step
    must not be paired with the next episode's first observation."""
    buffer = ReplayBuffer(50, (4,), np.float32)

    def obs(counter: int, episode: int) -> np.ndarray:
        return np.array([counter, episode, 0, 0], dtype=np.float32)

    for c in range(100, 103):
        buffer.add(obs(c, 0), 1, 0.0, obs(c + 1, 0), False, False)
    buffer.end_episode()  # obs 103 was never stored
    for c in range(200, 204):
        buffer.add(obs(c, 1), 1, 0.0, obs(c + 1, 1), c == 203, False)
    sampled = set()
    for batch in sample_many(buffer, 10):
        assert np.all(batch.next_obs[:, 0] == batch.obs[:, 0] + 1)
        assert np.all(batch.next_obs[:, 1] == batch.obs[:, 1])
        sampled |= {int(o[0]) for o in batch.obs}
    assert sampled == {100, 101, 200, 201, 202, 203}


@pytest.mark.parametrize("n_step", [2, 3])
def test_n_step_returns_match_hand_computation(n_step):
    gamma = 0.9
    buffer = ReplayBuffer(500, (4,), np.float32, gamma=gamma, n_step=n_step)
    episodes = [(5, "terminated"), (4, "truncated"), (1, "terminated"), (2, "truncated")]
    episodes += [(6, "terminated")]
    record = play(buffer, episodes, stacked=False)
    by_episode: dict[int, list[Played]] = {}
    for p in record.played:
        by_episode.setdefault(p.episode, []).append(p)
    truth = record.by_key(vector_key)

    checked = set()
    for batch in sample_many(buffer, 10):
        for i in range(len(batch.index)):
            played = truth[vector_key(batch.obs[i])]
            steps = by_episode[played.episode]
            k = played.t
            m = min(n_step, len(steps) - k)  # steps in the window, cut at the episode's end
            expected_return = sum(gamma**j * steps[k + j].reward for j in range(m))
            assert batch.reward[i] == pytest.approx(expected_return, abs=1e-5)
            np.testing.assert_array_equal(batch.next_obs[i], steps[k + m - 1].next_obs)
            assert batch.discount[i] == pytest.approx(gamma**m)
            ends_inside = k + m == len(steps)
            assert bool(batch.terminated[i]) == (ends_inside and steps[-1].terminated)
            checked.add((played.episode, k))
    assert len(checked) == len(record.played)  # every transition, incl. near both end kinds


def test_n_step_window_is_consistent_across_the_ring_seam():
    gamma, n_step, capacity = 0.5, 3, 24
    buffer = ReplayBuffer(capacity, (4,), np.float32, gamma=gamma, n_step=n_step)
    record = play(buffer, RANDOM_EPISODES + [(9, "running")], stacked=False)
    truth = record.by_key(vector_key)
    for batch in sample_many(buffer, 20):
        for i in range(len(batch.index)):
            played = truth[vector_key(batch.obs[i])]
            m = int(batch.next_obs[i][0] - batch.obs[i][0])  # steps to next_obs
            assert batch.next_obs[i][1] == batch.obs[i][1]
            assert 1 <= m <= n_step
            first = played.index
            window = record.played[first : first + m]
            assert all(p.episode == played.episode for p in window)
            assert batch.reward[i] == pytest.approx(
                sum(gamma**j * p.reward for j, p in enumerate(window)), abs=1e-5
            )
            assert batch.discount[i] == pytest.approx(gamma**m)
            assert bool(batch.terminated[i]) == window[-1].terminated


# ---- Atari-like frame stacks -------------------------------------------------------------


def atari_buffer(capacity: int, **kw) -> ReplayBuffer:
    return ReplayBuffer(capacity, (FRAME_STACK, *FRAME_HW), np.uint8, frame_stack=FRAME_STACK, **kw)


@pytest.mark.parametrize("capacity", [30, 1_000])
def test_frame_stacks_equal_what_the_env_showed(capacity):
    buffer = atari_buffer(capacity)
    record = play(buffer, RANDOM_EPISODES, stacked=True)
    truth = record.by_key(stack_key)
    seen, starts = set(), 0
    for batch in sample_many(buffer, 80):  # ~19 draws per transition: all get seen
        assert batch.obs.shape == (64, FRAME_STACK, *FRAME_HW)
        for i in range(len(batch.index)):
            played = truth[stack_key(batch.obs[i])]
            np.testing.assert_array_equal(batch.obs[i], played.obs)
            np.testing.assert_array_equal(batch.next_obs[i], played.next_obs)
            assert batch.action[i] == played.action
            assert bool(batch.terminated[i]) == played.terminated
            counters = [frame_counter(f) for f in batch.obs[i]]
            # Never reaches across an episode boundary: all frames within 3 steps.
            assert counters[-1] - counters[0] < FRAME_STACK
            if played.t < FRAME_STACK - 1:
                starts += 1
                assert counters[0] == counters[1]  # the first frame repeated
            seen.add(played.index)
    assert starts > 0
    assert seen == sampleable(record, capacity, FRAME_STACK)


def test_sampled_shapes_and_dtypes():
    buffer = atari_buffer(200, n_step=3)
    play(buffer, RANDOM_EPISODES[:10], stacked=True)
    batch = buffer.sample(32, np.random.default_rng(0))
    assert batch.obs.shape == batch.next_obs.shape == (32, FRAME_STACK, *FRAME_HW)
    assert batch.obs.dtype == batch.next_obs.dtype == np.uint8
    # Channels-last in memory, as the first convolution reads it: no transpose on the way.
    for stacks in (batch.obs, batch.next_obs):
        assert torch.as_tensor(stacks).is_contiguous(memory_format=torch.channels_last)
    assert batch.action.shape == batch.reward.shape == batch.terminated.shape == (32,)
    assert batch.action.dtype == np.int64  # what torch's gather wants
    assert batch.reward.dtype == batch.discount.dtype == np.float32
    assert batch.terminated.dtype == batch.demo.dtype == np.bool_

    vector = ReplayBuffer(200, (4,), np.float32)
    play(vector, RANDOM_EPISODES[:10], stacked=False)
    batch = vector.sample(16, np.random.default_rng(0))
    assert batch.obs.shape == batch.next_obs.shape == (16, 4)
    assert batch.obs.dtype == np.float32


def test_atari_transition_costs_at_most_7_2_kb():
    capacity = 10_000
    obs_shape = (4, 84, 84)
    buffer = ReplayBuffer(capacity, obs_shape, np.uint8, frame_stack=4)
    assert buffer.nbytes / capacity <= 7_200
    assert ReplayBuffer.bytes_needed(capacity, obs_shape, np.uint8, 4) == buffer.nbytes
    vector = ReplayBuffer(capacity, (4,), np.float32)
    assert ReplayBuffer.bytes_needed(capacity, (4,), np.float32) == vector.nbytes


def test_capacity_too_small_is_refused():
    with pytest.raises(ValueError):
        ReplayBuffer(4, (4, 84, 84), np.uint8, frame_stack=4)


# ---- demonstrations -----------------------------------------------------------------------


def test_demo_marks_and_demo_fraction_share():
    buffer = ReplayBuffer(2_000, (4,), np.float32)
    episodes = [(10, "terminated")] * 100
    demo_episodes = frozenset(range(0, 100, 10))  # 10% of transitions are demonstrations
    record = play(buffer, episodes, stacked=False, demo_episodes=demo_episodes)
    truth = record.by_key(vector_key)
    assert buffer.demo_count == 100

    def demo_share(fraction: float) -> float:
        batches = sample_many(buffer, 100, batch_size=40, demo_fraction=fraction)
        for batch in batches:
            for obs, demo in zip(batch.obs, batch.demo, strict=True):
                assert bool(demo) == truth[vector_key(obs)].demo
        return float(np.mean([b.demo.mean() for b in batches]))

    assert demo_share(0.0) == pytest.approx(0.10, abs=0.03)
    # A quarter of each batch from demonstrations, the rest uniform over everything.
    assert demo_share(0.25) == pytest.approx(0.25 + 0.75 * 0.10, abs=0.03)
    batch = buffer.sample(40, np.random.default_rng(3), demo_fraction=0.25)
    assert batch.demo.sum() >= 10


def test_demo_fraction_without_demos_samples_normally():
    buffer = ReplayBuffer(200, (4,), np.float32)
    play(buffer, RANDOM_EPISODES[:10], stacked=False)
    batch = buffer.sample(32, np.random.default_rng(0), demo_fraction=0.5)
    assert len(batch.index) == 32 and not batch.demo.any()


def test_watching_between_training_steps_never_joins_transitions_across_the_gap():
    """Train -> watch (no learning) -> train: the transition before the gap is not sampled
    with an observation from after it, and watching does not move the step counter."""
    import torch

    from agent.config import load_config
    from agent.dqn_trainer import DQNTrainer
    from game.registry import GAMES

    config = load_config(
        "cartpole", overrides={"learning_starts": 10**6, "buffer_size": 500, "n_step": 1}
    )
    trainer = DQNTrainer(GAMES["cartpole"], config, torch.device("cpu"), seed=3)
    for _ in range(5):
        trainer.step(learn=True)
    before_gap = trainer.global_step
    for _ in range(7):
        trainer.step(learn=False)
    assert trainer.global_step == before_gap
    for _ in range(5):
        trainer.step(learn=True)
    batch = trainer.replay.sample(256, np.random.default_rng(0))
    # CartPole moves a little each step: a true successor is close, a gap of 7 steps is not
    # guaranteed far, so check exactly: every sampled pair must be consecutive in stored order.
    stored = trainer.replay.frames[: trainer.replay.size]
    for obs, next_obs in zip(batch.obs, batch.next_obs, strict=True):
        i = int(np.flatnonzero((stored == obs).all(axis=1))[0])
        assert np.array_equal(stored[i + 1], next_obs)
        assert i != 4, "the last step before the gap was sampled"


# ---- several envs in lockstep (a vector env, autoreset on the next step) ----------------

ENV_KEY = 1_000_000  # frame counter = env * ENV_KEY + the env's own counter


@dataclass(eq=False)
class EnvStep:
    """One transition of one env of a vector env, as that env produced it."""

    env: int
    obs: np.ndarray
    action: int
    reward: float
    next_obs: np.ndarray
    terminated: bool
    game_over: bool  # terminated or truncated by the end of its game: autoresets next step


@dataclass
class LockstepRecord:
    streams: list[list[EnvStep]]  # per env, in order
    # One per buffer entry in write order: (the EnvStep it starts or None, since_start).
    entries: list[tuple[EnvStep | None, int]] = field(default_factory=list)
    pending: list[bool] = field(default_factory=list)  # env's newest step lacks its next obs

    def by_key(self) -> dict[int, EnvStep]:
        return {stack_key(s.obs): s for stream in self.streams for s in stream}


def play_lockstep(buffer: ReplayBuffer, steps: int, seed: int = 0) -> LockstepRecord:
    """Step ``buffer.num_envs`` fake Atari envs together the way a vector env steps them:
    games of 3 lives where a lost life terminates while the game goes on, games that end
    (terminated at the last life, or truncated) and autoreset on the next step, when the env
    ignores its action and the final observation is stored."""
    rng = np.random.default_rng(seed)
    n = buffer.num_envs
    record = LockstepRecord(streams=[[] for _ in range(n)])
    counter = [e * ENV_KEY for e in range(n)]
    lives = [3] * n
    since = [0] * n
    resetting = [False] * n
    stacks = [np.stack([counter_frame(c)] * FRAME_STACK) for c in counter]
    for _ in range(steps):
        obs = np.stack(stacks)
        actions = rng.integers(0, 4, size=n)
        rewards = np.zeros(n, dtype=np.float32)
        terminated = np.zeros(n, dtype=bool)
        final = np.array(resetting)
        for e in range(n):
            if resetting[e]:  # the action is ignored; the reset observation comes back
                counter[e] += EPISODE_GAP
                lives[e], resetting[e] = 3, False
                stacks[e] = np.stack([counter_frame(counter[e])] * FRAME_STACK)
                record.entries.append((None, since[e]))
                since[e] = 0
                continue
            counter[e] += 1
            stacks[e] = np.concatenate([stacks[e][1:], counter_frame(counter[e])[None]])
            rewards[e] = rng.integers(-3, 4)
            lost_life = rng.random() < 0.15
            lives[e] -= int(lost_life)
            truncated = rng.random() < 0.02
            terminated[e] = lost_life
            step = EnvStep(
                env=e,
                obs=obs[e],
                action=int(actions[e]),
                reward=float(rewards[e]),
                next_obs=stacks[e].copy(),
                terminated=lost_life,
                game_over=lives[e] == 0 or truncated,
            )
            resetting[e] = step.game_over
            record.streams[e].append(step)
            record.entries.append((step, since[e]))
            since[e] += 1
        buffer.add_lockstep(obs, actions, rewards, terminated, final)
    # The newest step of an env still waits for its next observation, unless it autoreset.
    record.pending = [not f for f in final]
    return record


def lockstep_sampleable(record: LockstepRecord, buffer: ReplayBuffer) -> set[int]:
    """ids of the steps the buffer must give back: held, next observation held (N entries on),
    every frame of the stack held (up to 3 * N entries back)."""
    held = record.entries[-buffer.capacity :]
    out = set()
    for age, (step, since) in enumerate(held):
        if step is None or age + buffer.num_envs >= len(held):
            continue
        if age >= min(since, FRAME_STACK - 1) * buffer.num_envs:
            out.add(id(step))
    return out


@pytest.mark.parametrize(("num_envs", "capacity"), [(4, 70), (3, 2_000), (1, 40)])
@pytest.mark.slow
def test_lockstep_stacks_and_next_obs_are_what_each_env_showed(num_envs, capacity):
    buffer = atari_buffer(capacity, num_envs=num_envs)
    assert buffer.capacity == capacity - capacity % num_envs  # each env keeps its own slots
    record = play_lockstep(buffer, steps=300)
    assert (len(record.entries) > 5 * buffer.capacity) == (capacity < 1_000)  # ring wrapped
    truth = record.by_key()
    seen, across_lost_life, starts = set(), 0, 0
    # ~25 draws per transition held, so that every one of them is drawn
    for batch in sample_many(buffer, 1 + 25 * min(buffer.capacity, 900) // 64):
        for i in range(len(batch.index)):
            step = truth[stack_key(batch.obs[i])]
            np.testing.assert_array_equal(batch.obs[i], step.obs)
            np.testing.assert_array_equal(batch.next_obs[i], step.next_obs)
            assert batch.action[i] == step.action
            assert batch.reward[i] == step.reward
            assert bool(batch.terminated[i]) == step.terminated
            assert batch.index[i] % num_envs == step.env
            counters = [frame_counter(f) for f in (*batch.obs[i], *batch.next_obs[i])]
            assert {c // ENV_KEY for c in counters} == {step.env}  # never another env's frame
            # Never across a game's reset (the counter jumps there), the first frame repeated.
            assert counters[3] - counters[0] < FRAME_STACK
            starts += counters[0] == counters[1]
            seen.add(id(step))
        stream_terminals = {
            stack_key(s.next_obs) for st in record.streams for s in st if s.terminated
        }
        # A lost life does not reset the env's stack: the frames before it stay in view.
        across_lost_life += sum(
            any(frame_counter(f) in stream_terminals for f in obs[:-1]) for obs in batch.obs
        )
    assert starts and across_lost_life
    assert seen == lockstep_sampleable(record, buffer)


def test_lockstep_n_step_returns_stop_at_terminals_and_episode_ends():
    gamma, n_step, num_envs = 0.9, 3, 4
    buffer = atari_buffer(4_000, num_envs=num_envs, gamma=gamma, n_step=n_step)
    record = play_lockstep(buffer, steps=100, seed=2)
    position = {id(s): (e, k) for e, st in enumerate(record.streams) for k, s in enumerate(st)}
    truth = record.by_key()
    checked = set()
    for batch in sample_many(buffer, 160):  # ~25 draws per transition
        for i in range(len(batch.index)):
            step = truth[stack_key(batch.obs[i])]
            e, k = position[id(step)]
            stream = record.streams[e]
            usable = len(stream) - int(record.pending[e])  # steps whose next obs is stored
            window = [stream[k]]
            while (
                len(window) < n_step
                and not window[-1].terminated
                and not window[-1].game_over
                and k + len(window) < usable
            ):
                window.append(stream[k + len(window)])
            m = len(window)
            expected = sum(gamma**j * s.reward for j, s in enumerate(window))
            assert batch.reward[i] == pytest.approx(expected, abs=1e-5)
            np.testing.assert_array_equal(batch.next_obs[i], window[-1].next_obs)
            assert batch.discount[i] == pytest.approx(gamma**m)
            assert bool(batch.terminated[i]) == window[-1].terminated
            checked.add(id(step))
    assert len(checked) == len(lockstep_sampleable(record, buffer))


def test_lockstep_memory_refuses_single_adds_and_costs_the_same_per_transition():
    buffer = ReplayBuffer(8_000, (4, 84, 84), np.uint8, frame_stack=4, num_envs=8)
    assert buffer.nbytes / buffer.capacity <= 7_200
    with pytest.raises(ValueError):
        buffer.add(np.zeros((4, 84, 84), np.uint8), 0, 0.0, np.zeros((4, 84, 84)), False, False)
    with pytest.raises(ValueError):
        ReplayBuffer(40, (4, 84, 84), np.uint8, frame_stack=4, num_envs=8)  # too small for 8
