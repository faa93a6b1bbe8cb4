"""Other libraries' DQN agents read as ours, and ours written as theirs.

Two formats come in: a Stable-Baselines3 DQN zip (what ``model.save()`` and the RL Zoo write)
and a CleanRL DQN state dict (the ``.cleanrl_model`` of ``dqn.py`` and ``dqn_atari.py``). Both
become the same contents as a checkpoint of this app (``read_agent_file``), so evaluation,
recording, export and the window's Load take them as they take ours. ``write_sb3_zip`` writes
one of ours as an SB3 DQN zip that ``stable_baselines3.DQN.load`` opens.

The layers map one to one. A Nature CNN (SB3's ``CnnPolicy``, CleanRL's ``dqn_atari``) is three
convolutions, a dense 512 and the output layer, over 4 stacked 84x84 frames, channels first,
pixels scaled by 1/255 inside the network, as ours. An MLP (``MlpPolicy``, CleanRL's ``dqn``)
is its dense layers with ReLUs between.

Reading never runs code from the file: the zip's ``data`` is JSON whose pickled values (SB3
stores spaces and classes as base64 pickles) are never unpickled; the shapes come from the
weights, which are read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import pickle
import platform
import zipfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from agent.checkpoint import (
    APP_VERSION,
    FORMAT,
    CheckpointError,
    load_torch_file,
    read_checkpoint,
    write_atomically,
)
from agent.config import AgentConfig, DQNSettings, config_to_dict, load_config
from agent.policy import Policy
from agent.training import agent_spaces
from game.registry import GameSpec

SB3_SUFFIX = ".zip"
CLEANRL_SUFFIX = ".cleanrl_model"
FOREIGN_SUFFIXES = (SB3_SUFFIX, CLEANRL_SUFFIX)
SB3_VERSION = "2.9.2"  # the release whose format ``write_sb3_zip`` writes, tested against
# SB3 allocates a model's whole replay memory when it loads one; the RL Zoo's Atari DQN uses
# 100k transitions, where the default million would not fit in most machines' memory.
SB3_BUFFER_SIZE = 100_000

# A network's weighted layers in order: (weight, bias), weights as (out, in[, kh, kw]).
Layers = list[tuple[torch.Tensor, torch.Tensor]]


def read_agent_file(path: str | Path, game: GameSpec) -> dict[str, Any]:
    """The contents of an agent file for ``game`` in this app's checkpoint layout: one of ours,
    an SB3 DQN zip or a CleanRL DQN state dict. Raises ``CheckpointError`` with one line for
    anything else, or an agent whose network does not fit the game."""
    path = Path(path)
    if _is_sb3_zip(path):
        layers, normalized, counters = _read_sb3(path)
        return _as_checkpoint(path, game, layers, normalized, counters, "Stable-Baselines3")
    contents = load_torch_file(path)
    if isinstance(contents, dict) and contents.get("format") == FORMAT:
        return read_checkpoint(path, contents)
    if _is_state_dict(contents):
        layers = _layers_in_order(contents, prefix="network.", path=path)
        counters = {"global_step": 0, "episode": 0, "updates": 0}
        return _as_checkpoint(path, game, layers, True, counters, "CleanRL")
    raise CheckpointError(
        f"{path}: not a DQN Arcade checkpoint, a Stable-Baselines3 zip or a CleanRL model"
    )


def _is_sb3_zip(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
    return {"data", "policy.pth"} <= names


def _read_sb3(path: Path) -> tuple[Layers, bool, dict[str, int]]:
    """The Q-network's layers of an SB3 DQN zip, whether it scales pixels by 1/255, and its
    counters; only DQN is taken (its ``q_net``, never ``q_net_target``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            if archive.testzip() is not None:
                raise zipfile.BadZipFile
            data = json.loads(archive.read("data"))
            weights = archive.read("policy.pth")
    except (OSError, zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError, KeyError):
        raise CheckpointError(f"{path}: corrupt Stable-Baselines3 zip") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: corrupt Stable-Baselines3 zip (its data is not a mapping)")
    policy = data.get("policy_class", {})
    module = policy.get("__module__", "") if isinstance(policy, dict) else ""
    if not module.startswith("stable_baselines3.dqn"):
        algorithm = module.split(".")[1].upper() if module.count(".") >= 1 else "unknown"
        raise CheckpointError(
            f"{path}: a Stable-Baselines3 {algorithm} model; only DQN models can be played here"
        )
    state = load_torch_file(path, io.BytesIO(weights))
    if not _is_state_dict(state):
        raise CheckpointError(f"{path}: its policy.pth is not a mapping of tensors")
    # The features extractor's layers come first in the state dict, then the Q head's.
    layers = _layers_in_order(state, prefix="q_net.", path=path, skip="q_net_target.")
    kwargs = data.get("policy_kwargs")
    normalized = not (isinstance(kwargs, dict) and kwargs.get("normalize_images") is False)
    counters = {
        "global_step": _int_field(data, "num_timesteps"),
        "episode": _int_field(data, "_episode_num"),
        "updates": _int_field(data, "_n_updates"),
    }
    return layers, normalized, counters


def _int_field(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else 0


def _is_state_dict(contents: Any) -> bool:
    return (
        isinstance(contents, dict)
        and bool(contents)
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in contents.items())
    )


def _layers_in_order(
    state: dict[str, torch.Tensor], prefix: str, path: Path, skip: str | None = None
) -> Layers:
    """(weight, bias) of each layer under ``prefix``, in the state dict's order (its modules'
    order); the layers must chain, each one's outputs the next one's inputs."""
    layers: Layers = []
    for name, weight in state.items():
        if skip and name.startswith(skip):
            continue
        if not name.startswith(prefix) or not name.endswith(".weight"):
            continue
        bias = state.get(name[: -len("weight")] + "bias")
        if bias is None or weight.dim() not in (2, 4) or bias.shape != weight.shape[:1]:
            raise CheckpointError(f"{path}: layer {name} is not a dense or convolution layer")
        layers.append((weight.float(), bias.float()))
    if not layers:
        raise CheckpointError(f"{path}: no Q-network weights under {prefix!r}")
    for (before, _), (after, _) in zip(layers, layers[1:], strict=False):
        if before.dim() == after.dim() and after.shape[1] != before.shape[0]:
            raise CheckpointError(f"{path}: its layers do not chain into one network")
    return layers


# Our Nature CNN, layer by layer: (out, in, kernel) of the convolutions, then the dense layers.
_NATURE_CONVS = ((32, 8), (64, 4), (64, 3))


def _as_checkpoint(
    path: Path,
    game: GameSpec,
    layers: Layers,
    normalized: bool,
    counters: dict[str, int],
    library: str,
) -> dict[str, Any]:
    """Our checkpoint contents for ``layers``: the game's own config with the network the
    layers make, and the weights under our names."""
    obs_shape, n_actions = _game_shapes(game)
    convs = [layer for layer in layers if layer[0].dim() == 4]
    dense = [layer for layer in layers if layer[0].dim() == 2]
    if layers != convs + dense:
        raise CheckpointError(f"{path}: a {library} network of a shape this app cannot build")
    outputs = dense[-1][0].shape[0]
    hidden_sizes: tuple[int, ...] = ()
    if convs:
        kind = "nature_cnn"
        shapes = [(w.shape[0], w.shape[-1]) for w, _ in convs]
        fits = (
            shapes == list(_NATURE_CONVS)
            and len(dense) == 2
            and dense[0][0].shape[0] == 512
            and convs[0][0].shape[1] == obs_shape[0]
            and len(obs_shape) == 3
        )
        what = f"{len(convs)} convolutions over {convs[0][0].shape[1]} channels"
    else:
        kind = "mlp"
        hidden_sizes = tuple(int(w.shape[0]) for w, _ in dense[:-1])
        fits = len(dense) >= 2 and dense[0][0].shape[1] == int(np.prod(obs_shape))
        what = f"{dense[0][0].shape[1]} inputs, {len(dense) - 1} hidden layers"
    if not fits or outputs != n_actions:
        raise CheckpointError(
            f"{path}: a {library} network ({what}, {outputs} actions) that does not fit "
            f"{game.title} ({'x'.join(map(str, obs_shape))} observations, {n_actions} actions)"
        )
    if convs and not normalized:
        # Ours always scales pixels by 1/255 first: a net that reads them raw gets weights
        # 255 times larger in its first layer, which computes the same.
        convs[0] = (convs[0][0] * 255.0, convs[0][1])
    names = _our_layer_names(kind, len(dense))
    online = {}
    for name, (weight, bias) in zip(names, convs + dense, strict=True):
        online[f"{name}.weight"], online[f"{name}.bias"] = weight, bias
    config = load_config(game.key, algorithm="dqn")
    config = dataclasses.replace(
        config, network=kind, hidden_sizes=hidden_sizes or config.hidden_sizes, dueling=False
    )
    return {
        "format": FORMAT,
        "game": game.key,
        "network": {
            "kind": kind,
            "obs_shape": list(obs_shape),
            "n_actions": n_actions,
            "hidden_sizes": list(hidden_sizes),
            "dueling": False,
        },
        "config": config_to_dict(config),
        "counters": counters,
        "versions": {"app": APP_VERSION, "torch": str(torch.__version__)},
        "info": {"source": f"{library} model {path.name}"},
        "online": online,
    }


def _our_layer_names(kind: str, dense_layers: int) -> list[str]:
    """The state-dict names of our network's weighted layers, in order."""
    if kind == "nature_cnn":
        return ["features.0", "features.2", "features.4", "head.0", "head.2"]
    # MLP: Flatten first, then Linear/ReLU pairs; the last two dense layers are the head.
    features = [f"features.{1 + 2 * i}" for i in range(dense_layers - 2)]
    return features + ["head.0", "head.2"]


_SPACES: dict[str, tuple[gym.spaces.Space, gym.spaces.Space]] = {}


def _game_spaces(game: GameSpec) -> tuple[gym.spaces.Space, gym.spaces.Space]:
    """The observation and action spaces of the game's agent env."""
    if game.key not in _SPACES:
        env = game.make_env()
        try:
            _SPACES[game.key] = (env.observation_space, env.action_space)
        finally:
            env.close()
    return _SPACES[game.key]


def _game_shapes(game: GameSpec) -> tuple[tuple[int, ...], int]:
    """The observation shape and number of actions of the game's agent env."""
    observation_space, n_actions = agent_spaces(*_game_spaces(game))
    return tuple(observation_space.shape), n_actions


# --- Writing an SB3 zip -------------------------------------------------------------------


def write_sb3_zip(
    path: str | Path, game: GameSpec, policy: Policy, config: AgentConfig, counters: dict
) -> Path:
    """Write ``policy``'s network as an SB3 DQN zip (policy, spaces, counters; no replay
    memory), atomically. Only networks SB3's DQN has are written: a plain MLP or the Nature
    CNN, without a dueling head or LayerNorm."""
    path = Path(path)
    dqn = config.learner if isinstance(config.learner, DQNSettings) else DQNSettings()
    check_sb3_network(path, config)
    convolutional = config.network == "nature_cnn"
    q_net = _sb3_names(policy.network, convolutional)
    weights = {}
    for prefix in ("q_net.", "q_net_target."):  # one network: SB3's target starts as a copy
        weights.update({prefix + name: tensor.clone() for name, tensor in q_net.items()})
    weights_per_net = len(q_net)
    optimizer = {
        "state": {},
        "param_groups": [
            {
                "lr": float(config.learning_rate),
                "betas": (0.9, 0.999),
                "eps": 1e-8,
                "weight_decay": 0,
                "amsgrad": False,
                "params": list(range(weights_per_net)),
            }
        ],
    }
    observation_space, action_space = _game_spaces(game)
    policy_class = "CnnPolicy" if convolutional else "DQNPolicy"
    data = {
        "policy_class": _serialized_class("stable_baselines3.dqn.policies", policy_class),
        "policy_kwargs": {} if convolutional else {"net_arch": list(config.hidden_sizes)},
        "observation_space": _serialized(observation_space),
        "action_space": _serialized(action_space),
        "n_envs": 1,
        "num_timesteps": int(counters.get("global_step", 0)),
        "_total_timesteps": int(counters.get("global_step", 0)),
        "_episode_num": int(counters.get("episode", 0)),
        "_n_updates": int(counters.get("updates", 0)),
        "learning_rate": float(config.learning_rate),
        "buffer_size": min(int(dqn.buffer_size), SB3_BUFFER_SIZE),
        "batch_size": int(dqn.batch_size),
        "gamma": float(config.gamma),
        "exploration_final_eps": float(config.epsilon_end),
        "target_update_interval": int(dqn.target_update_interval),
    }

    def tensors(value: Any) -> bytes:
        buffer = io.BytesIO()
        torch.save(value, buffer)
        return buffer.getvalue()

    def write(file: Any) -> None:
        with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("data", json.dumps(data, indent=4))
            archive.writestr("pytorch_variables.pth", tensors({}))
            archive.writestr("policy.pth", tensors(weights))
            archive.writestr("policy.optimizer.pth", tensors(optimizer))
            archive.writestr("_stable_baselines3_version", SB3_VERSION)
            archive.writestr(
                "system_info.txt",
                f"- Written by: DQN Arcade {APP_VERSION}\n- Python: {platform.python_version()}\n"
                f"- PyTorch: {torch.__version__}\n",
            )

    write_atomically(path, write)
    return path


def check_sb3_network(path: str | Path, config: AgentConfig) -> None:
    """Raise ``CheckpointError`` (one line, naming ``path``) unless SB3's DQN has the config's
    network: a plain MLP or the Nature CNN, without a dueling head or LayerNorm."""
    if config.dueling or config.network not in ("mlp", "nature_cnn"):
        shape = "dueling head" if config.dueling else f"{config.network} network"
        raise CheckpointError(
            f"cannot write {path}: Stable-Baselines3's DQN has no {shape}; "
            "only a plain MLP or the Nature CNN can be exported"
        )


def _sb3_names(network: torch.nn.Module, convolutional: bool) -> dict[str, torch.Tensor]:
    """The network's weights under the names SB3's ``q_net`` gives them, float32."""
    ours = {k: v.detach().float().cpu() for k, v in network.state_dict().items()}
    if convolutional:
        names = {
            "features.0": "features_extractor.cnn.0",
            "features.2": "features_extractor.cnn.2",
            "features.4": "features_extractor.cnn.4",
            "head.0": "features_extractor.linear.0",
            "head.2": "q_net.0",
        }
    else:
        weighted = dict.fromkeys(k.rsplit(".", 1)[0] for k in ours)  # in the network's order
        names = {name: f"q_net.{2 * i}" for i, name in enumerate(weighted)}
    return {f"{names[k.rsplit('.', 1)[0]]}.{k.rsplit('.', 1)[1]}": v for k, v in ours.items()}


def _serialized(value: Any) -> dict[str, str]:
    """A value as SB3's JSON holds what JSON cannot: a base64 pickle with its type."""
    return {
        ":type:": str(type(value)),
        ":serialized:": base64.b64encode(pickle.dumps(value)).decode(),
    }


def _serialized_class(module: str, name: str) -> dict[str, str]:
    """A class by reference, pickled by hand (the GLOBAL opcode), without importing it."""
    reference = b"\x80\x02c" + f"{module}\n{name}\n".encode() + b"."
    return {
        ":type:": "<class 'abc.ABCMeta'>",
        ":serialized:": base64.b64encode(reference).decode(),
        "__module__": module,
    }
