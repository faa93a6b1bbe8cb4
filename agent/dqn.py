"""The DQN learner: online and target networks and the update that ties them together."""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agent.adam import Adam
from agent.config import DQNConfig
from agent.networks import QNetwork, numpy_forward
from agent.precision import WorkingCopy
from agent.q_learner import QLearner
from agent.replay import Batch


def linear_epsilon(step: int, start: float, end: float, decay_steps: int) -> float:
    """Epsilon falls linearly from ``start`` to ``end`` over ``decay_steps``, then stays."""
    if decay_steps <= 0 or step >= decay_steps:
        return end
    return start + (end - start) * step / decay_steps


def td_target(
    reward: torch.Tensor,
    discount: torch.Tensor,
    terminated: torch.Tensor,
    next_q_online: torch.Tensor | None,
    next_q_target: torch.Tensor,
    double: bool,
) -> torch.Tensor:
    """r + gamma^k * Q_target(s', a*) where a* is argmax of the online (Double DQN) or the
    target network; no bootstrap past a terminal state (truncation still bootstraps)."""
    if double and next_q_online is not None:
        best = next_q_online.argmax(dim=1, keepdim=True)
    else:
        best = next_q_target.argmax(dim=1, keepdim=True)
    next_value = next_q_target.gather(1, best).squeeze(1)
    return reward + discount * (1.0 - terminated.float()) * next_value


class DQNLearner(QLearner):
    """Owns the networks and optimizer; acts epsilon-greedily and learns from replayed batches."""

    def __init__(
        self,
        obs_shape: tuple[int, ...],
        n_actions: int,
        config: DQNConfig,
        device: torch.device,
    ) -> None:
        super().__init__(obs_shape, n_actions, config, device)
        if config.network == "nature_cnn":
            # oneDNN's convolutions run ~25% faster on channels-last weights (measured on CPU).
            self.online = self.online.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stubs lack memory_format
        self.target: QNetwork = copy.deepcopy(self.online).requires_grad_(False)
        if self.autocast_bf16:
            # Autocast would cast the target's weights to bf16 at every update: keep them so.
            self.target = self.target.to(torch.bfloat16)
        self._numpy_online = numpy_forward(self.online)  # small MLPs act faster without torch
        # Breakout's update and acting while learning run on a bf16 copy (agent/precision.py).
        wanted = self.autocast_bf16 and device.type == "cpu" and config.network == "nature_cnn"
        self.working = WorkingCopy.where_it_pays(self.online, self.target, wanted)
        # Fused Adam: one pass over all parameters, ~20% off a small update (agent/adam.py).
        self.optimizer = Adam(
            self.online.parameters(), lr=config.learning_rate, eps=config.adam_eps
        )
        self.updates = 0

    def set_learning_rate(self, rate: float) -> None:
        self.optimizer.set_learning_rate(rate)

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q-values of the online network for a batch of observations, as float32 numpy."""
        if self._numpy_online is not None:
            return self._numpy_online(obs)
        with torch.inference_mode():
            q = self.online(torch.as_tensor(obs, device=self.device))
        return q.float().cpu().numpy()

    def learning_q_values(self, obs: np.ndarray) -> np.ndarray:
        """``q_values`` for choosing actions while learning: from the bf16 working copy where
        one is kept, else the same."""
        if self.working is None:
            return self.q_values(obs)
        return self.working.q_values(obs, self.updates)

    def update(self, batch: Batch) -> float:
        """One gradient step on a replayed batch; returns the Huber loss."""
        device = self.device
        obs = torch.as_tensor(batch.obs, device=device)
        next_obs = torch.as_tensor(batch.next_obs, device=device)
        action = torch.as_tensor(batch.action, device=device)
        reward = torch.as_tensor(batch.reward, device=device)
        discount = torch.as_tensor(batch.discount, device=device)
        terminated = torch.as_tensor(batch.terminated, device=device)

        # The online network's passes run on the bf16 working copy where one is kept (else
        # autocast casts the float32 weights, once for both passes: one autocast region).
        working = self.working
        online = self.online if working is None else working.network_for_update(self.updates)
        with self._autocast():
            obs, next_obs = online.prepare(obs), online.prepare(next_obs)
            # 1. The target: r + gamma^n max_a' Q_target(s', a') (Double DQN: the online
            #    network picks a'), no bootstrap past a terminal state.
            with torch.no_grad():
                next_q_target = self.target(next_obs).float()
                next_q_online = online(next_obs).float() if self.config.double_dqn else None
            # 2. The prediction: Q(s, a) of the actions taken.
            q_taken = online(obs).float().gather(1, action[:, None]).squeeze(1)
        target = td_target(
            reward, discount, terminated, next_q_online, next_q_target, self.config.double_dqn
        )
        # 3. The Huber loss between them.
        loss = F.smooth_l1_loss(q_taken, target)
        self._q_taken = q_taken.detach().mean()

        # 4. Gradients, onto the float32 weights.
        self.optimizer.zero_grad()
        loss.backward()
        if working is not None:
            working.pass_gradients()
        # 5. An Adam step, the gradients' global norm clipped to max_grad_norm as it reads them.
        self.optimizer.step(grad_factor=self._clip_factor())
        self.updates += 1
        return float(loss.detach())

    def _clip_factor(self) -> torch.Tensor | float:
        """What clipping the gradients' global norm to ``max_grad_norm`` multiplies them by,
        as ``clip_grad_norm_`` does; the optimizer applies it as it reads them. A tensor, so
        that a GPU is not made to wait for the norm."""
        if self.config.max_grad_norm <= 0:
            return 1.0
        grads = [p.grad for p in self.online.parameters() if p.grad is not None]
        norm = nn.utils.get_total_norm(grads, foreach=True)
        return (self.config.max_grad_norm / (norm + 1e-6)).clamp(max=1.0)

    def sync_target(self) -> None:
        self.target.load_state_dict(self.online.state_dict())
