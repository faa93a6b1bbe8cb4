"""Who plays each side of Versus and what the match says: the names the sides go by (a person,
a challenging agent, the shipped agent), the round's verdict, the status line, the command that
seats a challenger and a game's ready agent-against-agent pairing. Kept apart from the drawing
in ``ui.versus_view`` so the dispatcher can use them without the view."""

from __future__ import annotations

import time
from pathlib import Path

from agent.interop import FOREIGN_SUFFIXES
from agent.live.channels import SetChallenger, Snapshot
from agent.live.versus import PLAYING, READY, VersusState
from ui.saves import short_name, time_lapse_stages

VERDICTS = {
    "human": "You win!",
    "agent": "The agent wins",
    "draw": "A draw",
    "undecided": "Ended early: not counted",
}
SHIPPED = "the shipped agent"  # how a side names the agent that ships with the app
PAIRING_RESCAN_S = 2.0  # seconds between looks for a game's ready pairing


def versus_note(snapshot: Snapshot) -> str:
    """The status line in Versus: what the match needs from the person now."""
    versus = snapshot.versus
    intro = "Versus: you and the agent, same seed, side by side."
    if versus is None:
        return intro
    if versus.left_is_agent:
        left, right = side_names(versus)
        intro = f"Versus: {left} against {right}, same seed, side by side."
    if versus.phase == READY:
        return f"{intro} Enter starts round {versus.round}."
    if versus.phase == PLAYING and versus.human_done and not versus.left_is_agent:
        return f"Round {versus.round}: your game is over. Enter ends the round, or watch the agent."
    if versus.phase == PLAYING:
        return f"Round {versus.round} on: it ends when both games do."
    return f"Round {versus.round} is over. Enter starts the next."


def shown_name(described: str) -> str:
    """An agent as the match names it: its file or the load list's name for it, shortened
    ("breakout.pt + 120 updates here": "the shipped agent + 120 updates here"; "Breakout after
    1 h of CPU training": "Breakout after 1 h")."""
    head, plus, rest = described.partition(" + ")
    if Path(head).suffix in (".pt", *FOREIGN_SUFFIXES):
        head = short_name(Path(head))
    elif head.lower().startswith("shipped agent"):  # the load list's "Shipped agent, 7 h of ..."
        head = SHIPPED
    head = head.removesuffix(" of CPU training").removesuffix(" of training")
    return head + plus + rest


def challenger_command(path: Path | None) -> SetChallenger:
    """The command that puts the agent in ``path`` on Versus's left side (None: a person),
    named as the side's header names it."""
    return SetChallenger(path, "" if path is None else short_name(path))


def plays_shipped(snapshot: Snapshot) -> bool:
    """Whether the session's agent is the shipped one as it shipped (no updates since)."""
    return shown_name(snapshot.training.agent_source) == SHIPPED


_PAIRINGS: dict[tuple[Path, str], tuple[float, Path | None]] = {}  # (saves, game): when, stage


def ready_pairing(saves_dir: Path, game: str) -> Path | None:
    """The challenger of ``game``'s ready agent-against-agent pairing, its first time-lapse
    stage (Breakout after 1 h) against the shipped agent; None where either is missing.
    Looked up every ``PAIRING_RESCAN_S`` at most."""
    key, now = (Path(saves_dir), game), time.monotonic()
    seen = _PAIRINGS.get(key)
    if seen is None or now - seen[0] > PAIRING_RESCAN_S:
        stages = time_lapse_stages(Path(saves_dir), game)
        shipped = (Path(saves_dir) / f"{game}.pt").is_file()
        seen = _PAIRINGS[key] = (now, stages[0] if stages and shipped else None)
    return seen[1]


def side_names(versus: VersusState) -> tuple[str, str]:
    """Who plays each side: "you" or the challenging agent, and the session's agent."""
    left = shown_name(versus.left_name) if versus.left_is_agent else "you"
    return left, shown_name(versus.right_name)


def verdict_text(winner: str, versus: VersusState) -> str:
    """The round card's headline: a person's as ever; between two agents, the winner's name."""
    if not versus.left_is_agent or winner not in ("human", "agent"):
        return VERDICTS[winner]
    name = side_names(versus)[0 if winner == "human" else 1]
    return f"{name[:1].upper()}{name[1:]} wins"


def waiting(versus: VersusState, human: bool, names: tuple[str, str]) -> tuple[str, ...]:
    """What a side whose game is over says while the other plays on (the first that fits)."""
    if human and not versus.left_is_agent:
        return ("Enter: end the round", "Enter: end it")
    other = names[1] if human else names[0]
    return (f"waiting for {other}", "waiting")
