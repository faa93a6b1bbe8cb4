"""What the dispatcher (``ui.dispatch``) keeps beside the sessions: each game's record while
another is on screen, and an agent waiting to replace one with unsaved training."""

from __future__ import annotations

from dataclasses import dataclass

from agent.live.channels import Load, NewAgent
from ui.scoreboard import Scoreboard


@dataclass(frozen=True)
class Replacement:
    """An agent asked for in place of one that learned since it was last saved: sent once the
    person answers the question (Save / Discard / Cancel)."""

    command: Load | NewAgent
    game: str
    unsaved: int  # the current agent's updates not saved
    label: str  # what would replace it ("a new agent", "Shipped agent, 7 h of CPU training")


@dataclass
class GameRecord:
    """What the window keeps for each game, also while another one is on screen."""

    board: Scoreboard
    paused: bool = False  # as the user left it
    save_name: str | None = None  # in the save box
    selected_save: str | None = None  # in the load list
    shipped_offered: bool = False  # the shipped agent was offered once
    seen_message: int | None = None  # serial of the session's last message shown
