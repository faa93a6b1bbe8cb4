"""The agent's own game while nothing trains: one env, played by a policy a step at a time.

Agent mode plays here until the agent is first trained; from then on the trainer's game on
screen takes its place (agent/live/play.py).
"""

from __future__ import annotations

import numpy as np

from agent.config import AgentConfig
from agent.evaluation import make_game_env
from agent.policy import Policy
from agent.training import ShownStep, StepReport
from game.registry import GameSpec, rendered


class AgentGame:
    """One game of the agent's, seeded ``seed``; ``step`` plays one move of it."""

    def __init__(self, game: GameSpec, config: AgentConfig, seed: int) -> None:
        self.env = make_game_env(game, config, train=True)
        self.env.action_space.seed(seed)
        self.rng = np.random.default_rng(seed)
        self.obs, _ = self.env.reset(seed=seed)
        self.episode_return = 0.0
        self.episode_length = 0
        self.env_steps = 0
        self.episodes = 0  # whole games finished

    def step(self, policy: Policy, epsilon: float, action: int | None = None) -> StepReport:
        """One move: the policy's epsilon-greedy choice, or ``action`` (a person's)."""
        decision = policy.act(self.obs, epsilon, self.rng).taken_over(action)
        chosen, greedy = decision.action, decision.greedy
        next_obs, reward, terminated, truncated, info = self.env.step(chosen)
        self.episode_return += float(reward)
        self.episode_length += 1
        self.env_steps += 1
        finished: tuple[float, ...] = ()
        lengths: tuple[int, ...] = ()
        if terminated or truncated:
            if info.get("game_over", True):
                finished, lengths = (self.episode_return,), (self.episode_length,)
                self.episodes += 1
                self.episode_return, self.episode_length = 0.0, 0
            next_obs, _ = self.env.reset()
        self.obs = next_obs
        shown = ShownStep(
            action=chosen,
            q_values=tuple(float(q) for q in decision.q_values),
            greedy=greedy,
            reward=float(reward),
            terminated=bool(terminated),
            truncated=bool(truncated),
            episode_return=finished[0] if finished else None,
        )
        return StepReport(
            global_step=0,
            episode=0,
            epsilon=epsilon,
            loss=None,
            episode_returns=finished,
            episode_lengths=lengths,
            shown=shown,
        )

    def frame(self) -> np.ndarray:
        return rendered(self.env)

    def restart(self, *, new_agent: bool = False) -> None:
        """A new game: the one under way is abandoned (its return is not counted); for a new
        agent the counts start over too, as its own games and steps are counted apart."""
        self.episode_return, self.episode_length = 0.0, 0
        if new_agent:
            self.env_steps = self.episodes = 0
        self.obs, _ = self.env.reset()

    def close(self) -> None:
        self.env.close()
