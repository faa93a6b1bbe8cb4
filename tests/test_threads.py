"""How many torch threads a headless training run takes."""

from __future__ import annotations

import os

import pytest
import torch

from agent import device


@pytest.fixture
def threads(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_busy_cores_reads_a_share_of_this_machine():
    busy = device.busy_cores(window=0.05)
    assert 0.0 <= busy <= (os.cpu_count() or 1)


def test_the_atari_net_leaves_busy_cores_to_whoever_holds_them(threads, monkeypatch):
    monkeypatch.setattr(device, "busy_cores", lambda: 1.2)
    note = device.configure_threads("nature_cnn")
    assert torch.get_num_threads() == 1
    assert note is not None and "1.2 of 2 cores busy" in note and "1 torch thread " in note


def test_an_idle_machine_keeps_every_thread_and_says_nothing(threads, monkeypatch):
    monkeypatch.setattr(device, "busy_cores", lambda: 0.3)
    assert device.configure_threads("nature_cnn") is None
    assert torch.get_num_threads() == 2


def test_a_machine_busy_on_every_core_still_trains_on_one_thread(threads, monkeypatch):
    monkeypatch.setattr(device, "busy_cores", lambda: 2.0)
    device.configure_threads("nature_cnn")
    assert torch.get_num_threads() == 1


def test_omp_num_threads_is_the_users_choice(threads, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.setattr(device, "busy_cores", lambda: 2.0)
    assert device.configure_threads("nature_cnn") is None
    assert torch.get_num_threads() == 2


def test_small_networks_train_on_one_thread(threads):
    assert device.configure_threads("mlp") is None
    assert torch.get_num_threads() == 1
