"""The visitor's actions and recordings: kept in the store, mirrored in memory for drawing.

Every change is one transaction in the store, made by the store's one writer
thread (``kiosk.store.writer``) so that the screen never waits for the disk.
The mirror changes at once, so the screen follows the visitor's finger; a new
recording is shown at once but counts as kept (``RecordingEntry.saved``, and
the "kept" cue) only once its transaction committed, so a crash, a power cut
or a lost micro:bit never loses a recording the screen said was kept. A change
the store refuses is taken back out of the mirror and reported (``on_error``).
Each recording's fingerprint is computed once, when it arrives, with the same
feature code that training and live prediction use.

Without a writer (a command, a test of this class alone) every change is made
in the store first, on the caller's thread, as before.

A visit survives a crash. The store keeps a "visit" row (started, last
active: wall-clock time, because a restarted process has a new monotonic
clock). ``begin`` at process start resumes that visit when it was active
within ``RESUME_WINDOW_S`` (a crash, an OOM kill or a watchdog restart
mid-visit), and otherwise wipes what a visitor who has left behind. The
normal wipe is at the visitor reset (``end_visit``), never at process start.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from kiosk.dataset import Recording
from kiosk.errors import KioskError, StorageError
from kiosk.microbit.icons import resolve_icons
from kiosk.ml.features import compute_features, fingerprint
from kiosk.ml.windows import DataWindow
from kiosk.store.database import Store
from kiosk.store.writer import Writer

log = logging.getLogger(__name__)

# A restart within this long of the visitor's last touch comes back to their
# work. Longer than a restart takes (systemd's RestartSec plus start-up, or the
# 30 s watchdog) with room to spare; shorter than a museum gap between visitors.
RESUME_WINDOW_S = 300.0
# How often a touch is written down as "still active" (a write per touch would
# wear the SD card for nothing).
ACTIVE_WRITE_S = 5.0


@dataclass
class RecordingEntry:
    id: str
    recording: Recording
    features: np.ndarray  # (24,)
    fingerprint: np.ndarray  # (24,) 0..1
    saved: bool = True  # False until its transaction committed (queued for the writer)


@dataclass
class ActionEntry:
    id: str
    name: str
    icon: str
    threshold: float
    recordings: list[RecordingEntry] = field(default_factory=list)


class VisitorData:
    """Actions (in class order) and their recordings for one project in the store."""

    def __init__(
        self,
        store: Store,
        project_name: str,
        window: DataWindow,
        wall_clock: Callable[[], float] = time.time,
        writer: Writer | None = None,
    ) -> None:
        self.store = store
        self.writer = writer  # None: changes are made on the caller's thread
        # A queued change the store refused (the detail for staff, a sentence for the visitor).
        self.on_error: Callable[[KioskError], None] = _log_error
        self.window = window
        self.project_id = store.ensure_project(project_name)
        self.actions: list[ActionEntry] = []
        self.version = 0  # bumped on every change, so views can cache what they draw
        self._wall_clock = wall_clock
        self._active_written = -1e18
        self.resumed = False  # begin() came back to a visit a restart interrupted
        self.had_model = False  # ... and that visit had trained a model

    # ---- the visit -------------------------------------------------------------

    def begin(self, keep_between_visitors: bool, window_s: float = RESUME_WINDOW_S) -> bool:
        """At process start: resume the interrupted visit (True) or clear the last one's work.

        Never raises: with a store that cannot be read or written (a full disk)
        the kiosk starts with an empty mirror.
        """
        now_ms = int(self._wall_clock() * 1000)
        try:
            visit = self.store.visit(self.project_id)
            self.resumed = visit is not None and 0 <= now_ms - visit.last_active <= window_s * 1000
            if self.resumed and visit is not None:
                model = self.store.latest_model(self.project_id)
                self.had_model = model is not None and model.created_at >= visit.started_at
                log.info(
                    "resuming the visit active %.0f s ago", (now_ms - visit.last_active) / 1000
                )
            if keep_between_visitors or self.resumed:
                self.load()
            else:
                self.store.end_visit(self.project_id, wipe=True)
        except StorageError as error:
            log.error("could not read or clear the last visit's work: %s", error)
        return self.resumed

    def mark_active(self, force: bool = False) -> None:
        """The visitor is here (a touch, a recording): note it, at most every ACTIVE_WRITE_S."""
        now = self._wall_clock()
        if not force and now - self._active_written < ACTIVE_WRITE_S:
            return
        self._active_written = now
        project, at = self.project_id, int(now * 1000)
        if self.writer is not None:
            self.writer.submit(
                lambda store: store.mark_visit(project, at),
                on_error=lambda error: log.warning("could not note the visit: %s", error),
                key=("visit", project),
            )
            return
        try:
            self.store.mark_visit(project, at)
        except StorageError as error:
            log.warning("could not note the visit: %s", error)

    def end_visit(self, wipe: bool) -> None:
        """The visitor reset: close the visit and, with ``wipe``, forget its work."""
        project = self.project_id
        self._change(lambda store: store.end_visit(project, wipe=wipe))
        self._active_written = -1e18
        self.resumed = self.had_model = False
        if wipe:
            self.actions = []
            self._changed()

    # ---- reading ---------------------------------------------------------------

    def load(self) -> None:
        """Fill the mirror from the store (recordings the features cannot use are skipped)."""
        dataset = self.store.load_dataset(self.project_id)
        self.actions = []
        # The icons an export would write (older kiosks stored names like "still").
        icons = resolve_icons([action.icon for action in dataset.actions])
        for action, icon in zip(dataset.actions, icons, strict=True):
            entry = ActionEntry(action.id, action.name, icon, action.threshold)
            for recording in action.recordings:
                try:
                    entry.recordings.append(self._entry(recording.id, recording))
                except KioskError as error:
                    log.warning("skipping stored recording %s: %s", recording.id, error)
            self.actions.append(entry)
        self._changed()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(action.name for action in self.actions)

    @property
    def n_recordings(self) -> int:
        return sum(len(action.recordings) for action in self.actions)

    def index_of(self, name: str) -> int | None:
        for i, action in enumerate(self.actions):
            if action.name.lower() == name.lower():
                return i
        return None

    def find_recording(self, recording_id: str) -> tuple[int, RecordingEntry] | None:
        for i, action in enumerate(self.actions):
            for entry in action.recordings:
                if entry.id == recording_id:
                    return i, entry
        return None

    def training_set(self) -> tuple[list[np.ndarray], np.ndarray]:
        """Sample arrays and their action indices, in action then recording order."""
        samples, labels = [], []
        for i, action in enumerate(self.actions):
            for entry in action.recordings:
                samples.append(entry.recording.samples)
                labels.append(i)
        return samples, np.asarray(labels, dtype=np.int64)

    # ---- changing --------------------------------------------------------------

    def add_action(self, name: str, icon: str, threshold: float = 0.8) -> int:
        if self.writer is None:
            action_id = self.store.add_action(self.project_id, name, icon, threshold)
            entry = ActionEntry(action_id, name, icon, threshold)
        else:
            entry = ActionEntry(self.store.reserve_id(), name, icon, threshold)
            project = self.project_id

            def add(store: Store) -> None:
                # On the writer thread, before any later change that names the action reads it.
                entry.id = store.add_action(project, name, icon, threshold, entry.id)

            self.writer.submit(add, on_error=partial(self._action_refused, entry))
        self.actions.append(entry)
        self._changed()
        self.mark_active(force=True)
        return len(self.actions) - 1

    def remove_action(self, index: int) -> None:
        entry = self.actions[index]
        self._change(lambda store: store.delete_action(entry.id))
        del self.actions[index]
        self._changed()

    def add_recording(
        self, index: int, recording: Recording, at: int | None = None
    ) -> RecordingEntry:
        """Store a recording for action ``index`` and wait for it to be kept.

        Raises WindowTooShortError if unusable. ``at`` puts it at that place in
        the move's row (an undone delete goes back where it was). The screen's
        path is ``keep_recording``, which does not wait.
        """
        features = compute_features(recording.samples, self.window)
        action = self.actions[index]
        if self.writer is None:
            recording_id = self.store.add_recording(action.id, recording)
        else:
            recording_id = self.writer.call(lambda store: store.add_recording(action.id, recording))
        entry = RecordingEntry(
            recording_id, recording, features, fingerprint(features, self.window)
        )
        self._insert(action, entry, at)
        return entry

    def keep_recording(
        self,
        index: int,
        recording: Recording,
        on_kept: Callable[[RecordingEntry], None],
        at: int | None = None,
    ) -> RecordingEntry:
        """Show a recording at once and have the writer keep it; ``on_kept`` once committed.

        Raises WindowTooShortError if unusable. The entry is ``saved=False`` until
        then; a recording the store refuses leaves the mirror and goes to ``on_error``.
        """
        if self.writer is None:
            entry = self.add_recording(index, recording, at)
            on_kept(entry)
            return entry
        features = compute_features(recording.samples, self.window)
        action = self.actions[index]
        entry = RecordingEntry(
            self.store.reserve_id(),
            recording,
            features,
            fingerprint(features, self.window),
            saved=False,
        )
        stored = Recording(
            recording.samples,
            entry.id,
            recording.created_at,
            recording.sample_period_ms,
            recording.arrival_rate_hz,
        )

        def add(store: Store) -> str:
            entry.id = store.add_recording(action.id, stored)  # before later changes read it
            return entry.id

        def kept(_: str) -> None:
            entry.saved = True
            on_kept(entry)

        self.writer.submit(add, on_done=kept, on_error=partial(self._recording_refused, entry))
        self._insert(action, entry, at)
        return entry

    def delete_recording(self, recording_id: str) -> bool:
        found = self.find_recording(recording_id)
        if found is None:
            return False
        index, entry = found
        self._change(lambda store: store.delete_recording(entry.id))
        self.actions[index].recordings.remove(entry)
        self._changed()
        return True

    def set_threshold(self, index: int, value: float) -> None:
        """The mirror at once; the store gets the last of a drag's many values."""
        entry = self.actions[index]
        entry.threshold = value
        if self.writer is None:
            self.store.set_threshold(entry.id, value)
            return
        self.writer.submit(
            lambda store: store.set_threshold(entry.id, value),
            on_error=self.on_error,
            key=("threshold", id(entry)),
        )

    def wipe(self) -> None:
        """Forget every action and recording of this project (the next visitor starts fresh)."""
        self.end_visit(wipe=True)

    def _entry(self, recording_id: str, recording: Recording) -> RecordingEntry:
        features = compute_features(recording.samples, self.window)
        return RecordingEntry(recording_id, recording, features, fingerprint(features, self.window))

    def _changed(self) -> None:
        self.version += 1

    def _insert(self, action: ActionEntry, entry: RecordingEntry, at: int | None) -> None:
        shown = action.recordings
        shown.insert(len(shown) if at is None else min(at, len(shown)), entry)
        self._changed()
        self.mark_active(force=True)

    def _change(self, run: Callable[[Store], object]) -> None:
        """A change to the store: queued for the writer, or made now without one."""
        if self.writer is None:
            run(self.store)
        else:
            self.writer.submit(run, on_error=self.on_error)

    def _action_refused(self, entry: ActionEntry, error: KioskError) -> None:
        if entry in self.actions:
            self.actions.remove(entry)
            self._changed()
        self.on_error(error)

    def _recording_refused(self, entry: RecordingEntry, error: KioskError) -> None:
        for action in self.actions:
            if entry in action.recordings:
                action.recordings.remove(entry)
                self._changed()
        self.on_error(error)


def _log_error(error: KioskError) -> None:
    log.error("a change could not be saved: %s", error)
