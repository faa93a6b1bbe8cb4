"""The learner's Adam trains exactly like torch.optim.Adam and shares its checkpoint layout."""

from __future__ import annotations

import pytest
import torch

from agent import adam as adam_module
from agent.adam import Adam


def _model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


def _train(model: torch.nn.Module, optimizer, steps: int, seed: int = 0) -> None:
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(16, 5, generator=generator)
        loss = model(x).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.slow
def test_matches_torch_fused_adam_bit_for_bit():
    ours, theirs = _model(1), _model(1)
    _train(ours, Adam(ours.parameters(), lr=3e-3, eps=1.5e-4), 20)
    _train(theirs, torch.optim.Adam(theirs.parameters(), lr=3e-3, eps=1.5e-4, fused=True), 20)
    assert _same_weights(ours, theirs)


@pytest.mark.parametrize(
    "gone", [("FUSED_DEVICES", ()), ("FUSED_ADAM", None)], ids=["device", "torch-release"]
)
def test_fallback_without_fused_kernel_matches_closely(monkeypatch, gone):
    """A device without the fused kernel, or a torch whose private ``_fused_adam_`` is gone."""
    monkeypatch.setattr(adam_module, *gone)
    monkeypatch.setattr(torch, "_fused_adam_", None, raising=False)  # never called
    ours, theirs = _model(2), _model(2)
    _train(ours, Adam(ours.parameters(), lr=1e-3), 20)
    _train(theirs, torch.optim.Adam(theirs.parameters(), lr=1e-3), 20)
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("direction", ["ours->torch", "torch->ours"])
@pytest.mark.slow
def test_state_dict_moves_between_ours_and_torch(direction):
    """A checkpoint's optimizer state saved by one loads into the other, and training goes on
    exactly as if it had never stopped."""
    straight = _model(3)
    _train(straight, Adam(straight.parameters(), lr=1e-3), 10)

    first, second = _model(3), None
    make_ours = lambda m: Adam(m.parameters(), lr=1e-3)  # noqa: E731
    make_torch = lambda m: torch.optim.Adam(m.parameters(), lr=1e-3, fused=True)  # noqa: E731
    make_first, make_second = (
        (make_ours, make_torch) if direction == "ours->torch" else (make_torch, make_ours)
    )
    optimizer = make_first(first)
    _train(first, optimizer, 5)
    second = _model(99)
    second.load_state_dict(first.state_dict())
    resumed = make_second(second)
    resumed.load_state_dict(optimizer.state_dict())
    # Same data stream: the second half starts from where the first left off.
    generator = torch.Generator().manual_seed(0)
    for _ in range(5):
        torch.randn(16, 5, generator=generator)
    for _ in range(5):
        x = torch.randn(16, 5, generator=generator)
        loss = second(x).pow(2).mean()
        resumed.zero_grad()
        loss.backward()
        resumed.step()
    assert _same_weights(second, straight)


def test_state_for_other_parameters_is_refused():
    small, big = _model(4), torch.nn.Linear(5, 2)
    optimizer = Adam(small.parameters(), lr=1e-3)
    _train(small, optimizer, 2)
    with pytest.raises(ValueError):
        Adam(big.parameters(), lr=1e-3).load_state_dict(optimizer.state_dict())


def test_parameters_without_gradients_are_left_alone():
    model = _model(5)
    frozen = model[2].weight.detach().clone()
    model[2].weight.requires_grad_(False)
    _train(model, Adam([p for p in model.parameters()], lr=1e-2), 3)
    assert torch.equal(model[2].weight, frozen)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("factor", [0.25, torch.tensor(0.25)])
def test_grad_factor_trains_like_scaling_the_gradients_first(monkeypatch, fused, factor):
    """Gradient clipping hands its factor to the step instead of rescaling every gradient."""
    if not fused:
        monkeypatch.setattr(adam_module, "FUSED_DEVICES", ())
    ours, theirs = _model(4), _model(4)
    ours_opt = Adam(ours.parameters(), lr=1e-2)
    theirs_opt = torch.optim.Adam(theirs.parameters(), lr=1e-2)
    x = torch.randn(16, 5, generator=torch.Generator().manual_seed(4))
    for _ in range(5):
        for model in (ours, theirs):
            model.zero_grad(set_to_none=True)
            model(x).pow(2).mean().backward()
        ours_opt.step(grad_factor=factor)
        for p in theirs.parameters():
            p.grad.mul_(0.25)
        theirs_opt.step()
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
