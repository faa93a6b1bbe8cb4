"""Scoring a policy: whole games of (near-)greedy play, many at once, one batched forward
pass a step."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from agent.config import AgentConfig
from agent.policy import Policy
from game.registry import GameSpec


def game_env_settings(game: GameSpec, config: AgentConfig) -> dict[str, int]:
    """The config's settings for the game's env (fruit catch's grid size)."""
    return {key: getattr(config, key) for key in game.env_config_keys}


def make_game_env(game: GameSpec, config: AgentConfig, *, train: bool, human: bool = False):
    """The game's env with the config's env settings."""
    return game.make_env(train=train, human=human, **game_env_settings(game, config))


def score_summary(returns: np.ndarray) -> dict[str, Any]:
    """Mean, spread and range of evaluation returns, as logs and checkpoints record them."""
    empty = returns.size == 0
    return {
        "eval_mean": None if empty else float(returns.mean()),
        "eval_std": None if empty else float(returns.std()),
        "eval_min": None if empty else float(returns.min()),
        "eval_max": None if empty else float(returns.max()),
        "eval_episodes": int(returns.size),
    }


class Evaluator:
    """A trainer's evaluation envs, made once and reseeded: making one costs more than a game."""

    def __init__(self, game: GameSpec, config: AgentConfig) -> None:
        self.game = game
        self.config = config
        self._envs: list[gym.Env] = []
        self._vector: gym.vector.VectorEnv | None = None

    def __call__(
        self, policy: Policy, episodes: int, seed: int, epsilon: float = 0.0
    ) -> np.ndarray:
        """Returns of ``episodes`` whole games, in envs seeded ``seed``, ``seed + 1``, ..."""
        if self.game.make_vector is not None:
            if self._vector is None or self._vector.num_envs != episodes:
                self._vector = self.game.make_vector(
                    episodes, **game_env_settings(self.game, self.config)
                )
            return evaluate_vector(self._vector, policy, seed, epsilon)
        while len(self._envs) < episodes:
            self._envs.append(make_game_env(self.game, self.config, train=False))
        envs = self._envs[:episodes]
        return evaluate_policy(self.game, self.config, policy, episodes, seed, epsilon, envs)


def evaluate_policy(
    game: GameSpec,
    config: AgentConfig,
    policy: Policy,
    episodes: int,
    seed: int,
    epsilon: float = 0.0,
    envs: list[gym.Env] | None = None,
) -> np.ndarray:
    """Play ``episodes`` games at once, one batched forward pass a step; return each score.
    Uses ``envs`` when given (and leaves them open), else makes and closes its own."""
    own_envs = envs is None
    if envs is None:
        envs = [make_game_env(game, config, train=False) for _ in range(episodes)]
    rng = np.random.default_rng(seed)
    obs = [env.reset(seed=seed + i)[0] for i, env in enumerate(envs)]
    returns = np.zeros(episodes)
    running = list(range(episodes))
    while running:
        actions = policy.actions(np.stack([obs[i] for i in running]), epsilon, rng)
        still = []
        for i, action in zip(running, actions, strict=True):
            obs[i], reward, terminated, truncated, _ = envs[i].step(int(action))
            returns[i] += reward
            if not (terminated or truncated):
                still.append(i)
        running = still
    if own_envs:
        for env in envs:
            env.close()
    return returns


def evaluate_vector(
    vector_env: gym.vector.VectorEnv, policy: Policy, seed: int, epsilon: float = 0.0
) -> np.ndarray:
    """The first episode's return in each sub-env of a vector env seeded from ``seed``."""
    rng = np.random.default_rng(seed)
    obs, _ = vector_env.reset(seed=seed)
    returns = np.zeros(vector_env.num_envs)
    running = np.ones(vector_env.num_envs, dtype=bool)
    while running.any():
        actions = policy.actions(obs, epsilon, rng)
        obs, reward, terminated, truncated, _ = vector_env.step(actions)
        returns += np.where(running, reward, 0.0)  # sub-envs past their episode are ignored
        running &= ~(terminated | truncated)
    return returns
