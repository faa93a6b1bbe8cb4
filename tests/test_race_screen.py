"""The race screen: keys and clicks pick the game, the setting and the time limit; Enter starts a
race; the chart gets both sides' points as the race reports them; a finished race says who
solved first, in how many steps and seconds; Esc stops the race and goes back. The fast tests
drive the screen with a stand-in race; the window's own keys open it; one slow test runs a real
race of fruit catch."""

from __future__ import annotations

import time
from typing import Any

import pygame
import pytest

from agent.live.channels import Mode
from agent.live.race import CHOICES, SOLVE_WINDOW, RaceState, SideState
from game.registry import GameSpec
from tests.test_app import click, press, tick
from ui import theme
from ui.layout import MIN_LAYOUT
from ui.race_view import POLL_S, TIME_LIMITS, RaceScreen, race_layout, side_names


class StandInRace:
    """A race whose two sides report ``per_poll`` more games at each read, and finish (the
    first solving, the second not) after ``polls`` reads."""

    made: list[StandInRace] = []

    def __init__(
        self,
        game: GameSpec,
        setting: str,
        *,
        seed: int = 0,
        time_limit_s: float = 180.0,
        polls: int = 4,
        per_poll: int = 15,
    ) -> None:
        self.game, self.setting, self.seed, self.time_limit_s = game, setting, seed, time_limit_s
        self.polls, self.per_poll, self.reads = polls, per_poll, 0
        self.stopped = False
        StandInRace.made.append(self)

    def race_state(self) -> RaceState:
        self.reads += 1
        over = self.reads >= self.polls
        sides = []
        for i, (label, _) in enumerate(CHOICES[self.setting]):
            games = self.reads * self.per_poll + 5 * i
            returns = tuple(
                float(g % 3 - 1 if g < games - SOLVE_WINDOW else 1) for g in range(games)
            )
            solved = over and i == 0
            sides.append(
                SideState(
                    label,
                    steps=games * 20,
                    seconds=self.reads * 2.5,
                    returns=returns,
                    solved_steps=games * 20 if solved else None,
                    solved_seconds=self.reads * 2.5 if solved else None,
                    finished=over,
                )
            )
        pair = (sides[0], sides[1])
        return RaceState(self.game.key, self.setting, pair, over, "summary" if over else "")

    def stop(self, timeout: float = 5.0) -> None:
        self.stopped = True


@pytest.fixture
def surface():
    pygame.display.init()
    pygame.font.init()
    yield pygame.Surface((1280, 800))
    theme.clear_caches()
    pygame.quit()


@pytest.fixture
def screen():
    StandInRace.made = []
    race_screen = RaceScreen(make_race=StandInRace)
    race_screen.startup({"return_to": "arcade"})
    yield race_screen
    race_screen.close()


def key(screen: RaceScreen, code: int) -> None:
    screen.handle_event(pygame.event.Event(pygame.KEYDOWN, key=code, mod=0, unicode=""))


def click_on(screen: RaceScreen, rect: pygame.Rect) -> None:
    screen.handle_event(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=rect.center, button=1))


def poll(screen: RaceScreen, surface: pygame.Surface, times: int = 1) -> None:
    for _ in range(times):
        screen.update(POLL_S + 0.01)
        screen.draw(surface)


def test_keys_pick_the_game_setting_and_time_limit_and_enter_starts_that_race(screen, surface):
    screen.draw(surface)
    key(screen, pygame.K_2)
    key(screen, pygame.K_RIGHT)
    key(screen, pygame.K_t)
    settings = list(CHOICES)
    assert (screen.game_key, screen.setting) == ("cartpole", settings[1])
    assert screen.limit == TIME_LIMITS[2]
    key(screen, pygame.K_LEFT)
    key(screen, pygame.K_LEFT)
    assert screen.setting == settings[-1]  # round the row
    key(screen, pygame.K_RETURN)
    race = StandInRace.made[-1]
    assert (race.game.key, race.setting, race.seed, race.time_limit_s) == (
        "cartpole",
        settings[-1],
        0,
        TIME_LIMITS[2],
    )
    assert screen.racing and "Esc stops the race" in screen.message


def test_clicks_pick_a_setting_and_start_and_the_chart_gets_both_sides_points(screen, surface):
    screen.draw(surface)
    chips = {choice.value: rect for rect, choice in screen.buttons if choice.kind == "setting"}
    click_on(screen, chips["double dqn"])
    assert screen.setting == "double dqn"
    screen.draw(surface)
    start = next(rect for rect, choice in screen.buttons if choice.kind == "start")
    click_on(screen, start)
    assert len(StandInRace.made) == 1 and screen.chart.points == (0, 0)
    poll(screen, surface, 2)
    assert screen.chart.points == (30, 35)  # both sides, one chart
    assert screen.state is not None and not screen.state.over
    game_chip = next(r for r, c in screen.buttons if c.kind == "game" and c.value == "cartpole")
    click_on(screen, game_chip)  # no changes while the race runs
    assert screen.game_key == "fruit" and "Esc stops it" in screen.message


def test_a_finished_race_says_who_solved_first_and_enter_races_again_on_the_next_seed(
    screen, surface
):
    screen.setting = "double dqn"
    key(screen, pygame.K_RETURN)
    poll(screen, surface, 4)
    assert screen.state is not None and screen.state.over and not screen.racing
    first, second = side_names("double dqn")
    assert screen.summary_lines[0] == f"{first} solved first"
    assert screen.summary_lines[1] == f"{first}: 1,200 steps, 10.0 s"
    assert screen.summary_lines[2].startswith(f"{second}: not in 3:00")
    assert "solved first" in screen.message
    key(screen, pygame.K_RETURN)
    assert [race.seed for race in StandInRace.made] == [0, 1]
    assert screen.racing and screen.state is None


def test_escape_stops_the_race_and_leaves(screen, surface):
    key(screen, pygame.K_RETURN)
    poll(screen, surface)
    key(screen, pygame.K_ESCAPE)
    assert screen.done and screen.next == "arcade"
    screen.close()  # waits for the race to be stopped (off the window's thread)
    assert StandInRace.made[-1].stopped and screen.race is None


@pytest.mark.parametrize("size", [MIN_LAYOUT, (1280, 800), (1900, 1100)])
def test_the_race_screen_is_whole_from_the_minimum_window_up(screen, surface, size):
    surface = pygame.Surface(size)
    rects = race_layout(size)
    window = pygame.Rect((0, 0), size)
    names = list(rects)
    for i, name in enumerate(names):
        assert window.contains(rects[name]), name
        for other in names[i + 1 :]:
            assert not rects[name].colliderect(rects[other]), (name, other)
    for setting in CHOICES:  # the widest row of chips, whatever is chosen
        screen.setting = setting
        screen.draw(surface)
        for rect, choice in screen.buttons:
            assert rects["setup"].contains(rect), (choice, size)


@pytest.mark.slow
def test_the_window_opens_the_race_with_k_pauses_its_game_and_esc_brings_it_back(make_app):
    StandInRace.made = []
    app = make_app(start_mode=Mode.AGENT)
    while not app.arcade.snapshot.ready:
        tick(app)
    race_screen = app.screens["race"]
    assert isinstance(race_screen, RaceScreen)
    race_screen.make_race = StandInRace
    press(app, pygame.K_k)
    assert app.screen_name == "race"
    press(app, pygame.K_DOWN)  # the second setting
    press(app, pygame.K_RETURN)
    deadline = time.monotonic() + 10
    while race_screen.chart.points == (0, 0) and time.monotonic() < deadline:
        tick(app)
    assert race_screen.chart.points[0] > 0 and race_screen.chart.points[1] > 0
    assert StandInRace.made[-1].setting == list(CHOICES)[1]
    assert app.arcade.dispatcher.session.snapshot().paused  # the cores go to the race
    press(app, pygame.K_ESCAPE)
    assert app.screen_name == "arcade"
    race_screen.close()
    assert StandInRace.made[-1].stopped
    deadline = time.monotonic() + 10
    while app.arcade.snapshot.paused and time.monotonic() < deadline:
        tick(app)
    assert not app.arcade.snapshot.paused  # its game goes on
    if app.arcade.top.race_button is not None:  # wide enough for the button
        click(app, app.arcade.top.race_button.rect.center)
        assert app.screen_name == "race"


@pytest.mark.slow
def test_a_real_fruit_catch_race_on_the_screen_ends_with_who_solved_first(surface):
    race_screen = RaceScreen()
    race_screen.startup({})
    race_screen.setting = "double dqn"
    race_screen.limit = 120.0
    try:
        race_screen.start()
        deadline = time.monotonic() + 240
        while not (race_screen.state and race_screen.state.over):
            assert time.monotonic() < deadline, race_screen.state
            time.sleep(POLL_S)
            poll(race_screen, surface)
        points: Any = race_screen.chart.points
        assert points[0] >= SOLVE_WINDOW and points[1] >= SOLVE_WINDOW
        assert race_screen.summary_lines[0].endswith("solved first"), race_screen.summary_lines
    finally:
        race_screen.close()
