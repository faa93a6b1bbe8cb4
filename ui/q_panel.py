"""The Q-value panel: one bar per action for the decision on screen, the chosen one lit, the
agent's own pick marked, and which agent (or what the session is busy with) on its title line."""

from __future__ import annotations

import pygame

from agent.live.channels import Mode, Snapshot
from game.registry import GameSpec
from ui import theme

Q_ROWS = {False: 30, True: 24}  # pixels per action row: as a rule, and in a short window
NAME_MIN_W = 96  # pixels: the action-name column at its narrowest
MARKER_W = 14  # pixels: the agent's-pick arrow and its distance from the bar
MARKER_GAP = 8  # pixels between the longest (bold) action name and the arrow
BAR_STUB = 0.12  # share of the bar the worst action keeps


class QValuePanel:
    """One bar per action, the chosen one lit, greedy or random marked.

    Bars compare the actions with each other: the best is full length, the worst keeps a stub,
    so CartPole's 99.44 against 99.35 reads as clearly as fruit catch's -0.04 against -0.06;
    the numbers beside them are the Q-values themselves.
    """

    source = ""  # what the title line said of the agent, last drawn

    @staticmethod
    def height(n_actions: int, compact: bool = False) -> int:
        """Pixels the panel needs; ``compact``: with the shorter rows of a short window."""
        return 2 * theme.PAD + 22 + n_actions * Q_ROWS[compact]

    def draw(
        self, surface: pygame.Surface, rect: pygame.Rect, snapshot: Snapshot, game: GameSpec
    ) -> None:
        inner = theme.draw_card(surface, rect, "Q-values")
        marker = self._draw_marker(surface, rect, snapshot, game)
        # Which agent, or, while the session is busy (starting, loading, building a trainer),
        # what it is doing: the agent named may be on its way out.
        self.source = f"busy: {snapshot.busy}" if snapshot.busy else snapshot.training.agent_source
        self._draw_source(surface, rect, self.source, marker)
        q_values = snapshot.decision.q_values or (0.0,) * len(game.action_names)
        lo, hi = min(q_values), max(q_values)
        span = hi - lo
        name_w, value_w = self.name_width(game), 74
        bar_left = inner.x + name_w
        bar_w = max(10, inner.width - name_w - value_w)
        chosen_colour = self._chosen_colour(snapshot)
        n_actions = len(game.action_names)
        row_h = Q_ROWS[rect.height < self.height(n_actions)]
        for i, (name, q) in enumerate(zip(game.action_names, q_values, strict=False)):
            y = inner.y + i * row_h
            row = pygame.Rect(inner.x, y, inner.width, row_h - 6)
            chosen = snapshot.decision.action == i and bool(snapshot.decision.q_values)
            agent_pick = snapshot.decision.agent_action == i and bool(snapshot.decision.q_values)
            colour = theme.TEXT if chosen else theme.DIM
            theme.draw_text(
                surface,
                name,
                (row.x, row.centery),
                kind="bold" if chosen else "sans",
                size=13,
                colour=colour,
                anchor="midleft",
            )
            track = pygame.Rect(bar_left, row.y + 3, bar_w, row.height - 6)
            pygame.draw.rect(surface, theme.BACKGROUND, track, border_radius=4)
            share = (1.0 if span < 1e-9 else (q - lo) / span) if snapshot.decision.q_values else 0.0
            width = int(bar_w * (BAR_STUB + (1.0 - BAR_STUB) * share))
            bar = pygame.Rect(track.x, track.y, max(width, 4), track.height)
            pygame.draw.rect(
                surface, chosen_colour if chosen else theme.BAR_IDLE, bar, border_radius=4
            )
            if agent_pick and not chosen:
                pygame.draw.rect(surface, theme.ACCENT, bar, width=2, border_radius=4)
            if agent_pick:
                tip = (bar_left - MARKER_W + 6, row.centery)
                pygame.draw.polygon(
                    surface, theme.ACCENT, [(tip[0] - 6, tip[1] - 5), (tip[0] - 6, tip[1] + 5), tip]
                )
            text = f"{q:+.3f}" if snapshot.decision.q_values else "-"
            theme.draw_text(
                surface,
                text,
                (inner.right, row.centery),
                kind="mono",
                size=13,
                colour=colour,
                anchor="midright",
            )

    @staticmethod
    def name_width(game: GameSpec) -> int:
        """The action-name column: the longest name in bold (the chosen action's) keeps clear
        of the arrow that marks the agent's pick."""
        widest = max(
            theme.text_surface(n, "bold", 13, theme.TEXT).get_width() for n in game.action_names
        )
        return max(NAME_MIN_W, widest + MARKER_GAP + MARKER_W)

    @staticmethod
    def _chosen_colour(snapshot: Snapshot) -> theme.Colour:
        if _person_moved(snapshot):
            return theme.PURPLE
        return theme.GREEN if snapshot.decision.greedy else theme.ORANGE

    @staticmethod
    def _draw_marker(
        surface: pygame.Surface, rect: pygame.Rect, snapshot: Snapshot, game: GameSpec
    ) -> pygame.Rect | None:
        """The pill that says whose move it was; returns where it went (None: not drawn)."""
        if not snapshot.decision.q_values or snapshot.decision.action is None:
            return None
        anchor = (rect.right - theme.PAD, rect.y + theme.PAD + 7)
        if _person_moved(snapshot):
            verdict = "agrees" if snapshot.decision.greedy else "differs"
            text = f"agent {verdict}"
            return theme.draw_pill(
                surface, text, anchor, theme.PURPLE, anchor="midright", filled=False
            )
        if snapshot.decision.greedy:
            return theme.draw_pill(surface, "GREEDY", anchor, theme.GREEN, anchor="midright")
        return theme.draw_pill(
            surface,
            f"RANDOM  ε {snapshot.training.epsilon:.2f}",
            anchor,
            theme.ORANGE,
            anchor="midright",
        )

    @staticmethod
    def _draw_source(
        surface: pygame.Surface, rect: pygame.Rect, source: str, marker: pygame.Rect | None
    ) -> None:
        """Which agent these are the Q-values of (the shipped one, a loaded one and the
        updates made here since, or one trained here), beside the title, cut to fit."""
        if not source:
            return
        left = (
            rect.x + theme.PAD + theme.text_surface("Q-VALUES", "bold", 12, theme.DIM).get_width()
        )
        right = (marker.left if marker else rect.right - theme.PAD) - 8
        text, y = f"· {source}", rect.y + theme.PAD + 7
        while (
            len(text) > 3
            and theme.text_surface(text, "sans", 12, theme.DIM).get_width() > right - left - 8
        ):
            text = text[:-2] + "…"
        if right - left > 40:
            theme.draw_text(
                surface, text, (left + 8, y), size=12, colour=theme.DIM, anchor="midleft"
            )


def _person_moved(snapshot: Snapshot) -> bool:
    """The last move was a person's (Human mode or a takeover): the bars then show what the
    agent would have done instead."""
    return snapshot.mode is Mode.HUMAN or snapshot.control.controller == "human"
