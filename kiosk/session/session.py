"""The visitor's journey as a headless state machine: every touch is an intent method here.

Screens: attract -> pair -> actions -> record -> train -> test (and admin,
behind a PIN). The session owns the link to the micro:bit, the visitor's
actions and recordings (through the store), the recorder, the training job
and the live tester. It never draws and never imports pygame: the UI reads its
state and calls its intents, and tests and the demo do exactly the same.

Time comes from ``tick(now)`` (and the injected clock for intents), so a test
can run the whole journey on a fake clock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kiosk.errors import KioskError
from kiosk.microbit.link import ButtonEvent, Link, LinkState, StateChange
from kiosk.ml.windows import CURRENT_WINDOW, DataWindow
from kiosk.session.admin_settings import EXIT_TO_SHELL, SettingsFile
from kiosk.session.boards import BoardSource
from kiosk.session.compare import Comparer
from kiosk.session.explore import Explorer, ExploreView, WhyView
from kiosk.session.idle import IdleWatch, is_moving
from kiosk.session.live import LiveTester
from kiosk.session.pairing import PairGrid
from kiosk.session.presets import (
    CUSTOM_ICONS,
    MAX_ACTIONS,
    MIN_ACTIONS,
    PRESETS,
    gesture_for,
    icon_cells,
)
from kiosk.session.recorder import Recorder
from kiosk.session.screens import Screen
from kiosk.session.settings import IDLE_TIMEOUT_CHOICES, ROTATIONS, SessionSettings
from kiosk.session.staff_lock import Outcome, PinChecker, StaffLock
from kiosk.session.training import TrainingJob, TrainingResult
from kiosk.session.visitor_data import VisitorData
from kiosk.store.database import Store

log = logging.getLogger(__name__)

DEFAULT_PIN = "1234"  # only for a Session made without a pin_check (tests, the demo)
PROJECT_NAME = "visitor"
MESSAGE_S = 4.0
USB_CHECK_S = 2.0
MOVEMENT_CHECK_S = 0.25

LOST_LINK_ADVICE = (
    "The micro:bit lost its connection. Check its battery is plugged in and keep it close. "
    "Your recordings are safe."
)


class PairStatus:
    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    FAILED = "failed"


@dataclass(frozen=True)
class Message:
    text: str
    kind: str  # "info" | "good" | "problem"
    until: float


class Session:
    """One kiosk's journey; see the module docstring."""

    def __init__(
        self,
        store: Store,
        boards: BoardSource,
        settings: SessionSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
        pin_check: Callable[[str], bool] | PinChecker | None = None,
        window: DataWindow = CURRENT_WINDOW,
        settings_file: SettingsFile | None = None,
        predict_in_thread: bool | None = None,
    ) -> None:
        self.settings = settings or SessionSettings()
        self.settings_file = settings_file or SettingsFile(None)  # where admin changes go
        self.store = store
        self.boards = boards
        self.window = window
        self._clock = clock
        # The PIN pad: 4-8 digits then OK, wrong PINs slowed, first-boot choice.
        self.staff_lock = StaffLock(pin_check or (lambda pin: pin == DEFAULT_PIN), clock)
        # Live predictions on a worker thread: None = when the link delivers in real
        # time (a stepped pretend board in tests does not, so tests stay deterministic).
        self._predict_in_thread = predict_in_thread
        now = clock()
        self.screen = Screen.ATTRACT
        self.screen_before_admin = Screen.ATTRACT
        self.screens_visited: list[Screen] = [Screen.ATTRACT]
        self.data = VisitorData(store, PROJECT_NAME, window)
        # A restart mid-visit comes back to it; wiping is the visitor reset's job.
        self.data.begin(self.settings.keep_data_between_visitors, self.settings.resume_window_s)
        self.custom_action_names: list[str] = []
        # pairing and the link
        self.pair_grid = PairGrid()
        self.pair_status = PairStatus.IDLE
        self.pair_message = ""
        self.pairing_fixed_board = False
        self.usb_present = False
        self._usb_checked = -1e9
        self.link: Link | None = None
        self.link_problem: str | None = None
        self._link_was_connected = False
        # recording
        self.selected_action = 0
        self.viewing_recording: str | None = None
        self.recorder = Recorder(
            self.settings.countdown_s,
            self.settings.record_s,
            self.settings.gap_s,
            window.min_samples,
            window.device_period_ms,
        )
        self.recordings_made = 0
        # training and testing
        self.training: TrainingJob | None = None
        self.trained: TrainingResult | None = None
        self.trained_version = -1  # data version the model was trained on
        self.training_error: str | None = None
        self.tester: LiveTester | None = None
        self.showing_why = False
        self.explainer = None  # kiosk.ml.explain.LiveExplainer, built when first asked "why?"
        self.explore = Explorer()  # pictures of what the model learned, built after training
        self.why_view = WhyView.SQUARES
        self.explanation = None  # the LiveExplanation of the newest live sample
        self._explained_sequence = -1
        self.pretend_gesture = "still"
        # admin
        self.admin_unlocked = False
        self.keyboard_text = ""
        self.keyboard_open = False
        self.quit_requested = False
        self.exit_code = 0  # EXIT_TO_SHELL after "Exit to shell"
        self.compare = Comparer(store, self.data.project_id)
        # for the UI
        self.message: Message | None = None
        self.cues: list[str] = []  # sounds to play, drained by the UI
        self.idle = IdleWatch(self.settings.idle_timeout_s, self.settings.idle_countdown_s, now)
        self._movement_checked = -1e9
        self.reset_count = 0
        if self.data.resumed:  # back to the interrupted visitor's work (and model)
            (self.train if self.data.had_model and self.can_train else self.start)()

    # ---- reading helpers ---------------------------------------------------------

    @property
    def now(self) -> float:
        return self._clock()

    @property
    def connected(self) -> bool:
        return self.link is not None and self.link.state is LinkState.CONNECTED

    @property
    def simulated(self) -> bool:
        return bool(self.link is not None and self.link.simulated)

    @property
    def can_train(self) -> bool:
        minimum = self.settings.min_recordings_per_action
        return len(self.data.actions) >= MIN_ACTIONS and all(
            len(a.recordings) >= minimum for a in self.data.actions
        )

    @property
    def model_is_stale(self) -> bool:
        """True when recordings changed since the model was trained."""
        return self.trained is not None and self.trained_version != self.data.version

    def idle_countdown(self, now: float | None = None) -> float | None:
        if self.screen in (Screen.ATTRACT, Screen.ADMIN):
            return None
        return self.idle.countdown_left(self._clock() if now is None else now)

    def available_choices(self) -> list[tuple[str, str]]:
        """(name, icon) of every action the visitor may pick: presets, then admin-added names."""
        choices = [(p.name, p.icon) for p in PRESETS]
        for i, name in enumerate(self.custom_action_names):
            choices.append((name, CUSTOM_ICONS[i % len(CUSTOM_ICONS)]))
        return choices

    def thresholds(self) -> list[float]:
        return [a.threshold for a in self.data.actions]

    # ---- journey intents ---------------------------------------------------------

    def touch(self) -> None:
        """Any touch anywhere: the visitor is still here."""
        self.idle.activity(self._clock())
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
            self._open_link(lambda: self.boards.open_bluetooth(self.settings.fixed_pattern))

    def set_pair_column(self, column: int, height: int) -> None:
        self.touch()
        self.pair_grid.set_column(column, height)
        if self.pair_status == PairStatus.FAILED:
            self.pair_status, self.pair_message = PairStatus.IDLE, ""

    def pair(self) -> None:
        """Connect by Bluetooth to the board whose pattern the visitor copied."""
        self.touch()
        if not self.pair_grid.complete:
            self.pair_message = "Tap every column so it matches your micro:bit's lights."
            self._say(self.pair_message, "problem")
            return
        columns = self.pair_grid.columns_text
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
            self.data.remove_action(index)
            self.selected_action = 0
            return
        if len(self.data.actions) >= MAX_ACTIONS:
            self._say(f"You can have up to {MAX_ACTIONS} actions. Tap one to remove it.", "problem")
            return
        icon = dict(self.available_choices()).get(name)
        if icon is None:
            raise ValueError(f"{name!r} is not one of the actions on offer")
        self._store_call(lambda: self.data.add_action(name, icon))

    def actions_done(self) -> None:
        """Actions -> recording."""
        self.touch()
        if len(self.data.actions) < MIN_ACTIONS:
            self._say(f"Pick at least {MIN_ACTIONS} actions.", "problem")
            return
        self.selected_action = min(self.selected_action, len(self.data.actions) - 1)
        self._go(Screen.RECORD)

    def edit_actions(self) -> None:
        self.touch()
        self.recorder.cancel()
        self._go(Screen.ACTIONS)

    def select_action(self, index: int) -> None:
        self.touch()
        if 0 <= index < len(self.data.actions) and not self.recorder.busy:
            self.selected_action = index

    def record(self, index: int | None = None) -> None:
        self.record_many(index, 1)

    def record_many(self, index: int | None = None, count: int = 5) -> None:
        """Record ``count`` takes for an action (the selected one by default)."""
        self.touch()
        if self.recorder.busy:
            return
        if not self.connected:
            self._say("Connect a micro:bit first.", "problem")
            return
        index = self.selected_action if index is None else index
        if not 0 <= index < len(self.data.actions):
            return
        self.selected_action = index
        self.viewing_recording = None
        self._act_out(self.data.actions[index].name)
        self.recorder.start(index, count, self._clock())
        self.cues.append("count")

    def cancel_recording(self) -> None:
        self.touch()
        self.recorder.cancel()

    def view_recording(self, recording_id: str) -> None:
        self.touch()
        if self.data.find_recording(recording_id) is not None:
            self.viewing_recording = recording_id

    def close_recording(self) -> None:
        self.touch()
        self.viewing_recording = None

    def delete_recording(self, recording_id: str) -> None:
        self.touch()
        if self._store_call(lambda: self.data.delete_recording(recording_id)):
            self._say("Recording deleted.", "info")
        if self.viewing_recording == recording_id:
            self.viewing_recording = None

    def train(self) -> None:
        """Record -> train: start learning on a worker thread."""
        self.touch()
        if self.recorder.busy:
            return
        if not self.can_train:
            need = self.settings.min_recordings_per_action
            self._say(f"Record at least {need} of every action first.", "problem")
            return
        samples, labels = self.data.training_set()
        self.training_error = None
        self.explore.reset()  # the pictures of the old model no longer apply
        self.training = TrainingJob(samples, labels, self.data.names, self.window).start()
        self.trained_version = self.data.version
        self._drop_tester()  # the new model replaces the old one
        self._go(Screen.TRAIN)

    def test(self) -> None:
        """Train -> test: predict live on every new sample."""
        self.touch()
        if self.trained is None:
            return
        self._drop_tester()
        self.tester = LiveTester(
            self.trained.classifier,
            self.window,
            threaded=self._threaded_prediction(),
            model_bytes=self.trained.tflite,
        )
        self._act_out(None)
        self._go(Screen.TEST)

    def add_more_recordings(self) -> None:
        """Back to recording (from train or test) to improve the model."""
        self.touch()
        self._drop_tester()
        self._go(Screen.RECORD)

    def set_threshold(self, index: int, value: float) -> None:
        self.touch()
        if 0 <= index < len(self.data.actions):
            self._store_call(
                lambda: self.data.set_threshold(index, float(np.clip(value, 0.05, 1.0)))
            )

    def toggle_why(self) -> None:
        """Show (or hide) why the model answers as it does: saliency and similar recordings."""
        self.touch()
        self.showing_why = not self.showing_why
        self.explainer = self.explainer or self.explore.explainer
        if self.showing_why and self.explainer is None and self.trained is not None:
            from kiosk.ml.explain import LiveExplainer

            result = self.trained
            self.explainer = LiveExplainer(
                result.model,
                result.features,
                result.labels,
                result.fingerprints,
                predicted=result.evaluation.predicted,
            )

    def show_why_view(self, view: str) -> None:
        """The "Why?" panel's tab: the marked squares or the map with the live movement."""
        self.touch()
        if view in WhyView.ALL:
            self.why_view = view

    def show_explore(self, view: str = ExploreView.MAP) -> None:
        """Train screen: look at what the model learned (map, squares per move, averages)."""
        self.touch()
        if self.screen is Screen.TRAIN and self.trained is not None and self.training is None:
            self.explore.show(view)

    def close_explore(self) -> None:
        self.touch()
        self.explore.close()

    def set_pretend_gesture(self, gesture: str) -> None:
        """What the pretend micro:bit does now (only with the simulated board)."""
        self.touch()
        if self.link is not None and self.link.simulated:
            self.pretend_gesture = gesture
            self.link.set_gesture(gesture)  # type: ignore[attr-defined]

    def reconnect(self) -> None:
        """After the board was lost for good: pair again, keeping the recordings."""
        self.touch()
        self._close_link()
        self.pair_status, self.pair_message = PairStatus.IDLE, ""
        self._go(Screen.PAIR)

    def start_again(self) -> None:
        """Back to the attract screen for the next visitor."""
        self._reset()

    # ---- admin intents --------------------------------------------------------------

    def open_admin(self) -> None:
        """The hidden long press: show the PIN pad."""
        self.touch()
        if self.screen is not Screen.ADMIN:
            self.screen_before_admin = self.screen
        self.recorder.cancel()
        self.admin_unlocked = False
        self.staff_lock.clear()
        self._go(Screen.ADMIN)

    @property
    def pin_entry(self) -> str:
        return self.staff_lock.entry

    def enter_pin_digit(self, digit: str) -> None:
        self.touch()
        if not self.admin_unlocked:
            self.staff_lock.press(digit)

    def submit_pin(self) -> None:
        """OK on the PIN pad (see kiosk.session.staff_lock)."""
        self.touch()
        if self.admin_unlocked:
            return
        outcome = self.staff_lock.submit()
        if outcome in (Outcome.UNLOCKED, Outcome.CHOSEN):
            self.admin_unlocked = True
        good = outcome in (Outcome.CONFIRM, Outcome.CHOSEN)
        if self.staff_lock.message:
            self._say(self.staff_lock.message, "info" if good else "problem")

    def clear_pin(self) -> None:
        self.touch()
        self.staff_lock.clear()

    def close_admin(self) -> None:
        self.touch()
        self.admin_unlocked = False
        self.keyboard_open = False
        self.compare.close()
        self.staff_lock.clear()
        back = self.screen_before_admin
        self._go(back if back is not Screen.ADMIN else Screen.ATTRACT)

    def admin_set_keep_data(self, keep: bool) -> None:
        if self._admin():
            self.settings.keep_data_between_visitors = keep
            self._persist("keep_data_between_visitors")

    def admin_cycle_idle_timeout(self) -> None:
        if self._admin():
            choices = IDLE_TIMEOUT_CHOICES
            current = self.settings.idle_timeout_s
            later = [c for c in choices if c > current]
            self.settings.idle_timeout_s = later[0] if later else choices[0]
            self.idle.timeout_s = self.settings.idle_timeout_s
            self._persist("idle_timeout_s")

    def admin_set_sound(self, enabled: bool) -> None:
        if self._admin():
            self.settings.sound_enabled = enabled
            self._persist("sound_enabled")

    def admin_rotate(self) -> None:
        if self._admin():
            i = (
                ROTATIONS.index(self.settings.rotation)
                if self.settings.rotation in ROTATIONS
                else 0
            )
            self.settings.rotation = ROTATIONS[(i + 1) % len(ROTATIONS)]
            self._persist("rotation")

    def admin_wipe_now(self) -> None:
        if self._admin():
            self._store_call(self.data.wipe)
            self._say("All recordings deleted.", "info")

    def admin_pair_fixed_board(self) -> None:
        """Pair a board that every visitor will use (no pairing step for them)."""
        if self._admin():
            self.pairing_fixed_board = True
            self.admin_unlocked = False
            self._close_link()
            self.pair_grid.clear()
            self.pair_status, self.pair_message = PairStatus.IDLE, ""
            self._go(Screen.PAIR)

    def admin_forget_fixed_board(self) -> None:
        if self._admin():
            self.settings.fixed_pattern = ""
            self._persist("fixed_pattern")

    def admin_open_keyboard(self) -> None:
        if self._admin():
            self.keyboard_open = True
            self.keyboard_text = ""

    def admin_close_keyboard(self) -> None:
        self.touch()
        self.keyboard_open = False

    def admin_type(self, key: str) -> None:
        """A key of the on-screen keyboard: a letter, "space" or "back"."""
        if not self._admin():
            return
        if key == "back":
            self.keyboard_text = self.keyboard_text[:-1]
        elif key == "space":
            self.keyboard_text = (self.keyboard_text + " ")[:14]
        elif len(key) == 1:
            self.keyboard_text = (self.keyboard_text + key)[:14]

    def admin_add_custom_action(self) -> None:
        """Offer the typed name to visitors on the actions screen."""
        if not self._admin():
            return
        name = self.keyboard_text.strip().capitalize()
        if not name:
            return
        taken = {n.lower() for n, _ in self.available_choices()}
        if name.lower() in taken:
            self._say(f"{name} is already on offer.", "problem")
        else:
            self.custom_action_names.append(name)
            self._say(f"Added {name}: visitors can pick it now.", "good")
        self.keyboard_text = ""
        self.keyboard_open = False

    def admin_exit_to_shell(self) -> None:
        if self._admin():
            self.exit_code = EXIT_TO_SHELL
            self.quit_requested = True

    def admin_save_snapshot(self) -> None:
        """Freeze the current recordings so they can be compared later."""
        if self._admin():
            name = self._store_call(lambda: self.compare.save_snapshot(self.data.n_recordings))
            if name is not None:
                self._say(f"Saved the {self.data.n_recordings} recordings as {name}.", "good")

    def admin_open_compare(self) -> None:
        if self._admin():
            self._store_call(lambda: self.compare.show(self.data.n_recordings))

    def admin_close_compare(self) -> None:
        self.touch()
        self.compare.close()

    def admin_compare_pick(self, side_id: int) -> None:
        if self._admin():
            self.compare.pick(side_id)

    def admin_compare_start(self) -> None:
        """Train both picked sets of recordings (on a worker thread)."""
        if self._admin() and not self._store_call(
            lambda: self.compare.start(lambda: self.store.load_dataset(self.data.project_id))
        ):
            self._say("Pick two sets of recordings first.", "problem")

    # ---- time passing ------------------------------------------------------------------

    def tick(self, now: float | None = None) -> None:
        """Advance countdowns, collect link events, training and predictions."""
        now = self._clock() if now is None else now
        self._poll_link(now)
        if self.screen is Screen.PAIR and now - self._usb_checked >= USB_CHECK_S:
            self._usb_checked = now
            try:
                self.usb_present = self.boards.usb_board_present()
            except KioskError:
                self.usb_present = False
        if self.link is not None and self.recorder.busy:
            take = self.recorder.tick(now, self.link.samples)
            if take is not None:
                self._keep_take(take)
        if self.training is not None and self.training.done:
            self._finish_training()
        self.explore.poll()
        if self.compare.open and self.screen is Screen.ADMIN:
            self.compare.tick(self.link.samples if self.connected else None, now)
        testing = self.screen is Screen.TEST and self.tester is not None
        if testing and self.link is not None:
            if self.tester.update(self.link.samples, self.thresholds(), now):
                self._announce(self.tester.detected)
            problem = self.tester.take_problem()
            if problem is not None:
                self._say(problem, "problem")
        elif self.tester is not None and self.tester.running:
            self.tester.pause()  # off the test screen (admin, pairing again): no live guesses
        if testing and self.showing_why and self.explainer is not None:
            latest = self.tester.latest
            if latest is not None and (
                self.explanation is None or self._explained_sequence != latest.sequence
            ):
                self._explained_sequence = latest.sequence
                self.explanation = self.explainer.explain(latest.features)
        self._watch_idle(now)
        if self.message is not None and now >= self.message.until:
            self.message = None

    # ---- internals -----------------------------------------------------------------------

    def _go(self, screen: Screen) -> None:
        if screen is not self.screen:
            self.screen = screen
            self.screens_visited.append(screen)
            self.viewing_recording = None

    def _say(self, text: str, kind: str) -> None:
        self.message = Message(text, kind, self._clock() + MESSAGE_S)
        if kind == "problem":
            self.cues.append("problem")

    def _persist(self, setting: str) -> None:
        """Write an admin change to the admin settings file (it applies to this run either way)."""
        outcome = self.settings_file.save(setting, getattr(self.settings, setting))
        if outcome.saved:
            self._say(outcome.text, "good")
        else:  # no file configured (a demo, a test) is not a problem; an unwritable one is
            self._say(outcome.text, "info" if self.settings_file.path is None else "problem")

    def _admin(self) -> bool:
        self.touch()
        return self.screen is Screen.ADMIN and self.admin_unlocked

    def _store_call(self, call: Callable[[], object]) -> object:
        """Run a store change; a storage problem becomes a message instead of a crash."""
        try:
            return call()
        except KioskError as error:
            log.warning("store: %s", error)
            self._say(str(error), "problem")
            return None

    def _open_link(self, opener: Callable[[], Link]) -> None:
        self._close_link()
        self.pair_status = PairStatus.CONNECTING
        self.pair_message = "Looking for your micro:bit…"
        try:
            link = opener()
            link.connect()
        except KioskError as error:
            self.pair_status, self.pair_message = PairStatus.FAILED, str(error)
            self.cues.append("problem")
            return
        self.link = link
        self._link_was_connected = False

    def _close_link(self) -> None:
        if self.link is not None:
            link, self.link = self.link, None
            link.close()
        self.link_problem = None
        self.pair_status = PairStatus.IDLE

    def _poll_link(self, now: float) -> None:
        if self.link is None:
            return
        for event in self.link.poll_events():
            if isinstance(event, StateChange):
                self._link_state(event)
            elif isinstance(event, ButtonEvent):
                self._button(event)
        if now - self._movement_checked >= MOVEMENT_CHECK_S and self.connected:
            self._movement_checked = now
            if not self.link.simulated and is_moving(self.link.samples.latest(12).xyz):
                self.idle.activity(now)

    def _link_state(self, event: StateChange) -> None:
        if event.state is LinkState.CONNECTED:
            self.link_problem = None
            if self.pair_status == PairStatus.CONNECTING:
                self.pair_status = PairStatus.CONNECTED
                self.pair_message = "Connected!"
                self.cues.append("good")
                self._connected_while_pairing()
            elif self._link_was_connected:
                self._say("The micro:bit is back. Carry on!", "good")
            self._link_was_connected = True
        elif self._link_was_connected:
            # Lost after working: recordings stay; a take under way cannot be finished.
            if self.recorder.busy:
                self.recorder.cancel()
            if self.message is not None and self.message.kind == "good":
                self.message = None  # an old "back again" must not contradict the banner
            self.link_problem = LOST_LINK_ADVICE
            if event.state is LinkState.FAILED:
                self.link_problem += " Tap “Connect again” when it is ready."
            self.cues.append("problem")
        elif event.state is LinkState.FAILED:
            self.pair_status = PairStatus.FAILED
            self.pair_message = (
                f"{event.reason} Check the lights on the grid match your micro:bit and that "
                "it is switched on, then tap Try again."
            )
            self.cues.append("problem")
        else:
            self.pair_message = event.reason

    def _connected_while_pairing(self) -> None:
        if self.pairing_fixed_board:
            self.settings.fixed_pattern = self.pair_grid.columns_text
            self.pairing_fixed_board = False
            kept = self.settings_file.save("fixed_pattern", self.settings.fixed_pattern)
            note = "" if kept.saved else " (for this run only: the settings file is read-only)"
            self._say(f"This micro:bit is now the kiosk's board{note}.", "good")
        if self.screen is Screen.PAIR:
            self._go(Screen.ACTIONS if len(self.data.actions) < MIN_ACTIONS else Screen.RECORD)

    def _button(self, event: ButtonEvent) -> None:
        self.idle.activity(event.t)
        if event.pressed and event.button == "B" and self.screen is Screen.RECORD:
            self.record()

    def _keep_take(self, take) -> None:
        if take.recording is None:
            self._say(str(take.problem), "problem")
            return
        entry = self._store_call(lambda: self.data.add_recording(take.action_index, take.recording))
        if entry is not None:
            self.recordings_made += 1
            self.cues.append("done")

    def _finish_training(self) -> None:
        job, self.training = self.training, None
        assert job is not None
        if job.result is None:
            self.training_error = job.error or "Learning failed. Please try again."
            self.cues.append("problem")
            return
        self.trained = job.result
        self.explainer = self.explanation = None
        self.explore.start(job.result, self.window)  # map, importance, averages: off the UI thread
        metrics = {
            "cv_accuracy": job.result.evaluation.accuracy,
            "classes": list(job.result.classes),
            "recordings": len(job.result.labels),
        }
        self._store_call(
            lambda: self.data.store.save_model(self.data.project_id, job.result.tflite, metrics)
        )
        self.cues.append("trained")

    def _threaded_prediction(self) -> bool:
        if self._predict_in_thread is not None:
            return self._predict_in_thread
        return self.link is not None and self.link.realtime

    def _drop_tester(self) -> None:
        """Forget the live tester, stopping its prediction thread (bounded join)."""
        tester, self.tester = self.tester, None
        if tester is not None:
            tester.stop()

    def _announce(self, detected: int | None) -> None:
        if detected is None or self.link is None:
            return
        action = self.data.actions[detected]
        self.link.show_icon(icon_cells(action.icon))
        self.cues.append("recognised")

    def _act_out(self, action_name: str | None) -> None:
        """With the pretend board, make the gesture that fits the action being recorded."""
        if self.link is not None and self.link.simulated:
            gesture = gesture_for(action_name) if action_name else "still"
            self.pretend_gesture = gesture
            self.link.set_gesture(gesture)  # type: ignore[attr-defined]

    def _watch_idle(self, now: float) -> None:
        if self.screen in (Screen.ATTRACT, Screen.ADMIN):
            self.idle.activity(now)
            return
        if self.recorder.busy or self.training is not None:
            self.idle.activity(now)
        elif self.idle.expired(now):
            log.info("no visitor activity for %.0f s: resetting", now - self.idle.last_activity)
            self._reset()

    def _reset(self) -> None:
        self.recorder.cancel()
        self.training = None
        self.trained = None
        self._drop_tester()
        self.training_error = None
        self.showing_why = False
        self.why_view = WhyView.SQUARES
        self.explore.reset()
        self.explainer = self.explanation = None
        self.viewing_recording = None
        self._store_call(lambda: self.data.end_visit(not self.settings.keep_data_between_visitors))
        if not (self.settings.fixed_pattern and self.connected):
            self._close_link()
        self.pair_grid.clear()
        self.pair_status, self.pair_message = PairStatus.IDLE, ""
        self.selected_action = 0
        self.message = None
        self.reset_count += 1
        self._go(Screen.ATTRACT)
        self.idle.activity(self._clock())
