"""Versus matches, driven step by step with scripted moves: same seed on both sides, a side that
has finished waits for the other (or the person ends the round once their game is over), each
round ends with both scores and the tally, and a person's Breakout waits for their serve."""

from __future__ import annotations

import numpy as np
import pytest

from agent.config import load_config
from agent.evaluation import make_game_env
from agent.live.play import human_steps_per_agent_step
from agent.live.versus import OVER, PLAYING, READY, RewardCounts, RoundResult, Tally, VersusMatch
from game.registry import GAMES

LEFT, STAY, RIGHT = 0, 1, 2


def fruit_match(seed: int = 5) -> VersusMatch:
    game, config = GAMES["fruit"], load_config("fruit")
    return VersusMatch(lambda: make_game_env(game, config, train=False), seed)


def catcher(obs: np.ndarray) -> int:
    """A scripted fruit-catch player that walks under the fruit."""
    grid = obs[0]
    fruit = int(np.argmax(grid[:-1].max(axis=0)))
    basket = int(np.flatnonzero(grid[-1]).mean())
    return LEFT if fruit < basket else RIGHT if fruit > basket else STAY


def play_round(match: VersusMatch, human_policy, agent_policy) -> RoundResult:
    assert match.start()
    for _ in range(100):
        result = match.step(human_policy(match.human.obs), agent_policy(match.agent.obs))
        if result is not None:
            return result
    raise AssertionError("the round never ended")


def test_a_round_from_a_fixed_seed_ends_with_both_scores_and_the_tally():
    match = fruit_match()
    assert match.phase == READY and match.round == 1
    np.testing.assert_array_equal(match.human.obs, match.agent.obs)  # the same start
    assert match.step(LEFT, LEFT) is None  # nothing moves before the round starts
    result = play_round(match, lambda obs: LEFT, catcher)
    assert match.phase == OVER and result.round == 1
    assert result.agent_score == 1.0  # the catcher always catches
    assert result.human_score in (-1.0, 1.0)
    assert result.human_score == match.human.score and result.agent_score == match.agent.score
    winner = "agent" if result.human_score < 1.0 else "draw"
    assert result.winner == winner
    assert match.tally == Tally().add(result) and match.tally.rounds == 1
    assert match.human.steps == match.agent.steps == 13  # a 15-row grid: 13 falls

    again = play_round(fruit_match(), lambda obs: LEFT, catcher)
    assert again == result  # the same seed and moves give the same round

    second = play_round(match, catcher, lambda obs: LEFT)
    assert second.round == 2 and second.seed == result.seed + 1
    assert second.human_score == 1.0
    assert match.tally.rounds == 2 and match.tally.human + match.tally.draws >= 1
    match.reset_tally()
    assert match.tally == Tally() and match.round == 1 and match.phase == READY
    match.close()


def test_the_side_that_finishes_first_waits_for_the_other():
    game, config = GAMES["cartpole"], load_config("cartpole")
    match = VersusMatch(lambda: make_game_env(game, config, train=False), seed=3)
    np.testing.assert_array_equal(match.human.obs, match.agent.obs)
    match.start()

    def balancer(obs: np.ndarray) -> int:
        return int(obs[2] + 0.5 * obs[3] > 0)  # push towards the lean

    result = None
    while result is None:
        human_done = match.human.done
        steps = match.human.steps
        result = match.step(0, balancer(match.agent.obs))  # the person only pushes left
        if human_done:
            assert match.human.steps == steps  # a finished side stands still
        assert match.phase in (PLAYING, OVER)
    assert match.human.steps < match.agent.steps
    assert result.winner == "agent" and result.agent_score > result.human_score
    match.close()


@pytest.mark.parametrize(
    ("human", "agent", "winner"), [(3.0, 1.0, "human"), (1.0, 3.0, "agent"), (2.0, 2.0, "draw")]
)
def test_the_higher_score_wins_and_equal_scores_draw(human, agent, winner):
    result = RoundResult(1, 0, human, agent)
    assert result.winner == winner
    tally = Tally().add(result).add(result)
    assert tally.rounds == 2 and getattr(tally, winner if winner != "draw" else "draws") == 2


NOOP, FIRE = 0, 1


def breakout_match(seed: int = 2) -> VersusMatch:
    """As ``agent.live.play`` sets it up: the person's env made for people, four of its frames to
    one of the agent's steps."""
    game, config = GAMES["breakout"], load_config("breakout")
    return VersusMatch(
        lambda: make_game_env(game, config, train=False),
        seed,
        make_human_env=lambda: make_game_env(game, config, train=False, human=True),
        human_env_steps=human_steps_per_agent_step(game),
    )


@pytest.mark.slow
def test_in_breakout_versus_the_person_serves_and_then_plays_the_agents_very_game():
    assert human_steps_per_agent_step(GAMES["breakout"]) == 4
    assert human_steps_per_agent_step(GAMES["fruit"]) == 1
    match = breakout_match()
    match.start()
    waiting = match.human.env.render().copy()
    agent_start = match.agent.env.render().copy()
    for _ in range(40):  # the agent's ball is in play (it serves itself); the person's waits
        match.step(NOOP, NOOP)
        np.testing.assert_array_equal(match.human.env.render(), waiting)
    assert match.human.env.unwrapped.ale.lives() == 5 and not match.human.done
    assert not np.array_equal(match.agent.env.render(), agent_start)  # the agent's ball moved
    match.close()

    match = breakout_match()
    match.start()
    agent_frames = [match.agent.env.render().copy()]
    human_frames = []
    moves = np.random.default_rng(0).choice([NOOP, 2, 3], size=60)  # no FIRE: one serve
    human_moves = [FIRE, *moves[:-1]]  # the person serves first, a step behind the agent
    for human_move, agent_move in zip(human_moves, moves, strict=True):
        match.step(int(human_move), int(agent_move))
        if match.agent.env.unwrapped.ale.lives() < 5:
            break  # the agent serves its next ball itself; the person would press FIRE
        human_frames.append(match.human.env.render().copy())
        agent_frames.append(match.agent.env.render().copy())
    assert len(human_frames) >= 20
    for human_frame, agent_frame in zip(human_frames, agent_frames, strict=False):
        np.testing.assert_array_equal(human_frame, agent_frame)  # the same game, frame by frame
    assert match.human.steps == match.agent.steps
    match.close()


def test_once_the_persons_game_is_over_they_can_end_the_round_as_it_stands():
    game, config = GAMES["cartpole"], load_config("cartpole")
    match = VersusMatch(lambda: make_game_env(game, config, train=False), seed=3)
    assert match.end_round() is None  # nothing to end before the round starts
    match.start()

    def balancer(obs: np.ndarray) -> int:
        return int(obs[2] + 0.5 * obs[3] > 0)

    assert match.end_round() is None  # both still playing: the round goes on
    assert match.phase == PLAYING
    while not match.human.done:
        assert match.step(0, balancer(match.agent.obs)) is None
    for _ in range(20):  # the agent plays on while the person watches
        match.step(0, balancer(match.agent.obs))
    assert not match.agent.done and match.phase == PLAYING
    result = match.end_round()
    assert result is not None and match.phase == OVER
    assert (result.human_score, result.agent_score) == (match.human.score, match.agent.score)
    assert result.winner == "agent" and match.tally == Tally(agent=1)
    assert match.end_round() is None  # once only
    assert match.start() and match.round == 2 and match.phase == PLAYING
    match.close()


def test_each_sides_catches_and_misses_add_up_over_the_rounds():
    match = fruit_match()
    results = [
        play_round(match, catcher, lambda obs: LEFT),
        play_round(match, lambda obs: LEFT, catcher),
        play_round(match, lambda obs: RIGHT, lambda obs: RIGHT),
    ]
    state = match.state(None)

    def counts(scores: list[float]) -> RewardCounts:
        return RewardCounts(sum(s > 0 for s in scores), sum(s < 0 for s in scores))

    assert state.human_rewards == counts([r.human_score for r in results])  # one fruit a round
    assert state.agent_rewards == counts([r.agent_score for r in results])
    assert state.human_rewards.positive >= 1 and state.agent_rewards.positive >= 1  # catchers
    match.reset_tally()  # a new opponent: the round tally starts again, the counts go on
    assert match.state(None).human_rewards == state.human_rewards
    match.close()


def test_a_round_ended_before_the_agent_is_ahead_is_not_counted():
    game, config = GAMES["cartpole"], load_config("cartpole")
    match = VersusMatch(lambda: make_game_env(game, config, train=False), seed=3)
    match.start()
    while not match.human.done:  # the person pushes left until the pole falls
        match.step(0, int(match.agent.obs[2] + 0.5 * match.agent.obs[3] > 0))
    assert match.agent.score <= match.human.score and not match.agent.done
    result = match.end_round()
    assert result.winner == "undecided" and match.tally == Tally()  # it might still have won
    match.close()
