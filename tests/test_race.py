"""The live race: two new agents learn one game from one seed, alike but for one setting, each
in its own process, until both solve it or time runs out; then who solved first."""

from __future__ import annotations

import time

import pytest

from agent.live.race import CHOICES, SOLVE_WINDOW, Race, SideState, _summary
from game.registry import GAMES


def test_the_summary_names_who_solved_first_in_steps_and_seconds():
    fast = SideState("with", solved_steps=2_900, solved_seconds=20.5, finished=True)
    slow = SideState("without", solved_steps=4_000, solved_seconds=28.8, finished=True)
    assert _summary((slow, fast)) == (
        "with solved first (without: 4,000 steps, 28.8 s; with: 2,900 steps, 20.5 s)"
    )
    timed_out = SideState("a tenth", finished=True)
    assert _summary((fast, timed_out)).endswith("a tenth did not solve it in time")
    assert _summary((timed_out, timed_out)) == "neither side solved it in time"


def test_every_choice_is_two_labelled_configs():
    for setting, sides in CHOICES.items():
        assert len(sides) == 2 and sides[0][0] != sides[1][0], setting
    with pytest.raises(ValueError, match="unknown setting"):
        Race(GAMES["fruit"], "colour of the basket")


@pytest.mark.slow
def test_a_fruit_catch_race_runs_both_sides_to_the_finish():
    race = Race(GAMES["fruit"], "double dqn", seed=0, time_limit_s=120)
    try:
        deadline = time.monotonic() + 240
        state = race.race_state()
        while not state.over and time.monotonic() < deadline:
            time.sleep(0.2)
            state = race.race_state()
    finally:
        race.stop()
    assert state.over, state
    assert [side.label for side in state.sides] == ["DQN targets", "Double DQN"]
    for side in state.sides:
        assert not side.error
        assert side.solved_steps is not None and side.solved_seconds is not None
        assert side.steps == side.solved_steps  # a side stops when it has solved
        assert sum(side.returns[-SOLVE_WINDOW:]) / SOLVE_WINDOW >= GAMES["fruit"].solved_score
    assert "solved first" in state.summary
