"""Versus: the person's game (or a challenging agent's) and the agent's side by side, each named
with its score, the round and the running tally above, and a round summary when both games
have ended. Fruit catch counts each side's catches and misses over the whole match instead of
the round's score. The footer's chips (keys J and B) put an agent on the left side or take it
off, and offer a game's ready pairing (Breakout after 1 h against the shipped agent)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pygame

from agent.interop import FOREIGN_SUFFIXES
from agent.live.channels import SetChallenger, Snapshot
from agent.live.versus import OVER, PLAYING, READY, RewardCounts, RoundResult, VersusState
from game.registry import GameSpec
from ui import theme
from ui.game_view import HEADER, fit, frame_to_surface, scale_frame
from ui.overlay import SaliencyOverlay
from ui.saves import short_name, time_lapse_stages
from ui.shortcuts import Act, Intent, key_label

LABEL_H = 34  # pixels above each side's frame: who plays it and its score
FOOTER_H = 34  # pixels below: the keys
CARD_PAD, SHORT_PAD = 14, 10  # pixels above a card's first line and below its last
CARD_MARGIN = 6  # pixels between a card and the band of play it keeps off
# Where a game's play lies on its frame, as shares of the frame's height, where it leaves room:
# cards keep off it. CartPole's carts run along a track three quarters down; their poles reach
# up to 0.4 of the frame.
PLAY_BANDS = {"cartpole": (0.38, 0.82)}
Line = tuple[str, str, int, theme.Colour, int]  # text, font, size, colour, pixels it takes
WINNER_COLOURS = {
    "human": theme.PURPLE,
    "agent": theme.ACCENT,
    "draw": theme.TEXT,
    "undecided": theme.DIM,
}
VERDICTS = {
    "human": "You win!",
    "agent": "The agent wins",
    "draw": "A draw",
    "undecided": "Ended early: not counted",
}
CHIP_H = 22  # pixels: a footer chip's height
SHIPPED = "the shipped agent"  # how a side names the agent that ships with the app
PAIRING_RESCAN_S = 2.0  # seconds between looks for a game's ready pairing
NAME_MIN_W = 48  # pixels: a side's name is cut (with an ellipsis) no shorter than this


class _Pane:
    """One side's frame, scaled and cached until a new frame arrives."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._scaled: pygame.Surface | None = None

    def draw(
        self, surface: pygame.Surface, box: pygame.Rect, frame: np.ndarray | None, serial: int
    ) -> pygame.Rect:
        pygame.draw.rect(surface, theme.VIEW_BACKGROUND, box)
        if frame is None or box.width < 4 or box.height < 4:
            theme.draw_text(surface, "loading...", box.center, colour=theme.DIM, anchor="center")
            return box
        target = fit((frame.shape[1], frame.shape[0]), box)
        key = (serial, target.size)
        if key != self._key or self._scaled is None:
            self._scaled = scale_frame(frame_to_surface(frame), target.size)
            self._key = key
        surface.blit(self._scaled, target)
        return target


class VersusView:
    """Draws the match in the game view's place; see the module docstring."""

    def __init__(self) -> None:
        self._human = _Pane()
        self._agent = _Pane()
        self._overlay = SaliencyOverlay()
        self.card: pygame.Rect | None = None  # the round card last drawn, if any
        self.frames: dict[str, pygame.Rect] = {}  # where each side's frame went, last drawn
        self.chips: list[tuple[pygame.Rect, Intent]] = []  # the footer's chips, last drawn
        self.names: tuple[str, str] = ("", "")  # each side's name as last drawn
        # The challenger of the game's ready agent-against-agent pairing, if it has one
        # (saves/breakout-after-1h.pt); set by the screen, offered on a chip (key B).
        self.pairing: Path | None = None

    def intent(self, event: pygame.event.Event) -> Intent | None:
        """A click on one of the footer's chips (as last drawn) asks for its intent."""
        if event.type != pygame.MOUSEBUTTONUP or getattr(event, "button", 1) != 1:
            return None
        pos = getattr(event, "pos", None)
        return next((intent for rect, intent in self.chips if pos and rect.collidepoint(pos)), None)

    def forget_chips(self) -> None:
        """The match is off screen: its chips take no clicks."""
        self.chips = []

    def draw(
        self,
        surface: pygame.Surface,
        rect: pygame.Rect,
        snapshot: Snapshot,
        game: GameSpec,
        overlay: bool = False,
    ) -> dict[str, pygame.Rect]:
        """Draw into ``rect``; returns where each side's frame went."""
        inner = theme.draw_card(surface, rect)
        versus = snapshot.versus
        header = pygame.Rect(inner.x, rect.y, inner.width, HEADER)
        self._draw_header(surface, header, snapshot, game, versus)
        footer = pygame.Rect(inner.x, rect.bottom - FOOTER_H, inner.width, FOOTER_H)
        self._draw_footer(surface, footer, game, snapshot)
        body = pygame.Rect(inner.x, header.bottom, inner.width, footer.y - header.bottom)
        self.names = ("", "")
        if versus is None:
            theme.draw_text(
                surface, "setting up...", body.center, colour=theme.DIM, anchor="center"
            )
            return {}
        gap = theme.GAP
        half = (body.width - gap) // 2
        sides = {
            "human": pygame.Rect(body.x, body.y, half, body.height),
            "agent": pygame.Rect(body.x + half + gap, body.y, half, body.height),
        }
        placed = {}
        names = side_names(versus)
        self.names = names
        for side, column in sides.items():
            human = side == "human"
            done = versus.human_done if human else versus.agent_done
            label = pygame.Rect(column.x, column.y, column.width, LABEL_H)
            fields = _side_fields(versus, human, game)
            name = names[0] if human else names[1]
            self._draw_label(surface, label, human, name, fields, done, versus.phase)
            box = pygame.Rect(column.x, label.bottom, column.width, column.bottom - label.bottom)
            pane = self._human if human else self._agent
            frame = versus.human_frame if human else snapshot.picture.frame
            placed[side] = pane.draw(surface, box, frame, snapshot.picture.serial)
            if not human and overlay and snapshot.picture.saliency is not None:
                self._overlay.draw(surface, placed[side], snapshot.picture.saliency)
            if done and versus.phase == PLAYING:
                # Mid-frame, where no game keeps its score: that side's game is over anyway.
                _draw_game_over(surface, box, placed[side], game, _waiting(versus, human, names))
        self.card = None
        frames = list(placed.values())
        boxes = pygame.Rect(body.x, body.y + LABEL_H, body.width, body.height - LABEL_H)
        if versus.phase == READY:
            self._draw_banner(surface, boxes, frames, game, versus.round)
        elif versus.phase == OVER and versus.last_result is not None:
            self._draw_summary(surface, boxes, frames, game, versus.last_result, versus)
        self.frames = placed
        return placed

    def _draw_header(
        self,
        surface: pygame.Surface,
        rect: pygame.Rect,
        snapshot: Snapshot,
        game: GameSpec,
        versus: VersusState | None,
    ) -> None:
        middle = rect.centery
        pill = theme.draw_pill(
            surface, "VERSUS", (rect.right, middle), theme.MODE_COLOURS["versus"], anchor="midright"
        )
        if snapshot.paused:
            pill = theme.draw_pill(
                surface, "PAUSED", (pill.x - 8, middle), theme.ORANGE, anchor="midright"
            )
        title = theme.draw_text(
            surface, game.title, (rect.x, middle), kind="bold", size=18, anchor="midleft"
        )
        if versus is None:
            return
        tally = versus.tally
        left, right = side_names(versus)
        drawn = f"  ({tally.draws} drawn)" if tally.draws else ""
        x = title.right + 18
        image = theme.text_surface(f"round {versus.round}", "sans", 13, theme.DIM)
        if x + image.get_width() > pill.x - 10:
            return  # a narrow view shows what fits
        surface.blit(image, image.get_rect(midleft=(x, middle)))
        x += image.get_width() + 14
        # The tally between the sides' names where they fit: "you  2 : 1  the shipped agent".
        score = theme.text_surface(f"{tally.human} : {tally.agent}{drawn}", "mono", 15, theme.TEXT)
        names = [theme.text_surface(name, "sans", 14, theme.DIM) for name in (left, right)]
        parts = [names[0], score, names[1]]
        if x + sum(p.get_width() for p in parts) + 20 > pill.x - 10:
            parts = [score]  # a narrow view: the numbers alone
            if x + score.get_width() > pill.x - 10:
                return
        for image in parts:
            surface.blit(image, image.get_rect(midleft=(x, middle)))
            x += image.get_width() + 10

    @staticmethod
    def _draw_label(
        surface: pygame.Surface,
        rect: pygame.Rect,
        human: bool,
        name: str,
        fields: list[tuple[str, str]],
        done: bool,
        phase: str,
    ) -> None:
        """The side's name in its colour's pill (cut to leave its numbers room), then its
        numbers, then whether its game runs."""
        colour = theme.PURPLE if human else theme.ACCENT
        middle = rect.centery
        numbers = sum(
            theme.text_surface(label, "sans", 13, theme.DIM).get_width()
            + theme.text_surface(value, "mono", 18, theme.TEXT).get_width()
            + 20
            for label, value in fields
        )
        text = "YOU" if name == "you" else name
        text = fit_text(text, "bold", 12, max(NAME_MIN_W, rect.width - numbers - 26))
        pill = theme.draw_pill(surface, text, (rect.x, middle), colour, anchor="midleft")
        x = pill.right + 12
        for label, value in fields:
            shown = theme.draw_text(
                surface, label, (x, middle), size=13, colour=theme.DIM, anchor="midleft"
            )
            shown = theme.draw_text(
                surface, value, (shown.right + 6, middle), kind="mono", size=18, anchor="midleft"
            )
            x = shown.right + 14
        state = "finished" if done else ("playing" if phase == PLAYING else "")
        image = theme.text_surface(state, "sans", 12, theme.DIM)
        if rect.right - image.get_width() > x:  # a narrow side shows its numbers first
            surface.blit(image, image.get_rect(midright=(rect.right, middle)))

    def _draw_banner(
        self,
        surface: pygame.Surface,
        area: pygame.Rect,
        frames: list[pygame.Rect],
        game: GameSpec,
        round_number: int,
    ) -> None:
        """The round that waits for Enter; in a narrow band, the short version."""
        title: Line = (f"Round {round_number}", "bold", 22, theme.TEXT, 38)
        full = [
            title,
            ("same seed on both sides", "sans", 14, theme.DIM, 22),
            ("Enter: start", "sans", 14, theme.DIM, 20),
        ]
        short = [title, ("same seed · Enter: start", "sans", 14, theme.DIM, 20)]
        self._draw_card(surface, card_place(area, frames, 360, game.key), full, short)

    def _draw_summary(
        self,
        surface: pygame.Surface,
        area: pygame.Rect,
        frames: list[pygame.Rect],
        game: GameSpec,
        result: RoundResult,
        versus: VersusState,
    ) -> None:
        """Who won the round, by what scores, the match so far and the key for the next."""
        place = card_place(area, frames, 460, game.key)
        room = place.width - 16
        colour = WINNER_COLOURS[result.winner]
        left, right = side_names(versus)
        verdict = verdict_text(result.winner, versus)
        human, agent = (theme.format_number(s) for s in (result.human_score, result.agent_score))
        scores = first_fitting(
            (f"{left} {human}  –  {agent} {right}", f"{human}  –  {agent}"), "mono", 18, room
        )
        short_scores = first_fitting(
            (f"{left} {human}  –  {agent} {right}", f"{human}  –  {agent}"), "mono", 15, room
        )
        tally = versus.tally
        rounds = f"{tally.rounds} round{'s' if tally.rounds != 1 else ''}"
        counts = first_fitting(
            (
                f"{left} {tally.human}  ·  {right} {tally.agent}  ·  drawn {tally.draws}",
                f"{tally.human} : {tally.agent}  ·  drawn {tally.draws}",
            ),
            "sans",
            14,
            room,
        )
        line = first_fitting((f"after {rounds}:  {counts}", counts), "sans", 14, room)
        full: list[Line] = [
            (f"Round {result.round}", "sans", 13, theme.DIM, 22),
            (verdict, "bold", 28, colour, 46),
            (scores, "mono", 18, theme.TEXT, 34),
            (line, "sans", 14, theme.TEXT, 46),
            ("Enter: next round", "sans", 13, theme.DIM, 20),
        ]
        next_round = first_fitting(
            (f"{counts}  ·  Enter: next round", "Enter: next round"), "sans", 13, room
        )
        short: list[Line] = [
            (f"Round {result.round}: {verdict}", "bold", 20, colour, 28),
            (short_scores, "mono", 15, theme.TEXT, 22),
            (next_round, "sans", 13, theme.DIM, 18),
        ]
        self._draw_card(surface, place, full, short)

    def _draw_card(
        self, surface: pygame.Surface, place: pygame.Rect, full: list[Line], short: list[Line]
    ) -> None:
        """A round card: the ``full`` lines where ``place`` has room, else the ``short`` ones
        closer together."""
        fits = stack_height(full, CARD_PAD) <= place.height
        lines, pad = (full, CARD_PAD) if fits else (short, SHORT_PAD)
        card = pygame.Rect(0, 0, place.width, min(stack_height(lines, pad), place.height))
        card.center = place.center
        self.card = card
        theme.draw_overlay_card(surface, card, theme.ACCENT)
        y = card.y + pad
        for text, kind, size, colour, height in lines:
            where = (card.centerx, y)
            theme.draw_text(
                surface, text, where, kind=kind, size=size, colour=colour, anchor="midtop"
            )
            y += height

    def _draw_footer(
        self, surface: pygame.Surface, rect: pygame.Rect, game: GameSpec, snapshot: Snapshot
    ) -> None:
        """A person's keys on the left (none while two agents play); on the right the chips
        that change who plays the left side, and epsilon where it is set."""
        versus = snapshot.versus
        two_agents = versus is not None and versus.left_is_agent
        keys = pygame.Rect(rect.x, rect.centery, 0, 0)
        if not two_agents:
            keys = theme.draw_text(
                surface,
                _keys_text(game),
                (rect.x, rect.centery),
                kind="mono",
                size=12,
                colour=theme.DIM,
                anchor="midleft",
            )
        self.chips = []
        if versus is None:
            return
        right = rect.right
        if snapshot.training.epsilon > 0:
            image = theme.text_surface(f"ε {snapshot.training.epsilon:.2f}", "mono", 12, theme.DIM)
            if right - image.get_width() > keys.right + 16:
                surface.blit(image, image.get_rect(midright=(right, rect.centery)))
                right -= image.get_width() + 12
        offers = self._offers(versus)
        # Full labels where they fit, then short ones, then the B chip goes before the J chip.
        for labels in ([o[0] for o in offers], [o[1] for o in offers], [offers[0][1]]):
            widths = [
                theme.text_surface(t, "bold", 12, theme.TEXT).get_width() + 16 for t in labels
            ]
            if right - sum(widths) - 8 * (len(widths) - 1) >= keys.right + 16:
                break
        else:
            return  # no room beside the keys: J and B work all the same
        x = right
        for (_, _, intent), text, width in zip(offers, labels, widths, strict=False):
            chip = pygame.Rect(x - width, rect.centery - CHIP_H // 2, width, CHIP_H)
            pygame.draw.rect(surface, theme.BAR_IDLE, chip, border_radius=CHIP_H // 2)
            theme.draw_text(surface, text, chip.center, kind="bold", size=12, anchor="center")
            self.chips.append((chip, intent))
            x = chip.x - 8

    def _offers(self, versus: VersusState) -> list[tuple[str, str, Intent]]:
        """The chips' (label, short label, intent), the one nearest the edge first."""
        if versus.left_is_agent:
            offers = [("J · you play again", "J · you", Intent(Act.CHALLENGER))]
        else:
            offers = [("J · an agent plays you", "J · agent vs agent", Intent(Act.CHALLENGER))]
        pairing = short_name(self.pairing) if self.pairing else ""
        if pairing and not (versus.left_is_agent and versus.left_name == pairing):
            _, after, hours = pairing.partition(" after ")  # "Breakout after 1 h": "1 h"
            full = f"B · {pairing} vs the shipped agent"
            offers.append((full, f"B · {hours} vs shipped" if after else full, Intent(Act.PAIRING)))
        return offers


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


def stack_height(lines: list[Line], pad: int) -> int:
    """Pixels a card of ``lines`` takes, with ``pad`` above and below them."""
    return 2 * pad + sum(height for *_, height in lines)


def card_place(
    area: pygame.Rect, frames: list[pygame.Rect], width: int, game_key: str
) -> pygame.Rect:
    """Where a card at most ``width`` wide may go over ``area``: all of it (the card is
    centred), or, for a game whose play lies in a band across its ``frames``, the larger
    free part of ``area`` above or below that band."""
    place = area.inflate(-2 * CARD_MARGIN, -2 * CARD_MARGIN)
    place.width = min(place.width, width)
    place.centerx = area.centerx
    band = PLAY_BANDS.get(game_key)
    if band is None or not frames:
        return place
    top = min(frame.y + int(frame.height * band[0]) for frame in frames) - CARD_MARGIN
    bottom = max(frame.y + math.ceil(frame.height * band[1]) for frame in frames) + CARD_MARGIN
    above, below = max(0, top - place.y), max(0, place.bottom - bottom)
    if above >= below:
        return pygame.Rect(place.x, top - above, place.width, above)
    return pygame.Rect(place.x, bottom, place.width, below)


def _side_fields(versus: VersusState, human: bool, game: GameSpec) -> list[tuple[str, str]]:
    """What a side's label shows: fruit catch's catches and misses over the match (a round is
    one fruit), other games the round's score."""
    if game.counts_catches:
        counts: RewardCounts = versus.human_rewards if human else versus.agent_rewards
        return [("caught", f"{counts.positive:,}"), ("missed", f"{counts.negative:,}")]
    score = versus.human_score if human else versus.agent_score
    return [("score", theme.format_number(score))]


def _draw_game_over(
    surface: pygame.Surface,
    box: pygame.Rect,
    frame: pygame.Rect,
    game: GameSpec,
    notes: tuple[str, ...],
) -> None:
    """GAME OVER and what happens next (the first of ``notes`` that fits), over a side's
    frame (in ``box``), off its play."""
    place = card_place(box, [frame], min(frame.width - 8, 220), game.key)
    card = pygame.Rect(0, 0, place.width, min(58, place.height))
    card.center = place.center
    widths = [theme.text_surface(note, "sans", 13, theme.DIM).get_width() for note in notes]
    note = next((n for n, w in zip(notes, widths, strict=True) if w <= card.width - 8), notes[-1])
    theme.draw_overlay_card(surface, card, theme.ACCENT)
    theme.draw_notice(surface, card, ("GAME OVER", 16, theme.ORANGE), (note, 13))


def _keys_text(game: GameSpec) -> str:
    """A person's keys for ``game``: ``←/A left   →/D right``."""
    moves: dict[int, list[str]] = {}
    for name, action in game.keymap.items():
        moves.setdefault(action, []).append(key_label(name))
    return "   ".join(
        f"{'/'.join(keys)} {game.action_names[action]}" for action, keys in sorted(moves.items())
    )


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


def _waiting(versus: VersusState, human: bool, names: tuple[str, str]) -> tuple[str, ...]:
    """What a side whose game is over says while the other plays on (the first that fits)."""
    if human and not versus.left_is_agent:
        return ("Enter: end the round", "Enter: end it")
    other = names[1] if human else names[0]
    return (f"waiting for {other}", "waiting")


def first_fitting(texts: tuple[str, ...], kind: str, size: int, width: int) -> str:
    """The first of ``texts`` no wider than ``width`` pixels, else the last."""
    for text in texts:
        if theme.text_surface(text, kind, size, theme.TEXT).get_width() <= width:
            return text
    return texts[-1]


def fit_text(text: str, kind: str, size: int, width: int) -> str:
    """``text``, cut short with an ellipsis where it is wider than ``width`` pixels."""
    if theme.text_surface(text, kind, size, theme.TEXT).get_width() <= width:
        return text
    while len(text) > 1:
        text = text[:-1].rstrip()
        if theme.text_surface(text + "…", kind, size, theme.TEXT).get_width() <= width:
            break
    return text + "…"
