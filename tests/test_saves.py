"""Where the window's checkpoints go and how the load list orders them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ui.saves import checkpoint_path, display_name, list_checkpoints


def test_the_users_saves_go_to_their_own_folder_never_over_a_shipped_agent(tmp_path):
    assert checkpoint_path(tmp_path, "fruit", "my agent") == tmp_path / "mine" / "fruit-my-agent.pt"
    assert checkpoint_path(tmp_path, "fruit", "").parent == tmp_path / "mine"
    assert checkpoint_path(tmp_path, "breakout", "../../breakout") == (
        tmp_path / "mine" / "breakout-breakout.pt"
    )


def test_the_load_list_offers_shipped_then_own_newest_first_then_the_rest(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    for path in [tmp_path / "breakout.pt", tmp_path / "breakout-after-1h.pt",
                 tmp_path / "fruit.pt", mine / "breakout-old.pt", mine / "breakout-new.pt",
                 tmp_path / "breakoutish.pt"]:  # fmt: skip
        path.write_bytes(b"x")
    os.utime(mine / "breakout-old.pt", (1, 1))
    listed = [path.relative_to(tmp_path) for path in list_checkpoints(tmp_path, "breakout")]
    assert [str(p) for p in listed] == [
        "breakout.pt",
        "mine/breakout-new.pt",
        "mine/breakout-old.pt",
        "breakout-after-1h.pt",
    ]
    assert list_checkpoints(tmp_path / "missing", "breakout") == []


def test_time_lapse_stages_are_named_by_the_training_they_took(tmp_path):
    assert display_name(tmp_path / "breakout-after-1h.pt") == "Breakout after 1 h of CPU training"
    assert display_name(tmp_path / "breakout-after-30min.pt") == (
        "Breakout after 30 min of CPU training"
    )
    assert display_name(tmp_path / "mine" / "breakout-my-run.pt") == "breakout-my-run.pt"


def test_the_shipped_agent_is_named_with_the_training_its_file_records(tmp_path):
    root = Path(__file__).resolve().parent.parent
    shutil.copy(root / "saves" / "fruit.pt", tmp_path / "fruit.pt")  # 24 s on a CPU, it says
    assert display_name(tmp_path / "fruit.pt") == "Shipped agent, 24 s of CPU training"
    (tmp_path / "cartpole.pt").write_bytes(b"x")  # unreadable: the name alone
    assert display_name(tmp_path / "cartpole.pt") == "Shipped agent"
    (tmp_path / "mine").mkdir()
    shutil.copy(root / "saves" / "fruit.pt", tmp_path / "mine" / "fruit.pt")  # a user's own
    assert display_name(tmp_path / "mine" / "fruit.pt") == "fruit.pt"
