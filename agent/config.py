"""Hyperparameters: one YAML file per game, loaded into a frozen dataclass and checked."""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


class ConfigError(ValueError):
    """A config file or override that cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class DQNConfig:
    """Every knob of a DQN run. Steps count environment steps unless they say otherwise."""

    total_steps: int = 100_000  # default length of `train` when --steps is not given
    algorithm: str = "dqn"  # dqn | pqn
    network: str = "mlp"  # mlp | fruit_conv | nature_cnn | nature_cnn_ln (LayerNorm, for PQN)
    hidden_sizes: tuple[int, ...] = (256, 256)  # mlp only
    dueling: bool = False
    learning_rate: float = 1e-4
    # The rate for going on training an agent that was loaded trained (the window's "keep
    # training"); 0 means learning_rate. A solved agent trained on at the rate that solved it
    # from scratch drifts away from its solution (see README, "Keep training").
    fine_tune_learning_rate: float = 0.0
    adam_eps: float = 1e-8
    batch_size: int = 32
    buffer_size: int = 100_000  # transitions
    gamma: float = 0.99
    n_step: int = 1
    double_dqn: bool = True
    max_grad_norm: float = 10.0
    mixed_precision: bool = False  # bf16 autocast on native bf16 units (AMX, AVX-512 BF16, CUDA)
    learning_starts: int = 1_000
    train_frequency: int = 1  # env steps between training rounds
    gradient_steps: int = 1  # updates per training round
    target_update_interval: int = 1_000  # env steps between target syncs
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay_steps: int = 10_000
    clip_rewards: bool = False  # clip rewards to [-1, 1] in the learner (Atari)
    demo_fraction: float = 0.0  # share of each batch drawn from human demonstrations, when any
    eval_every: int = 0  # env steps between greedy evaluations (0: never)
    eval_episodes: int = 10
    save_every: int = 0  # env steps between checkpoints (0: only at the end)
    grid_size: int = 15  # fruit catch only
    # PQN only (algorithm: pqn): rollouts of num_envs x rollout_steps, learned from in
    # update_epochs passes of minibatches each, against Q(lambda) returns; no replay memory,
    # no target network; the learning rate falls linearly to 0 at total_steps if anneal_lr.
    num_envs: int = 8
    rollout_steps: int = 128
    update_epochs: int = 4
    minibatches: int = 4
    q_lambda: float = 0.65
    anneal_lr: bool = False

    def __post_init__(self) -> None:
        for name, low, high in _RANGES:
            value = getattr(self, name)
            if not (low <= value <= high):
                raise ConfigError(f"{name}: {value!r} is out of range [{low}, {high}]")
        if self.algorithm not in ALGORITHMS:
            raise ConfigError(
                f"algorithm: {self.algorithm!r} is not one of {', '.join(ALGORITHMS)}"
            )
        if self.network not in NETWORKS:
            raise ConfigError(f"network: {self.network!r} is not one of {', '.join(NETWORKS)}")
        if not self.hidden_sizes or any(size < 1 for size in self.hidden_sizes):
            raise ConfigError(f"hidden_sizes: {self.hidden_sizes!r} must be positive integers")
        if self.num_envs * self.rollout_steps < self.minibatches:
            raise ConfigError("minibatches must not exceed num_envs x rollout_steps")
        if self.epsilon_end > self.epsilon_start:
            raise ConfigError("epsilon_end must not exceed epsilon_start")


ALGORITHMS = ("dqn", "pqn")
NETWORKS = ("mlp", "fruit_conv", "nature_cnn", "nature_cnn_ln")
_BIG = 10**12
_RANGES = (
    ("total_steps", 1, _BIG),
    ("learning_rate", 1e-8, 1.0),
    ("fine_tune_learning_rate", 0.0, 1.0),
    ("adam_eps", 1e-12, 1.0),
    ("batch_size", 1, 65_536),
    ("buffer_size", 1, 10**9),
    ("gamma", 0.0, 1.0),
    ("n_step", 1, 100),
    ("max_grad_norm", 0.0, 1e6),
    ("learning_starts", 0, _BIG),
    ("train_frequency", 1, _BIG),
    ("gradient_steps", 1, 10_000),
    ("target_update_interval", 1, _BIG),
    ("epsilon_start", 0.0, 1.0),
    ("epsilon_end", 0.0, 1.0),
    ("epsilon_decay_steps", 0, _BIG),
    ("demo_fraction", 0.0, 1.0),
    ("eval_every", 0, _BIG),
    ("eval_episodes", 1, 100_000),
    ("save_every", 0, _BIG),
    ("grid_size", 4, 256),
    ("num_envs", 1, 4096),
    ("rollout_steps", 1, 1_000_000),
    ("update_epochs", 1, 1_000),
    ("minibatches", 1, 1_000_000),
    ("q_lambda", 0.0, 1.0),
)
_FLOAT_TEXT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_FIELDS = {f.name: f for f in dataclasses.fields(DQNConfig)}
_TYPES = typing.get_type_hints(DQNConfig)


def _coerce(key: str, value: Any) -> Any:
    """Check ``value`` against the field's type; ints pass as floats, lists as tuples."""
    expected = _TYPES[key]
    if expected is bool:
        if isinstance(value, bool):
            return value
    elif expected is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif expected is float:
        if isinstance(value, str) and _FLOAT_TEXT.fullmatch(value.strip()):
            return float(value)  # YAML 1.1 (PyYAML) reads 1e-4, without a dot, as a string
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif expected is str:
        if isinstance(value, str):
            return value
    elif isinstance(value, (list, tuple)) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return tuple(value)
    name = getattr(expected, "__name__", None) or "list of integers"
    raise ConfigError(f"{key}: expected {name}, got {type(value).__name__} {value!r}")


def config_from_dict(values: dict[str, Any], source: str = "config") -> DQNConfig:
    """Build a config from plain values; errors name ``source`` and the key."""
    checked = {}
    for key, value in values.items():
        if key not in _FIELDS:
            raise ConfigError(f"{source}: unknown key {key!r}; allowed: {', '.join(_FIELDS)}")
        try:
            checked[key] = _coerce(key, value)
        except ConfigError as error:
            raise ConfigError(f"{source}: {error}") from None
    try:
        return DQNConfig(**checked)
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None


def parse_override(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` from the command line, the value read as YAML (so 1e-3, true, [64, 64])."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE")
    try:
        return key.strip(), yaml.safe_load(raw)
    except yaml.YAMLError:
        raise ConfigError(f"--set {text!r}: cannot read the value") from None


def default_config_path(game: str) -> Path:
    return CONFIG_DIR / f"{game}.yaml"


def load_config(
    game: str,
    path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    algorithm: str | None = None,
) -> DQNConfig:
    """The game's defaults, then the YAML file at ``path`` (if any), then ``overrides``.
    ``algorithm`` asks for the game's settings for that learner where its default is another
    one: ``GAME_ALGORITHM.yaml`` over the defaults (Breakout's DQN: ``breakout_dqn.yaml``)."""
    values: dict[str, Any] = {}
    sources = [default_config_path(game)]
    if algorithm is not None:
        own = CONFIG_DIR / f"{game}_{algorithm}.yaml"
        default_algorithm = _read_yaml(sources[0]).get("algorithm", DQNConfig.algorithm)
        if algorithm != default_algorithm and own.is_file():
            sources.append(own)
    sources += [Path(path)] if path else []
    for source in sources:
        values.update(_read_yaml(source))
    if algorithm is not None:
        values["algorithm"] = algorithm
    config = config_from_dict(values, str(path or sources[-1]))
    if overrides:
        config = config_from_dict({**values, **overrides}, "--set")
    return config


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror or error})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys to values")
    return data


def config_to_dict(config: DQNConfig) -> dict[str, Any]:
    """Plain JSON-able values, for checkpoints and logs."""
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()
    }
