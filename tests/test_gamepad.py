"""A gamepad plays as the keyboard does, through posted joystick and controller events."""

from __future__ import annotations

import pygame

from agent.live.channels import Mode
from tests.test_app import run_until, tick
from ui.gamepad import Gamepads


def post(event_type: int, **attrs) -> None:
    pygame.event.post(pygame.event.Event(event_type, **attrs))


def test_events_become_key_presses_and_releases_of_the_control_that_made_them():
    pads = Gamepads()

    def event(kind, **attrs):
        return pygame.event.Event(kind, joy=0, instance_id=0, **attrs)

    assert pads.keys(event(pygame.JOYHATMOTION, hat=0, value=(-1, 0))) == [("left", True)]
    assert pads.keys(event(pygame.JOYHATMOTION, hat=0, value=(1, 0))) == [
        ("left", False),
        ("right", True),
    ]
    # The stick resting near the centre lets go of nothing it did not press.
    assert pads.keys(event(pygame.JOYAXISMOTION, axis=0, value=0.1)) == []
    assert pads.keys(event(pygame.JOYAXISMOTION, axis=0, value=-0.9)) == [("left", True)]
    assert pads.keys(event(pygame.JOYAXISMOTION, axis=0, value=-0.95)) == []
    assert pads.keys(event(pygame.JOYAXISMOTION, axis=0, value=0.0)) == [("left", False)]
    assert pads.keys(event(pygame.JOYBUTTONDOWN, button=0)) == [("space", True)]
    assert pads.keys(event(pygame.JOYBUTTONUP, button=0)) == [("space", False)]
    dpad = event(pygame.CONTROLLERBUTTONDOWN, button=pygame.CONTROLLER_BUTTON_DPAD_RIGHT)
    assert pads.keys(dpad) == [("right", True)]
    # Unplugged: it lets go of what it held (the hat's right and the d-pad's right).
    assert sorted(pads.keys(event(pygame.JOYDEVICEREMOVED))) == [
        ("right", False),
        ("right", False),
    ]
    # A pad plugged in that SDL cannot open (none here) is passed over without a word.
    assert pads.keys(pygame.event.Event(pygame.JOYDEVICEADDED, device_index=7)) == []


def test_a_gamepad_plays_human_cartpole_and_takes_over_from_the_agent(make_app):
    app = make_app("cartpole", start_mode=Mode.HUMAN)
    run_until(app, lambda s: s.ready)
    for value, action in (((-1, 0), 0), ((1, 0), 1), ((-1, 0), 0)):  # left, right, left
        post(pygame.JOYHATMOTION, joy=0, instance_id=0, hat=0, value=value)
        run_until(
            app, lambda s, a=action: s.decision.action == a and s.control.controller == "human"
        )
    post(pygame.JOYHATMOTION, joy=0, instance_id=0, hat=0, value=(0, 0))
    tick(app, 2)
    assert app.arcade.held.action is None
    post(pygame.KEYDOWN, key=pygame.K_g, mod=0, unicode="g", scancode=0)  # Agent mode
    run_until(app, lambda s: s.mode is Mode.AGENT)
    post(pygame.JOYAXISMOTION, joy=0, instance_id=0, axis=0, value=-1.0)  # the stick: left
    taken = run_until(app, lambda s: s.control.controller == "human" and s.decision.action == 0)
    assert taken.control.hand_back_in is not None  # a takeover, as by a key
