"""A person's own game in Human mode: CartPole counts down between episodes, at the game's own
50 Hz, instead of restarting at once; games without a countdown go straight on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agent.config import load_config
from agent.live.agents import LiveAgent
from agent.live.channels import Mode
from agent.live.human_play import HumanGame, Takeover
from agent.live.play import Play
from game.registry import GAMES

SMALL = {"buffer_size": 1_000, "hidden_sizes": [16, 16]}
PUSH_LEFT = 0


def human_play(game: str) -> Play:
    spec = GAMES[game]
    overrides = SMALL if game == "cartpole" else {"buffer_size": 1_000}
    config = load_config(game, overrides=overrides)
    agent = LiveAgent.new(spec, config, torch.device("cpu"), seed=0)  # plays; no trainer
    play = Play(spec, config, agent, 0, Takeover())
    play.prepare(Mode.HUMAN)
    return play


def test_cartpole_counts_down_three_seconds_at_50_hz_between_episodes():
    play = human_play("cartpole")
    game = play.human
    assert game is not None
    countdown = round(GAMES["cartpole"].human_countdown_s * GAMES["cartpole"].human_fps)
    assert countdown == 150  # 3 s at 50 Hz
    assert not game.counting_down  # the first episode starts when the person chose to play

    for episode in range(3):
        if episode > 0:
            start = game.obs.copy()
            for _ in range(countdown):
                assert game.counting_down
                assert play.step(Mode.HUMAN, None, now=0.0) is None  # nothing moves
                np.testing.assert_array_equal(game.obs, start)  # the pole stands still
            assert not game.counting_down and game.score == 0.0
        play.hold(Mode.HUMAN, PUSH_LEFT, now=0.0)  # a key held (through the countdown too)
        steps = 0
        while game.episode == episode:  # pushing left, the pole falls within a second
            move = play.step(Mode.HUMAN, None, now=0.0)
            assert move is not None and move.action == PUSH_LEFT
            steps += 1
            assert steps < 200
        assert game.last_return == steps  # one point a step: the time balanced, in steps
        assert game.counting_down and game.score == 0.0  # the next one counts down first
    assert play.agent.trainer_built is None  # a person's own game trains nothing
    play.close()
    play.agent.close()


def test_fruit_catch_starts_each_fruit_at_once():
    play = human_play("fruit")
    assert play.human is not None and not play.human.counting_down
    for _ in range(30):  # two fruits and more
        assert play.step(Mode.HUMAN, None, now=0.0) is not None
    assert play.human.episode == 2
    play.close()
    play.agent.close()


def test_a_negative_countdown_is_refused():
    env = GAMES["fruit"].make_env()
    with pytest.raises(ValueError, match="countdown"):
        HumanGame(env, seed=0, countdown_steps=-1)
    env.close()
