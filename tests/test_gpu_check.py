"""benchmarks/gpu_check.py, the one command a lent GPU runs, works end to end: here on the CPU
with --quick, so that the first GPU session does not find it broken."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_gpu_check_runs_every_part_on_the_cpu(tmp_path):
    out = tmp_path / "gpu.json"
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    done = subprocess.run(
        [sys.executable, "benchmarks/gpu_check.py", "--quick", "--device", "cpu", "--out", out],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == json.loads(out.read_text())
    assert report["ok"] and report["device_tests"]["ok"]
    assert "passed" in report["device_tests"]["summary"]
    rates = report["throughput"]
    assert set(rates) == {"pqn_8_envs", "pqn_32_envs", "pqn_128_envs", "dqn"}
    assert all(rate > 0 for rate in rates.values())
    assert report["resume"]["dqn_max_weight_difference"] == 0.0
    assert report["resume"]["pqn_max_weight_difference"] == 0.0
    assert report["window"]["env_steps_per_s"] > 0 and report["window"]["updates"] > 0
    # PQN's window trainer steps all its games together: env steps outrun the shown game's.
    assert report["window"]["env_steps_per_s"] > report["window"]["shown_steps_per_s"]
