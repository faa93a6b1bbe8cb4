"""Config files: the defaults load, and every bad file or override stops with one line that
names where the problem is and which key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
import yaml

from agent.config import (
    CONFIG_DIR,
    SECTIONS,
    AgentConfig,
    ConfigError,
    DQNSettings,
    PQNSettings,
    config_from_dict,
    config_to_dict,
    default_config_path,
    load_config,
    overrides_for,
    parse_override,
    saved_config,
)
from game.registry import GAMES

DQN_KEYS = {f.name for f in dataclasses.fields(DQNSettings)}


@pytest.mark.parametrize("game", sorted(GAMES))
def test_default_yaml_loads_for_each_game(game):
    config = load_config(game)
    assert isinstance(config, AgentConfig)
    # Every key in the file is used: loading it over the built-in defaults changes something.
    assert config != AgentConfig()
    assert default_config_path(game).is_file()


def test_config_is_frozen_and_round_trips_through_plain_values():
    config = load_config("cartpole")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.gamma = 0.5  # type: ignore[misc]
    assert config_from_dict(config_to_dict(config)) == config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my-config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def assert_one_line_naming(error: ConfigError, *names: str) -> None:
    message = str(error)
    assert "\n" not in message and message.strip()
    for name in names:
        assert name in message, f"{name!r} not in {message!r}"


def test_a_file_overrides_defaults_and_set_overrides_the_file(tmp_path):
    path = write(tmp_path, "gamma: 0.5\nhidden_sizes: [8, 8]\ndqn:\n  batch_size: 16\n")
    config = load_config("cartpole", path, {"batch_size": 8})
    assert (config.gamma, config.dqn.batch_size, config.hidden_sizes) == (0.5, 8, (8, 8))
    assert config.learning_rate == load_config("cartpole").learning_rate  # untouched default
    assert config.dqn.n_step == load_config("cartpole").dqn.n_step  # the file's section merges


def test_an_empty_file_changes_nothing(tmp_path):
    assert load_config("fruit", write(tmp_path, "# nothing\n")) == load_config("fruit")


BAD_VALUES = [
    # unknown keys
    ("lernig_rate: 0.001", "lernig_rate"),
    # wrong types
    ("batch_size: '32'", "batch_size"),
    ("batch_size: 32.5", "batch_size"),
    ("batch_size: true", "batch_size"),
    ("learning_rate: true", "learning_rate"),
    ("learning_rate: fast", "learning_rate"),
    ("dueling: 1", "dueling"),
    ("dueling: 'yes please'", "dueling"),
    ("hidden_sizes: 64", "hidden_sizes"),
    ("hidden_sizes: [64, 6.5]", "hidden_sizes"),
    ("network: 3", "network"),
    ("gamma: [0.9]", "gamma"),
    # out of range
    ("gamma: 1.5", "gamma"),
    ("gamma: -0.1", "gamma"),
    ("batch_size: 0", "batch_size"),
    ("learning_rate: -0.001", "learning_rate"),
    ("epsilon_start: 2", "epsilon_start"),
    ("n_step: 0", "n_step"),
    ("buffer_size: -1", "buffer_size"),
    ("max_grad_norm: .nan", "max_grad_norm"),
    ("demo_fraction: 1.5", "demo_fraction"),
    ("network: resnet", "network"),
    ("hidden_sizes: []", "hidden_sizes"),
    ("hidden_sizes: [64, 0]", "hidden_sizes"),
    ("epsilon_start: 0.1\nepsilon_end: 0.5", "epsilon_end"),
]


def in_sections(text: str) -> str:
    """``key: value`` lines as a config file writes them: DQN's own keys in its section."""
    shared, section = [], []
    for line in text.splitlines():
        (section if line.partition(":")[0] in DQN_KEYS else shared).append(line)
    return "\n".join(shared + (["dqn:"] + [f"  {line}" for line in section] if section else []))


@pytest.mark.parametrize(("text", "key"), BAD_VALUES)
def test_bad_value_in_a_file_names_the_file_and_the_key(tmp_path, text, key):
    path = write(tmp_path, in_sections(text) + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config("fruit", path)
    assert_one_line_naming(caught.value, str(path), key)
    if key != "lernig_rate":  # the value is what is wrong, not where the key stands
        assert "section" not in str(caught.value) and "top level" not in str(caught.value)


@pytest.mark.parametrize(("text", "key"), BAD_VALUES)
def test_bad_value_from_set_names_set_and_the_key(text, key):
    overrides = dict(parse_override(line.replace(": ", "=", 1)) for line in text.splitlines())
    with pytest.raises(ConfigError) as caught:
        load_config("fruit", None, overrides)
    assert_one_line_naming(caught.value, "--set", key)


def test_bad_yaml_syntax_names_the_file_and_line(tmp_path):
    path = write(tmp_path, "gamma: 0.9\nhidden_sizes: [64, 64\nbatch_size: 32\n")
    with pytest.raises(ConfigError) as caught:
        load_config("cartpole", path)
    assert_one_line_naming(caught.value, str(path), "line")


def test_yaml_list_instead_of_mapping_names_the_file(tmp_path):
    path = write(tmp_path, "- gamma\n- 0.9\n")
    with pytest.raises(ConfigError) as caught:
        load_config("cartpole", path)
    assert_one_line_naming(caught.value, str(path), "mapping")


def test_missing_file_names_the_file(tmp_path):
    path = tmp_path / "missing.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config("cartpole", path)
    assert_one_line_naming(caught.value, str(path))


@pytest.mark.parametrize("text", ["lr", "=3", " =3", "", "gamma"])
def test_set_without_key_and_value_is_refused(text):
    with pytest.raises(ConfigError) as caught:
        parse_override(text)
    assert_one_line_naming(caught.value, "--set")


def test_set_values_are_read_as_yaml():
    assert parse_override("gamma=0.5") == ("gamma", 0.5)
    assert parse_override(" batch_size = 16") == ("batch_size", 16)
    assert parse_override("double_dqn=false") == ("double_dqn", False)
    assert parse_override("hidden_sizes=[64, 64]") == ("hidden_sizes", [64, 64])
    assert parse_override("network=nature_cnn") == ("network", "nature_cnn")
    with pytest.raises(ConfigError):
        parse_override("hidden_sizes=[64,")


@pytest.mark.parametrize("text", ["1e-3", "1.0e-3", "0.001", "+1E-3"])
def test_scientific_notation_reaches_float_fields(text, tmp_path):
    """PyYAML reads ``1e-3`` (no dot) as a string; a user writing it means a number."""
    assert load_config("fruit", None, dict([parse_override(f"learning_rate={text}")])) == (
        load_config("fruit", None, {"learning_rate": 0.001})
    )
    path = write(tmp_path, f"learning_rate: {text}\n")
    assert load_config("fruit", path).learning_rate == pytest.approx(0.001)


def test_ints_are_accepted_for_float_fields():
    assert load_config("fruit", None, {"gamma": 1}).gamma == 1.0


PQN_BAD_VALUES = [
    ("q_lambda: 1.5", "q_lambda"),
    ("num_envs: 0", "num_envs"),
    ("anneal_lr: 'yes'", "anneal_lr"),
    ("min_learning_rate_share: 2", "min_learning_rate_share"),
    ("minibatches: 100000", "minibatches"),  # more than num_envs x rollout_steps
]


@pytest.mark.parametrize(("text", "key"), PQN_BAD_VALUES)
def test_bad_value_in_a_pqn_section_names_the_file_and_the_key(tmp_path, text, key):
    path = write(tmp_path, f"algorithm: pqn\npqn:\n  {text}\n")
    with pytest.raises(ConfigError) as caught:
        load_config("breakout", path)
    assert_one_line_naming(caught.value, str(path), key)


# ---- sections: each learner's keys, and only its own ---------------------------------------

YAML_FILES = sorted(CONFIG_DIR.glob("*.yaml"))


def read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def same_value(loaded, written) -> bool:
    if isinstance(written, list):
        return loaded == tuple(written)
    if isinstance(written, float) or isinstance(loaded, float):
        return loaded == pytest.approx(float(written))
    return loaded == written


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.name)
def test_every_yaml_loads_into_the_learner_its_algorithm_names(path):
    written = read_yaml(path)
    algorithm = written["algorithm"]
    config = load_config(path.stem.split("_")[0], path)
    assert config.algorithm == algorithm
    assert isinstance(config.learner, SECTIONS[algorithm])
    assert getattr(config, algorithm) is config.learner
    other = next(name for name in SECTIONS if name != algorithm)
    with pytest.raises(ConfigError, match=f"trains {algorithm}, not {other}"):
        getattr(config, other)
    # Every key the file writes is the config's, in its own place.
    assert set(written[algorithm]) <= {f.name for f in dataclasses.fields(config.learner)}
    for key, value in written[algorithm].items():
        assert same_value(getattr(config.learner, key), value), key
    for key, value in written.items():
        if key not in ("algorithm", algorithm):
            assert same_value(getattr(config, key), value), key


def test_each_game_loads_each_learner():
    """A game's file for the learner asked for: Breakout's PQN or DQN file; CartPole's DQN
    file, whose shared keys a PQN config of CartPole keeps (its section stays PQN's defaults)."""
    assert load_config("breakout").algorithm == "pqn"
    breakout_dqn = load_config("breakout", algorithm="dqn")
    assert breakout_dqn.dqn == load_config("breakout", CONFIG_DIR / "breakout_dqn.yaml").dqn
    assert breakout_dqn.dqn.buffer_size == 1_000_000
    cartpole_pqn = load_config("cartpole", algorithm="pqn")
    assert cartpole_pqn.pqn == PQNSettings()
    assert cartpole_pqn.learning_rate == load_config("cartpole").learning_rate


OTHER_LEARNERS_KEYS = [
    ("cartpole", "num_envs: 4", "'num_envs' is a pqn key, and this config trains dqn"),
    ("cartpole", "dqn:\n  q_lambda: 0.5", "'q_lambda' is a pqn key, and this config trains dqn"),
    ("cartpole", "pqn:\n  num_envs: 4", "a pqn: section, but this config trains dqn"),
    ("breakout", "buffer_size: 500", "'buffer_size' is a dqn key, and this config trains pqn"),
    ("breakout", "pqn:\n  n_step: 3", "'n_step' is a dqn key, and this config trains pqn"),
    ("breakout", "dqn:\n  n_step: 3", "a dqn: section, but this config trains pqn"),
]


@pytest.mark.parametrize(("game", "text", "message"), OTHER_LEARNERS_KEYS)
def test_a_key_of_the_other_learner_is_one_line_naming_the_learner(tmp_path, game, text, message):
    path = write(tmp_path, text + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(game, path)
    assert_one_line_naming(caught.value, str(path), message)


@pytest.mark.parametrize(
    ("game", "overrides", "message"),
    [
        ("cartpole", {"num_envs": 4}, "'num_envs' is a pqn key, and this config trains dqn"),
        ("cartpole", {"pqn.num_envs": 4}, "a pqn: section, but this config trains dqn"),
        ("breakout", {"buffer_size": 9}, "'buffer_size' is a dqn key, and this config trains pqn"),
        ("breakout", {"dqn.n_step": 3}, "a dqn: section, but this config trains pqn"),
    ],
)
def test_a_set_key_of_the_other_learner_is_one_line_naming_the_learner(game, overrides, message):
    with pytest.raises(ConfigError) as caught:
        load_config(game, None, overrides)
    assert_one_line_naming(caught.value, "--set", message)


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("lerning_rate: 0.1", "learning_rate"),
        ("epsilon_decay: 100", "epsilon_decay_steps"),
        ("dqn:\n  bufer_size: 100", "buffer_size"),
        ("dqn:\n  target_update: 100", "target_update_interval"),
    ],
)
def test_a_misspelt_key_says_which_was_meant(tmp_path, text, meant):
    path = write(tmp_path, text + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config("cartpole", path)
    assert_one_line_naming(caught.value, str(path), f"did you mean {meant!r}?")


def test_a_key_nothing_resembles_gets_no_guess(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config("cartpole", write(tmp_path, "zzzz: 1\n"))
    assert_one_line_naming(caught.value, "'zzzz'")
    assert "did you mean" not in str(caught.value)


@pytest.mark.parametrize("text", ["dqn:\n  gamma: 0.5", "dqn:\n  learning_rate: 0.01"])
def test_a_shared_key_inside_a_section_is_to_go_at_the_top_level(tmp_path, text):
    path = write(tmp_path, text + "\n")
    key = text.split()[1].rstrip(":")
    with pytest.raises(ConfigError) as caught:
        load_config("cartpole", path)
    assert_one_line_naming(caught.value, str(path), repr(key), "put it at the top level")


def test_a_section_key_at_the_top_level_of_a_file_is_to_go_in_its_section(tmp_path):
    path = write(tmp_path, "batch_size: 16\n")
    with pytest.raises(ConfigError) as caught:
        load_config("cartpole", path)
    assert_one_line_naming(caught.value, str(path), "'batch_size'", "dqn: section")


def test_set_overrides_flat_and_dotted_land_in_the_right_section():
    base = load_config("cartpole")
    flat = load_config("cartpole", None, {"buffer_size": 500, "gamma": 0.5})
    dotted = load_config("cartpole", None, {"dqn.buffer_size": 500, "gamma": 0.5})
    assert flat == dotted
    assert flat.dqn.buffer_size == 500 and flat.gamma == 0.5
    assert flat.dqn.batch_size == base.dqn.batch_size  # the rest of the section stays the file's
    set_text = dict(parse_override(t) for t in ("dqn.buffer_size=500", "gamma=0.5"))
    assert load_config("cartpole", None, set_text) == flat
    pqn = load_config("breakout", None, {"num_envs": 2, "pqn.q_lambda": 0.5, "gamma": 0.9})
    assert (pqn.pqn.num_envs, pqn.pqn.q_lambda, pqn.gamma) == (2, 0.5, 0.9)
    assert pqn.pqn.rollout_steps == load_config("breakout").pqn.rollout_steps
    # An override naming the learner takes the game's file for it.
    switched = load_config("breakout", None, {"algorithm": "dqn", "buffer_size": 500})
    assert switched.algorithm == "dqn" and switched.dqn.buffer_size == 500
    assert switched.dqn.adam_eps == load_config("breakout", algorithm="dqn").dqn.adam_eps


def test_with_settings_changes_shared_and_section_keys_checked():
    config = load_config("cartpole")
    changed = config.with_settings(gamma=0.5, buffer_size=700, demo_fraction=0.25)
    assert (changed.gamma, changed.dqn.buffer_size, changed.demo_fraction) == (0.5, 700, 0.25)
    assert changed.dqn.n_step == config.dqn.n_step and config.dqn.buffer_size != 700
    assert config.with_settings(**{"dqn.batch_size": 8}).dqn.batch_size == 8
    with pytest.raises(ConfigError, match="'num_envs' is a pqn key"):
        config.with_settings(num_envs=4)
    with pytest.raises(ConfigError, match="gamma"):
        config.with_settings(gamma=2.0)
    assert load_config("breakout").demo_fraction == 0.0  # PQN keeps no replay memory


def test_overrides_for_keeps_what_each_learner_takes():
    overrides = {"gamma": 0.5, "buffer_size": 10, "dqn.n_step": 2, "num_envs": 2, "pqn.q_lambda": 0}
    assert overrides_for("dqn", overrides) == {"gamma": 0.5, "buffer_size": 10, "dqn.n_step": 2}
    assert overrides_for("pqn", overrides) == {"gamma": 0.5, "num_envs": 2, "pqn.q_lambda": 0}
    # Each filtered set loads into its learner's config without error.
    assert load_config("cartpole", None, overrides_for("dqn", overrides)).dqn.n_step == 2
    assert load_config("breakout", None, overrides_for("pqn", overrides)).pqn.num_envs == 2


def test_the_codes_defaults_agree_with_what_every_yaml_of_a_learner_says():
    """Where all the files of a learner (or all the files) write one value for a key, the code's
    default is that value: a config made without a file (another game's learner, a checkpoint
    that lacks the key) trains as the files do. DQN's targets are Nature's (double_dqn false)."""
    files = [read_yaml(path) for path in YAML_FILES]
    by_learner: dict[str, list[dict]] = {}
    for written in files:
        by_learner.setdefault(written["algorithm"], []).append(written[written["algorithm"]])
    shared = [{k: v for k, v in w.items() if k not in ("algorithm", *SECTIONS)} for w in files]
    groups = [(AgentConfig(), shared)] + [
        (SECTIONS[name](), sections) for name, sections in by_learner.items()
    ]
    checked = []
    for defaults, written in groups:
        if len(written) < 2:  # one file's choice is that game's, not a consensus
            continue
        for key in set.intersection(*(set(w) for w in written)):
            values = {repr(w[key]) for w in written}
            if len(values) == 1:
                assert same_value(getattr(defaults, key), written[0][key]), key
                checked.append(key)
    assert "double_dqn" in checked and "epsilon_start" in checked
    assert DQNSettings().double_dqn is False
    assert config_from_dict({"algorithm": "dqn"}).dqn.double_dqn is False


# ---- configs as checkpoints saved them -----------------------------------------------------


def saved_config_of(name: str) -> dict:
    return torch.load(f"saves/{name}.pt", map_location="cpu", weights_only=True)["config"]


def test_an_old_flat_dqn_checkpoint_config_reads_into_dqn():
    flat = saved_config_of("fruit")
    assert "algorithm" not in flat and "dqn" not in flat  # written before configs had sections
    config = saved_config(flat, "saves/fruit.pt")
    assert config.algorithm == "dqn"
    for key in ("batch_size", "buffer_size", "n_step", "double_dqn", "target_update_interval"):
        assert getattr(config.dqn, key) == flat[key], key
    for key in ("network", "gamma", "learning_rate", "epsilon_end", "grid_size"):
        assert getattr(config, key) == flat[key], key


def test_an_old_flat_pqn_checkpoint_config_reads_into_pqn_and_drops_dqns_keys():
    flat = saved_config_of("breakout-after-4h")  # a time-lapse stage, written before sections
    assert flat["algorithm"] == "pqn" and "buffer_size" in flat and "pqn" not in flat
    config = saved_config(flat, "saves/breakout-after-4h.pt")
    assert config.algorithm == "pqn" and isinstance(config.learner, PQNSettings)
    for key in ("num_envs", "rollout_steps", "update_epochs", "minibatches", "anneal_lr"):
        assert getattr(config.pqn, key) == flat[key], key
    assert config.pqn.q_lambda == pytest.approx(flat["q_lambda"])
    assert (config.network, config.clip_rewards) == ("nature_cnn_ln", True)
    with pytest.raises(ConfigError):
        config.dqn  # noqa: B018 - the DQN keys it was saved with are gone


def test_a_sectioned_config_round_trips_through_a_checkpoint():
    for game in ("cartpole", "breakout"):
        config = load_config(game, None, {"gamma": 0.5})
        written = config_to_dict(config)
        assert written["algorithm"] in written and isinstance(written[config.algorithm], dict)
        assert saved_config(written, "x.pt") == config


def test_a_bad_saved_config_names_its_source():
    with pytest.raises(ConfigError) as caught:
        saved_config({"algorithm": "dqn", "dqn": {"batch_size": 0}}, "run.pt (config)")
    assert_one_line_naming(caught.value, "run.pt (config)", "batch_size")
