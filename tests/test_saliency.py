"""Saliency maps: shape, range, and that they point at the inputs that matter."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from agent.networks import build_q_network
from agent.saliency import saliency_map


def test_saliency_has_the_spatial_shape_and_unit_range_for_each_network():
    cases = [("mlp", (4,), np.float32), ("fruit_conv", (1, 15, 15), np.float32),
             ("nature_cnn", (4, 84, 84), np.uint8)]  # fmt: skip
    rng = np.random.default_rng(0)
    for kind, shape, dtype in cases:
        torch.manual_seed(0)
        net = build_q_network(kind, shape, 3)
        obs = (rng.random(shape) * (255 if dtype == np.uint8 else 1)).astype(dtype)
        heat = saliency_map(net, obs, 1)
        expected = shape if len(shape) == 1 else shape[1:]
        assert heat.shape == expected, kind
        assert heat.min() >= 0 and np.isclose(heat.max(), 1.0), kind


def test_saliency_is_zero_where_the_q_value_ignores_the_input():
    net = nn.Sequential(nn.Linear(4, 2))
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].weight[1, 2] = -3.0  # action 1 depends on input 2 only
    heat = saliency_map(net, np.ones(4, np.float32), 1)
    assert heat.tolist() == [0.0, 0.0, 1.0, 0.0]
    assert net[0].weight.grad is None  # no gradients left behind on the network
