"""Config files: the defaults load, and every bad file or override stops with one line that
names where the problem is and which key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from agent.config import (
    ConfigError,
    DQNConfig,
    config_from_dict,
    config_to_dict,
    default_config_path,
    load_config,
    parse_override,
)
from game.registry import GAMES


@pytest.mark.parametrize("game", sorted(GAMES))
def test_default_yaml_loads_for_each_game(game):
    config = load_config(game)
    assert isinstance(config, DQNConfig)
    assert config.network == GAMES[game].network
    # Every key in the file is used: loading it over the built-in defaults changes something.
    assert config != DQNConfig()
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
    path = write(tmp_path, "gamma: 0.5\nbatch_size: 16\nhidden_sizes: [8, 8]\n")
    config = load_config("cartpole", path, {"batch_size": 8})
    assert (config.gamma, config.batch_size, config.hidden_sizes) == (0.5, 8, (8, 8))
    assert config.learning_rate == load_config("cartpole").learning_rate  # untouched default


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


@pytest.mark.parametrize(("text", "key"), BAD_VALUES)
def test_bad_value_in_a_file_names_the_file_and_the_key(tmp_path, text, key):
    path = write(tmp_path, text + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config("fruit", path)
    assert_one_line_naming(caught.value, str(path), key)


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
