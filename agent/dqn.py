"""The DQN learner: online and target networks and the update that ties them together."""

from __future__ import annotations

import copy
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from agent.adam import Adam
from agent.config import AgentConfig
from agent.learner import bf16_autocast, bf16_supported, build_online
from agent.networks import QNetwork
from agent.policy import Policy
from agent.replay import Batch


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


class DQNLearner:
    """Online and target networks and Adam; learns from replayed batches (``Learner``)."""

    def __init__(
        self,
        obs_shape: tuple[int, ...],
        n_actions: int,
        config: AgentConfig,
        device: torch.device,
    ) -> None:
        self.config = config
        self.settings = config.dqn
        self.device = device
        self.online: QNetwork = build_online(config, obs_shape, n_actions, device)
        if config.network == "nature_cnn":
            # oneDNN's convolutions run faster on channels-last weights (measured on CPU).
            self.online = self.online.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stubs lack memory_format
        self.policy = Policy(self.online, device)
        # bf16 cuts a conv net's update time by a third to a half where bf16 is native (AMX,
        # AVX-512 BF16, GPUs); emulated elsewhere, it would be slower than float32.
        self.autocast_bf16 = config.mixed_precision and bf16_supported(device)
        self.target: QNetwork = copy.deepcopy(self.online).requires_grad_(False)
        if self.autocast_bf16:
            # Autocast would cast the target's weights to bf16 at every update: keep them so.
            self.target = self.target.to(torch.bfloat16)
        # Fused Adam: one pass over all parameters, ~20% off a small update (agent/adam.py).
        self.optimizer = self.make_optimizer(self.online.parameters())
        self.updates = 0
        self._q_taken: torch.Tensor | None = None  # read only when logged: reading waits

    def make_optimizer(self, parameters: Iterable[nn.Parameter]) -> Adam:
        return Adam(parameters, lr=self.config.learning_rate, eps=self.settings.adam_eps)

    def reset_optimizer(self) -> None:
        self.optimizer = self.make_optimizer(self.online.parameters())

    def set_learning_rate(self, rate: float) -> None:
        self.optimizer.set_learning_rate(rate)

    def mean_q_taken(self) -> float | None:
        return None if self._q_taken is None else float(self._q_taken)

    def update(self, batch: Batch) -> float:
        """One gradient step on a replayed batch; returns the Huber loss."""
        device = self.device
        obs = torch.as_tensor(batch.obs, device=device)
        next_obs = torch.as_tensor(batch.next_obs, device=device)
        action = torch.as_tensor(batch.action, device=device)
        reward = torch.as_tensor(batch.reward, device=device)
        discount = torch.as_tensor(batch.discount, device=device)
        terminated = torch.as_tensor(batch.terminated, device=device)
        double = self.settings.double_dqn

        online = self.online
        with bf16_autocast(self.autocast_bf16, device):
            obs, next_obs = online.prepare(obs), online.prepare(next_obs)
            # 1. The target: r + gamma^n max_a' Q_target(s', a') (Double DQN: the online
            #    network picks a'), no bootstrap past a terminal state.
            with torch.no_grad():
                next_q_target = self.target(next_obs).float()
                next_q_online = online(next_obs).float() if double else None
            # 2. The prediction: Q(s, a) of the actions taken.
            q_taken = online(obs).float().gather(1, action[:, None]).squeeze(1)
        target = td_target(reward, discount, terminated, next_q_online, next_q_target, double)
        # 3. The Huber loss between them.
        loss = F.smooth_l1_loss(q_taken, target)
        self._q_taken = q_taken.detach().mean()

        # 4. Gradients, then an Adam step, their global norm clipped to max_grad_norm as the
        #    optimizer reads them.
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step(grad_factor=self._clip_factor())
        self.updates += 1
        return float(loss.detach())

    def _clip_factor(self) -> torch.Tensor | float:
        """What clipping the gradients' global norm to ``max_grad_norm`` multiplies them by,
        as ``clip_grad_norm_`` does. A tensor, so that a GPU is not made to wait for it."""
        if self.config.max_grad_norm <= 0:
            return 1.0
        grads = [p.grad for p in self.online.parameters() if p.grad is not None]
        norm = nn.utils.get_total_norm(grads, foreach=True)
        return (self.config.max_grad_norm / (norm + 1e-6)).clamp(max=1.0)

    def sync_target(self) -> None:
        """5. Every ``target_update_interval`` env steps: the target takes the online weights."""
        self.target.load_state_dict(self.online.state_dict())
