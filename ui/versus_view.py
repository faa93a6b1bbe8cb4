"""Versus: the person's game and the agent's side by side, each with its score, the round and
the running tally above, and a round summary when both games have ended. Fruit catch counts
each side's catches and misses over the whole match instead of the round's score."""

from __future__ import annotations

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
                note = "Enter: end the round" if human else "waiting for you"
                _draw_game_over(surface, placed[side], note)
        if versus.phase == READY:
            self._draw_banner(
                surface, body, f"Round {versus.round}", ("same seed on both sides", "Enter: start")
            )
        elif versus.phase == OVER and versus.last_result is not None:
            self._draw_summary(surface, body, versus.last_result, versus)
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

    @staticmethod
    def _draw_banner(
        surface: pygame.Surface, body: pygame.Rect, title: str, lines: tuple[str, ...]
    ) -> None:
        card = pygame.Rect(0, 0, min(body.width - 16, 360), 56 + 22 * len(lines))
        card.center = body.center
        theme.draw_overlay_card(surface, card, theme.ACCENT)
        theme.draw_text(
            surface, title, (card.centerx, card.y + 14), kind="bold", size=22, anchor="midtop"
        )
        for i, line in enumerate(lines):
            theme.draw_text(
                surface,
                line,
                (card.centerx, card.y + 52 + 22 * i),
                size=14,
                colour=theme.DIM,
                anchor="midtop",
            )

    @staticmethod
    def _draw_summary(
        surface: pygame.Surface, body: pygame.Rect, result: RoundResult, versus: VersusState
    ) -> None:
        card = pygame.Rect(0, 0, min(body.width - 16, 460), 196)
        card.center = body.center
        theme.draw_overlay_card(surface, card, theme.ACCENT)
        colours = {
            "human": theme.PURPLE,
            "agent": theme.ACCENT,
            "draw": theme.TEXT,
            "undecided": theme.DIM,
        }
        y = card.y + 14
        theme.draw_text(
            surface,
            f"Round {result.round}",
            (card.centerx, y),
            size=13,
            colour=theme.DIM,
            anchor="midtop",
        )
        y += 22
        theme.draw_text(
            surface,
            VERDICTS[result.winner],
            (card.centerx, y),
            kind="bold",
            size=28,
            colour=colours[result.winner],
            anchor="midtop",
        )
        y += 46
        scores = (
            f"you {theme.format_number(result.human_score)}  –  "
            f"{theme.format_number(result.agent_score)} agent"
        )
        theme.draw_text(surface, scores, (card.centerx, y), kind="mono", size=18, anchor="midtop")
        y += 34
        tally = versus.tally
        rounds = f"{tally.rounds} round{'s' if tally.rounds != 1 else ''}"
        line = f"after {rounds}:  you {tally.human}  ·  agent {tally.agent}  ·  drawn {tally.draws}"
        if theme.text_surface(line, "sans", 14, theme.TEXT).get_width() > card.width - 16:
            line = f"you {tally.human} · agent {tally.agent} · drawn {tally.draws}"
        theme.draw_text(surface, line, (card.centerx, y), size=14, anchor="midtop")
        theme.draw_text(
            surface,
            "Enter: next round",
            (card.centerx, card.bottom - 14),
            size=13,
            colour=theme.DIM,
            anchor="midbottom",
        )

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


def _side_fields(versus: VersusState, human: bool, game: GameSpec) -> list[tuple[str, str]]:
    """What a side's label shows: fruit catch's catches and misses over the match (a round is
    one fruit), other games the round's score."""
    if game.counts_catches:
        counts: RewardCounts = versus.human_rewards if human else versus.agent_rewards
        return [("caught", f"{counts.positive:,}"), ("missed", f"{counts.negative:,}")]
    score = versus.human_score if human else versus.agent_score
    return [("score", theme.format_number(score))]


def _draw_game_over(surface: pygame.Surface, frame: pygame.Rect, note: str) -> None:
    """GAME OVER and what happens next, in the middle of a side's frame."""
    card = pygame.Rect(0, 0, min(frame.width - 8, 220), 58)
    card.center = frame.center
    theme.draw_overlay_card(surface, card, theme.ACCENT)
    theme.draw_notice(surface, card, ("GAME OVER", 16, theme.ORANGE), (note, 13))
