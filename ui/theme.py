"""Colours, fonts and small drawing helpers shared by every part of the window.

The fonts are the ones pygame_gui ships (Noto Sans for text, Fira Code for numbers, key caps
and symbols), so the window looks the same on every machine.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pygame
import pygame_gui

ROOT = Path(__file__).resolve().parent.parent
THEME_PATH = ROOT / "assets" / "theme.json"
_FONT_DIR = Path(pygame_gui.__file__).resolve().parent / "data"
_FONT_FILES = {
    "sans": "NotoSans-Regular.ttf",
    "bold": "NotoSans-Bold.ttf",
    "mono": "FiraCode-Regular.ttf",
}

Colour = tuple[int, int, int]

BACKGROUND: Colour = (13, 15, 22)
BAR: Colour = (18, 21, 30)
CARD: Colour = (22, 25, 35)
CARD_BORDER: Colour = (40, 45, 62)
VIEW_BACKGROUND: Colour = (8, 9, 13)
GRID: Colour = (36, 41, 56)
TEXT: Colour = (226, 230, 240)
DIM: Colour = (138, 146, 170)
FAINT: Colour = (89, 96, 120)
ACCENT: Colour = (76, 201, 240)
GREEN: Colour = (90, 209, 122)
ORANGE: Colour = (245, 166, 35)
RED: Colour = (239, 71, 111)
PURPLE: Colour = (167, 139, 250)
BAR_IDLE: Colour = (58, 66, 92)

MODE_COLOURS: dict[str, Colour] = {
    "human": PURPLE,
    "agent": ACCENT,
    "train": GREEN,
    "versus": RED,
}

GAP = 12  # pixels between cards and around the edges
PAD = 12  # pixels inside a card
RADIUS = 8  # card corner radius, pixels


@lru_cache(maxsize=32)
def font(kind: str = "sans", size: int = 14) -> pygame.font.Font:
    """A cached font: ``sans``, ``bold`` or ``mono``."""
    path = _FONT_DIR / _FONT_FILES[kind]
    try:
        return pygame.font.Font(path, size)
    except (OSError, pygame.error):
        return pygame.font.Font(None, size + 4)


@lru_cache(maxsize=2048)
def text_surface(text: str, kind: str, size: int, colour: Colour) -> pygame.Surface:
    """Rendered text, cached: the panels redraw the same strings every frame."""
    return font(kind, size).render(text, True, colour)


def fit_text(text: str, width: int, size: int, kind: str = "sans") -> str:
    """``text``, cut short with an ellipsis where it is wider than ``width`` pixels."""
    if text_surface(text, kind, size, TEXT).get_width() <= width:
        return text
    while len(text) > 1:
        text = text[:-1].rstrip()
        if text_surface(text + "…", kind, size, TEXT).get_width() <= width:
            break
    return text + "…"


def clear_caches() -> None:
    """Forget fonts and rendered text: they die with ``pygame.quit()``."""
    text_surface.cache_clear()
    font.cache_clear()


def draw_text(
    surface: pygame.Surface,
    text: str,
    pos: tuple[int, int],
    *,
    kind: str = "sans",
    size: int = 14,
    colour: Colour = TEXT,
    anchor: str = "topleft",
) -> pygame.Rect:
    """Blit ``text`` with its rect's ``anchor`` point at ``pos``; returns the rect drawn."""
    image = text_surface(text, kind, size, colour)
    rect = image.get_rect(**{anchor: pos})
    surface.blit(image, rect)
    return rect


def draw_card(surface: pygame.Surface, rect: pygame.Rect, title: str | None = None) -> pygame.Rect:
    """A rounded panel; returns the content rect below the title."""
    pygame.draw.rect(surface, CARD, rect, border_radius=RADIUS)
    pygame.draw.rect(surface, CARD_BORDER, rect, width=1, border_radius=RADIUS)
    inner = rect.inflate(-2 * PAD, -2 * PAD)
    if title:
        draw_text(surface, title.upper(), inner.topleft, kind="bold", size=12, colour=DIM)
        inner = pygame.Rect(inner.x, inner.y + 22, inner.width, max(0, inner.height - 22))
    return inner


def draw_overlay_card(
    surface: pygame.Surface,
    card: pygame.Rect,
    border: tuple[int, int, int],
    *,
    border_width: int = 1,
    opacity: int = 238,
) -> None:
    """A dark, nearly opaque card over the game frames, with a coloured border."""
    shade = pygame.Surface(card.size, pygame.SRCALPHA)
    pygame.draw.rect(shade, (*CARD, opacity), shade.get_rect(), border_radius=RADIUS)
    surface.blit(shade, card)
    pygame.draw.rect(surface, border, card, width=border_width, border_radius=RADIUS)


def draw_notice(
    surface: pygame.Surface,
    card: pygame.Rect,
    headline: tuple[str, int, tuple[int, int, int]],
    note: tuple[str, int],
    margins: tuple[int, int] = (8, 8),
) -> None:
    """A headline (text, size, colour) at the top of ``card`` and a dim note (text, size) at
    its bottom, ``margins`` (top, bottom) in from its edges."""
    text, size, colour = headline
    top = (card.centerx, card.y + margins[0])
    draw_text(surface, text, top, kind="bold", size=size, colour=colour, anchor="midtop")
    bottom = (card.centerx, card.bottom - margins[1])
    draw_text(surface, note[0], bottom, size=note[1], colour=DIM, anchor="midbottom")


def draw_pill(
    surface: pygame.Surface,
    text: str,
    pos: tuple[int, int],
    colour: Colour,
    *,
    anchor: str = "topleft",
    filled: bool = True,
    size: int = 12,
) -> pygame.Rect:
    """A small rounded label, such as GREEDY or PAUSED."""
    image = text_surface(text, "bold", size, BACKGROUND if filled else colour)
    rect = image.get_rect().inflate(14, 4)
    setattr(rect, anchor, pos)
    if filled:
        pygame.draw.rect(surface, colour, rect, border_radius=rect.height // 2)
    else:
        pygame.draw.rect(surface, colour, rect, width=1, border_radius=rect.height // 2)
    surface.blit(image, image.get_rect(center=rect.center))
    return rect


def format_count(count: int) -> str:
    """Short counts for tight cells: 7,066 / 64.4k / 1.2M."""
    if count < 10_000:
        return f"{count:,}"
    if count < 1_000_000:
        return f"{count / 1000:.1f}k".replace(".0k", "k")
    return f"{count / 1_000_000:.1f}M".replace(".0M", "M")


def format_number(value: float | None, digits: int = 2) -> str:
    """Compact numbers for the panels: thousands separators, a dash for nothing yet."""
    if value is None:
        return "-"
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"
