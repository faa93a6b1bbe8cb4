"""Versus: the person's game (or a challenging agent's) and the agent's side by side, each named
with its score, the round and the running tally above, and a round summary when both games
have ended. Fruit catch counts each side's catches and misses over the whole match instead of
the round's score. The footer's chips (keys J and B) put an agent on the left side or take it
off, and offer a game's ready pairing (Breakout after 1 h against the shipped agent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame

from agent.live.channels import Snapshot
from agent.live.versus import OVER, PLAYING, READY, RewardCounts, RoundResult, VersusState
from game.registry import GameSpec
from ui import theme
from ui.game_view import HEADER, fit, frame_to_surface, scale_frame
from ui.overlay import SaliencyOverlay
from ui.saves import short_name
from ui.shortcuts import Act, Intent, key_label
from ui.versus_cards import (
    Line,
    card_place,
    draw_game_over,
    draw_round_card,
    first_fitting,
)
from ui.versus_names import side_names, verdict_text, waiting

LABEL_H = 34  # pixels above each side's frame: who plays it and its score
FOOTER_H = 34  # pixels below: the keys
WINNER_COLOURS = {
    "human": theme.PURPLE,
    "agent": theme.ACCENT,
    "draw": theme.TEXT,
    "undecided": theme.DIM,
}
CHIP_H = 22  # pixels: a footer chip's height
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
                draw_game_over(surface, box, placed[side], game, waiting(versus, human, names))
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
        text = theme.fit_text(text, max(NAME_MIN_W, rect.width - numbers - 26), 12, "bold")
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
        self.card = draw_round_card(surface, card_place(area, frames, 360, game.key), full, short)

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
        self.card = draw_round_card(surface, place, full, short)

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


def _side_fields(versus: VersusState, human: bool, game: GameSpec) -> list[tuple[str, str]]:
    """What a side's label shows: fruit catch's catches and misses over the match (a round is
    one fruit), other games the round's score."""
    if game.counts_catches:
        counts: RewardCounts = versus.human_rewards if human else versus.agent_rewards
        return [("caught", f"{counts.positive:,}"), ("missed", f"{counts.negative:,}")]
    score = versus.human_score if human else versus.agent_score
    return [("score", theme.format_number(score))]


def _keys_text(game: GameSpec) -> str:
    """A person's keys for ``game``: ``←/A left   →/D right``."""
    moves: dict[int, list[str]] = {}
    for name, action in game.keymap.items():
        moves.setdefault(action, []).append(key_label(name))
    return "   ".join(
        f"{'/'.join(keys)} {game.action_names[action]}" for action, keys in sorted(moves.items())
    )
