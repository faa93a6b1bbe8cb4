"""What each intent does: the choices the window keeps (game, mode, speed, toggles) and the
session commands an intent sends.

Apart from the screen, so a key and its button are decided in one place whatever the layout;
the screen turns events into intents, lays out and draws.
"""

from __future__ import annotations

from pathlib import Path

from agent.live.channels import (
    HandBack,
    HumanAction,
    Load,
    Mode,
    NewAgent,
    NextRound,
    Pause,
    Resume,
    Save,
    SetDemoFraction,
    SetEpsilon,
    SetMode,
    SetSaliency,
    SetSpeed,
    SetTeach,
    Snapshot,
    Step,
)
from agent.live.session import TrainingSession
from game.registry import GAMES
from ui.controls import SPEEDS, ControlPanel
from ui.game_records import GameRecord, Replacement
from ui.recorder import GifCapture
from ui.recording_desk import RecordingDesk
from ui.saves import USER_FOLDER, checkpoint_path, default_name, display_name
from ui.scoreboard import Scoreboard
from ui.sessions import SessionPool
from ui.settings import WindowSettings
from ui.shortcuts import Act, HeldKeys, Intent
from ui.top_bar import StatusLine
from ui.versus_names import challenger_command, plays_shipped, ready_pairing, versus_note

DEMO_SHARE = 0.25  # of each training batch, with the demo toggle on
MODE_NOTES = {
    Mode.HUMAN: "Human: you play; the Q-values show what the agent would do. C: teach it.",
    Mode.AGENT: "Agent: the network plays, greedily unless you set epsilon. Arrows take over.",
    Mode.TRAIN: "Train: the agent learns live from its own play; F speeds it up.",
}  # Versus: the note follows the match (``versus_note``)
PERSON_PLAYS = (Mode.HUMAN, Mode.VERSUS)  # modes in which the game waits for a person
TOGGLE_NOTES = {
    Act.AGENT_VIEW: (
        "The agent's view: what the network receives.",
        "The agent's view is hidden.",
    ),
    Act.SALIENCY: (
        "Saliency: bright where the chosen action's Q-value is most sensitive to the input.",
        "Saliency overlay off.",
    ),
}
NO_DEMO_SHARE = "PQN has no replay memory: it learns your steps in its rollouts"


class Dispatcher(RecordingDesk):
    """The user's choices and the sessions they steer; ``perform`` does what an intent asks
    (all but opening the help and quitting, which the screen does)."""

    def __init__(
        self,
        pool: SessionPool,
        controls: ControlPanel,
        status: StatusLine,
        held: HeldKeys,
        *,
        saves_dir: Path,
        recordings_dir: Path,
        start_game: str,
        start_mode: Mode,
        start_speed: int,
        with_q: bool,
    ) -> None:
        if start_game not in GAMES:
            raise KeyError(f"unknown game {start_game!r}; choose from {', '.join(GAMES)}")
        self.pool = pool
        self.controls = controls
        self.status = status
        self.held = held
        self.saves_dir = Path(saves_dir)
        self.recordings_dir = Path(recordings_dir)
        self.game_key = start_game
        self.mode = start_mode
        self.speed_index = min(max(int(start_speed), 0), len(SPEEDS) - 1)
        self.with_q = with_q
        self.show_agent_view = False
        self.show_saliency = False
        self.teach = False
        self.recording: GifCapture | None = None
        self.games = {key: GameRecord(Scoreboard(spec)) for key, spec in GAMES.items()}
        self.saves_checked = 0.0  # when the saves folder was last looked at; 0: look again
        self.replacement: Replacement | None = None  # waiting for the person's answer
        self._overlay_paused: TrainingSession | None = None  # paused while an overlay is open

    # -- sessions -----------------------------------------------------------------------------

    @property
    def here(self) -> GameRecord:
        """What the window keeps for the game on screen."""
        return self.games[self.game_key]

    def activate(self, key: str) -> None:
        """Bring game ``key``'s session on screen with the window's choices."""
        paused = self.games[key].paused
        session = self.pool.get(key, self.mode, paused=paused)
        session.send(SetMode(self.mode))
        session.send(SetSpeed(SPEEDS[self.speed_index]))
        session.send(Pause() if paused else Resume())
        session.send(SetTeach(self.teach))
        session.send(SetSaliency(self.show_saliency))
        self._offer_shipped()

    def _offer_shipped(self) -> None:
        """In Human, Agent and Versus mode, the shipped agent loads unless this game's agent has
        learned already: its Q-values are the opinion worth showing beside a person's play."""
        if self.mode is Mode.TRAIN or self.here.shipped_offered:
            return
        self.here.shipped_offered = True
        shipped = self.saves_dir / f"{self.game_key}.pt"
        if shipped.is_file():
            self.session.send(Load(shipped, if_fresh=True, label=display_name(shipped)))
        else:
            self._say(f"No trained {self.game.title} agent shipped yet: press T to train one.")

    def pause_for_overlay(self, every_mode: bool = False) -> None:
        """An overlay (the help, the quit dialog) covers the game: a person's game (Human,
        Versus) waits for them, unless it was paused already; the agent plays on beneath.
        ``every_mode``: the agent's game waits too (a race needs the cores)."""
        if self._overlay_paused is not None or (self.mode not in PERSON_PLAYS and not every_mode):
            return
        session = self.session
        if not session.snapshot().paused:
            session.send(Pause())
            self._overlay_paused = session

    def resume_after_overlay(self) -> None:
        """The overlay closed: a game it paused goes on."""
        session, self._overlay_paused = self._overlay_paused, None
        if session is not None:
            session.send(Resume())

    # -- intents ------------------------------------------------------------------------------

    def perform(self, intent: Intent) -> None:
        """Do what the user asked, whether by key or by widget."""
        session, act = self.session, intent.act
        match act:
            case Act.GAME:
                self._switch_game(intent.text)
            case Act.MODE:
                self._set_mode(Mode(intent.text))
            case Act.TOGGLE_PAUSE:
                session.send(Resume() if session.snapshot().paused else Pause())
            case Act.STEP:
                session.send(Pause())
                session.send(Step())
            case Act.SPEED | Act.SPEED_STEP:
                step = int(intent.number)
                self._set_speed(step if act is Act.SPEED else self.speed_index + step)
            case Act.EPSILON | Act.EPSILON_STEP if self.mode is not Mode.HUMAN:
                base = 0.0 if act is Act.EPSILON else session.snapshot().training.epsilon
                session.send(SetEpsilon(round(min(max(base + intent.number, 0.0), 1.0), 3)))
            case Act.EPSILON_SCHEDULE:
                session.send(SetEpsilon(None))
            case Act.SAVE:
                self._save()
            case Act.LOAD:
                self._load()
            case Act.NEW_AGENT:
                self._replace(NewAgent(), "a new agent")
            case Act.SHIPPED_AGENT:
                self._load_shipped()
            case Act.RECORD:
                self._toggle_recording()
            case Act.RECORD_Q:
                self.with_q = (not self.with_q) if intent.value is None else bool(intent.value)
            case Act.AGENT_VIEW:
                self.show_agent_view = not self.show_agent_view
                self._say(TOGGLE_NOTES[act][not self.show_agent_view])
            case Act.SALIENCY:
                self.show_saliency = not self.show_saliency
                session.send(SetSaliency(self.show_saliency))
                self._say(TOGGLE_NOTES[act][not self.show_saliency])
            case Act.TEACH:
                self._toggle_teach()
            case Act.DEMO_SHARE:
                self._toggle_demo_share(session)
            case Act.HAND_BACK:
                session.send(HandBack())
            case Act.NEXT_ROUND if self.mode is Mode.VERSUS:
                session.send(NextRound())
            case Act.CHALLENGER:
                self._challenge()
            case Act.PAIRING:
                self._pair()

    def _toggle_teach(self) -> None:
        self.teach = not self.teach
        self.session.send(SetTeach(self.teach))
        if not self.teach:
            self._say("Teach off: Human mode plays a game of your own again.")
        elif self.mode is Mode.HUMAN:
            learns = "each move is a demonstration"
            if not self.session.snapshot().training.has_replay:
                learns = "it learns each of your steps in its rollouts"
            self._say(f"Teach on: you play the agent's own game; {learns}.")
        else:
            self._say("Teach on: press H and play; takeovers in Train always teach.")

    def _toggle_demo_share(self, session: TrainingSession) -> None:
        training = session.snapshot().training
        if not training.demo_fraction_applies:
            self._say(f"No demo share: {NO_DEMO_SHARE}.", error=True)
            return
        share = 0.0 if training.demo_fraction > 0 else DEMO_SHARE
        session.send(SetDemoFraction(share))
        self._say(
            f"Demonstrations make up {share:.0%} of each training batch while any are stored."
            if share
            else "Demonstrations are sampled like any other memory."
        )

    def _switch_game(self, key: str) -> None:
        if key == self.game_key or key not in GAMES:
            return
        self.stop_recording("recording stopped: the game changed")
        old = self.session
        self.here.paused = old.snapshot().paused
        self.here.save_name = self.controls.save_name()
        self.here.selected_save = self.controls.selected_name()
        old.send(HumanAction(None))
        old.send(Pause())  # only the game on screen uses the CPU
        self.held.clear()
        self.game_key = key
        if key in self.pool.sessions:
            self._say(f"{self.game.title}: the agent carries on where it left off.")
        else:  # the status bar shows what it is busy with; the session says which agent plays
            self._say(f"{self.game.title}: starting.")
        self.activate(key)

    def _set_mode(self, mode: Mode) -> None:
        if mode is self.mode:
            return
        self.mode = mode
        self.session.send(SetMode(mode))
        if mode is Mode.VERSUS:
            self.status.follow(versus_note)
        else:
            self._say(MODE_NOTES[mode])
        if mode in (Mode.HUMAN, Mode.VERSUS):
            self.session.send(HumanAction(self.held.action))
        self._offer_shipped()

    # -- agents and checkpoints ---------------------------------------------------------------

    def _save(self) -> None:
        path = checkpoint_path(self.saves_dir, self.game_key, self.controls.save_name())
        self.session.send(Save(path))
        if self.controls.name is not None:
            self.controls.name.unfocus()
        self.controls.set_save_name(default_name(self.game_key))
        self.saves_checked = 0.0

    def _load(self) -> None:
        path = self.controls.selected_save()
        if path is None:
            self._say(f"No {self.game.title} checkpoints in {self.saves_dir} to load.", error=True)
            return
        label = self.controls.selected_name() or display_name(path)
        self._replace(Load(path, label=label), label)

    def load_file(self, path: Path) -> None:
        """A file dropped on the window: named as the load list would where it lies in the
        saves folders, else by its file name."""
        folders = {self.saves_dir.resolve(), (self.saves_dir / USER_FOLDER).resolve()}
        label = display_name(path) if path.parent.resolve() in folders else path.name
        self._replace(Load(path, label=label), label)

    def _load_shipped(self) -> None:
        shipped = self.saves_dir / f"{self.game_key}.pt"
        if not shipped.is_file():
            self._say(f"No {self.game.title} agent ships in {self.saves_dir}.", error=True)
            return
        label = display_name(shipped)
        self._replace(Load(shipped, label=label), label)

    def _replace(self, command: Load | NewAgent, label: str) -> None:
        """Put another agent in the current one's place: at once when it has nothing unsaved,
        else once the person answers the question the screen asks (``answer_replacement``)."""
        unsaved = self.session.snapshot().training.unsaved_updates
        if unsaved > 0:
            self.replacement = Replacement(command, self.game_key, unsaved, label)
        else:
            self.session.send(command)

    def answer_replacement(self, answer: str) -> None:
        """Save: save the agent under the save box's name, then replace it; Discard: replace it
        (the session still keeps its training in saves/mine/ and says where); Cancel: keep it."""
        replacement, self.replacement = self.replacement, None
        if replacement is None or replacement.game != self.game_key:
            return
        if answer == "cancel":
            self._say("Still here: the agent was not replaced.")
            return
        if answer == "save":
            self._save()  # handled first: the session saves, then replaces with nothing unsaved
        self.session.send(replacement.command)

    def keep_folder(self) -> str:
        """Where the sessions keep unsaved training, as the person would type it."""
        folder = self.saves_dir / USER_FOLDER
        try:
            return f"{folder.resolve().relative_to(Path.cwd())}/"
        except ValueError:  # elsewhere: its last two names, so the line fits the dialog
            return f"{self.saves_dir.name}/{USER_FOLDER}/"

    def quit_save_paths(self) -> dict[str, Path]:
        """Where each game's agent goes on the way out: the name in its save box."""
        names = {key: record.save_name for key, record in self.games.items()}
        names[self.game_key] = self.controls.save_name()
        return {
            key: checkpoint_path(self.saves_dir, key, names.get(key) or default_name(key))
            for key in GAMES
        }

    def settings(self, snapshot: Snapshot, size: tuple[int, int]) -> WindowSettings:
        """What the window should reopen with: where the user is now."""
        epsilon = snapshot.training.epsilon if snapshot.training.epsilon_overridden else None
        return WindowSettings(
            self.game_key, self.mode.value, self.speed_index, epsilon, size, self.with_q
        )

    # -- Versus: who plays the left side -------------------------------------------------------

    def _challenge(self) -> None:
        """J: the agent picked in the load list plays Versus's left side against the session's
        agent; where it plays there already (or nothing is picked), a person plays it again."""
        versus = self.session.snapshot().versus
        path = self.controls.selected_save()
        command = challenger_command(path)
        on_left = versus.left_name if versus is not None and versus.left_is_agent else None
        if self.mode is Mode.VERSUS and on_left and (path is None or on_left == command.label):
            self.session.send(challenger_command(None))
        elif path is None:
            self._say(f"No {self.game.title} agents in {self.saves_dir} to play your side.", True)
        else:
            self._set_mode(Mode.VERSUS)
            self.session.send(command)

    def pairing(self) -> Path | None:
        """The game's ready agent-against-agent pairing's challenger (Breakout after 1 h
        against the shipped agent), or None."""
        return ready_pairing(self.saves_dir, self.game_key)

    def _pair(self) -> None:
        """B: the game's ready pairing in Versus; the shipped agent comes back first where
        another agent plays."""
        stage = self.pairing()
        if stage is None:
            self._say(
                f"{self.game.title} has no ready pairing: pick an agent in the load list and "
                "press J to have it play your side.",
                error=True,
            )
            return
        if not plays_shipped(self.session.snapshot()):
            self._load_shipped()
        self._set_mode(Mode.VERSUS)
        self.session.send(challenger_command(stage))
