"""Q-networks: observations in, one Q-value per action out."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def run_layers(layers: Iterable[nn.Module], x: torch.Tensor) -> torch.Tensor:
    """``layers(x)`` without a module call per layer. Each call costs ~3 us of hook checks:
    half the time of CartPole's one-observation forward pass, taken at every env step."""
    for layer in layers:
        if isinstance(layer, nn.Linear):
            x = F.linear(x, layer.weight, layer.bias)
        elif isinstance(layer, nn.ReLU):
            x = F.relu(x)
        elif isinstance(layer, nn.Flatten):
            x = x.flatten(layer.start_dim, layer.end_dim)
        else:
            x = layer(x)
    return x


class DuelingHead(nn.Module):
    """Q = V + A - mean(A) (Wang et al. 2016): value and advantage streams over shared features."""

    def __init__(self, in_features: int, n_actions: int, hidden: int) -> None:
        super().__init__()
        self.value = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.advantage = nn.Sequential(
            nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, n_actions)
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        advantage = run_layers(self.advantage, features)
        return run_layers(self.value, features) + advantage - advantage.mean(dim=1, keepdim=True)


def _run_head(head: nn.Module, features: torch.Tensor) -> torch.Tensor:
    return run_layers(head, features) if isinstance(head, nn.Sequential) else head(features)


def _head(
    in_features: int, n_actions: int, hidden: int, dueling: bool, layer_norm: bool = False
) -> nn.Module:
    if dueling:
        return DuelingHead(in_features, n_actions, hidden)
    norm = [nn.LayerNorm(hidden)] if layer_norm else []
    return nn.Sequential(
        nn.Linear(in_features, hidden), *norm, nn.ReLU(), nn.Linear(hidden, n_actions)
    )


class QNetwork(nn.Module):
    """Observations in, one Q-value per action out: ``features``, then ``head``."""

    features: nn.Sequential
    head: nn.Module
    # What the network was built from (``build_q_network``'s arguments): checkpoints record it
    # and refuse weights of another shape.
    signature: dict[str, Any]

    @property
    def n_actions(self) -> int:
        return int(self.signature["n_actions"])

    @property
    def obs_shape(self) -> tuple[int, ...]:
        return tuple(self.signature["obs_shape"])

    def prepare(self, obs: torch.Tensor) -> torch.Tensor:
        """Observations as the first layer takes them. The learner prepares a batch once for
        several forward passes; ``forward`` of prepared observations skips the work."""
        return obs.float()

    def embed(self, obs: torch.Tensor) -> torch.Tensor:
        """The features the head reads."""
        return run_layers(self.features, self.prepare(obs))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return _run_head(self.head, self.embed(obs))


class MLPQNetwork(QNetwork):
    """For vector observations such as CartPole's four state numbers."""

    def __init__(
        self, obs_shape: tuple[int, ...], n_actions: int, hidden_sizes=(256, 256), dueling=False
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(obs_shape)
        for size in hidden_sizes[:-1]:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.features = nn.Sequential(*layers)
        self.head = _head(width, n_actions, hidden_sizes[-1], dueling)


class FruitConvQNetwork(QNetwork):
    """The fruit-catch seed's net: two 16-filter 3x3 convolutions, a dense 100, one output each."""

    def __init__(self, obs_shape: tuple[int, ...], n_actions: int, dueling: bool = False) -> None:
        super().__init__()
        channels, height, width = obs_shape
        self.features = nn.Sequential(
            nn.Conv2d(channels, 16, 3),
            nn.ReLU(),
            nn.Conv2d(16, 16, 3),
            nn.ReLU(),
            nn.Flatten(),
        )
        self.head = _head(16 * (height - 4) * (width - 4), n_actions, 100, dueling)


class NatureQNetwork(QNetwork):
    """Mnih et al. 2015: 32@8x8/4, 64@4x4/2, 64@3x3/1, dense 512, over 4 stacked 84x84 frames.

    ``layer_norm`` puts a LayerNorm after every hidden layer (before its ReLU), as PQN does
    (Gallici et al. 2024): it is what keeps Q-learning stable without a target network.
    """

    def __init__(
        self,
        obs_shape: tuple[int, ...],
        n_actions: int,
        dueling: bool = False,
        layer_norm: bool = False,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels, size = obs_shape[0], obs_shape[-1]
        for out, kernel, stride in ((32, 8, 4), (64, 4, 2), (64, 3, 1)):
            size = (size - kernel) // stride + 1
            layers.append(nn.Conv2d(channels, out, kernel, stride=stride))
            layers += [nn.LayerNorm([out, size, size])] if layer_norm else []
            layers.append(nn.ReLU())
            channels = out
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.head = _head(channels * size * size, n_actions, 512, dueling, layer_norm)
        if layer_norm:
            # PQN's initialisation (CleanRL's layer_init): orthogonal weights, gain sqrt(2).
            for layer in self.modules():
                if isinstance(layer, (nn.Conv2d, nn.Linear)):
                    nn.init.orthogonal_(layer.weight, math.sqrt(2))
                    if layer.bias is not None:
                        nn.init.zeros_(layer.bias)

    def prepare(self, obs: torch.Tensor) -> torch.Tensor:
        """uint8 frames as the first convolution takes them: in the dtype autocast would cast
        them to, and channels-last, the layout oneDNN would otherwise convert them to in each
        forward pass and again in the backward one. Replayed batches come channels-last
        already (the replay memory stacks them so), and keep their layout through the cast."""
        device = obs.device.type
        autocast = torch.is_autocast_enabled(device)
        dtype = torch.get_autocast_dtype(device) if autocast else torch.float32
        return obs.to(dtype).contiguous(memory_format=torch.channels_last)

    def embed(self, obs: torch.Tensor) -> torch.Tensor:
        # uint8 frames travel to the device as bytes, which keeps the replay memory small. Their
        # 1/255 scaling is folded into the first layer: conv(x / 255, W) = conv(x, W / 255).
        first = self.features[0]
        assert isinstance(first, nn.Conv2d)
        x = F.conv2d(self.prepare(obs), first.weight / 255.0, first.bias, first.stride)
        return run_layers(islice(self.features, 1, None), x)


def numpy_forward(network: nn.Module) -> Callable[[np.ndarray], np.ndarray] | None:
    """The forward pass of a CPU ``MLPQNetwork`` (plain head) in numpy, or None for any other
    network. It reads the parameters' own memory, so every optimizer step and weight load shows
    at once. At CartPole's size torch's per-op dispatch is most of a forward pass: one
    observation takes ~8 us this way against ~28 us, and acting happens at every env step."""
    if not isinstance(network, MLPQNetwork) or not isinstance(network.head, nn.Sequential):
        return None
    params = list(network.parameters())
    if any(p.device.type != "cpu" or p.dtype != torch.float32 for p in params):
        return None
    layers = [*network.features, *network.head]
    if not all(isinstance(layer, (nn.Linear, nn.ReLU, nn.Flatten)) for layer in layers):
        return None
    # Weights as transposed views, (in, out), so each layer is one ``x @ w + b``.
    steps = [
        (layer.weight.detach().numpy().T, layer.bias.detach().numpy())
        if isinstance(layer, nn.Linear)
        else None  # ReLU; Flatten is the reshape below
        for layer in layers
        if not isinstance(layer, nn.Flatten)
    ]

    def forward(obs: np.ndarray) -> np.ndarray:
        x = np.asarray(obs, dtype=np.float32).reshape(len(obs), -1)
        for step in steps:
            if step is None:
                np.maximum(x, 0.0, out=x)
            else:
                x = x @ step[0] + step[1]
        return x

    return forward


def build_q_network(
    kind: str,
    obs_shape: tuple[int, ...],
    n_actions: int,
    hidden_sizes: tuple[int, ...] = (256, 256),
    dueling: bool = False,
) -> QNetwork:
    """The network named ``kind`` for observations of ``obs_shape``."""
    network: QNetwork
    if kind == "mlp":
        network = MLPQNetwork(obs_shape, n_actions, hidden_sizes, dueling)
    elif kind == "fruit_conv":
        network = FruitConvQNetwork(obs_shape, n_actions, dueling)
    elif kind in ("nature_cnn", "nature_cnn_ln"):
        network = NatureQNetwork(obs_shape, n_actions, dueling, layer_norm=kind == "nature_cnn_ln")
    else:
        raise ValueError(f"unknown network {kind!r}")
    network.signature = {
        "kind": kind,
        "obs_shape": [int(n) for n in obs_shape],
        "n_actions": int(n_actions),
        "hidden_sizes": [int(n) for n in hidden_sizes] if kind == "mlp" else [],
        "dueling": bool(dueling),
    }
    return network
