"""The game itself: the latest frame scaled to fit, letterboxed, with score, episode and keys."""

from __future__ import annotations

import numpy as np
import pygame

from agent.live.channels import FAST, Mode, Snapshot
from game.registry import GameSpec
from ui import theme
from ui.scoreboard import Scoreboard, countdown_label
from ui.shortcuts import key_label

HEADER = 44  # pixels above the frame: title, score, episode, mode
FOOTER = 40  # pixels below the frame: the keys for human play
PIXEL_ART_MAX = 320  # pixels: frames no bigger than this are pixel art (Atari is 210x160)
INTEGER_SCALE_SHARE = 0.97  # take a whole-number scale if it keeps this share of the size
MODE_NAMES = {
    Mode.HUMAN: "YOU PLAY",
    Mode.AGENT: "AGENT PLAYS",
    Mode.TRAIN: "TRAINING",
    Mode.VERSUS: "VERSUS",
}
TEACH_NOTES = {  # how teaching differs from ordinary human play, where it does
    "breakout": ", 4 frames a step",
}
PLAY_NOTES = {  # what a person needs to know beyond the keys, where the idle action is not it
    "breakout": "Space serves each ball",
}


def frame_to_surface(frame: np.ndarray) -> pygame.Surface:
    """An (H, W, 3) uint8 RGB array as a surface (a copy, so the array may go)."""
    height, width = frame.shape[:2]
    return pygame.image.frombuffer(np.ascontiguousarray(frame).tobytes(), (width, height), "RGB")


def scale_frame(image: pygame.Surface, size: tuple[int, int]) -> pygame.Surface:
    """Nearest-neighbour for pixel art (the fruit grid, Atari frames) that grows, so its pixels
    stay crisp; smooth for drawn pictures (CartPole) and for anything that shrinks."""
    pixel_art = max(image.get_size()) <= PIXEL_ART_MAX
    if pixel_art and size[0] >= image.get_width() and size[1] >= image.get_height():
        return pygame.transform.scale(image, size)
    return pygame.transform.smoothscale(image, size)


def fit(source: tuple[int, int], box: pygame.Rect) -> pygame.Rect:
    """The largest rect of ``source``'s aspect ratio centred in ``box``: the picture fills
    its pane; a whole-number scale only where that loses next to nothing, so grid lines and
    Atari pixels stay even then (``scale_frame`` keeps them crisp at any scale)."""
    scale = min(box.width / max(source[0], 1), box.height / max(source[1], 1))
    if scale >= 1 and int(scale) >= INTEGER_SCALE_SHARE * scale:
        scale = int(scale)
    size = (max(1, int(source[0] * scale)), max(1, int(source[1] * scale)))
    return pygame.Rect((0, 0), size).move(
        box.x + (box.width - size[0]) // 2, box.y + (box.height - size[1]) // 2
    )


def speed_label(speed: float) -> str:
    if speed == FAST:
        return "fast"
    return "watch" if speed == 1.0 else f"{speed:g}x"


class GameView:
    """Draws one game's latest frame; keeps the scaled frame until a new one arrives."""

    def __init__(self) -> None:
        self._cache_key: tuple | None = None
        self._scaled: pygame.Surface | None = None

    def draw(
        self,
        surface: pygame.Surface,
        rect: pygame.Rect,
        snapshot: Snapshot,
        game: GameSpec,
        board: Scoreboard | None = None,
    ) -> pygame.Rect:
        """Draw into ``rect``; returns where the frame went. ``board`` holds what the header
        shows beyond this snapshot (catches, the best time, the countdown)."""
        board = board or Scoreboard(game)
        pygame.draw.rect(surface, theme.CARD, rect, border_radius=theme.RADIUS)
        pygame.draw.rect(surface, theme.CARD_BORDER, rect, width=1, border_radius=theme.RADIUS)
        header = pygame.Rect(rect.x + theme.PAD, rect.y, rect.width - 2 * theme.PAD, HEADER)
        footer = pygame.Rect(rect.x + theme.PAD, rect.bottom - FOOTER, header.width, FOOTER)
        box = pygame.Rect(rect.x + 6, header.bottom, rect.width - 12, footer.y - header.bottom)
        self._draw_header(surface, header, snapshot, game, board)
        self._draw_footer(surface, footer, snapshot, game)
        pygame.draw.rect(surface, theme.VIEW_BACKGROUND, box)
        if snapshot.picture.frame is None or box.width < 4 or box.height < 4:
            text = "no picture" if snapshot.ready else "loading..."
            text = f"{snapshot.busy}..." if snapshot.busy else text
            theme.draw_text(surface, text, box.center, colour=theme.DIM, anchor="center")
            return box
        height, width = snapshot.picture.frame.shape[:2]
        target = fit((width, height), box)
        key = (snapshot.game, snapshot.picture.serial, target.size)
        if key != self._cache_key or self._scaled is None:
            self._scaled = scale_frame(frame_to_surface(snapshot.picture.frame), target.size)
            self._cache_key = key
        surface.blit(self._scaled, target)
        if taken_over(snapshot):
            pygame.draw.rect(surface, theme.PURPLE, target.inflate(6, 6), width=3)
        seconds_left = board.countdown_left()
        if seconds_left is not None:
            draw_countdown(surface, target, seconds_left)
        return target

    def _draw_header(
        self,
        surface: pygame.Surface,
        rect: pygame.Rect,
        snapshot: Snapshot,
        game: GameSpec,
        board: Scoreboard,
    ) -> None:
        """Who plays and at what pace on the right, PAUSED beside it (never over the game's
        own score); the title and the score fields on the left, as many as fit. A narrow view
        drops the pace, then the mode (the top bar shows it too), before PAUSED."""
        middle = rect.centery
        text, colour = MODE_NAMES[snapshot.mode], theme.MODE_COLOURS[snapshot.mode.value]
        if taken_over(snapshot):
            text, colour = "YOU HAVE CONTROL", theme.PURPLE
        elif snapshot.mode is Mode.HUMAN and snapshot.control.teach:
            taught = "demos" if snapshot.training.has_replay else "steps learned"  # PQN: no memory
            text, colour = f"TEACHING · {snapshot.training.demo_count:,} {taught}", theme.GREEN
        pills = [(text, colour)] + ([("PAUSED", theme.ORANGE)] if snapshot.paused else [])
        pace = speed_label(snapshot.speed) if snapshot.mode in (Mode.AGENT, Mode.TRAIN) else None
        title_w = theme.text_surface(game.title, "bold", 18, theme.TEXT).get_width()
        if pace and title_w + 12 + _right_width(pills, pace) > rect.width:
            pace = None
        if len(pills) > 1 and title_w + 12 + _right_width(pills, None) > rect.width:
            pills = pills[1:]
        right = rect.right
        if pace:
            shown = theme.draw_text(
                surface,
                pace,
                (right, middle),
                kind="mono",
                size=13,
                colour=theme.DIM,
                anchor="midright",
            )
            right = shown.x - 10
        for text, colour in pills:
            pill = theme.draw_pill(surface, text, (right, middle), colour, anchor="midright")
            right = pill.x - 8
        room = pill.x - 12
        title = theme.draw_text(
            surface, game.title, (rect.x, middle), kind="bold", size=18, anchor="midleft"
        )
        x = title.right + 20
        for label, number in board.header_fields(snapshot):
            needed = theme.text_surface(label, "sans", 13, theme.DIM).get_width() + 6
            needed += theme.text_surface(number, "mono", 16, theme.TEXT).get_width()
            if x + needed > room:
                break
            shown = theme.draw_text(
                surface, label, (x, middle), size=13, colour=theme.DIM, anchor="midleft"
            )
            shown = theme.draw_text(
                surface, number, (shown.right + 6, middle), kind="mono", size=16, anchor="midleft"
            )
            x = shown.right + 18

    def _draw_footer(
        self, surface: pygame.Surface, rect: pygame.Rect, snapshot: Snapshot, game: GameSpec
    ) -> None:
        middle = rect.centery
        if taken_over(snapshot):
            left = snapshot.control.hand_back_in or 0.0
            text = f"YOU HAVE CONTROL · agent back in {left:.1f} s · Backspace: now"
            theme.draw_pill(surface, text, (rect.x, middle), theme.PURPLE, anchor="midleft")
            return
        if snapshot.mode is not Mode.HUMAN:
            x = rect.x
            for keys in _keys_by_action(game).values():
                x = _key_cap(surface, key_label(keys[0]), (x, middle)).right + 4
            x += 4
            for part in ("take over", "Backspace: hand back", "H: play yourself", "F1: all keys"):
                image = theme.text_surface(part, "sans", 13, theme.FAINT)
                if x + image.get_width() > rect.right:
                    break
                surface.blit(image, image.get_rect(midleft=(x, middle)))
                x += image.get_width() + 24
            return
        groups = _keys_by_action(game)
        if _moves_width(game, groups) > rect.width:  # a narrow view: one key a move
            groups = {action: keys[:1] for action, keys in groups.items()}
        x = rect.x
        for action, keys in groups.items():
            for name in keys:
                x = _key_cap(surface, key_label(name), (x, middle)).right + 4
            shown = theme.draw_text(
                surface,
                game.action_names[action],
                (x + 2, middle),
                size=13,
                colour=theme.DIM,
                anchor="midleft",
            )
            x = shown.right + 18
        idle = PLAY_NOTES.get(game.key) or (
            f"no key: {game.action_names[game.idle_action]}"
            if game.idle_action is not None
            else "no key: keeps the last push"
        )
        if snapshot.control.teach:
            note = TEACH_NOTES.get(game.key, "")
            for text in (f"teaching: the agent's own game, {snapshot.pace_hz:g} steps/s{note}",
                         f"teaching: {snapshot.pace_hz:g} steps/s{note}"):  # fmt: skip
                image = theme.text_surface(text, "bold", 12, theme.GREEN)
                if x + image.get_width() <= rect.right:
                    break
            surface.blit(image, image.get_rect(midleft=(x, middle)))
            return
        image = theme.text_surface(idle, "sans", 13, theme.FAINT)
        if x + image.get_width() <= rect.right:
            surface.blit(image, image.get_rect(midleft=(x, middle)))


def _right_width(pills: list[tuple[str, theme.Colour]], pace: str | None) -> int:
    """Pixels the header's right side takes: its pills (8 apart) and the pace beside them."""
    width = sum(theme.text_surface(t, "bold", 12, theme.TEXT).get_width() + 22 for t, _ in pills)
    if pace:
        width += theme.text_surface(pace, "mono", 13, theme.DIM).get_width() + 10
    return width - 8


def draw_countdown(surface: pygame.Surface, target: pygame.Rect, seconds_left: float) -> None:
    """The countdown before a person's episode, large, in the frame's upper part: CartPole's
    pole, the thing to get ready for, stands in the middle."""
    card = pygame.Rect(0, 0, 180, 132)
    card.center = (
        target.centerx,
        max(target.y + card.height // 2 + 8, target.y + target.height // 4),
    )
    theme.draw_overlay_card(surface, card, theme.PURPLE, border_width=2, opacity=225)
    headline = (countdown_label(seconds_left), 64, theme.PURPLE)
    theme.draw_notice(surface, card, headline, ("get ready", 14), margins=(8, 12))


def taken_over(snapshot: Snapshot) -> bool:
    """A person has taken the agent's game over (Agent or Train mode)."""
    return snapshot.control.controller == "human" and snapshot.mode in (Mode.AGENT, Mode.TRAIN)


def _keys_by_action(game: GameSpec) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = {}
    for name, action in game.keymap.items():
        grouped.setdefault(action, []).append(name)
    return dict(sorted(grouped.items()))


def _moves_width(game: GameSpec, groups: dict[int, list[str]]) -> int:
    """Pixels a person's keys and the moves they make take along the footer."""
    width = 0
    for action, keys in groups.items():
        width += sum(_cap_rect(key_label(name)).width + 4 for name in keys)
        name_w = theme.text_surface(game.action_names[action], "sans", 13, theme.DIM).get_width()
        width += 2 + name_w + 18
    return width - 18


def _cap_rect(label: str) -> pygame.Rect:
    """A key cap's size: its label with room around, never narrower than tall."""
    rect = theme.text_surface(label, "mono", 13, theme.TEXT).get_rect().inflate(12, 6)
    rect.width = max(rect.width, rect.height)
    return rect


def _key_cap(surface: pygame.Surface, label: str, midleft: tuple[int, int]) -> pygame.Rect:
    image = theme.text_surface(label, "mono", 13, theme.TEXT)
    rect = _cap_rect(label)
    rect.midleft = midleft
    pygame.draw.rect(surface, theme.BAR_IDLE, rect, border_radius=5)
    pygame.draw.rect(surface, theme.FAINT, rect, width=1, border_radius=5)
    surface.blit(image, image.get_rect(center=rect.center))
    return rect
