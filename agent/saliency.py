"""What the network looks at: the gradient of a Q-value with respect to the observation."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def saliency_map(network: nn.Module, obs: np.ndarray, action: int) -> np.ndarray:
    """|dQ(obs, action) / d obs|, summed over stacked frames or channels and scaled to [0, 1].

    Returns an array of the observation's spatial shape (for a vector observation, one value
    per component). The network is left in the state it was in, gradients included.
    """
    device = next(network.parameters()).device
    x = torch.as_tensor(obs, device=device).float().unsqueeze(0).requires_grad_(True)
    with torch.enable_grad():
        q = network(x)[0, int(action)]
        (gradient,) = torch.autograd.grad(q, x)
    magnitude = gradient[0].abs()
    if magnitude.dim() == 3:  # (frames or channels, H, W) -> (H, W)
        magnitude = magnitude.sum(dim=0)
    peak = float(magnitude.max())
    result = magnitude / peak if peak > 0 else magnitude
    return result.detach().cpu().numpy().astype(np.float32)
