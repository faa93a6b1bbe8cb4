"""Adam for the learner: PyTorch's fused Adam kernel, called directly.

``torch.optim``'s optimizers import ``torch._dynamo`` the first time they are built, which costs
1.2 s of start-up (CartPole solves in about 8 s, whole process). This class calls the same fused
kernel (``torch._fused_adam_``) with the same arithmetic, so it trains exactly like
``torch.optim.Adam(fused=True)``, and its ``state_dict`` has that optimizer's layout, so
checkpoints written by either load into either. Devices without the fused kernel, and a torch
release without ``torch._fused_adam_`` (a private function: it may go), take the same update
from ``torch._foreach_*`` operations.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

FUSED_DEVICES = ("cpu", "cuda")
FUSED_ADAM = getattr(torch, "_fused_adam_", None)  # private to torch: None where it is gone


class Adam:
    """Adam (Kingma & Ba 2015) over one group of parameters, no weight decay."""

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float,
        eps: float = 1e-8,
        betas: tuple[float, float] = (0.9, 0.999),
    ) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("Adam got no parameters")
        self.defaults: dict[str, Any] = {"lr": float(lr), "eps": float(eps), "betas": tuple(betas)}
        self.exp_avg = [
            torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params
        ]
        self.exp_avg_sq = [
            torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params
        ]
        # One step count per parameter, as a float tensor on its device: the kernel's contract.
        self.steps = [torch.zeros((), dtype=torch.float32, device=p.device) for p in self.params]

    def set_learning_rate(self, rate: float) -> None:
        self.defaults["lr"] = float(rate)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, grad_factor: torch.Tensor | float = 1.0) -> None:
        """One Adam step for every parameter that has a gradient, each gradient multiplied by
        ``grad_factor`` (a number or a one-element tensor) first. Gradient clipping passes its
        factor here: the fused kernel scales as it reads, which saves a read-and-write pass
        over every gradient."""
        live = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not live:
            return
        params = [self.params[i] for i in live]
        grads = [p.grad for p in params if p.grad is not None]
        exp_avg = [self.exp_avg[i] for i in live]
        exp_avg_sq = [self.exp_avg_sq[i] for i in live]
        steps = [self.steps[i] for i in live]
        lr, eps = self.defaults["lr"], self.defaults["eps"]
        beta1, beta2 = self.defaults["betas"]
        scaled = isinstance(grad_factor, torch.Tensor) or grad_factor != 1.0
        torch._foreach_add_(steps, 1)
        if FUSED_ADAM is not None and params[0].device.type in FUSED_DEVICES:
            # The kernel divides every gradient by grad_scale (made for unscaling AMP losses).
            grad_scale = None
            if scaled:
                grad_scale = 1.0 / torch.as_tensor(grad_factor, device=params[0].device).float()
            FUSED_ADAM(
                params, grads, exp_avg, exp_avg_sq, [], steps,
                lr=lr, beta1=beta1, beta2=beta2, weight_decay=0.0, eps=eps,
                amsgrad=False, maximize=False, grad_scale=grad_scale,
            )  # fmt: skip
            return
        if scaled:
            torch._foreach_mul_(grads, torch.as_tensor(grad_factor, device=params[0].device))
        torch._foreach_lerp_(exp_avg, grads, 1 - beta1)
        torch._foreach_mul_(exp_avg_sq, beta2)
        torch._foreach_addcmul_(exp_avg_sq, grads, grads, 1 - beta2)
        for p, m, v, t in zip(params, exp_avg, exp_avg_sq, steps, strict=True):
            step = float(t)
            denom = (v / (1 - beta2**step)).sqrt_().add_(eps)
            p.addcdiv_(m, denom, value=-lr / (1 - beta1**step))

    def state_dict(self) -> dict[str, Any]:
        """``torch.optim.Adam``'s layout: per-parameter state by index, one param group."""
        state = {
            i: {"step": t.clone(), "exp_avg": m.clone(), "exp_avg_sq": v.clone()}
            for i, (t, m, v) in enumerate(
                zip(self.steps, self.exp_avg, self.exp_avg_sq, strict=True)
            )
            if float(t) > 0
        }
        group = {
            **self.defaults,
            "weight_decay": 0,
            "amsgrad": False,
            "maximize": False,
            "foreach": None,
            "capturable": False,
            "differentiable": False,
            "fused": True,
            "decoupled_weight_decay": False,
            "params": list(range(len(self.params))),
        }
        return {"state": state, "param_groups": [group]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take up a saved state; raises ``ValueError`` if it was made for other parameters."""
        groups = state_dict.get("param_groups")
        if not isinstance(groups, list) or len(groups) != 1:
            raise ValueError("optimizer state must have exactly one parameter group")
        if len(groups[0].get("params", [])) != len(self.params):
            raise ValueError("optimizer state is for a different number of parameters")
        state = state_dict.get("state", {})
        for i, p in enumerate(self.params):
            saved = state.get(i)
            if saved is None:
                self.steps[i].zero_()
                self.exp_avg[i].zero_()
                self.exp_avg_sq[i].zero_()
                continue
            for key in ("exp_avg", "exp_avg_sq"):
                if tuple(saved[key].shape) != tuple(p.shape):
                    raise ValueError(f"optimizer state {key} of parameter {i} has the wrong shape")
            self.steps[i].copy_(torch.as_tensor(saved["step"], dtype=torch.float32))
            self.exp_avg[i].copy_(saved["exp_avg"])
            self.exp_avg_sq[i].copy_(saved["exp_avg_sq"])
