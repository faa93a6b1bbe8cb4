"""A bf16 working copy of a float32 Q-network, for DQN's update and for acting while learning.

Autocast would cast the online weights to bf16 again at every update; a copy made once per
update serves both of the update's forward passes, and acting while learning, which reads the
whole conv net for each observation right after the update has pushed it out of the CPU's
caches: in bf16 half as much. Measured on Breakout's learning phase (2-core AMD EPYC with
native bf16): 1.050x the env steps/s of autocast alone, twice (benchmarks/bf16_copy.py).
Scores and play keep reading the float32 network.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from itertools import islice

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agent.networks import QNetwork, run_layers


def write_counts(tensors: Iterable[torch.Tensor]) -> list[int] | None:
    """How many in-place writes each tensor has had (``Tensor._version``, private to torch);
    None where a release lacks it: the caller then assumes every tensor changed."""
    try:
        return [tensor._version for tensor in tensors]
    except AttributeError:
        return None


class WorkingCopy:
    """The bf16 copy of ``network`` (float32), kept up to date with it: ``network_for_update``
    before the forward passes, ``pass_gradients`` after the backward one, ``q_values`` to act."""

    def __init__(self, network: QNetwork, bf16: QNetwork) -> None:
        self.network = network  # the float32 weights the optimizer steps
        self.copy = bf16.requires_grad_(True)
        self._holds: tuple[int, list[int] | None] | None = None  # the weights it was made of

    @classmethod
    def where_it_pays(
        cls, network: QNetwork, bf16_target: QNetwork, wanted: bool
    ) -> WorkingCopy | None:
        """A copy if ``wanted`` (the learner's call: Breakout's conv net trained in bf16 on a
        CPU) and the head ends in a plain output layer; else None. ``bf16_target`` is a bf16
        network of the same shape to start the copy from."""
        if not (wanted and isinstance(network.head, nn.Sequential)):
            return None
        return cls(network, copy.deepcopy(bf16_target))

    def network_for_update(self, updates: int) -> QNetwork:
        """The copy, first brought up to date if the weights changed: by an update (counted in
        ``updates``), or by a load or another in-place write, each of which bumps its tensor's
        write count (the fused optimizer step does not)."""
        counts = write_counts(self.network.parameters())
        holds = (updates, counts)
        if counts is None or holds != self._holds:
            with torch.no_grad():
                torch._foreach_copy_(list(self.copy.parameters()), list(self.network.parameters()))
            self._holds = holds
        return self.copy

    def pass_gradients(self) -> None:
        """Hand the copy's gradients, from the backward pass, to the float32 weights."""
        for weight, working in zip(self.network.parameters(), self.copy.parameters(), strict=True):
            assert working.grad is not None  # every parameter takes part in the loss
            weight.grad, working.grad = working.grad.float(), None

    def q_values(self, obs: np.ndarray, updates: int) -> np.ndarray:
        """Q-values for acting while learning, where exploration dwarfs rounding: the body in
        bf16, the output layer in float32 (the network's own, it is tiny): in bf16 the Q-values
        would come in steps of 1/64 near 3, which shows in the Q-value panel."""
        actor = self.network_for_update(updates)
        head, output = actor.head, self.network.head[-1]  # type: ignore[index]
        assert isinstance(head, nn.Sequential) and isinstance(output, nn.Linear)
        with torch.inference_mode():
            with torch.autocast("cpu", dtype=torch.bfloat16):
                hidden = run_layers(islice(head, len(head) - 1), actor.embed(torch.as_tensor(obs)))
            q = F.linear(hidden.float(), output.weight, output.bias)
        return q.numpy()
