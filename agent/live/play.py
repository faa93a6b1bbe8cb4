"""Who plays which game, one step at a time, in each mode.

The session's thread owns one ``Play`` next to its agent. ``step`` does one step of the mode:
- Agent: the agent plays its own game (its trainer's game on screen once it has a trainer, else
  an ``AgentGame``); while a person has taken over, their action replaces the agent's;
- Train: the agent's trainer learns as it plays; a person's takeover steps are learned from as
  theirs (``demo``);
- Human: the person plays a game of their own, at the human pace, with the game's countdown
  between episodes (CartPole); with Teach on they play the agent's own training game instead,
  so every move is learned from as theirs (Breakout: frame skip 4, at the agent's pace);
- Versus: the person and the agent each play a copy of the same game (``agent.live.versus``), the
  person's made for people (Breakout: they serve the ball themselves).
Every step reports what the agent would have done, so the Q-value panel never goes quiet. A game
that a person took part in (a takeover, Teach) counts as theirs, not in the agent's record.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from agent.agent_files import AgentFile, load_policy
from agent.checkpoint import CheckpointError
from agent.config import AgentConfig
from agent.evaluation import make_game_env
from agent.live.agent_game import AgentGame
from agent.live.agents import LiveAgent
from agent.live.channels import Mode
from agent.live.human_play import HumanGame, HumanInput, Takeover
from agent.live.versus import PLAYING, VersusMatch, VersusState
from agent.saliency import saliency_map
from agent.training import StepReport
from game.registry import GameSpec, rendered

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
    """What one step did, as the panels show it. ``agent_returns`` are the scores of whole
    games the agent played alone that ended on this step (they feed its record and learning
    curve); ``person_returns`` those of games a person took part in."""

    action: int
    agent_action: int | None
    q_values: tuple[float, ...]
    greedy: bool
    reward: float
    loss: float | None = None
    agent_returns: tuple[float, ...] = ()
    person_returns: tuple[float, ...] = ()
    env_steps: int = 1


class Play:
    """One game's players and their games; see the module docstring."""

    def __init__(
        self,
        game: GameSpec,
        config: AgentConfig,
        agent: LiveAgent,
        seed: int,
        takeover: Takeover,
    ) -> None:
        self.game = game
        self.config = config
        self.agent = agent
        self.seed = seed
        self.input = HumanInput(game.idle_action)
        self.takeover = takeover
        self.teach = False
        self.human: HumanGame | None = None
        self.match: VersusMatch | None = None
        self._agent_game: AgentGame | None = None  # until the agent has a trainer
        self._rng = np.random.default_rng(seed)  # the agent's exploration in Versus
        self.challenger: AgentFile | None = None  # Versus's left side, when not a person
        self.challenger_name = ""
        self._challenger_rng = np.random.default_rng(seed + 1)
        self._assisted = False  # whether a person took part in the agent's game under way
        self._shown: object = None  # the agent's game on screen: its trainer or its own game

    def new_agent(self, agent: LiveAgent) -> None:
        """Play on with ``agent``: its game starts afresh and a versus tally starts anew."""
        self.agent = agent
        self._assisted = False
        if self._agent_game is not None:
            self._agent_game.restart(new_agent=True)
        if self.match is not None:
            self.match.reset_tally()

    # -- what the person does -----------------------------------------------------------------

    def prepare(self, mode: Mode) -> None:
        """Open the games ``mode`` needs; raises when one cannot be made."""
        game, config = self.game, self.config
        if mode is Mode.HUMAN and self.human is None:
            env = make_game_env(game, config, train=False, human=True)
            countdown = round(game.human_countdown_s * game.human_fps)
            self.human = HumanGame(env, self.seed + 1, countdown_steps=countdown)
        if mode is Mode.VERSUS and self.match is None:
            person = self.challenger is None  # an agent plays the agent's own kind of game
            self.match = VersusMatch(
                lambda: make_game_env(game, config, train=False),
                self.seed + VERSUS_SEED_OFFSET,
                make_human_env=lambda: make_game_env(game, config, train=False, human=person),
                human_env_steps=human_steps_per_agent_step(game) if person else 1,
            )

    def challenge(self, path: Path | None, label: str, device: torch.device) -> tuple[str, bool]:
        """Versus's left side becomes the agent in ``path`` (None: a person again); a new
        tally starts. Returns the message line and whether it is an error."""
        try:
            challenger = None if path is None else load_policy(path, self.game, device)
        except CheckpointError as error:
            return str(error), True
        self.challenger = challenger
        self.challenger_name = "" if path is None else label or Path(path).stem
        if self.match is not None:
            self.match.close()
            self.match = None
            self.prepare(Mode.VERSUS)
        if challenger is None:
            return "Versus: you against the agent", False
        return f"Versus: {self.challenger_name} against {self.agent.describe()}", False

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
        if mode is Mode.VERSUS and self.challenger is not None:
            return self.game.agent_fps * speed  # two agents: no person to keep pace with
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
        if mode is Mode.VERSUS:
            return self._versus_step(0.0 if epsilon is None else epsilon)
        if mode is Mode.HUMAN:
            if self.teach:
                taught = self.agent.trainer()
                # PQN's other games explore on their schedule; the person's needs no epsilon.
                action = self.input.take()
                report = taught.step(learn=True, epsilon=epsilon, action=action, demo=True)
                return self._from_report(report, person_acted=True, game=taught)
            return self._human_step()
        human = self.takeover.active(now)
        taken = self.input.take() if human else None
        trainer = self.agent.trainer() if mode is Mode.TRAIN else self.agent.trainer_built
        if trainer is None:  # nothing has trained it yet: it plays a game of its own
            own = self._own_game()
            report = own.step(self.agent.policy, epsilon or 0.0, taken)
            return self._from_report(report, person_acted=taken is not None, game=own)
        if mode is Mode.TRAIN:
            # After unrecorded steps (Agent mode) the trainer starts a new stored episode
            # itself rather than stitching frames across the gap.
            report = trainer.step(learn=True, epsilon=epsilon, action=taken, demo=human)
        else:
            report = trainer.step(learn=False, epsilon=epsilon or 0.0, action=taken)
        return self._from_report(report, person_acted=taken is not None, game=trainer)

    def _own_game(self) -> AgentGame:
        if self._agent_game is None:
            self._agent_game = AgentGame(self.game, self.config, self.seed)
        return self._agent_game

    def _from_report(self, report: StepReport, person_acted: bool, game: object) -> Move:
        """The move the game on screen (``game``) made, its finished games sorted into the
        agent's own and those a person took part in."""
        shown = report.shown
        assert shown is not None  # a live trainer's step always shows its game
        if game is not self._shown:  # another game on screen: the trainer's, once built
            self._shown, self._assisted = game, False
            if game is not self._agent_game and self._agent_game is not None:
                self._agent_game.close()  # the trainer plays from now on
                self._agent_game = None
        self._assisted |= person_acted
        agent_returns = list(report.episode_returns)
        person_returns: tuple[float, ...] = ()
        if shown.episode_return is not None:
            if self._assisted:
                agent_returns.remove(shown.episode_return)
                person_returns = (shown.episode_return,)
            self._assisted = False
        agent_action = int(np.argmax(shown.q_values)) if shown.q_values else None
        return Move(
            shown.action,
            agent_action,
            shown.q_values,
            shown.greedy,
            shown.reward,
            report.loss,
            tuple(agent_returns),
            person_returns,
            report.env_steps,
        )

    def _human_step(self) -> Move | None:
        game = self.human
        assert game is not None
        if game.counting_down:
            game.wait()
            return None  # nobody moves yet; a key pressed now is kept for the first step
        q_values = self.agent.policy.q_values(game.agent_obs()[None])[0]
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
        if match.agent.done or match.agent.obs is None:
            q_values = np.zeros(0, dtype=np.float32)
            agent_action, greedy = 0, True
        else:
            decision = self.agent.policy.act(match.agent.obs, epsilon, self._rng)
            agent_action, q_values, greedy = decision.action, decision.q_values, decision.greedy
        score_before = match.agent.score
        match.step(self._left_action(epsilon), agent_action)
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

    def _left_action(self, epsilon: float) -> int:
        """The left side's move: the person's key, or the challenging agent's choice."""
        left, challenger = self.match.human if self.match else None, self.challenger
        if challenger is None or left is None or left.done or left.obs is None:
            return self.input.take()
        return challenger.policy.act(left.obs, epsilon, self._challenger_rng).action

    def versus_state(self) -> VersusState | None:
        """The match as the window shows it, each side named."""
        if self.match is None:
            return None
        frame = rendered(self.match.human.env)
        state = self.match.state(None if frame is None else np.array(frame[..., :3], copy=True))
        return dataclasses.replace(
            state,
            left_name=self.challenger_name or "you",
            right_name=self.agent.describe(),
            left_is_agent=self.challenger is not None,
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

    def agent_progress(self) -> tuple[int, int, float]:
        """The agent's game on screen: (env steps, whole games, the running game's score)."""
        trainer = self.agent.trainer_built
        if trainer is not None:
            return trainer.env_steps, trainer.episode, trainer.episode_return
        if self._agent_game is None:
            return 0, self.agent.episode, 0.0
        own = self._agent_game
        return own.env_steps, self.agent.episode + own.episodes, own.episode_return

    # -- what the screen shows ----------------------------------------------------------------

    def obs(self, mode: Mode) -> np.ndarray | None:
        """The observation the network receives now in ``mode``'s game on screen."""
        if mode is Mode.VERSUS:
            return self.match.agent.obs if self.match else None
        if mode is Mode.HUMAN and not self.teach:
            return self.human.obs if self.human else None
        trainer = self.agent.trainer_built
        return trainer.obs if trainer is not None else self._own_game().obs

    def frame(self, mode: Mode) -> np.ndarray | None:
        if mode is Mode.VERSUS:
            return rendered(self.match.agent.env) if self.match else None
        if mode is Mode.HUMAN and not self.teach:
            return self.human.frame() if self.human else None
        trainer = self.agent.trainer_built
        return trainer.frame() if trainer is not None else self._own_game().frame()

    def saliency(self, mode: Mode) -> tuple[np.ndarray, int] | None:
        """|dQ/d obs| of the agent's greedy action on the current observation, and that action."""
        obs = self.obs(mode)
        if obs is None:
            return None
        policy = self.agent.policy
        action = int(policy.q_values(obs[None])[0].argmax())
        return saliency_map(policy.network, obs, action), action

    def close(self) -> None:
        for closer in (self.human, self.match, self._agent_game):
            if closer is not None:
                closer.close()
