"""The DQN update, the epsilon schedule and the Q-networks, against hand computations."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from agent.config import config_from_dict
from agent.dqn import DQNLearner, td_target
from agent.networks import DuelingHead, NatureQNetwork, build_q_network, numpy_forward
from agent.replay import Batch
from agent.training import linear_epsilon

CPU = torch.device("cpu")
pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ---- the target ---------------------------------------------------------------------------

REWARD = torch.tensor([1.0, 0.5, -1.0, 2.0])
DISCOUNT = torch.tensor([0.9, 0.81, 0.9, 0.5])  # gamma**k for k-step returns
TERMINATED = torch.tensor([False, False, True, False])
# The online net picks the action; the target net values it (Double DQN).
NEXT_Q_ONLINE = torch.tensor([[1.0, 3.0], [2.0, 0.0], [5.0, 1.0], [0.0, -1.0]])
NEXT_Q_TARGET = torch.tensor([[10.0, 20.0], [30.0, 40.0], [7.0, 8.0], [-4.0, 6.0]])


def test_double_dqn_target_by_hand():
    target = td_target(REWARD, DISCOUNT, TERMINATED, NEXT_Q_ONLINE, NEXT_Q_TARGET, double=True)
    # online argmax: 1, 0, 0, 0 -> target values 20, 30, (terminal), -4
    expected = [1.0 + 0.9 * 20.0, 0.5 + 0.81 * 30.0, -1.0, 2.0 + 0.5 * -4.0]
    assert target.tolist() == pytest.approx(expected)


def test_vanilla_dqn_target_by_hand_differs_where_the_argmaxes_differ():
    target = td_target(REWARD, DISCOUNT, TERMINATED, NEXT_Q_ONLINE, NEXT_Q_TARGET, double=False)
    # target argmax: 1, 1, 1, 1 -> 20, 40, (terminal), 6
    expected = [1.0 + 0.9 * 20.0, 0.5 + 0.81 * 40.0, -1.0, 2.0 + 0.5 * 6.0]
    assert target.tolist() == pytest.approx(expected)
    double = td_target(REWARD, DISCOUNT, TERMINATED, NEXT_Q_ONLINE, NEXT_Q_TARGET, double=True)
    assert (target != double).tolist() == [False, True, False, True]


def test_terminated_stops_bootstrapping_and_discount_scales_the_rest():
    huge = torch.full((4, 2), 1e6)
    ended = td_target(REWARD, DISCOUNT, torch.ones(4, dtype=torch.bool), huge, huge, True)
    assert ended.tolist() == pytest.approx(REWARD.tolist())
    no_discount = td_target(REWARD, torch.zeros(4), TERMINATED, huge, huge, True)
    assert no_discount.tolist() == pytest.approx(REWARD.tolist())
    ones = torch.ones(4, 2)
    going = td_target(torch.zeros(4), DISCOUNT, torch.zeros(4, dtype=torch.bool), ones, ones, True)
    assert going.tolist() == pytest.approx(DISCOUNT.tolist())


# ---- the schedule -------------------------------------------------------------------------


def test_linear_epsilon_endpoints_midpoint_and_clamp():
    assert linear_epsilon(0, 1.0, 0.1, 100) == pytest.approx(1.0)
    assert linear_epsilon(50, 1.0, 0.1, 100) == pytest.approx(0.55)
    assert linear_epsilon(25, 1.0, 0.1, 100) == pytest.approx(0.775)
    assert linear_epsilon(100, 1.0, 0.1, 100) == pytest.approx(0.1)
    assert linear_epsilon(10**9, 1.0, 0.1, 100) == pytest.approx(0.1)
    assert linear_epsilon(0, 1.0, 0.1, 0) == pytest.approx(0.1)  # no decay: straight to end
    values = [linear_epsilon(s, 0.9, 0.05, 1000) for s in range(0, 2000, 50)]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))
    assert min(values) == pytest.approx(0.05)


# ---- the learner ----------------------------------------------------------------------------


def small_learner(seed: int = 0, **overrides) -> DQNLearner:
    torch.manual_seed(seed)
    values = {"network": "mlp", "hidden_sizes": [32, 32], "learning_rate": 1e-3}
    config = config_from_dict(values).with_settings(**overrides)  # shared or dqn: keys
    return DQNLearner((4,), 3, config, CPU)


def fixed_batch(size: int = 64, seed: int = 0) -> Batch:
    rng = np.random.default_rng(seed)
    return Batch(
        obs=rng.normal(size=(size, 4)).astype(np.float32),
        action=rng.integers(0, 3, size=size),
        reward=rng.normal(size=size).astype(np.float32),
        next_obs=rng.normal(size=(size, 4)).astype(np.float32),
        terminated=rng.random(size) < 0.2,
        discount=np.full(size, 0.9, dtype=np.float32),
        demo=np.zeros(size, dtype=bool),
        index=np.arange(size),
    )


@pytest.mark.parametrize("double", [True, False])
def test_update_loss_is_huber_against_the_hand_target(double):
    learner = small_learner(double_dqn=double)
    batch = fixed_batch(16)
    with torch.no_grad():  # perturb so online and target disagree on the next action
        for p in learner.online.parameters():
            p.add_(0.3 * torch.randn_like(p))
    q = learner.policy.q_values(batch.obs)
    next_online = learner.policy.q_values(batch.next_obs)
    with torch.no_grad():
        next_target = learner.target(torch.as_tensor(batch.next_obs)).numpy()
    expected_target = []
    for i in range(16):
        choose = next_online[i] if double else next_target[i]
        bootstrap = (
            0.0 if batch.terminated[i] else batch.discount[i] * next_target[i][choose.argmax()]
        )
        expected_target.append(batch.reward[i] + bootstrap)
    error = np.abs(q[np.arange(16), batch.action] - np.array(expected_target))
    huber = np.where(error < 1.0, 0.5 * error**2, error - 0.5).mean()
    assert learner.update(batch) == pytest.approx(huber, rel=1e-4)
    assert learner.updates == 1


def test_update_clips_the_gradient_norm_as_clip_grad_norm_does():
    """The learner folds clipping into the optimizer's step; the result is the textbook one:
    clip_grad_norm_ on the gradients, then torch's Adam."""
    learner = small_learner(max_grad_norm=0.05, double_dqn=False)
    reference = copy.deepcopy(learner.online)
    optimizer = torch.optim.Adam(reference.parameters(), lr=1e-3, eps=learner.config.dqn.adam_eps)
    batch = fixed_batch(32)
    for _ in range(3):
        with torch.no_grad():
            next_q = learner.target(torch.as_tensor(batch.next_obs))
        target = td_target(
            torch.as_tensor(batch.reward), torch.as_tensor(batch.discount),
            torch.as_tensor(batch.terminated), None, next_q, double=False,
        )  # fmt: skip
        q = reference(torch.as_tensor(batch.obs))
        q_taken = q.gather(1, torch.as_tensor(batch.action)[:, None]).squeeze(1)
        optimizer.zero_grad()
        torch.nn.functional.smooth_l1_loss(q_taken, target).backward()
        norm = torch.nn.utils.clip_grad_norm_(reference.parameters(), 0.05)
        assert norm > 0.05  # clipping bites
        optimizer.step()
        learner.update(batch)
    for ours, theirs in zip(learner.online.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("double", [True, False])
def test_update_reduces_loss_on_a_fixed_batch(double):
    learner = small_learner(double_dqn=double)
    batch = fixed_batch()
    # 200 updates take the loss to ~15% of its start with either target (150: ~30%).
    losses = [learner.update(batch) for _ in range(200)]
    assert losses[-1] < 0.3 * losses[0]
    assert np.mean(losses[-10:]) < np.mean(losses[:10])


def test_update_changes_only_the_online_network_until_sync():
    learner = small_learner()
    before = {k: v.clone() for k, v in learner.target.state_dict().items()}
    for _ in range(5):
        learner.update(fixed_batch())
    after = learner.target.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    online = learner.online.state_dict()
    assert not all(torch.equal(online[k], after[k]) for k in online)
    assert not any(p.requires_grad for p in learner.target.parameters())

    learner.sync_target()
    synced = learner.target.state_dict()
    assert all(torch.equal(online[k], synced[k]) for k in online)
    learner.update(fixed_batch())  # target is a copy, not an alias
    assert not all(torch.equal(learner.online.state_dict()[k], synced[k]) for k in synced)


def test_act_greedy_at_zero_epsilon_and_random_at_one():
    learner = small_learner()
    rng = np.random.default_rng(0)
    obs = np.random.default_rng(1).normal(size=(20, 4)).astype(np.float32)
    for o in obs:
        decision = learner.policy.act(o, 0.0, rng)
        q = decision.q_values
        assert decision.greedy and decision.action == int(np.argmax(q)) and q.shape == (3,)
    actions = {learner.policy.act(obs[0], 1.0, rng).action for _ in range(200)}
    assert actions == {0, 1, 2}


def torch_q_values(learner: DQNLearner, obs: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return learner.online(torch.as_tensor(obs)).numpy()


def test_numpy_acting_follows_the_torch_weights_through_updates_and_loads():
    learner = small_learner()
    assert learner.policy._numpy_forward is not None  # a plain CPU MLP acts through numpy
    obs = np.random.default_rng(2).normal(size=(7, 4)).astype(np.float32)
    before = learner.policy.q_values(obs)
    np.testing.assert_allclose(before, torch_q_values(learner, obs), rtol=1e-5, atol=1e-6)
    for _ in range(3):
        learner.update(fixed_batch())
    after = learner.policy.q_values(obs)
    assert not np.allclose(after, before)  # the optimizer's in-place steps show at once
    np.testing.assert_allclose(after, torch_q_values(learner, obs), rtol=1e-5, atol=1e-6)
    learner.online.load_state_dict(small_learner(seed=5).online.state_dict())
    loaded = learner.policy.q_values(obs)
    np.testing.assert_allclose(loaded, torch_q_values(learner, obs), rtol=1e-5, atol=1e-6)
    assert not np.allclose(loaded, after)
    policy = learner.policy
    assert policy.q_values(obs[:1]).shape == (1, 3) and policy.q_values(obs).dtype == np.float32


def test_numpy_acting_only_for_plain_cpu_mlps():
    assert numpy_forward(build_q_network("mlp", (4,), 2, (8, 8))) is not None
    assert numpy_forward(build_q_network("mlp", (4,), 2, (8, 8), dueling=True)) is None
    assert numpy_forward(build_q_network("fruit_conv", (1, 15, 15), 3)) is None
    assert numpy_forward(build_q_network("mlp", (4,), 2, (8, 8)).double()) is None


# ---- the networks -------------------------------------------------------------------------

NETWORKS = [
    ("mlp", (4,), 2, torch.float32),
    ("fruit_conv", (1, 15, 15), 3, torch.float32),
    ("nature_cnn", (4, 84, 84), 4, torch.uint8),
]


@pytest.mark.parametrize("dueling", [False, True])
@pytest.mark.parametrize(("kind", "obs_shape", "n_actions", "dtype"), NETWORKS)
def test_networks_give_one_q_value_per_action(kind, obs_shape, n_actions, dtype, dueling):
    torch.manual_seed(0)
    net = build_q_network(kind, obs_shape, n_actions, (64, 32), dueling)
    if dtype == torch.uint8:
        obs = torch.randint(0, 256, (5, *obs_shape), dtype=torch.uint8)
    else:
        obs = torch.rand(5, *obs_shape)
    q = net(obs)
    assert q.shape == (5, n_actions)
    assert q.dtype == torch.float32 and torch.isfinite(q).all()
    assert any(isinstance(m, DuelingHead) for m in net.modules()) == dueling


def test_dueling_q_values_average_to_the_state_value():
    torch.manual_seed(0)
    net = build_q_network("mlp", (4,), 5, (32, 32), dueling=True)
    obs = torch.randn(8, 4)
    q = net(obs)
    value = net.head.value(net.features(obs)).squeeze(1)
    assert torch.allclose(q.mean(dim=1), value, atol=1e-5)


def test_nature_network_reads_uint8_frames_scaled_inside():
    torch.manual_seed(0)
    net = NatureQNetwork((4, 84, 84), 4)
    frames = torch.randint(0, 256, (3, 4, 84, 84), dtype=torch.uint8)
    q = net(frames)
    assert torch.allclose(q, net(frames.float()), atol=1e-6)  # same numbers, any dtype
    # Pixels arrive as 0..255 and the network scales them to [0, 1] itself.
    scaled = net.head(net.features(frames.float() / 255.0))
    assert torch.allclose(q, scaled, atol=1e-6)
    assert not torch.allclose(q, net.head(net.features(frames.float())), atol=1e-3)


def test_nature_network_prepares_frames_once_for_several_passes():
    """prepare() gives the first convolution's dtype and layout; forward of prepared frames
    is forward of the raw ones, in float32 and under bf16 autocast."""
    torch.manual_seed(0)
    net = NatureQNetwork((4, 84, 84), 4).to(memory_format=torch.channels_last)
    frames = torch.randint(0, 256, (3, 4, 84, 84), dtype=torch.uint8)
    prepared = net.prepare(frames)
    assert prepared.dtype == torch.float32
    assert prepared.is_contiguous(memory_format=torch.channels_last)
    assert net.prepare(prepared) is prepared  # a second prepare costs nothing
    assert torch.equal(net(prepared), net(frames))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        prepared = net.prepare(frames)
        assert prepared.dtype == torch.bfloat16
        assert torch.equal(prepared.float(), frames.float())  # 0..255 are exact in bf16
        assert torch.equal(net(prepared), net(frames))


def test_bf16_learner_keeps_its_target_in_bf16_and_learns_the_same():
    config = config_from_dict({"network": "nature_cnn", "mixed_precision": True})
    torch.manual_seed(0)
    learner = DQNLearner((4, 84, 84), 4, config, CPU)
    if not learner.autocast_bf16:
        pytest.skip("no native bf16 on this CPU")
    assert all(p.dtype == torch.bfloat16 for p in learner.target.parameters())
    assert all(p.dtype == torch.float32 for p in learner.online.parameters())
    # Autocast rounds the target's weights to bf16 anyway: a float32 target gives the same loss
    # but for rounding (the first layer's 1/255 scaling is then taken in bf16).
    float_target = DQNLearner((4, 84, 84), 4, config, CPU)
    float_target.online.load_state_dict(learner.online.state_dict())
    float_target.target = copy.deepcopy(learner.online).requires_grad_(False)
    rng = np.random.default_rng(0)
    batch = Batch(
        obs=rng.integers(0, 256, (8, 4, 84, 84), dtype=np.uint8),
        action=rng.integers(0, 4, 8),
        reward=rng.normal(size=8).astype(np.float32),
        next_obs=rng.integers(0, 256, (8, 4, 84, 84), dtype=np.uint8),
        terminated=np.zeros(8, dtype=bool),
        discount=np.full(8, 0.99, dtype=np.float32),
        demo=np.zeros(8, dtype=bool),
        index=np.arange(8),
    )
    assert learner.update(batch) == pytest.approx(float_target.update(batch), rel=1e-3)
    learner.sync_target()
    online = learner.online.state_dict()
    assert all(
        torch.equal(v, online[k].to(torch.bfloat16)) for k, v in learner.target.state_dict().items()
    )


def test_no_bf16_where_torch_cannot_say_whether_the_cpu_has_it(monkeypatch):
    from agent import learner as learner_module

    class NoOps:  # a torch release without mkldnn's private detection op
        pass

    monkeypatch.setattr(torch.ops, "mkldnn", NoOps())
    assert learner_module.bf16_supported(CPU) is False
    config = config_from_dict({"network": "nature_cnn", "mixed_precision": True})
    assert DQNLearner((4, 84, 84), 4, config, CPU).autocast_bf16 is False
