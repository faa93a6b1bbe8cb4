"""The text the side panel's controls (``ui.controls``) draw beside their widgets: epsilon's
value and whether it is scheduled, set or greedy, the schedule's marker under the slider, and
the speed. Drawn from a snapshot at the spots the panel placed when it built the widgets."""

from __future__ import annotations

import pygame
from pygame_gui.elements import UIHorizontalSlider

from agent.live.channels import Mode, Snapshot
from ui import theme
from ui.game_view import speed_label


def draw_labels(
    surface: pygame.Surface,
    spots: dict[str, tuple[int, int]],
    snapshot: Snapshot,
    epsilon: UIHorizontalSlider | None,
) -> None:
    """The labels and values beside the widgets; ``epsilon``: the slider the schedule's marker
    goes under."""
    value_x, middle = spots["epsilon_value"]
    theme.draw_text(
        surface, "epsilon", spots["epsilon"], size=13, colour=theme.DIM, anchor="midleft"
    )
    if snapshot.mode is Mode.HUMAN:
        theme.draw_text(
            surface,
            "you play",
            spots["epsilon_value"],
            size=13,
            colour=theme.FAINT,
            anchor="midleft",
        )
    else:
        train = snapshot.mode is Mode.TRAIN
        colour = theme.ORANGE if snapshot.training.epsilon_overridden else theme.TEXT
        theme.draw_text(
            surface,
            f"{snapshot.training.epsilon:.2f}",
            (value_x, middle + 1),
            kind="mono",
            size=15,
            colour=colour,
            anchor="bottomleft",
        )
        if train:
            note = f"sched {snapshot.training.scheduled_epsilon:.2f}"
        else:
            note = "set" if snapshot.training.epsilon_overridden else "greedy"
        theme.draw_text(
            surface,
            note,
            (value_x, middle + 1),
            kind="mono",
            size=11,
            colour=theme.DIM,
            anchor="topleft",
        )
        if train and epsilon is not None:
            track = epsilon.rect.inflate(-16, 0)
            x = track.x + int(snapshot.training.scheduled_epsilon * track.width)
            tip = epsilon.rect.bottom + 1
            marker = [(x, tip), (x - 4, tip + 5), (x + 4, tip + 5)]
            pygame.draw.polygon(surface, theme.DIM, marker)
    theme.draw_text(surface, "speed", spots["speed"], size=13, colour=theme.DIM, anchor="midleft")
    natural = snapshot.mode in (Mode.HUMAN, Mode.VERSUS)
    text = "natural" if natural else speed_label(snapshot.speed)  # a recording holds watch
    theme.draw_text(surface, text, spots["speed_value"], kind="mono", size=13, anchor="midright")
