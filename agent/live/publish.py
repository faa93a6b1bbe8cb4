"""The parts of a snapshot that report on the agent: its training, its record and who is in
control. Built from what the session's thread holds, apart from the thread and its commands.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque

import numpy as np

from agent.config import AgentConfig
from agent.live.agents import LiveAgent
from agent.live.channels import Control, Mode, Scores, Training
from agent.live.human_play import Takeover
from agent.live.play import Move, Play
from agent.training import scheduled_epsilon

RECORD_GAMES = 100  # games in the agent's "mean (100)"
RATE_WINDOW_S = 0.5  # seconds over which steps/s is measured


class Record:
    """The scores of the games the agent played alone (its mean and last) and, kept apart so a
    person's help never flatters it, those of games a person took part in."""

    def __init__(self) -> None:
        self.own: deque[float] = deque(maxlen=RECORD_GAMES)
        self.assisted_games = 0
        self.assisted_last: float | None = None

    def add(self, move: Move) -> None:
        self.own.extend(move.agent_returns)
        if move.person_returns:
            self.assisted_games += len(move.person_returns)
            self.assisted_last = move.person_returns[-1]

    def clear(self) -> None:
        self.own.clear()
        self.assisted_games, self.assisted_last = 0, None


class RateMeter:
    """Env steps a second over the last ``RATE_WINDOW_S``, every game of the agent's together:
    a PQN step moves all of its training games, not only the one on screen."""

    def __init__(self) -> None:
        self.steps = 0
        self._mark = (time.monotonic(), 0)
        self._rate = 0.0

    def count(self, env_steps: int) -> None:
        self.steps += env_steps

    def rate(self, now: float) -> float:
        mark_time, mark_steps = self._mark
        if now - mark_time >= RATE_WINDOW_S:
            self._rate = (self.steps - mark_steps) / (now - mark_time)
            self._mark = (now, self.steps)
        return self._rate


def epsilon_in_use(mode: Mode, override: float | None, agent: LiveAgent | None) -> float:
    if mode is Mode.HUMAN:
        return 0.0  # the person acts; the agent only suggests
    if override is not None:
        return override
    if mode is Mode.TRAIN and agent is not None:
        return scheduled_epsilon(agent.config, agent.global_step)
    return 0.0


def training_part(
    agent: LiveAgent | None, play: Play | None, config: AgentConfig, shared: Training
) -> Training:
    """``shared`` (what the session knows without an agent) completed with the agent's
    learner and counters; ``config`` is the game's, for a session still starting."""
    config = agent.config if agent is not None else config
    algorithm = config.algorithm
    learner = dataclasses.replace(
        shared,
        learner=algorithm,
        has_replay=algorithm == "dqn",
        demo_fraction=config.demo_fraction,
        demo_fraction_applies=algorithm == "dqn",
    )
    if agent is None or play is None:  # still starting
        return learner
    env_steps, episode, _ = play.agent_progress()
    trainer = agent.trainer_built
    replay = trainer.replay if trainer is not None else None
    return dataclasses.replace(
        learner,
        global_step=agent.global_step,
        env_steps=env_steps,
        episode=episode,
        updates=agent.updates,
        scheduled_epsilon=scheduled_epsilon(agent.config, agent.global_step),
        trainer_ready=trainer is not None,
        replay_size=0 if replay is None else min(replay.transitions, replay.capacity),
        replay_capacity=0 if replay is None else replay.capacity,
        demo_count=0 if trainer is None else trainer.demo_steps,
        unsaved_updates=agent.unsaved_updates(),
        agent_source=agent.describe(),
    )


def scores_part(play: Play | None, mode: Mode, record: Record, curve: tuple[float, ...]) -> Scores:
    """The game on screen's running score, the agent's own record and curve, the person's."""
    human = play.human if play is not None else None
    episode_return = play.agent_progress()[2] if play is not None else 0.0
    if human is not None and mode is Mode.HUMAN and not (play is not None and play.teach):
        episode_return = human.score  # the person's own game is on screen
    own = record.own
    return Scores(
        episode_return=episode_return,
        last_return=own[-1] if own else None,
        mean_return=float(np.mean(own)) if own else None,
        returns=curve,
        human_episode=human.episode if human is not None else 0,
        human_last_return=human.last_return if human is not None else None,
        assisted_games=record.assisted_games,
        assisted_last_return=record.assisted_last,
    )


def control_part(play: Play | None, mode: Mode, takeover: Takeover, now: float) -> Control:
    human_acts = play is not None and play.human_in_control(mode, now)
    takeover_on = mode in (Mode.AGENT, Mode.TRAIN)
    return Control(
        controller="human" if human_acts else "agent",
        hand_back_in=takeover.seconds_left(now) if takeover_on else None,
        teach=play is not None and play.teach,
    )
