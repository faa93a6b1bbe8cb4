"""Versus: the person's game and the agent's side by side, each with its score, the round and
the running tally above, and a round summary when both games have ended. Fruit catch counts
each side's catches and misses over the whole match instead of the round's score."""

from __future__ import annotations

import math

import numpy as np
import pygame

from agent.live.channels import Snapshot
from agent.live.versus import OVER, PLAYING, READY, RewardCounts, RoundResult, VersusState
from game.registry import GameSpec
from ui import theme
from ui.game_view import HEADER, fit, frame_to_surface, scale_frame
from ui.overlay import SaliencyOverlay
from ui.shortcuts import key_label

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
        for side, column in sides.items():
            human = side == "human"
            done = versus.human_done if human else versus.agent_done
            label = pygame.Rect(column.x, column.y, column.width, LABEL_H)
            fields = _side_fields(versus, human, game)
            self._draw_label(surface, label, human, fields, done, versus.phase)
            box = pygame.Rect(column.x, label.bottom, column.width, column.bottom - label.bottom)
            pane = self._human if human else self._agent
            frame = versus.human_frame if human else snapshot.picture.frame
            placed[side] = pane.draw(surface, box, frame, snapshot.picture.serial)
            if not human and overlay and snapshot.picture.saliency is not None:
                self._overlay.draw(surface, placed[side], snapshot.picture.saliency)
            if done and versus.phase == PLAYING:
                # Mid-frame, where no game keeps its score: that side's game is over anyway.
                notes = ("Enter: end the round", "Enter: end it") if human else ("waiting for you",)
                _draw_game_over(surface, box, placed[side], game, notes)
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
        score = f"you {tally.human} : {tally.agent} agent"
        if tally.draws:
            score += f"  ({tally.draws} drawn)"
        x = title.right + 18
        for text, kind, size, colour in (
            (f"round {versus.round}", "sans", 13, theme.DIM),
            (score, "mono", 15, theme.TEXT),
        ):
            image = theme.text_surface(text, kind, size, colour)
            if x + image.get_width() > pill.x - 10:
                return  # a narrow view shows what fits
            surface.blit(image, image.get_rect(midleft=(x, middle)))
            x += image.get_width() + 14

    @staticmethod
    def _draw_label(
        surface: pygame.Surface,
        rect: pygame.Rect,
        human: bool,
        fields: list[tuple[str, str]],
        done: bool,
        phase: str,
    ) -> None:
        colour = theme.PURPLE if human else theme.ACCENT
        middle = rect.centery
        pill = theme.draw_pill(
            surface, "YOU" if human else "AGENT", (rect.x, middle), colour, anchor="midleft"
        )
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
        colour = WINNER_COLOURS[result.winner]
        scores = (
            f"you {theme.format_number(result.human_score)}  –  "
            f"{theme.format_number(result.agent_score)} agent"
        )
        tally = versus.tally
        rounds = f"{tally.rounds} round{'s' if tally.rounds != 1 else ''}"
        counts = f"you {tally.human}  ·  agent {tally.agent}  ·  drawn {tally.draws}"
        line = f"after {rounds}:  {counts}"
        if theme.text_surface(line, "sans", 14, theme.TEXT).get_width() > place.width - 16:
            line = counts
        full: list[Line] = [
            (f"Round {result.round}", "sans", 13, theme.DIM, 22),
            (VERDICTS[result.winner], "bold", 28, colour, 46),
            (scores, "mono", 18, theme.TEXT, 34),
            (line, "sans", 14, theme.TEXT, 46),
            ("Enter: next round", "sans", 13, theme.DIM, 20),
        ]
        next_round = f"{counts}  ·  Enter: next round"
        if theme.text_surface(next_round, "sans", 13, theme.TEXT).get_width() > place.width - 16:
            next_round = "Enter: next round"
        short: list[Line] = [
            (f"Round {result.round}: {VERDICTS[result.winner]}", "bold", 20, colour, 28),
            (scores, "mono", 15, theme.TEXT, 22),
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

    @staticmethod
    def _draw_footer(
        surface: pygame.Surface, rect: pygame.Rect, game: GameSpec, snapshot: Snapshot
    ) -> None:
        """Your keys on the left; which agent you play and its epsilon on the right."""
        moves: dict[int, list[str]] = {}
        for name, action in game.keymap.items():
            moves.setdefault(action, []).append(key_label(name))
        text = "   ".join(
            f"{'/'.join(keys)} {game.action_names[action]}"
            for action, keys in sorted(moves.items())
        )
        keys = theme.draw_text(
            surface,
            text,
            (rect.x, rect.centery),
            kind="mono",
            size=12,
            colour=theme.DIM,
            anchor="midleft",
        )
        source = f"agent: {snapshot.training.agent_source} · ε {snapshot.training.epsilon:.2f}"
        image = theme.text_surface(source, "sans", 12, theme.DIM)
        if rect.right - image.get_width() > keys.right + 16:
            surface.blit(image, image.get_rect(midright=(rect.right, rect.centery)))


def versus_note(snapshot: Snapshot) -> str:
    """The status line in Versus: what the match needs from the person now."""
    versus = snapshot.versus
    intro = "Versus: you and the agent, same seed, side by side."
    if versus is None:
        return intro
    if versus.left_is_agent:
        intro = f"Versus: {versus.left_name} against {versus.right_name}, same seed, side by side."
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
