"""Breakout with the standard DQN preprocessing (Mnih et al. 2015, Machado et al. 2018 settings)."""

from __future__ import annotations

from collections import deque
from typing import Any

import ale_py
import gymnasium as gym
import numpy as np
from ale_py.vector_env import AtariVectorEnv
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

gym.register_envs(ale_py)
# ALE prints its banner to stderr each time an emulator is made; the command line should say
# only what the app says. Errors still come through.
ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)

FRAME_SIZE = 84  # pixels, square
STACK = 4  # frames the agent sees at once
AGENT_SKIP = 4  # frames between two the agent sees (its training env's frame skip)
AGENT_WINDOW = (STACK - 1) * AGENT_SKIP + 1  # raw frames one observation of the agent spans
MAX_EPISODE_FRAMES = 108_000  # 30 minutes of play at 60 Hz, the usual evaluation cap


def _area_weights(src: int, dst: int) -> np.ndarray:
    """Matrix (dst, src) that averages source pixels into destination pixels by overlap."""
    scale = src / dst
    weights = np.zeros((dst, src), dtype=np.float32)
    for i in range(dst):
        start, end = i * scale, (i + 1) * scale
        for j in range(int(start), min(int(np.ceil(end)), src)):
            weights[i, j] = min(end, j + 1) - max(start, j)
    return weights / scale


class AtariDQNPreprocessing(gym.Wrapper):
    """Turn a raw ALE game (frameskip 1, no sticky actions) into the DQN agent's view.

    Observation: ``Box(0, 255, (4, 84, 84), uint8)``, the last four processed frames, oldest first.
    Each processed frame is the pixel-wise max of the last two raw frames of an action repeat,
    in grayscale, area-resized to 84x84.
    Actions: the game's minimal action set (Breakout: NOOP, FIRE, RIGHT, LEFT).
    Rewards: the game score, summed over the repeated frames; unclipped (clip in the learner).
    Start: up to ``noop_max`` random no-ops, then FIRE, which launches the ball; with
    ``auto_fire`` off (a person playing) the ball waits for the player's own FIRE instead.
    End: terminates at game over, or at each lost life when ``terminal_on_life_loss`` (a training
    aid: the next ``reset`` then continues the same game); truncates after 108,000 frames.
    After a lost life the wrapper presses FIRE itself (with ``auto_fire``), so a greedy agent can
    never stall the game; a person serves again with FIRE, as in the real game.
    ``info["game_over"]`` is true when the whole game (all lives) has ended.
    ``render()`` returns the full-colour 210x160 frame last shown.
    """

    def __init__(
        self,
        env: gym.Env,
        frame_skip: int = 4,
        noop_max: int = 30,
        terminal_on_life_loss: bool = False,
        auto_fire: bool = True,
    ) -> None:
        super().__init__(env)
        self.frame_skip = frame_skip
        self.noop_max = noop_max
        self.terminal_on_life_loss = terminal_on_life_loss
        self.auto_fire = auto_fire
        self.observation_space = spaces.Box(0, 255, (STACK, FRAME_SIZE, FRAME_SIZE), np.uint8)
        ale_env: Any = env.unwrapped  # ale_py's AtariEnv
        self._ale = ale_env.ale
        height, width = self._ale.getScreenDims()
        self._rows = _area_weights(height, FRAME_SIZE)
        self._cols = _area_weights(width, FRAME_SIZE).T.copy()
        self._raw = np.zeros((2, height, width), dtype=np.uint8)
        self._stack = np.zeros((STACK, FRAME_SIZE, FRAME_SIZE), dtype=np.uint8)
        self._actions = self._ale.getMinimalActionSet()  # the env's action i is ALE's [i]
        self._lives = 0
        self._frames = 0
        self._game_over = True
        self._fire = ale_env.get_action_meanings().index("FIRE")
        # Played frame by frame (a person, frame_skip 1): the last 13 frames as the agent's
        # preprocessing would make them (each pooled with the frame before), so that the frames
        # 4 apart the agent was trained on can be shown to it (``agent_view``).
        self._agent_frames: deque[np.ndarray] = deque(maxlen=AGENT_WINDOW)
        self._previous = np.zeros((height, width), dtype=np.uint8)

    def _shrink(self, screen: np.ndarray) -> np.ndarray:
        """A grayscale screen area-resized to 84x84."""
        pooled = screen.astype(np.float32)
        return np.rint(self._rows @ pooled @ self._cols).clip(0, 255).astype(np.uint8)

    def _frame(self) -> np.ndarray:
        return self._shrink(np.maximum(self._raw[0], self._raw[1]))

    def agent_view(self) -> np.ndarray:
        """What a DQN agent trained with a 4-frame skip would see now: four frames 4 apart, each
        the max of two frames in a row. With a frame skip of 4 that is the observation itself;
        played frame by frame, the frames are taken from the last 13."""
        if self.frame_skip != 1:
            return self._stack.copy()
        frames = list(self._agent_frames)
        return np.stack(frames[::AGENT_SKIP])

    def _push(self, frame: np.ndarray, fill: bool = False) -> np.ndarray:
        if fill:
            self._stack[:] = frame
        else:
            self._stack[:-1] = self._stack[1:]
            self._stack[-1] = frame
        return self._stack.copy()

    def _act(self, action: int) -> tuple[float, bool, bool]:
        """Repeat ``action`` for frame_skip frames; returns (reward, game_over, truncated).
        The frames are played on ALE itself: through ``env.step`` each one would also copy the
        colour screen and pass the gymnasium wrappers (135 against 91 us a frame)."""
        reward, game_over, truncated = 0.0, False, False
        ale_action = self._actions[action]
        for i in range(self.frame_skip):
            reward += self._ale.act(ale_action)
            self._frames += 1
            if i >= self.frame_skip - 2:
                self._ale.getScreenGrayscale(self._raw[i - self.frame_skip + 2])
            terminated = self._ale.game_over(with_truncation=False)
            if terminated or self._ale.game_truncated() or self._frames >= MAX_EPISODE_FRAMES:
                game_over, truncated = terminated, not terminated
                self._ale.getScreenGrayscale(self._raw[0])
                self._ale.getScreenGrayscale(self._raw[1])
                break
        if self.frame_skip == 1:
            self._agent_frames.append(self._shrink(np.maximum(self._previous, self._raw[1])))
            self._previous[:] = self._raw[1]
            self._raw[0] = self._raw[1]  # no pair to pool over
        return reward, game_over, truncated

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if self._game_over or seed is not None:
            self.env.reset(seed=seed, options=options)
            self._frames = 0
            noops = int(self.np_random.integers(0, self.noop_max + 1)) if self.noop_max else 0
            for _ in range(noops):
                _, _, terminated, truncated, _ = self.env.step(0)
                if terminated or truncated:
                    self.env.reset()
        self._game_over = False
        if self.auto_fire:
            self._act(self._fire)
        self._lives = self._ale.lives()
        self._ale.getScreenGrayscale(self._raw[0])
        self._raw[1] = self._raw[0]
        self._previous[:] = self._raw[0]
        first = self._frame()
        self._agent_frames.extend([first] * AGENT_WINDOW)
        return self._push(first, fill=True), self._info()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        reward, game_over, truncated = self._act(int(action))
        lives = self._ale.lives()
        life_lost = lives < self._lives
        self._lives = lives
        self._game_over = game_over or truncated
        terminated = game_over or (life_lost and self.terminal_on_life_loss)
        serve = self.auto_fire and not self.terminal_on_life_loss
        if life_lost and not self._game_over and serve:
            reward_fire, game_over, truncated = self._act(self._fire)
            reward += reward_fire
            self._game_over = game_over or truncated
            terminated = terminated or game_over
        obs = self._push(self._frame())
        return obs, reward, terminated, truncated, self._info()

    def _info(self) -> dict[str, Any]:
        return {"lives": self._lives, "game_over": self._game_over}

    def render(self) -> np.ndarray:
        return self._ale.getScreenRGB()


def make_breakout(
    frame_skip: int = 4,
    noop_max: int = 30,
    terminal_on_life_loss: bool = False,
    auto_fire: bool = True,
):
    """Breakout-v5 without sticky actions, under DQN preprocessing; ``auto_fire`` off leaves
    the serves to the player."""
    env = gym.make(
        "ALE/Breakout-v5",
        render_mode="rgb_array",
        frameskip=1,
        repeat_action_probability=0.0,
        full_action_space=False,
        max_episode_steps=None,
    )
    return AtariDQNPreprocessing(env, frame_skip, noop_max, terminal_on_life_loss, auto_fire)


class BreakoutVector(gym.vector.VectorWrapper):
    """ALE's C++ vector Breakout (``AtariVectorEnv``), made to show the agent what
    ``AtariDQNPreprocessing`` shows it, so one network serves both.

    Observation: ``Box(0, 255, (num_envs, 4, 84, 84), uint8)``; each sub-env's frames are pooled,
    grayscale and area-resized in C++ as the numpy wrapper does them (they agree to within one
    grey level). ALE starts a game with three black frames under the first one; here they repeat
    the first frame, as the numpy wrapper's stack (and the replay memory's) does.
    Actions, rewards: as ``AtariDQNPreprocessing``; rewards are unclipped.
    Start: up to ``noop_max - 1`` no-op frames, then FIRE for one frame (ALE's own reset).
    End: ``terminated`` at game over and, when ALE's ``life_loss_info`` is on, at each lost life,
    while that game goes on (with the same frame stack). The step after a lost life presses FIRE
    whatever the action, as the numpy wrapper does, so a greedy agent can never stall the game;
    ``info["action"]`` holds the actions the games really took;
    ``truncated`` after 108,000 frames. Autoreset is ``NEXT_STEP``: on the step after a game
    ends, the sub-env ignores its action and returns its reset observation.
    ``info["game_over"]`` is true where the whole game (all lives) ended on this step.
    """

    def __init__(self, env: AtariVectorEnv) -> None:
        super().__init__(env)
        self._since_reset = np.zeros(self.num_envs, dtype=np.int64)  # steps, per sub-env
        self._resets_next = np.zeros(self.num_envs, dtype=bool)
        self._lost_life = np.zeros(self.num_envs, dtype=bool)  # on the last step, game going on
        self._fire = list(env.ale.get_action_set()).index(ale_py.Action.FIRE)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        reset = (options or {}).get("reset_mask", np.ones(self.num_envs, dtype=bool))
        self._since_reset[reset] = 0
        self._resets_next[reset] = False
        self._lost_life[reset] = False
        self._repeat_first_frame(obs)
        return obs, info

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        actions = np.where(self._lost_life, self._fire, np.asarray(actions))
        obs, reward, terminated, truncated, info = self.env.step(actions)
        self._since_reset = np.where(self._resets_next, 0, self._since_reset + 1)
        # In Breakout a game is over when the last life is lost; a lost life before that
        # terminates (life_loss_info) but ALE plays on, and only a game over autoresets.
        game_over = truncated | (terminated & (info["lives"] == 0))
        self._resets_next = game_over
        self._lost_life = terminated & ~game_over
        self._repeat_first_frame(obs)
        info["game_over"] = game_over
        info["action"] = actions
        return obs, reward.astype(np.float32), terminated, truncated, info

    def _repeat_first_frame(self, obs: np.ndarray) -> None:
        for env in np.flatnonzero(self._since_reset < STACK - 1):
            first = STACK - 1 - self._since_reset[env]
            obs[env, :first] = obs[env, first]


def make_breakout_vector(
    num_envs: int, *, train: bool = True, noop_max: int = 30, num_threads: int = 0
) -> BreakoutVector:
    """``num_envs`` Breakout games stepped together in C++, with the settings of
    ``make_breakout``: 4-frame skip, no sticky actions, no-op starts, FIRE on reset, unclipped
    rewards; ``train`` makes a lost life terminal while the game goes on."""
    env = AtariVectorEnv(
        "breakout",
        num_envs,
        num_threads=num_threads,
        max_num_frames_per_episode=MAX_EPISODE_FRAMES,
        repeat_action_probability=0.0,
        autoreset_mode=AutoresetMode.NEXT_STEP,
        img_height=FRAME_SIZE,
        img_width=FRAME_SIZE,
        stack_num=STACK,
        frameskip=4,
        noop_max=noop_max,
        # episodic_life would end the episode at a lost life and autoreset a whole new game
        # (every episode one life long); life_loss_info only reports the lost life.
        episodic_life=False,
        life_loss_info=train,
        reward_clipping=False,
        use_fire_reset=True,
    )
    return BreakoutVector(env)
