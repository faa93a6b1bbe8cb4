"""Who plays which game, one step at a time, in each mode.

The session's thread owns one ``Play`` next to its trainer. ``step`` does one step of the mode:
- Agent and Train: the agent plays its own game (``trainer.env``); while a person has taken
  over, their action replaces the agent's and, in Train, the step is stored as a demonstration;
- Human: the person plays a game of their own, at the human pace, with the game's countdown
  between episodes (CartPole); with Teach on they play the agent's own game instead, so every
  move is a valid transition for its memory, marked as a demonstration (Breakout: frame skip
  4, at the agent's pace);
- Versus: the person and the agent each play a copy of the same game (``agent.live.versus``), the
  person's made for people (Breakout: they serve the ball themselves).
Every step reports what the agent would have done, so the Q-value panel never goes quiet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from agent.config import DQNConfig
from agent.live.channels import Mode
from agent.live.human_play import HumanGame, HumanInput, Takeover
from agent.live.versus import PLAYING, VersusMatch
from agent.saliency import saliency_map
from agent.trainer import StepReport, Trainer, make_game_env
from game.registry import GameSpec, rendered

if TYPE_CHECKING:  # the window's PQN trainer plays through the same calls
    from agent.pqn_live import LivePQNTrainer

VERSUS_SEED_OFFSET = 1_000  # versus rounds use seeds of their own, apart from training's


def play_fps(game: GameSpec) -> float:
    """Steps a second when a person plays the agent's own game (Teach, takeovers, Versus): the
    slower of the two paces, so fruit catch stays at 5 moves a second and Breakout's
    four-frame steps at 15 a second, which is still 60 game frames a second."""
    return min(game.human_fps, game.agent_fps)


def human_steps_per_agent_step(game: GameSpec) -> int:
    """Steps of a person's env that take as long as one of the agent's (Breakout: 4 frames)."""
    return max(1, round(game.human_fps / game.agent_fps))


@dataclass(frozen=True)
class Move:
    """What one step did, as the panels show it. ``episode_return`` is set when one of the
    trainer's episodes ended (it feeds the learning curve)."""

    action: int
    agent_action: int | None
    q_values: tuple[float, ...]
    greedy: bool
    reward: float
    loss: float | None = None
    episode_return: float | None = None


def _from_report(report: StepReport) -> Move:
    agent_action = int(np.argmax(report.q_values)) if report.q_values else None
    return Move(
        report.action,
        agent_action,
        report.q_values,
        report.greedy,
        report.reward,
        report.loss,
        report.episode_return,
    )


class Play:
    """One game's players and their games; see the module docstring."""

    def __init__(
        self,
        game: GameSpec,
        config: DQNConfig,
        trainer: Trainer | LivePQNTrainer,
        seed: int,
        takeover: Takeover,
    ) -> None:
        self.game = game
        self.config = config
        self.trainer = trainer
        self.seed = seed
        self.input = HumanInput(game.idle_action)
        self.takeover = takeover
        self.teach = False
        self.human: HumanGame | None = None
        self.match: VersusMatch | None = None

    # -- what the person does -----------------------------------------------------------------

    def prepare(self, mode: Mode) -> None:
        """Open the games ``mode`` needs; raises when one cannot be made."""
        game, config = self.game, self.config
        if mode is Mode.HUMAN and self.human is None:
            env = make_game_env(game, config, train=False, human=True)
            countdown = round(game.human_countdown_s * game.human_fps)
            self.human = HumanGame(env, self.seed + 1, countdown_steps=countdown)
        if mode is Mode.VERSUS and self.match is None:
            self.match = VersusMatch(
                lambda: make_game_env(game, config, train=False),
                self.seed + VERSUS_SEED_OFFSET,
                make_human_env=lambda: make_game_env(game, config, train=False, human=True),
                human_env_steps=human_steps_per_agent_step(game),
            )

    def hold(self, mode: Mode, action: int | None, now: float) -> None:
        """The person now holds ``action`` (``None``: no key); in Agent or Train mode a key
        takes the game over."""
        self.input.hold(action)
        if mode in (Mode.AGENT, Mode.TRAIN):
            self.takeover.hold(action, now)

    def reset_control(self) -> None:
        """A new mode: no key carries over and any takeover ends."""
        self.input.clear()
        self.takeover.hand_back()

    def human_in_control(self, mode: Mode, now: float) -> bool:
        if mode is Mode.HUMAN:
            return True
        return mode in (Mode.AGENT, Mode.TRAIN) and self.takeover.active(now)

    def pace_hz(self, mode: Mode, speed: float, now: float) -> float:
        if mode is Mode.VERSUS or (mode is Mode.HUMAN and self.teach):
            return play_fps(self.game)
        if mode is Mode.HUMAN:
            return self.game.human_fps
        pace = self.game.agent_fps * speed
        if self.takeover.active(now):
            return min(pace, play_fps(self.game))  # a person cannot play flat out
        return pace

    # -- one step -----------------------------------------------------------------------------

    def step(self, mode: Mode, epsilon: float | None, now: float) -> Move | None:
        """One step of ``mode``; ``epsilon`` is the user's override (``None``: the schedule in
        Train, greedy elsewhere). Returns None when nothing moved (a versus round not running, a
        countdown before the person's episode)."""
        trainer = self.trainer
        if mode is Mode.VERSUS:
            return self._versus_step(0.0 if epsilon is None else epsilon)
        if mode is Mode.HUMAN:
            if self.teach:
                action = self.input.take()
                return _from_report(trainer.step(learn=True, epsilon=0.0, action=action, demo=True))
            return self._human_step()
        human = self.takeover.active(now)
        taken = self.input.take() if human else None
        if mode is Mode.AGENT:
            report = trainer.step(learn=False, epsilon=epsilon or 0.0, action=taken)
        else:
            # After unrecorded steps (Agent mode) the trainer starts a new stored episode
            # itself rather than stitching frames across the gap.
            report = trainer.step(learn=True, epsilon=epsilon, action=taken, demo=human)
        return _from_report(report)

    def _human_step(self) -> Move | None:
        game = self.human
        assert game is not None
        if game.counting_down:
            game.wait()
            return None  # nobody moves yet; a key pressed now is kept for the first step
        q_values = self.trainer.learner.q_values(game.agent_obs()[None])[0]
        agent_action = int(q_values.argmax())
        action = self.input.take()
        reward, _ = game.step(action)
        return Move(
            action, agent_action, tuple(float(q) for q in q_values), action == agent_action, reward
        )

    def _versus_step(self, epsilon: float) -> Move | None:
        match = self.match
        if match is None or match.phase != PLAYING:
            return None
        trainer = self.trainer
        if match.agent.done or match.agent.obs is None:
            q_values = np.zeros(0, dtype=np.float32)
            agent_action, greedy = 0, True
        else:
            agent_action, q_values, greedy = trainer.learner.act(
                match.agent.obs, epsilon, trainer.rng
            )
        score_before = match.agent.score
        match.step(self.input.take(), agent_action)
        reward = match.agent.score - score_before
        if not len(q_values):
            return None  # the agent's game is over; it waits for the person's
        return Move(
            agent_action,
            int(q_values.argmax()),
            tuple(float(q) for q in q_values),
            greedy,
            reward,
        )

    def start_round(self) -> bool:
        """Enter in Versus: start the round that is ready or the next one; during a round, end
        it once the person's game is over."""
        match = self.match
        if match is None:
            return False
        if match.phase == PLAYING:
            return match.end_round() is not None
        return match.start()

    # -- what the screen shows ----------------------------------------------------------------

    def obs(self, mode: Mode) -> np.ndarray | None:
        """The observation the network receives now in ``mode``'s game on screen."""
        if mode is Mode.VERSUS:
            return self.match.agent.obs if self.match else None
        if mode is Mode.HUMAN and not self.teach:
            return self.human.obs if self.human else None
        return self.trainer.obs

    def frame(self, mode: Mode) -> np.ndarray | None:
        if mode is Mode.VERSUS:
            return rendered(self.match.agent.env) if self.match else None
        if mode is Mode.HUMAN and not self.teach:
            return self.human.frame() if self.human else None
        return self.trainer.frame()

    def human_frame(self) -> np.ndarray | None:
        """Versus: the person's side."""
        return rendered(self.match.human.env) if self.match else None

    def saliency(self, mode: Mode) -> tuple[np.ndarray, int] | None:
        """|dQ/d obs| of the agent's greedy action on the current observation, and that action."""
        obs = self.obs(mode)
        if obs is None:
            return None
        learner = self.trainer.learner
        action = int(learner.q_values(obs[None])[0].argmax())
        return saliency_map(learner.online, obs, action), action

    def close(self) -> None:
        for closer in (self.human, self.match):
            if closer is not None:
                closer.close()
