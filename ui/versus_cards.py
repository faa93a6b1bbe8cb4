"""Versus's cards over the match: where a card may go without hiding a game's play
(``card_place``), the round card with its full and short lines, GAME OVER over a side's frame,
and the text fitting they share. Kept apart from the view's layout in ``ui.versus_view``."""

from __future__ import annotations

import math

import pygame

from game.registry import GameSpec
from ui import theme

CARD_PAD, SHORT_PAD = 14, 10  # pixels above a card's first line and below its last
CARD_MARGIN = 6  # pixels between a card and the band of play it keeps off
# Where a game's play lies on its frame, as shares of the frame's height, where it leaves room:
# cards keep off it. CartPole's carts run along a track three quarters down; their poles reach
# up to 0.4 of the frame.
PLAY_BANDS = {"cartpole": (0.38, 0.82)}
Line = tuple[str, str, int, theme.Colour, int]  # text, font, size, colour, pixels it takes


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


def draw_game_over(
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


def first_fitting(texts: tuple[str, ...], kind: str, size: int, width: int) -> str:
    """The first of ``texts`` no wider than ``width`` pixels, else the last."""
    for text in texts:
        if theme.text_surface(text, kind, size, theme.TEXT).get_width() <= width:
            return text
    return texts[-1]


def draw_round_card(
    surface: pygame.Surface, place: pygame.Rect, full: list[Line], short: list[Line]
) -> pygame.Rect:
    """A round card: the ``full`` lines where ``place`` has room, else the ``short`` ones
    closer together; returns where the card went."""
    fits = stack_height(full, CARD_PAD) <= place.height
    lines, pad = (full, CARD_PAD) if fits else (short, SHORT_PAD)
    card = pygame.Rect(0, 0, place.width, min(stack_height(lines, pad), place.height))
    card.center = place.center
    theme.draw_overlay_card(surface, card, theme.ACCENT)
    y = card.y + pad
    for text, kind, size, colour, height in lines:
        where = (card.centerx, y)
        theme.draw_text(surface, text, where, kind=kind, size=size, colour=colour, anchor="midtop")
        y += height
    return card
