"""Versus: a person (or a challenging agent) and the agent play the same game from the same
seed, side by side. The code calls the left side "human" whoever plays it.

``VersusMatch`` owns two copies of the game, steps them in lockstep (one action for each side),
lets a side that has finished wait for the other (or, once the person's game is over, ends the
round when they ask), and scores each round into a running tally.
It knows nothing of threads, windows or networks: the caller picks both actions, so a test can
drive a whole round with scripted moves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

READY = "ready"  # the round's games are reset and shown; nobody has moved yet
PLAYING = "playing"
OVER = "over"  # both games have ended; the round's result is in the tally


@dataclass(frozen=True)
class RoundResult:
    """One finished round: both scores and who won it (the higher score; equal is a draw)."""

    round: int
    seed: int
    human_score: float
    agent_score: float
    # Ended by the person before the agent's game was over, with the agent not yet ahead: its
    # score could still have grown, so the round decides nothing and is not in the tally.
    undecided: bool = False

    @property
    def winner(self) -> str:
        """``"human"``, ``"agent"``, ``"draw"`` or ``"undecided"``."""
        if self.undecided:
            return "undecided"
        if self.human_score > self.agent_score:
            return "human"
        if self.agent_score > self.human_score:
            return "agent"
        return "draw"


@dataclass(frozen=True)
class Tally:
    """Rounds won by each side over a match, and draws."""

    human: int = 0
    agent: int = 0
    draws: int = 0

    @property
    def rounds(self) -> int:
        return self.human + self.agent + self.draws

    def add(self, result: RoundResult) -> Tally:
        winner = result.winner
        if winner == "undecided":
            return self
        return Tally(
            self.human + (winner == "human"),
            self.agent + (winner == "agent"),
            self.draws + (winner == "draw"),
        )


@dataclass(frozen=True)
class RewardCounts:
    """Steps that brought a side a reward or a penalty since the match began (fruit catch:
    its catches and misses)."""

    positive: int = 0
    negative: int = 0

    def add(self, reward: float) -> RewardCounts:
        return RewardCounts(self.positive + (reward > 0), self.negative + (reward < 0))


@dataclass(frozen=True)
class VersusState:
    """What the window shows of a match; ``human_frame`` is a copy of the person's side."""

    round: int
    phase: str  # READY, PLAYING or OVER
    seed: int
    human_score: float
    agent_score: float
    human_done: bool
    agent_done: bool
    human_steps: int
    agent_steps: int
    human_action: int | None
    human_frame: np.ndarray | None
    tally: Tally
    last_result: RoundResult | None
    human_rewards: RewardCounts = RewardCounts()
    agent_rewards: RewardCounts = RewardCounts()
    # Who plays each side: the left ("human") side is a person unless an agent challenges.
    left_name: str = "you"
    right_name: str = "agent"
    left_is_agent: bool = False


class _Side:
    """One player's game in the current round; each of its steps plays ``env_steps`` steps of
    its env with the same action (a person's frame-by-frame Breakout against the agent's
    four-frame steps)."""

    def __init__(self, env: gym.Env, env_steps: int = 1) -> None:
        if env_steps < 1:
            raise ValueError(f"env_steps must be at least 1, got {env_steps}")
        self.env = env
        self.env_steps = env_steps
        self.obs: np.ndarray | None = None
        self.score = 0.0
        self.steps = 0
        self.done = False
        self.last_action: int | None = None
        self.rewards = RewardCounts()  # over the whole match, not reset with the round

    def reset(self, seed: int) -> None:
        self.obs, _ = self.env.reset(seed=seed)
        self.score, self.steps, self.done, self.last_action = 0.0, 0, False, None

    def step(self, action: int) -> float:
        total = 0.0
        for _ in range(self.env_steps):
            obs, reward, terminated, truncated, _ = self.env.step(int(action))
            self.obs = obs
            total += float(reward)
            self.rewards = self.rewards.add(float(reward))
            self.done = bool(terminated or truncated)
            if self.done:
                break
        self.score += total
        self.steps += 1
        self.last_action = int(action)
        return total


class VersusMatch:
    """Rounds of the same game for a person and the agent; round ``r`` is seeded ``seed + r``
    on both sides, so both start from the very same state (fruit column, pole angle, the
    no-ops before Breakout's first serve).

    ``make_human_env`` makes the person's copy when it differs from the agent's (Breakout: the
    person serves the ball themselves); ``human_env_steps`` of it make one step of the match.
    """

    def __init__(
        self,
        make_env: Callable[[], gym.Env],
        seed: int = 0,
        *,
        make_human_env: Callable[[], gym.Env] | None = None,
        human_env_steps: int = 1,
    ) -> None:
        self.seed = seed
        self.human = _Side((make_human_env or make_env)(), human_env_steps)
        try:
            self.agent = _Side(make_env())
        except Exception:
            self.human.env.close()
            raise
        self.round = 0
        self.phase = READY
        self.tally = Tally()
        self.last_result: RoundResult | None = None
        self._reset_round(1)

    def round_seed(self, round_number: int) -> int:
        return self.seed + round_number

    def _reset_round(self, round_number: int) -> None:
        self.round = round_number
        seed = self.round_seed(round_number)
        self.human.reset(seed)
        self.agent.reset(seed)
        self.phase = READY

    def start(self) -> bool:
        """Start the round that is ready, or set up and start the next after one is over.
        Returns False while a round is being played (nothing changes then)."""
        if self.phase == PLAYING:
            return False
        if self.phase == OVER:
            self._reset_round(self.round + 1)
        self.phase = PLAYING
        return True

    def step(self, human_action: int, agent_action: int) -> RoundResult | None:
        """Both sides move at once (a side whose game has ended waits); returns the round's
        result on the step that ends it."""
        if self.phase != PLAYING:
            return None
        if not self.human.done:
            self.human.step(human_action)
        if not self.agent.done:
            self.agent.step(agent_action)
        if not (self.human.done and self.agent.done):
            return None
        return self._score_round()

    def end_round(self) -> RoundResult | None:
        """The person's game is over and they would rather not wait for the agent's: the round
        ends now, scored as it stands. Returns None (nothing changes) unless the round is being
        played and the person's game is over."""
        if self.phase != PLAYING or not self.human.done:
            return None
        # An agent already ahead has won: its score only grows. Otherwise it might yet pass.
        return self._score_round(undecided=self.agent.score <= self.human.score)

    def _score_round(self, undecided: bool = False) -> RoundResult:
        result = RoundResult(
            self.round,
            self.round_seed(self.round),
            self.human.score,
            self.agent.score,
            undecided and not self.agent.done,
        )
        self.last_result = result
        self.tally = self.tally.add(result)
        self.phase = OVER
        return result

    def reset_tally(self) -> None:
        """A new opponent: forget the rounds played so far and set up round 1 again."""
        self.tally = Tally()
        self.last_result = None
        self._reset_round(1)

    def state(self, human_frame: np.ndarray | None) -> VersusState:
        return VersusState(
            round=self.round,
            phase=self.phase,
            seed=self.round_seed(self.round),
            human_score=self.human.score,
            agent_score=self.agent.score,
            human_done=self.human.done,
            agent_done=self.agent.done,
            human_steps=self.human.steps,
            agent_steps=self.agent.steps,
            human_action=self.human.last_action,
            human_frame=human_frame,
            tally=self.tally,
            last_result=self.last_result,
            human_rewards=self.human.rewards,
            agent_rewards=self.agent.rewards,
        )

    def close(self) -> None:
        for side in (self.human, self.agent):
            side.env.close()
