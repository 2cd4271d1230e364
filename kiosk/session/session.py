"""The visitor's journey as a headless state machine: every touch is an intent method here.

Screens: attract -> pair -> actions -> record -> train -> test (and admin,
behind a PIN); ``kiosk.session.screens.TRANSITIONS`` lists every allowed move.
The session never draws and never imports pygame: the UI reads its state and
calls its intents, and tests and the demo do exactly the same.

The session holds no journey state of its own beyond the screen; it composes
owners, each with its state and its reset:

- ``connection`` (``Connection``): the micro:bit link, pairing, the pretend board;
- ``data`` (``VisitorData``): the visitor's moves and recordings, in the store;
- ``collecting`` (``Collecting``): the recorder, the picked move, the recording shown;
- ``learning`` (``Learning``): training, the live test, "Why?" and the explore pictures;
- ``staff`` (``StaffDesk``): the PIN pad, the unlocked admin screen and its tools;
- ``usb`` (``UsbDesk``): the admin screen's USB stick page (staff only);
- ``messages`` (``Messages``): the banner and the sound cues;
- ``confirm`` (``Confirmations``): the destructive tap waiting for its second tap, and
  the deleted recording that can still be put back ("Undo");
- ``idle`` (``IdleWatch``): when the visitor has walked away;
- ``own_move`` (``OwnMove``): a move of the visitor's own being made (name, picture).
- ``take_home`` (``TakeHome``): the visitor's model going onto their own micro:bit.
- ``language`` (``LanguageChoice``): the language on screen, back to staff's default.

``reset_visitor()`` ends a visit and ``lock_admin()`` ends staff access: one
call each, and a test checks that nothing of a visitor or of staff survives
them. Intents coordinate the owners (a lost link cancels a recording, a
finished training plays a cue); the owners never reach into each other.

Time comes from ``tick(now)`` (and the injected clock for intents), so a test
can run the whole journey on a fake clock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from kiosk.dataset import Recording
from kiosk.errors import KioskError
from kiosk.i18n import LANGUAGES, _, ngettext
from kiosk.microbit.icons import free_icon
from kiosk.microbit.link import ButtonEvent, Link
from kiosk.ml.microbit_model import Move
from kiosk.ml.windows import CURRENT_WINDOW, DataWindow
from kiosk.session.admin_settings import EXIT_TO_SHELL, SettingsFile
from kiosk.session.board_prep import BoardPrep
from kiosk.session.boards import BoardSource
from kiosk.session.collecting import Collecting
from kiosk.session.compare import Comparer
from kiosk.session.confirm import Confirmations
from kiosk.session.connection import Connection, News, PairStatus
from kiosk.session.explore import ExploreView, WhyView
from kiosk.session.faults import StaffFaults, visitor_words
from kiosk.session.fingerprint_words import N_SQUARES, square_words
from kiosk.session.idle import IdleWatch
from kiosk.session.language import LanguageChoice
from kiosk.session.learning import Learned, Learning
from kiosk.session.messages import Cue, Messages, Tone
from kiosk.session.model_choice import NETWORK
from kiosk.session.own_move import OwnMove, Step
from kiosk.session.presets import (
    CUSTOM_ICONS,
    MAX_ACTIONS,
    MIN_ACTIONS,
    PRESETS,
    gesture_for,
    icon_cells,
)
from kiosk.session.recorder import Take
from kiosk.session.screens import Screen, check_transition
from kiosk.session.staff import StaffDesk
from kiosk.session.staff_lock import Outcome, PinChecker, StaffLock
from kiosk.session.take_home import TakeHome, usb_serial_number
from kiosk.session.usb_desk import UsbDesk, import_problem, problem_line, write_files
from kiosk.session.visitor_data import VisitorData
from kiosk.settings import DEFAULT_PIN, IDLE_TIMEOUT_CHOICES, ROTATIONS, Settings
from kiosk.store.database import Store
from kiosk.store.startup import StartupReport
from kiosk.store.writer import Writer

log = logging.getLogger(__name__)

# How long the pretend board acting out a move keeps the kiosk awake after the last touch.
PRETEND_WATCH_S = 300.0
PROJECT_NAME = "visitor"

__all__ = ["PairStatus", "Session"]

R = TypeVar("R")

# Screens where no board is needed, so a lost one is not news there.
_NO_BOARD_SCREENS = (Screen.ATTRACT, Screen.ADMIN, Screen.PAIR, Screen.MAKE_MOVE)


@dataclass(frozen=True)
class _Restore:
    """What "Undo" needs to put a deleted recording back where it was."""

    action_id: str
    position: int
    recording: Recording


def _default_pin_check(pin: str) -> bool:
    """For a Session made without a PIN check (tests, the demo)."""
    return pin == DEFAULT_PIN


class Session:
    """One kiosk's journey; see the module docstring."""

    def __init__(
        self,
        store: Store,
        boards: BoardSource,
        settings: Settings | None = None,
        clock: Callable[[], float] = time.monotonic,
        pin_check: Callable[[str], bool] | PinChecker | None = None,
        window: DataWindow = CURRENT_WINDOW,
        settings_file: SettingsFile | None = None,
        predict_in_thread: bool | None = None,
        startup: StartupReport | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.settings_file = settings_file or SettingsFile(None)  # where admin changes go
        self.store = store
        # What happened to the database at start-up (staff see it on the admin screen);
        # on a full disk the kiosk runs with recording off and says so.
        self.startup = startup
        self.boards = boards
        self.window = window
        self._clock = clock
        # Live predictions on a worker thread: None = when the link delivers in real
        # time (a stepped pretend board in tests does not, so tests stay deterministic).
        self._predict_in_thread = predict_in_thread
        self.screen = Screen.ATTRACT
        self.screens_visited: list[Screen] = [Screen.ATTRACT]
        # Every change to the store goes through one writer thread, so that no frame
        # waits for the disk; the session owns it (``close`` joins it).
        self.writer = Writer(store)
        self.data = VisitorData(store, PROJECT_NAME, window, writer=self.writer)
        self.data.on_error = self._store_failed
        # A restart mid-visit comes back to it; wiping is the visitor reset's job.
        self.data.begin(self.settings.keep_data_between_visitors, self.settings.resume_window_s)
        self.connection = Connection()
        self.collecting = Collecting(self.settings, window)
        self.learning = Learning(window)
        # The PIN pad: 4-8 digits then OK, wrong PINs slowed, first-boot choice.
        pin = StaffLock(pin_check or _default_pin_check, clock)
        self.staff = StaffDesk(Comparer(store, self.data.project_id, self.writer), pin)
        self.board_prep = BoardPrep(self._keep_remote_id)  # staff: "Prepare a micro:bit"
        self.usb = UsbDesk(clock=clock)  # staff: the USB stick page (import, export)
        self.messages = Messages()
        self.language = LanguageChoice(self.settings.language)  # the visitor's pick, or staff's
        self.confirm = Confirmations()
        self.take_home = TakeHome()  # "Put my model on my micro:bit"
        self.faults = StaffFaults()  # the kiosk's, for staff: kept across visitors
        self.own_move = OwnMove()  # a move of the visitor's own, half made
        self.idle = IdleWatch(self.settings.idle_timeout_s, self.settings.idle_countdown_s, clock())
        # Counts over the kiosk's life (the demo's summary and the log read them), not a visit's.
        self.reset_count = 0
        self.recordings_made = 0
        if self.data.resumed:  # back to the interrupted visitor's work (and model)
            (self.train if self.data.had_model and self.can_train else self.start)()
        self._touched_at = clock()  # the last touch (the pretend board's watchers, below)

    # ---- reading helpers ---------------------------------------------------------

    @property
    def now(self) -> float:
        return self._clock()

    @property
    def link(self) -> Link | None:
        return self.connection.link

    @property
    def connected(self) -> bool:
        return self.connection.connected

    @property
    def simulated(self) -> bool:
        return self.connection.simulated

    @property
    def board_lost(self) -> bool:
        """The one rule for the lost-micro:bit banner: a lost link, on a screen that needs it."""
        return self.connection.problem is not None and self.screen not in _NO_BOARD_SCREENS

    @property
    def can_train(self) -> bool:
        minimum = self.settings.min_recordings_per_action
        return len(self.data.actions) >= MIN_ACTIONS and all(
            len(a.recordings) >= minimum for a in self.data.actions
        )

    def why_not_train(self) -> str | None:
        """What is missing before training, in one sentence naming the move (None: ready)."""
        if len(self.data.actions) < MIN_ACTIONS:
            return _("Pick at least {count} moves first.").format(count=MIN_ACTIONS)
        need = self.settings.min_recordings_per_action
        for action in self.data.actions:
            short = need - len(action.recordings)
            if short > 0:
                return ngettext(
                    "Record {count} more {move} first.", "Record {count} more {move} first.", short
                ).format(count=short, move=action.name)
        return None

    @property
    def model_is_stale(self) -> bool:
        """True when recordings changed since the model was trained."""
        return self.learning.is_stale(self.data.version)

    def idle_countdown(self, now: float | None = None) -> float | None:
        if self.screen in (Screen.ATTRACT, Screen.ADMIN):
            return None
        return self.idle.countdown_left(self._clock() if now is None else now)

    def available_choices(self) -> list[tuple[str, str]]:
        """(name, icon) of every move on the actions screen.

        The presets, then the names staff added, then the visitor's own moves
        (and any other move in their data, e.g. an imported one) so that each can
        be unpicked there. A picked move shows its own icon.
        """
        choices = [(_(p.name), p.icon) for p in PRESETS]  # in the language on screen
        for i, name in enumerate(self.staff.custom_action_names):
            choices.append((name, CUSTOM_ICONS[i % len(CUSTOM_ICONS)]))
        # A picked move shows the icon it has (an imported one may differ from the preset's).
        picked = {a.name.lower(): a.icon for a in self.data.actions}
        choices = [(name, picked.get(name.lower(), icon)) for name, icon in choices]
        offered = {name.lower() for name, icon in choices}
        choices += [(a.name, a.icon) for a in self.data.actions if a.name.lower() not in offered]
        return choices

    def thresholds(self) -> list[float]:
        return [a.threshold for a in self.data.actions]

    # ---- journey intents ---------------------------------------------------------

    def touch(self) -> None:
        """Any touch anywhere: the visitor is still here."""
        now = self._clock()
        self.idle.activity(now)
        self._touched_at = now
        self.data.mark_active()

    def start(self) -> None:
        """Attract -> pairing (or straight to actions when a board is already connected)."""
        self.touch()
        if self.connected:
            self._go(Screen.ACTIONS if not self.data.actions else Screen.RECORD)
            return
        self._go(Screen.PAIR)
        if self.link is not None:
            return
        if self.settings.link_kind == "simulated":
            self.use_simulated_board()
        elif self.settings.link_kind == "serial":
            self.use_usb_board()
        elif self.settings.fixed_pattern:
            pattern = self.settings.fixed_pattern
            self._open_link(lambda: self.boards.open_bluetooth(pattern))

    def set_pair_column(self, column: int, height: int) -> None:
        self.touch()
        connection = self.connection
        connection.grid.set_column(column, height)
        if connection.status is PairStatus.FAILED:
            connection.status, connection.message = PairStatus.IDLE, ""

    def pair(self) -> None:
        """Connect by Bluetooth to the board whose pattern the visitor copied."""
        self.touch()
        grid = self.connection.grid
        if not grid.complete:
            self.connection.message = _("Tap every column so it matches your micro:bit's lights.")
            self._say(self.connection.message, Tone.PROBLEM)
            return
        columns = grid.columns_text
        self._open_link(lambda: self.boards.open_bluetooth(columns))

    def use_usb_board(self) -> None:
        self.touch()
        self._open_link(self.boards.open_usb)

    def use_simulated_board(self) -> None:
        """The pretend micro:bit: for demos and when no real board is around."""
        self.touch()
        self._open_link(self.boards.open_simulated)

    def choose_action(self, name: str) -> None:
        """Pick an action (or unpick it if already chosen) on the actions screen."""
        self.touch()
        index = self.data.index_of(name)
        if index is not None:
            kept = len(self.data.actions[index].recordings)
            if kept and not self.confirm.ask(
                f"untick:{name}", _("Tap again\nto remove"), self._clock()
            ):
                words = ngettext(
                    "Tap {move} again to delete it and its {count} recording.",
                    "Tap {move} again to delete it and its {count} recordings.",
                    kept,
                )
                self._say(words.format(move=name, count=kept), Tone.INFO)
                return
            self._store_call(lambda: self.data.remove_action(index))
            self.collecting.selected_action = 0
            return
        self.confirm.cancel()
        if len(self.data.actions) >= MAX_ACTIONS:
            self._say(
                _("You can have up to {count} moves. Tap one to remove it.").format(
                    count=MAX_ACTIONS
                )
            )
            return
        icon = dict(self.available_choices()).get(name)
        if icon is None:
            raise ValueError(f"{name!r} is not one of the actions on offer")
        self._store_call(lambda: self.data.add_action(name, icon))

    def actions_done(self) -> None:
        """Actions -> recording."""
        self.touch()
        if len(self.data.actions) < MIN_ACTIONS:
            self._say(_("Pick at least {count} moves.").format(count=MIN_ACTIONS))
            return
        collecting = self.collecting
        collecting.selected_action = min(collecting.selected_action, len(self.data.actions) - 1)
        self._go(Screen.RECORD)

    # ---- a move of the visitor's own (the make-move screen) ---------------------------

    def make_own_move(self) -> None:
        """Actions -> the make-move screen: type a name, then pick a picture."""
        self.touch()
        if not self.settings.own_moves:
            return  # staff turned it off (the screen shows no way in)
        if len(self.data.actions) >= MAX_ACTIONS:
            self._say(
                _("You can have up to {count} moves. Tap one to remove it.").format(
                    count=MAX_ACTIONS
                )
            )
            return
        # A picture no card on the actions screen shows (the visitor may pick another).
        self.own_move.begin(free_icon([icon for name, icon in self.available_choices()]))
        self._go(Screen.MAKE_MOVE)

    def own_move_type(self, key: str) -> None:
        """A key of the make-move keyboard: a letter, "space" or "back"."""
        self.touch()
        if self.screen is Screen.MAKE_MOVE and self.own_move.step is Step.NAME:
            self.own_move.keyboard.type_key(key)

    def own_move_next(self) -> None:
        """The name is typed: on to the pictures (or say why the name cannot be used)."""
        self.touch()
        problem = self.own_move.name_problem([name for name, icon in self.available_choices()])
        if problem:
            self._say(problem)
            return
        self.own_move.step = Step.PICTURE

    def own_move_pick_icon(self, icon: str) -> None:
        """Choose the picture; one another picked move shows is refused (as CreateAI keeps
        pictures apart), so the board never shows one picture for two moves."""
        self.touch()
        if icon in self.icons_in_use():
            self._say(_("Another of your moves has that picture. Pick a different one."))
            return
        self.own_move.pick_icon(icon)

    def icons_in_use(self) -> set[str]:
        """The icons of the visitor's picked moves."""
        return {a.icon for a in self.data.actions}

    def own_move_more_icons(self) -> None:
        self.touch()
        self.own_move.next_page()

    def own_move_back(self) -> None:
        """From the pictures back to the name; from the name back to the actions screen."""
        self.touch()
        if self.own_move.step is Step.PICTURE:
            self.own_move.step = Step.NAME
            return
        self.own_move.reset()
        self._go(Screen.ACTIONS)

    def own_move_add(self) -> None:
        """Add the made move to the visitor's moves and go back to the actions screen."""
        self.touch()
        own = self.own_move
        problem = own.name_problem([name for name, icon in self.available_choices()])
        if problem or len(self.data.actions) >= MAX_ACTIONS:
            own.step = Step.NAME
            self._say(problem or _("You already have {count} moves.").format(count=MAX_ACTIONS))
            return
        name, icon = own.name, own.icon
        if self._store_call(lambda: self.data.add_action(name, icon)) is None:
            return
        own.reset()
        self._go(Screen.ACTIONS)
        self._say(_("{name} is one of your moves now.").format(name=name), Tone.GOOD)

    def edit_actions(self) -> None:
        self.touch()
        self.collecting.recorder.cancel()
        self._go(Screen.ACTIONS)

    def select_action(self, index: int) -> None:
        self.touch()
        if 0 <= index < len(self.data.actions) and not self.collecting.recorder.busy:
            self.collecting.selected_action = index

    def record(self, index: int | None = None) -> None:
        self.record_many(index, 1)

    def record_many(self, index: int | None = None, count: int = 5) -> None:
        """Record ``count`` takes for an action (the selected one by default)."""
        self.touch()
        collecting = self.collecting
        if collecting.recorder.busy:
            return
        if not self.connected:
            self._say(_("Connect a micro:bit first."))
            return
        if self.startup is not None and not self.startup.recording_enabled:
            self._say(self.startup.visitor_line or _("Recording is switched off for now."))
            return
        index = collecting.selected_action if index is None else index
        if not 0 <= index < len(self.data.actions):
            return
        collecting.selected_action = index
        collecting.viewing_recording = None
        self._act_out(self.data.actions[index].name)
        collecting.recorder.start(index, count, self._clock())
        self.messages.cue(Cue.COUNT)

    def cancel_recording(self) -> None:
        self.touch()
        self.collecting.recorder.cancel()

    def view_recording(self, recording_id: str) -> None:
        self.touch()
        if self.data.find_recording(recording_id) is not None:
            self.collecting.viewing_recording = recording_id

    def explain_square(self, index: int) -> None:
        """A fingerprint square was tapped: say what it measures, in plain words."""
        self.touch()
        if 0 <= index < N_SQUARES:
            self._say(square_words(index), Tone.INFO)

    def close_recording(self) -> None:
        self.touch()
        self.collecting.viewing_recording = None

    def delete_recording(self, recording_id: str) -> None:
        """Delete at once, and offer "Undo" for a few seconds (``undo``)."""
        self.touch()
        found = self.data.find_recording(recording_id)
        if found is None:
            return
        index, entry = found
        action = self.data.actions[index]
        restore = _Restore(action.id, action.recordings.index(entry), entry.recording)
        if self._store_call(lambda: self.data.delete_recording(recording_id)):
            self.confirm.offer_undo(_("Recording deleted."), restore, self._clock())
        if self.collecting.viewing_recording == recording_id:
            self.collecting.viewing_recording = None

    def undo(self) -> None:
        """Put back what was just deleted (while "Undo" is offered)."""
        self.touch()
        restore = self.confirm.take_undo(self._clock())
        if not isinstance(restore, _Restore):
            return
        index = next(
            (i for i, a in enumerate(self.data.actions) if a.id == restore.action_id), None
        )
        if index is None:
            return
        self._store_call(
            lambda: self.data.keep_recording(
                index, restore.recording, lambda _: None, at=restore.position
            )
        )

    def train(self) -> None:
        """Record -> train: start learning in the training process."""
        self.touch()
        if self.collecting.recorder.busy:
            return
        if not self.can_train:
            self._say(self.why_not_train() or _("Record every move first."))
            return
        samples, labels = self.data.training_set()
        self.take_home.reset()  # a board still awaited must not get the old model
        self.learning.start_training(
            samples, labels, self.data.names, self.data.version, self.model_kind
        )
        self._go(Screen.TRAIN)

    @property
    def model_kind(self) -> str:
        """What the next training makes: the class's choice in teacher mode, else the network."""
        return self.learning.choice.kind if self.settings.teacher_mode else NETWORK

    def choose_model(self, kind: str) -> None:
        """Teacher mode, train screen: switch to ``kind``, training it unless it is kept already."""
        self.touch()
        learning = self.learning
        if not self.settings.teacher_mode or self.screen is not Screen.TRAIN:
            return
        if learning.streaming is not None:  # its score is still on the way
            self._say(_("It is still learning: wait a moment."), Tone.INFO)
            return
        learning.choice.pick(kind)
        kept = learning.choice.result_for(kind, self.data.version)
        if kept is not None:
            if kept is not learning.trained:
                learning.use_trained(kept, self.data.version)
            return
        self.train()

    def test(self) -> None:
        """Train -> test: predict live on every new sample."""
        self.touch()
        if self.learning.training is not None:
            self._say(_("It is still learning: wait a moment."), Tone.INFO)
            return
        if not self.learning.start_testing(self._threaded_prediction()):
            return
        self._act_out(None)
        self._go(Screen.TEST)

    def add_more_recordings(self) -> None:
        """Back to recording (from train or test) to improve the model."""
        self.touch()
        self.learning.drop_tester()
        self._go(Screen.RECORD)

    def put_model_on_microbit(self) -> None:
        """Test screen: build the visitor's model as a micro:bit program and copy it onto the
        micro:bit they plug in by USB (see ``kiosk.session.take_home``)."""
        self.touch()
        trained = self.learning.trained
        if trained is None:
            return
        moves = self.take_home_moves()
        if moves is None:
            self._say(_("Train again first: your moves changed."), Tone.INFO)
            return
        port = getattr(self.link, "current_port", None)  # the kiosk's own USB board, if any
        own = usb_serial_number(port) if isinstance(port, str) else None
        self.take_home.start(
            trained.model.network, moves, self.window, frozenset({own} if own else ())
        )

    def take_home_moves(self) -> list[Move] | None:
        """The trained model's moves as its micro:bit program shows them (name, picture,
        threshold); None when a move it knows is gone."""
        trained = self.learning.trained
        if trained is None:
            return None
        actions = {action.name: action for action in self.data.actions}
        if any(name not in actions for name in trained.classes):
            return None
        return [
            Move(name, icon_cells(actions[name].icon), actions[name].threshold)
            for name in trained.classes
        ]

    def set_threshold(self, index: int, value: float) -> None:
        self.touch()
        if 0 <= index < len(self.data.actions):
            self._store_call(
                lambda: self.data.set_threshold(index, float(np.clip(value, 0.05, 1.0)))
            )

    def toggle_why(self) -> None:
        """Show (or hide) why the model answers as it does: saliency and similar recordings."""
        self.touch()
        self.learning.toggle_why()

    def show_why_view(self, view: str) -> None:
        """The "Why?" panel's tab: the marked squares or the map with the live movement."""
        self.touch()
        if view in WhyView.ALL:
            self.learning.why_view = view

    def show_explore(self, view: str = ExploreView.MAP) -> None:
        """Train screen: look at what the model learned (map, squares per move, averages)."""
        self.touch()
        learning = self.learning
        if self.screen is Screen.TRAIN and learning.trained is not None and not learning.training:
            learning.explore.show(view)

    def close_explore(self) -> None:
        self.touch()
        self.learning.explore.close()

    def choose_language(self, code: str) -> None:
        """The attract screen's language buttons: every later word in ``code``."""
        self.touch()
        if code not in LANGUAGES:
            raise ValueError(f"{code!r} is not a language of the kiosk")
        self.language.pick(code)

    def set_pretend_gesture(self, gesture: str) -> None:
        """What the pretend micro:bit does now (only with the simulated board)."""
        self.touch()
        self.connection.set_pretend_gesture(gesture)

    def reconnect(self) -> None:
        """After the board was lost for good: pair again, keeping the recordings."""
        self.touch()
        self.connection.close()
        self.connection.forget_pairing()
        self._go(Screen.PAIR)

    def start_again(self) -> None:
        """Back to the attract screen for the next visitor (confirmed: see ``ask_start_again``)."""
        self.reset_visitor()

    def ask_start_again(self) -> None:
        """The "Start again" button: the first tap asks, a second tap within seconds resets.

        The button then says what will happen; with nothing picked yet there is
        nothing to lose, so one tap is enough.
        """
        self.touch()
        if not self.data.actions or self.confirm.ask(
            "start_again", _("Tap again to\nstart over"), self._clock()
        ):
            self.start_again()
            return
        self._say(_("Tap again to start over: your moves will be deleted."), Tone.INFO)

    # ---- admin intents --------------------------------------------------------------

    def open_admin(self) -> None:
        """The hidden long press: show the PIN pad."""
        self.touch()
        self.collecting.recorder.cancel()
        self.staff.open(self.screen)
        self.messages.message = None  # a visitor's banner ("Tap again…") is not for staff
        self._go(Screen.ADMIN)

    def enter_pin_digit(self, digit: str) -> None:
        self.touch()
        if not self.staff.unlocked:
            self.staff.pin.press(digit)

    def submit_pin(self) -> None:
        """OK on the PIN pad (see kiosk.session.staff_lock)."""
        self.touch()
        staff = self.staff
        if staff.unlocked:
            return
        outcome = staff.pin.submit()
        if outcome in (Outcome.UNLOCKED, Outcome.CHOSEN):
            staff.unlocked = True
            self.faults.seen()  # the settings page lists them
        good = outcome in (Outcome.CONFIRM, Outcome.CHOSEN)
        if staff.pin.message:
            self._say(staff.pin.message, Tone.INFO if good else Tone.PROBLEM)

    def clear_pin(self) -> None:
        self.touch()
        self.staff.pin.clear()

    def close_admin(self) -> None:
        self.touch()
        back = self.staff.screen_before
        self.lock_admin()
        self.messages.message = None  # a staff message is not for the visitor screen
        self._go(back if back is not Screen.ADMIN else Screen.ATTRACT)

    def lock_admin(self) -> None:
        """End staff access (closing the screen, the idle time-out, a visitor reset)."""
        self.staff.lock()
        self.board_prep.close()
        self.usb.close()

    def admin_set_keep_data(self, keep: bool) -> None:
        if self._admin():
            self._change_setting("keep_data_between_visitors", keep)

    def admin_cycle_idle_timeout(self) -> None:
        if self._admin():
            current = self.settings.idle_timeout_s
            later = [c for c in IDLE_TIMEOUT_CHOICES if c > current]
            self._change_setting("idle_timeout_s", later[0] if later else IDLE_TIMEOUT_CHOICES[0])
            self.idle.timeout_s = self.settings.idle_timeout_s

    def admin_set_teacher_mode(self, enabled: bool) -> None:
        """Teacher mode: the class may choose the model (network or nearest neighbours)."""
        if self._admin():
            self._change_setting("teacher_mode", enabled)

    def admin_set_sound(self, enabled: bool) -> None:
        if self._admin():
            self._change_setting("sound_enabled", enabled)

    def admin_cycle_language(self) -> None:
        """The language each visitor starts in: the next one (and shown now, to check it)."""
        if self._admin():
            codes = [code for code, _name in self.language.choices()]
            now = self.settings.language
            later = codes[(codes.index(now) + 1) % len(codes)] if now in codes else codes[0]
            self.language.pick(later)
            self._change_setting("language", later)

    def admin_rotate(self) -> None:
        if self._admin() and self._staff_confirms("rotate", _("Tap again to\nturn the screen")):
            rotation = self.settings.rotation
            i = ROTATIONS.index(rotation) if rotation in ROTATIONS else 0
            self._change_setting("rotation", ROTATIONS[(i + 1) % len(ROTATIONS)])

    def admin_wipe_now(self) -> None:
        count = self.data.n_recordings
        if self._admin() and self._staff_confirms(
            "delete_all",
            ngettext(
                "Tap again to delete\nall {count} recording",
                "Tap again to delete\nall {count} recordings",
                count,
            ).format(count=count),
        ):
            self._store_call(self.data.wipe)
            self._say(_("All recordings deleted."), Tone.INFO)

    def admin_pair_fixed_board(self) -> None:
        """Pair a board that every visitor will use (no pairing step for them)."""
        if self._admin():
            self.lock_admin()
            self.connection.close()
            self.connection.forget_pairing()
            self.connection.pairing_fixed_board = True
            self._go(Screen.PAIR)

    def admin_forget_fixed_board(self) -> None:
        if self._admin():
            self._change_setting("fixed_pattern", "")

    def admin_open_keyboard(self) -> None:
        if self._admin():
            self.staff.keyboard_open = True
            self.staff.keyboard_text = ""

    def admin_close_keyboard(self) -> None:
        self.touch()
        self.staff.keyboard_open = False

    def admin_type(self, key: str) -> None:
        """A key of the on-screen keyboard: a letter, "space" or "back"."""
        if self._admin():
            self.staff.type_key(key)

    def admin_add_custom_action(self) -> None:
        """Offer the typed name to visitors on the actions screen."""
        if not self._admin():
            return
        staff = self.staff
        name = staff.keyboard_text.strip().capitalize()
        if not name:
            return
        taken = {n.lower() for n, _ in self.available_choices()}
        if name.lower() in taken:
            self._say(_("{move} is already on offer.").format(move=name))
        else:
            staff.custom_action_names.append(name)
            self._say(_("Added {move}: visitors can pick it now.").format(move=name), Tone.GOOD)
        staff.keyboard_text = ""
        staff.keyboard_open = False

    def admin_set_own_moves(self, allowed: bool) -> None:
        """Let visitors make moves of their own (or only pick the offered ones)."""
        if self._admin():
            self._change_setting("own_moves", allowed)

    def admin_exit_to_shell(self) -> None:
        if self._admin() and self._staff_confirms(
            "exit_shell", _("Tap again to stop\nthe exhibit")
        ):
            self.staff.exit_code = EXIT_TO_SHELL
            self.staff.quit_requested = True

    def admin_save_snapshot(self) -> None:
        """Freeze the current recordings so they can be compared later."""
        if self._admin():
            count = self.data.n_recordings
            words = ngettext(
                "Saved the {count} recording as {name}.",
                "Saved the {count} recordings as {name}.",
                count,
            )

            def saved(name: str) -> None:  # once committed, by the store's writer thread
                self._say(words.format(count=count, name=name), Tone.GOOD)

            # Queued after the visitor's queued recordings, so the snapshot holds them all.
            self._store_call(
                lambda: self.staff.compare.save_snapshot(count, saved, self._store_failed)
            )

    def admin_prepare_board(self) -> None:
        if self._admin():
            self.board_prep.show()

    def admin_prepare_board_as(self, role: str) -> None:
        """Flash the plugged-in board for ``role`` ("usb", "bridge", "remote")."""
        if self._admin():
            self.connection.close()  # the flasher needs the board to itself
            self.board_prep.start(role)

    def admin_close_prepare_board(self) -> None:
        self.touch()
        self.board_prep.close()

    def admin_open_compare(self) -> None:
        if self._admin():
            self.writer.flush()  # staff read the store: the queued changes first
            self._store_call(lambda: self.staff.compare.show(self.data.n_recordings))

    def admin_close_compare(self) -> None:
        self.touch()
        self.staff.compare.close()

    def admin_compare_pick(self, side_id: int) -> None:
        if self._admin():
            self.staff.compare.pick(side_id)

    def admin_compare_start(self) -> None:
        """Train both picked sets of recordings (on a worker thread)."""
        self.writer.flush()  # staff read the store: the queued changes first
        if self._admin() and not self._store_call(
            lambda: self.staff.compare.start(lambda: self.store.load_dataset(self.data.project_id))
        ):
            self._say(_("Pick two sets of recordings first."))

    def admin_usb_open(self) -> None:
        """The USB stick page: the stick's CreateAI files, import and export."""
        if self._admin():
            self.usb.show()

    def admin_usb_close(self) -> None:
        self.touch()
        self.usb.close()

    def admin_usb_next_page(self) -> None:
        if self._admin():
            self.usb.next_page()

    def admin_usb_import(self, path: Path) -> None:
        """Make a dataset file on the stick the current moves (a second tap confirms a replace).

        The file is read and checked completely before anything changes; a bad
        file gets one line on the page and the current moves stay as they were.
        """
        if not self._admin() or self.usb.working:
            return
        usb, label = self.usb, self.usb.file_label(path)
        try:
            dataset, form = usb.read(path)
        except KioskError as error:
            usb.say(problem_line(label, error), good=False)
            return
        problem = import_problem(dataset, MIN_ACTIONS, MAX_ACTIONS)
        if problem is not None:
            usb.say(_("{file}: {problem}").format(file=label, problem=problem), good=False)
            return
        count = self.data.n_recordings
        if count and not self._staff_confirms(
            f"usb_import:{path}",
            ngettext(
                "Tap again to replace\nthe {n} recording",
                "Tap again to replace\nthe {n} recordings",
                count,
            ).format(n=count),
        ):
            return
        usb.begin(_("Importing {file}…").format(file=label))

        def replace(store: Store) -> None:
            # On the writer thread, after the changes queued before it (to the old moves).
            store.import_dataset(dataset, PROJECT_NAME, form, replace=True)

        def imported(_result: None) -> None:
            self.learning.reset()  # a model of the old moves must not test the new ones
            self.collecting.reset()
            self._store_call(self.data.load)
            n = self.data.n_recordings
            usb.say(
                ngettext(
                    "Imported {file}: {moves} moves, {n} recording.",
                    "Imported {file}: {moves} moves, {n} recordings.",
                    n,
                ).format(file=label, moves=len(self.data.actions), n=n),
                good=True,
            )

        def refused(error: KioskError) -> None:
            usb.say(problem_line(label, error), good=False)

        self.writer.submit(replace, imported, refused)

    def admin_usb_export(self) -> None:
        """Write the current moves (JSON, CSV) and the network (.tflite) onto the stick."""
        if not self._admin() or self.usb.working:
            return
        usb = self.usb
        found = self._store_call(
            lambda: (
                self.store.load_dataset(self.data.project_id),
                self.store.project_form(self.data.project_id),
            )
        )
        if found is None:
            return
        dataset, form = found
        if not dataset.actions:
            usb.say(_("Nothing to export yet: there are no moves."), good=False)
            return
        # The network of these recordings (current, or kept while the class tries
        # nearest neighbours, which has no .tflite form).
        network = self.learning.choice.result_for(NETWORK, self.data.version)
        try:
            stick, files = usb.export_files(
                dataset, form, network.tflite if network is not None else None
            )
        except KioskError as error:
            usb.say(_("Could not write to the stick: {problem}").format(problem=error), False)
            return
        usb.begin(_("Writing to the stick…"))

        def written(names: list[str]) -> None:
            usb.look_again()  # the new JSON is one of the stick's files now
            line = _("Saved {files} on the stick.").format(files=", ".join(names))
            if network is None:
                line += " " + _("No network trained on these recordings, so no .tflite file.")
            usb.say(line, good=True)

        def failed(error: KioskError) -> None:
            usb.say(_("Could not write to the stick: {problem}").format(problem=error), False)

        # The writer thread: a stick's flush can take seconds, the screen carries on.
        self.writer.submit(lambda _store: write_files(stick, files), written, failed)

    # ---- time passing ------------------------------------------------------------------

    def tick(self, now: float | None = None) -> None:
        """Advance countdowns, collect link events, training and predictions."""
        now = self._clock() if now is None else now
        self.writer.deliver()  # what the writer thread has saved (or could not) since
        self._poll_link(now)
        if self.screen is Screen.PAIR:
            self.connection.check_usb(now, self.boards.usb_board_present)
        link = self.link
        recorder = self.collecting.recorder
        if link is not None and recorder.busy:
            take = recorder.tick(now, link.samples)
            if take is not None:
                self._keep_take(take)
        self._collect_training()
        learning = self.learning
        learning.explore.poll()
        if self.usb.open and self.screen is Screen.ADMIN:
            self.usb.poll()
        compare = self.staff.compare
        if compare.open and self.screen is Screen.ADMIN:
            compare.tick(link.samples if link is not None and self.connected else None, now)
        tester = learning.tester
        if self.screen is Screen.TEST and tester is not None:
            if link is not None:
                if tester.update(link.samples, self.thresholds(), now):
                    self._announce(tester.detected)
                problem = tester.take_problem()
                if problem is not None:
                    self._say(problem)
            learning.explain_latest()
        else:
            learning.pause_testing()
        self._watch_idle(now)
        self.messages.expire(now)
        self.confirm.expire(now)

    # ---- visitor reset --------------------------------------------------------------

    def reset_visitor(self) -> None:
        """End this visit: every owner forgets the visitor, staff access ends, back to start."""
        keep_link = bool(self.settings.fixed_pattern) and self.connected
        self.collecting.reset()
        self.learning.reset()
        self.own_move.reset()
        self.connection.reset(keep_link=keep_link)
        self.lock_admin()
        self.board_prep.reset()
        self.take_home.reset()
        self.confirm.reset()  # no question or undo of this visitor's carries over
        wipe = not self.settings.keep_data_between_visitors
        # What this visitor saved is delivered now (normally long done), never to the next one.
        self.writer.flush()
        self._store_call(lambda: self.data.end_visit(wipe))  # a failure is logged for staff
        self.messages.reset()  # nothing said to this visitor is for the next one
        self.language.reset(self.settings.language)  # the next visitor starts in staff's
        self.reset_count += 1
        self._go(Screen.ATTRACT)
        self.idle.activity(self._clock())

    # ---- internals -----------------------------------------------------------------------

    def _go(self, screen: Screen) -> None:
        if screen is not self.screen:
            check_transition(self.screen, screen)
            self.screen = screen
            self.screens_visited.append(screen)
            self.collecting.viewing_recording = None
            self.confirm.cancel()  # a question belongs to the screen it was asked on

    def _say(self, text: str, kind: Tone = Tone.PROBLEM) -> None:
        self.messages.say(text, kind, self._clock())

    def _change_setting(self, name: str, value: Any) -> None:
        """Apply an admin change now and keep it in the admin settings file."""
        self.settings = self.settings.changed(name, value)
        outcome = self.settings_file.save(self.settings, name)
        if outcome.saved:
            self._say(outcome.text, Tone.GOOD)
        else:  # no file configured (a demo, a test) is not a problem; an unwritable one is
            self._say(outcome.text, Tone.INFO if self.settings_file.path is None else Tone.PROBLEM)

    def _keep_remote_id(self, remote_id: str) -> str:
        """A flashed radio remote's id becomes the kiosk's; returns what to tell staff."""
        self.settings = self.settings.changed("radio_remote_id", remote_id)
        return self.settings_file.save(self.settings, "radio_remote_id").text

    def _staff_confirms(self, key: str, words: str) -> bool:
        """A staff action that cannot be taken back: True on its second tap."""
        return self.confirm.ask(key, words, self._clock())

    def _admin(self) -> bool:
        self.touch()
        return self.screen is Screen.ADMIN and self.staff.unlocked

    def _store_call(self, call: Callable[[], R]) -> R | None:
        """Run a store change; a storage problem becomes a message instead of a crash."""
        try:
            return call()
        except KioskError as error:
            self._store_failed(error)
            return None

    def _store_failed(self, error: KioskError) -> None:
        self.faults.note(f"store: {error}")  # the detail is for staff
        self._say(_("That could not be saved, sorry."))

    def close(self) -> None:
        """The kiosk stops: every queued change is saved, the writer thread joined, and no
        training process or prediction thread outlives the session."""
        self.learning.close()
        self.writer.close()

    def _open_link(self, opener: Callable[[], Link]) -> None:
        if not self.connection.open(opener):
            self._pair_failed()

    def _pair_failed(self) -> None:
        """A connection failed: the detail to staff when it is theirs to fix."""
        self.messages.cue(Cue.PROBLEM)
        detail = self.connection.message
        if visitor_words(detail).staff_fault:
            self.faults.note(detail)
        else:
            log.info("pairing failed: %s", detail)

    def _poll_link(self, now: float) -> None:
        for item in self.connection.poll(now):
            news = item.news
            if news is News.PAIRED:
                self.messages.cue(Cue.GOOD)
                self._connected_while_pairing()
            elif news is News.BACK:
                self._say(_("The micro:bit is back. Carry on!"), Tone.GOOD)
            elif news in (News.LOST, News.GAVE_UP):
                # Lost after working: recordings stay; a take under way cannot be finished.
                self.collecting.recorder.cancel()
                self.messages.drop_good_news()  # an old "back again" must not contradict it
                self.messages.cue(Cue.PROBLEM)
            elif news is News.PAIR_FAILED:
                self._pair_failed()
            elif news is News.BUTTON and item.button is not None:
                self._button(item.button)
            elif news is News.MOVING:
                self.idle.activity(now)

    def _connected_while_pairing(self) -> None:
        connection = self.connection
        if connection.pairing_fixed_board:
            connection.pairing_fixed_board = False
            self.settings = self.settings.changed("fixed_pattern", connection.grid.columns_text)
            kept = self.settings_file.save(self.settings, "fixed_pattern")
            words = (
                _("This micro:bit is now the kiosk's board.")
                if kept.saved
                else _(
                    "This micro:bit is now the kiosk's board"
                    " (for this run only: the settings file is read-only)."
                )
            )
            self._say(words, Tone.GOOD)
        if self.screen is Screen.PAIR:
            self._go(Screen.ACTIONS if len(self.data.actions) < MIN_ACTIONS else Screen.RECORD)

    def _button(self, event: ButtonEvent) -> None:
        self.idle.activity(event.t)
        if event.pressed and event.button == "B" and self.screen is Screen.RECORD:
            self.record()

    def _keep_take(self, take: Take) -> None:
        recording = take.recording
        if recording is None:
            self._say(str(take.problem))
            return
        # Shown at once; "kept" (the cue) once the writer thread has committed it.
        self._store_call(
            lambda: self.data.keep_recording(take.action_index, recording, self._recording_kept)
        )

    def _recording_kept(self, _entry: object) -> None:
        self.recordings_made += 1
        self.messages.cue(Cue.DONE)
        if all(action.recordings for action in self.data.actions):
            self.learning.prepare()  # every move started: warm the training process

    def _collect_training(self) -> None:
        learning = self.learning
        for news in learning.collect_training():
            self._learned(news)
        for failure in learning.workers.take_idle_failures():
            self.faults.note(
                _("training process (waiting to be used): {failure}").format(failure=failure)
            )

    def _learned(self, news: Learned) -> None:
        learning = self.learning
        if news is Learned.FAILED:
            # The detail (a missing runtime, a crashed worker) is for staff.
            self.faults.note(f"training: {learning.training_error}")
            learning.training_error = _("Something went wrong while learning: please try again.")
            self.messages.cue(Cue.PROBLEM)
        elif news is Learned.MODEL:
            self.messages.cue(Cue.TRAINED)  # it can be tested now; the score follows
        elif news is Learned.SCORE and learning.trained is not None:
            result = learning.trained
            metrics = {
                "cv_accuracy": result.evaluation.accuracy if result.evaluation else None,
                "classes": list(result.classes),
                "recordings": len(result.labels),
            }
            if result.tflite:  # the network; nearest neighbours has no model file to keep
                project = self.data.project_id
                self.writer.submit(
                    lambda store: store.save_model(project, result.tflite, metrics),
                    on_error=self._store_failed,
                )

    def _threaded_prediction(self) -> bool:
        if self._predict_in_thread is not None:
            return self._predict_in_thread
        return self.link is not None and self.link.realtime

    def _announce(self, detected: int | None) -> None:
        if detected is None or self.link is None:
            return
        action = self.data.actions[detected]
        self.link.show_icon(icon_cells(action.icon))
        self.messages.cue(Cue.RECOGNISED)

    def _act_out(self, action_name: str | None) -> None:
        """With the pretend board, make the gesture that fits the action being recorded."""
        self.connection.set_pretend_gesture(gesture_for(action_name) if action_name else "still")

    def _watching_pretend_board(self, now: float) -> bool:
        """The pretend board acting a move out on the test screen is being watched, not idle.

        Only for a while after the last touch: a kiosk left with the pretend board
        shaking must still reset for the next visitor.
        """
        return (
            self.screen is Screen.TEST
            and self.simulated
            and self.connection.pretend_gesture not in ("still", "none")
            and now - self._touched_at < PRETEND_WATCH_S
        )

    def _watch_idle(self, now: float) -> None:
        if self.screen is Screen.ATTRACT:
            self.idle.activity(now)
            return
        if self.screen is Screen.ADMIN:
            # Staff who walk away must not leave the admin screen open to children.
            if self.staff.compare.busy:
                self.idle.activity(now)
            elif self.idle.expired(now):
                log.info("admin screen idle for %.0f s: locking", now - self.idle.last_activity)
                self.reset_visitor()
            return
        if (
            self.collecting.recorder.busy
            or self.learning.training is not None
            or self.take_home.busy
        ):
            self.idle.activity(now)  # the visitor is waiting on the kiosk, not gone
        elif self._watching_pretend_board(now):
            self.idle.activity(now)
        elif self.idle.expired(now):
            log.info("no visitor activity for %.0f s: resetting", now - self.idle.last_activity)
            self.reset_visitor()
