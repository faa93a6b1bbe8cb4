"""Hyperparameters: one YAML file per game, loaded into frozen dataclasses and checked.

A config is the keys every learner shares (the network, the learning rate, exploration, the
run's length), ``algorithm``, and one section of that learner's own keys (``dqn:`` or
``pqn:``). A key of another learner is an error, never silently ignored. Command-line
overrides may name a section key bare (``buffer_size=1000``) or in full
(``dqn.buffer_size=1000``).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


class ConfigError(ValueError):
    """A config file or override that cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class DQNSettings:
    """DQN's own keys (Mnih et al. 2015): a replay memory and a target network."""

    adam_eps: float = 1e-8
    batch_size: int = 32
    buffer_size: int = 100_000  # transitions
    n_step: int = 1
    double_dqn: bool = False  # Nature's targets, as SB3 and CleanRL; true: Double DQN's
    learning_starts: int = 1_000
    train_frequency: int = 1  # env steps between training rounds
    gradient_steps: int = 1  # updates per training round
    target_update_interval: int = 1_000  # env steps between target syncs
    demo_fraction: float = 0.0  # share of each batch drawn from a person's demonstrations


@dataclass(frozen=True)
class PQNSettings:
    """PQN's own keys (Gallici et al. 2024): rollouts of num_envs x rollout_steps, learned
    from in update_epochs passes of minibatches each against Q(lambda) returns; no replay
    memory, no target network."""

    num_envs: int = 8
    rollout_steps: int = 128
    update_epochs: int = 4
    minibatches: int = 4
    q_lambda: float = 0.65
    # The learning rate falls linearly to 0 at total_steps (then stays at its last tenth's
    # floor, see min_learning_rate), as CleanRL's pqn_atari does over a 10M-step run.
    anneal_lr: bool = False
    # Where annealing stops, as a share of learning_rate: a run taken past total_steps goes on
    # learning at this rate instead of silently not learning at all.
    min_learning_rate_share: float = 0.0


LearnerSettings = DQNSettings | PQNSettings
SECTIONS: dict[str, type[DQNSettings] | type[PQNSettings]] = {
    "dqn": DQNSettings,
    "pqn": PQNSettings,
}


@dataclass(frozen=True)
class AgentConfig:
    """Every knob of a run. Steps count environment steps unless they say otherwise."""

    total_steps: int = 100_000  # default length of `train` when --steps is not given
    network: str = "mlp"  # mlp | fruit_conv | nature_cnn | nature_cnn_ln (LayerNorm, for PQN)
    hidden_sizes: tuple[int, ...] = (256, 256)  # mlp only
    dueling: bool = False
    learning_rate: float = 1e-4
    # The rate for going on training an agent that was loaded trained (the window's "keep
    # training"); 0 means learning_rate. A solved agent trained on at the rate that solved it
    # from scratch drifts away from its solution (docs/keep-training.md).
    fine_tune_learning_rate: float = 0.0
    gamma: float = 0.99
    max_grad_norm: float = 10.0
    mixed_precision: bool = False  # bf16 autocast where bf16 is native (AMX, AVX-512 BF16, CUDA)
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay_steps: int = 10_000
    clip_rewards: bool = False  # clip rewards to [-1, 1] in the learner (Atari)
    eval_every: int = 0  # env steps between greedy evaluations (0: never)
    eval_episodes: int = 10
    save_every: int = 0  # env steps between checkpoints (0: only at the end)
    grid_size: int = 15  # fruit catch only
    learner: LearnerSettings = field(default_factory=DQNSettings)

    @property
    def algorithm(self) -> str:
        """The learner's name, as the config file's ``algorithm`` key says it."""
        return next(name for name, kind in SECTIONS.items() if isinstance(self.learner, kind))

    @property
    def dqn(self) -> DQNSettings:
        """DQN's section; a config of another learner raises ``ConfigError``."""
        if not isinstance(self.learner, DQNSettings):
            raise ConfigError(f"this config trains {self.algorithm}, not dqn")
        return self.learner

    @property
    def pqn(self) -> PQNSettings:
        """PQN's section; a config of another learner raises ``ConfigError``."""
        if not isinstance(self.learner, PQNSettings):
            raise ConfigError(f"this config trains {self.algorithm}, not pqn")
        return self.learner

    @property
    def demo_fraction(self) -> float:
        """Share of each batch a person's demonstrations make up; 0 for a learner without a
        replay memory, whose demonstrations go into its rollouts as they happen."""
        return self.learner.demo_fraction if isinstance(self.learner, DQNSettings) else 0.0

    def with_settings(self, **values: Any) -> AgentConfig:
        """A copy with shared or section keys changed (checked as a config file's are)."""
        return config_from_dict(_merge(config_to_dict(self), _nest(values, self.algorithm)))

    def __post_init__(self) -> None:
        for name, low, high in _RANGES:
            value = getattr(self, name, None)
            if value is None:
                value = getattr(self.learner, name, None)
            if value is not None and not (low <= value <= high):
                raise ConfigError(f"{name}: {value!r} is out of range [{low}, {high}]")
        if self.network not in NETWORKS:
            raise ConfigError(f"network: {self.network!r} is not one of {', '.join(NETWORKS)}")
        if not self.hidden_sizes or any(size < 1 for size in self.hidden_sizes):
            raise ConfigError(f"hidden_sizes: {self.hidden_sizes!r} must be positive integers")
        pqn = self.learner
        if isinstance(pqn, PQNSettings) and pqn.num_envs * pqn.rollout_steps < pqn.minibatches:
            raise ConfigError("pqn.minibatches must not exceed num_envs x rollout_steps")
        if self.epsilon_end > self.epsilon_start:
            raise ConfigError("epsilon_end must not exceed epsilon_start")


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
    ("min_learning_rate_share", 0.0, 1.0),
)
_FLOAT_TEXT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_SHARED = {f.name for f in dataclasses.fields(AgentConfig)} - {"learner"}
_SECTION_KEYS = {
    name: {f.name for f in dataclasses.fields(kind)} for name, kind in SECTIONS.items()
}
_TYPES = {
    **typing.get_type_hints(AgentConfig),
    **{k: v for kind in SECTIONS.values() for k, v in typing.get_type_hints(kind).items()},
}


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


def _unknown(key: str, algorithm: str, where: str) -> ConfigError:
    """An unknown key, with the learner it belongs to or the nearest allowed spelling."""
    owners = [name for name, keys in _SECTION_KEYS.items() if key in keys]
    if owners and owners[0] != algorithm:
        return ConfigError(f"{key!r} is a {owners[0]} key, and this config trains {algorithm}")
    if owners:
        return ConfigError(f"{key!r} belongs in the {algorithm}: section")
    if key in _SHARED:
        return ConfigError(f"{key!r} is shared by every learner: put it at the top level")
    allowed = _SHARED | _SECTION_KEYS[algorithm]
    near = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    return ConfigError(f"unknown key {key!r} {where}{hint}")


def config_from_dict(values: dict[str, Any], source: str = "config") -> AgentConfig:
    """Build a config from plain values: shared keys, ``algorithm`` and that learner's
    section; errors name ``source`` and the key."""
    try:
        return _build(values)
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None


def _build(values: dict[str, Any]) -> AgentConfig:
    algorithm = values.get("algorithm", "dqn")
    if algorithm not in SECTIONS:
        raise ConfigError(f"algorithm: {algorithm!r} is not one of {', '.join(SECTIONS)}")
    shared: dict[str, Any] = {}
    section: dict[str, Any] = {}
    for key, value in values.items():
        if key == "algorithm":
            continue
        if key in SECTIONS:
            if key != algorithm:
                raise ConfigError(f"a {key}: section, but this config trains {algorithm}")
            if not isinstance(value, dict):
                raise ConfigError(f"{key}: expected a mapping of keys to values")
            for inner, inner_value in value.items():
                if inner not in _SECTION_KEYS[algorithm]:
                    raise _unknown(inner, algorithm, f"in {algorithm}:")
                section[inner] = _coerce(inner, inner_value)
        elif key in _SHARED:
            shared[key] = _coerce(key, value)
        else:
            raise _unknown(key, algorithm, "at the top level")
    return AgentConfig(**shared, learner=SECTIONS[algorithm](**section))


def _nest(flat: dict[str, Any], algorithm: str) -> dict[str, Any]:
    """Overrides as a config file writes them: ``key``, ``section.key`` or a bare section key
    of the config's learner put into its section."""
    nested: dict[str, Any] = {}
    own = _SECTION_KEYS.get(algorithm, set())
    for key, value in flat.items():
        section, dot, inner = key.partition(".")
        if dot and section in SECTIONS:
            nested.setdefault(section, {})[inner] = value
        elif key in own:
            nested.setdefault(algorithm, {})[key] = value
        else:
            nested[key] = value
    return nested


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` over ``base``, section by section."""
    merged = dict(base)
    for key, value in extra.items():
        if key in SECTIONS and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def parse_override(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` from the command line, the value read as YAML (so 1e-3, true, [64, 64])."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE")
    try:
        return key.strip(), yaml.safe_load(raw)
    except yaml.YAMLError:
        raise ConfigError(f"--set {text!r}: cannot read the value") from None


def default_config_path(game: str, algorithm: str | None = None) -> Path:
    """The game's config file: ``GAME.yaml``, or ``GAME_ALGORITHM.yaml`` for a learner other
    than the game's default (Breakout's DQN: ``breakout_dqn.yaml``)."""
    default = CONFIG_DIR / f"{game}.yaml"
    if algorithm is None or _read_yaml(default).get("algorithm", "dqn") == algorithm:
        return default
    own = CONFIG_DIR / f"{game}_{algorithm}.yaml"
    return own if own.is_file() else default


def load_config(
    game: str,
    path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    algorithm: str | None = None,
) -> AgentConfig:
    """The game's config for its learner (or for ``algorithm``, or the learner the file at
    ``path`` names), then that file's keys, then ``overrides``."""
    extra = _read_yaml(Path(path)) if path else {}
    overrides = dict(overrides or {})
    wanted = overrides.get("algorithm", extra.get("algorithm", algorithm))
    base_path = default_config_path(game, wanted)
    values = _read_yaml(base_path)
    if wanted is not None and values.get("algorithm", "dqn") != wanted:
        values = {k: v for k, v in values.items() if k not in SECTIONS}  # another learner's
        values["algorithm"] = wanted
    values = _merge(values, extra)
    config = config_from_dict(values, str(path or base_path))
    if overrides:
        values = _merge(values, _nest(overrides, config.algorithm))
        config = config_from_dict(values, "--set")
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


def config_to_dict(config: AgentConfig) -> dict[str, Any]:
    """Plain JSON-able values as a config file writes them, for checkpoints and logs."""
    values: dict[str, Any] = {"algorithm": config.algorithm}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.name == "learner":
            values[config.algorithm] = dataclasses.asdict(value)
        else:
            values[f.name] = list(value) if isinstance(value, tuple) else value
    return values


def saved_config(values: dict[str, Any], source: str) -> AgentConfig:
    """A config as a checkpoint saved it: sections, or one flat mapping (checkpoints written
    before configs had sections), whose keys of the other learner are dropped."""
    if any(isinstance(values.get(name), dict) for name in SECTIONS):
        return config_from_dict(values, source)
    algorithm = values.get("algorithm", "dqn")
    own = _SECTION_KEYS.get(algorithm, set())
    others = set().union(*_SECTION_KEYS.values()) - own
    kept = {k: v for k, v in values.items() if k not in others}
    return config_from_dict(_nest(kept, algorithm), source)


def overrides_for(algorithm: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Of ``overrides`` (shared, bare or ``section.key`` keys, for several learners at once),
    those a config of ``algorithm`` takes: the window sets the settings of every learner a
    game may train with, each config taking its own."""
    own = _SECTION_KEYS.get(algorithm, set())
    kept = {}
    for key, value in overrides.items():
        section, dot, inner = key.partition(".")
        if (dot and section == algorithm) or key in _SHARED or key in own or key == "algorithm":
            kept[key] = value
    return kept
