"""Evaluation: batched greedy play scores whole episodes, the same way on every path."""

from __future__ import annotations

import numpy as np
import torch

from agent.config import load_config
from agent.dqn_trainer import DQNTrainer
from agent.evaluation import evaluate_policy, evaluate_vector
from game.registry import GAMES


def cartpole_trainer() -> DQNTrainer:
    config = load_config("cartpole", overrides={"learning_starts": 10**6})
    return DQNTrainer(GAMES["cartpole"], config, torch.device("cpu"), seed=0)


def test_vector_evaluation_scores_each_first_episode_and_repeats_with_the_seed():
    trainer = cartpole_trainer()
    vector = GAMES["cartpole"].make_vector(8)
    first = evaluate_vector(vector, trainer.learner.policy, seed=11)
    again = evaluate_vector(vector, trainer.learner.policy, seed=11)
    assert first.shape == (8,) and np.array_equal(first, again)
    # An untrained net holds the pole for a few to a few hundred steps, never past the limit.
    assert np.all((first >= 8) & (first <= 500))
    assert not np.array_equal(first, evaluate_vector(vector, trainer.learner.policy, seed=12))


def test_vector_and_per_env_evaluation_agree_on_what_a_policy_scores():
    """Same policy, different seeds: both paths give CartPole returns from the same range,
    and a policy that always pushes one way scores alike on both (it falls in ~10 steps)."""
    trainer = cartpole_trainer()
    with torch.no_grad():
        for p in trainer.learner.online.parameters():
            p.zero_()
        trainer.learner.online.head[-1].bias.copy_(torch.tensor([1.0, 0.0]))  # always left
    vector = evaluate_vector(GAMES["cartpole"].make_vector(20), trainer.learner.policy, seed=0)
    per_env = evaluate_policy(GAMES["cartpole"], trainer.config, trainer.learner.policy, 20, seed=0)
    assert 7 <= vector.mean() <= 12 and 7 <= per_env.mean() <= 12
    assert abs(vector.mean() - per_env.mean()) < 2


def test_trainer_evaluation_uses_fresh_episodes_and_leaves_training_alone():
    trainer = cartpole_trainer()
    for _ in range(30):
        trainer.step()
    obs, step = trainer.obs.copy(), trainer.global_step
    returns = trainer.evaluate(episodes=5, seed=3)
    assert returns.shape == (5,) and np.all(returns >= 1)
    assert trainer.global_step == step and np.array_equal(trainer.obs, obs)


def test_fruit_evaluation_plays_the_configured_grid_side_by_side():
    """Fruit catch evaluates in its numpy vector env, on the grid the config asks for."""
    config = load_config("fruit", overrides={"grid_size": 9, "learning_starts": 10**6})
    trainer = DQNTrainer(GAMES["fruit"], config, torch.device("cpu"), seed=0)
    returns = trainer.evaluate(episodes=40, seed=5)
    assert returns.shape == (40,) and set(np.unique(returns)) <= {-1.0, 1.0}
    np.testing.assert_array_equal(returns, trainer.evaluate(episodes=40, seed=5))
