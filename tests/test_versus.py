"""Versus matches, driven step by step with scripted moves: same seed on both sides, a side that
has finished waits for the other, and each round ends with both scores and the tally."""

from __future__ import annotations

import numpy as np
import pytest

from agent.config import load_config
from agent.trainer import make_game_env
from agent.versus import OVER, PLAYING, READY, RoundResult, Tally, VersusMatch
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
