"""Compare two sets of recordings (staff): did more or better recordings make a better model?

Reached from the admin screen. The admin first freezes the current recordings
as a snapshot ("Save these recordings"), then picks two sides from the saved
snapshots and the current data, and trains both on a worker thread (the same
honest cross-validation and final training as the train screen, via
``kiosk.ml.compare``, in the training worker process). Both models then
predict the same live movement from the micro:bit. Each side's model is stored with its snapshot.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from kiosk.dataset import Dataset
from kiosk.errors import DatasetFormatError, KioskError
from kiosk.i18n import N_, _
from kiosk.ml.compare import Comparison, ComparisonPicture, comparison_pictures
from kiosk.ml.train_worker import compare_in_worker
from kiosk.session.background import BackgroundJob
from kiosk.signal import SampleBuffer
from kiosk.store.database import SnapshotSummary, Store
from kiosk.store.writer import Writer

log = logging.getLogger(__name__)

CURRENT = 0  # the side id meaning "the recordings on the kiosk now" (snapshot ids start at 1)
LIVE_EVERY_S = 0.05  # both models predict the live movement at most 20 times a second


@dataclass(frozen=True)
class SideChoice:
    """One pickable side: the current data or a snapshot."""

    id: int  # CURRENT or a snapshot id
    name: str
    recordings: int


def snapshot_name(index: int, when_ms: int) -> str:
    """A name a teacher recognises: "Set 2 (14:05)"."""
    when = time.strftime("%H:%M", time.localtime(when_ms / 1000))
    return _("Set {number} ({time})").format(number=index, time=when)


def trainable(dataset: Dataset, name: str) -> Dataset:
    """The set without moves that have no recordings (picked but never recorded).

    Raises DatasetFormatError when fewer than two moves are left to tell apart.
    """
    kept = tuple(action for action in dataset.actions if action.recordings)
    if len(kept) < 2:
        raise DatasetFormatError(
            _(
                "{name} has fewer than two moves with recordings, so there is nothing to learn"
            ).format(name=name)
        )
    return Dataset(kept)


class CompareJob(BackgroundJob):
    """Trains both sides on its own thread; poll ``done``."""

    name = "compare"
    failure = N_("Something went wrong while learning ({error}).")

    def __init__(self, store_loads: tuple, names: tuple[str, str]) -> None:
        super().__init__()
        self._datasets = store_loads  # two kiosk.dataset.Dataset, loaded on the UI thread
        self._names = names
        self.stage = _("Getting ready…")
        self.progress = 0.0
        self.result: Comparison | None = None

    def _progress(self, fraction: float, stage: str) -> None:
        for name in self._names:  # the worker has no language: its words are English
            if stage == f"Learning from {name}…":
                stage = _("Learning from {name}…").format(name=name)
        self.stage, self.progress = stage, fraction

    def _work(self) -> None:
        left_data, right_data = self._datasets
        datasets = (
            trainable(left_data, self._names[0]),
            trainable(right_data, self._names[1]),
        )
        # In a child process: this (touchscreen) process never loads scikit-learn.
        self.result = compare_in_worker(datasets, self._names, self._progress)
        self.stage, self.progress = _("Done!"), 1.0


class Comparer:
    """The compare page's state; its intents are called by the session's admin intents."""

    def __init__(self, store: Store, project_id: int, writer: Writer | None = None) -> None:
        self.store = store
        self.project_id = project_id
        # Changes go through the session's store writer (the screen never waits for the
        # disk); without one (a command, a test) they are made here and now.
        self.writer = writer
        self.open = False
        self.choices: list[SideChoice] = []
        self.picked: list[int] = []  # up to two side ids, in the order tapped
        self.job: CompareJob | None = None
        self.comparison: Comparison | None = None
        self.error: str | None = None
        self.live: tuple[np.ndarray, np.ndarray] | None = None
        self._live_at = -1e9
        self._live_sequence = -1
        self.version = 0  # bumped whenever what the page shows (besides live bars) changes

    # ---- reading ------------------------------------------------------------------

    def refresh(self, current_recordings: int) -> None:
        """Re-read the list of snapshots from the store (raises StorageError)."""
        snapshots: list[SnapshotSummary] = self.store.list_snapshots(self.project_id)
        self.choices = [SideChoice(CURRENT, _("Recordings now"), current_recordings)] + [
            SideChoice(s.id, s.name, s.recordings) for s in snapshots
        ]
        known = {c.id for c in self.choices}
        self.picked = [p for p in self.picked if p in known]
        self.version += 1

    def choice(self, side_id: int) -> SideChoice | None:
        return next((c for c in self.choices if c.id == side_id), None)

    @property
    def busy(self) -> bool:
        return self.job is not None

    def pictures(self) -> tuple[ComparisonPicture, ComparisonPicture] | None:
        if self.comparison is None:
            return None
        return comparison_pictures(self.comparison, self.live)

    # ---- intents (via the session) ---------------------------------------------------

    def save_snapshot(
        self,
        current_recordings: int,
        on_saved: Callable[[str], None] | None = None,
        on_error: Callable[[KioskError], None] | None = None,
    ) -> str:
        """Freeze the current recordings under the returned name; ``on_saved(name)`` once it
        is committed (after the changes queued before it, so it holds every recording)."""
        n = len(self.store.list_snapshots(self.project_id)) + 1
        name = snapshot_name(n, int(time.time() * 1000))
        while any(c.name == name for c in self.choices):
            n += 1
            name = snapshot_name(n, int(time.time() * 1000))
        project = self.project_id

        def saved(_result: object) -> None:
            self.refresh(current_recordings)
            if on_saved is not None:
                on_saved(name)

        if self.writer is None:
            saved(self.store.create_snapshot(project, name))
        else:
            self.writer.submit(lambda store: store.create_snapshot(project, name), saved, on_error)
        return name

    def show(self, current_recordings: int) -> None:
        """Open the page afresh: nothing picked, nothing learned yet."""
        self.open = True
        self.picked, self.comparison, self.live, self.error = [], None, None, None
        self.refresh(current_recordings)

    def close(self) -> None:
        """Close the page and forget what it showed (staff access ends with it)."""
        self.open = False
        self.job = None  # a running job finishes on its own; its result is dropped
        self.choices, self.picked, self.comparison, self.live, self.error = [], [], None, None, None
        self._live_at, self._live_sequence = -1e9, -1
        self.version += 1

    def pick(self, side_id: int) -> None:
        """Tap a side: picked sides toggle; a third pick replaces the oldest."""
        if self.busy or self.choice(side_id) is None:
            return
        if side_id in self.picked:
            self.picked.remove(side_id)
        else:
            self.picked = [*self.picked, side_id][-2:]
        self.comparison = None
        self.live = None
        self.error = None
        self.version += 1

    def start(self, load_current) -> bool:
        """Train both picked sides on a worker thread; False when two are not picked."""
        if self.busy or len(self.picked) != 2:
            return False
        datasets = tuple(
            load_current() if side == CURRENT else self.store.load_snapshot(side)
            for side in self.picked
        )
        names = tuple(self.choice(side).name for side in self.picked)  # type: ignore[union-attr]
        self.comparison, self.live, self.error = None, None, None
        self.job = CompareJob(datasets, names).start()  # type: ignore[arg-type]
        self.version += 1
        return True

    # ---- time passing ------------------------------------------------------------------

    def tick(self, samples: SampleBuffer | None, now: float) -> None:
        job = self.job
        if job is not None and job.done:
            self.job = None
            self.comparison, self.error = job.result, job.error
            if job.result is not None:
                self._store_models(job.result)
            self.version += 1
        if self.comparison is None or samples is None or now - self._live_at < LIVE_EVERY_S:
            return
        if samples.sequence == self._live_sequence:
            return
        self._live_at, self._live_sequence = now, samples.sequence
        window = self.comparison.left.window
        recent = samples.last_seconds(window.duration_ms / 1000.0)
        try:
            self.live = self.comparison.predict_samples(np.asarray(recent.xyz, np.float64))
        except KioskError:  # too few samples yet (the board just connected)
            self.live = None

    def _store_models(self, comparison: Comparison) -> None:
        """Keep each snapshot's model with it (the current data's model is the train screen's)."""
        for side_id, side in zip(self.picked, (comparison.left, comparison.right), strict=False):
            if side_id == CURRENT:
                continue
            try:
                metrics = {
                    "cv_accuracy": side.evaluation.accuracy,
                    "classes": list(side.classes),
                    "recordings": side.n_recordings,
                }
                tflite, project = side.model.to_tflite(), self.project_id
                if self.writer is not None:
                    self.writer.submit(
                        partial(_save_model, project, tflite, metrics, side_id),
                        on_error=partial(_model_not_kept, side_id),
                    )
                else:
                    self.store.save_model(project, tflite, metrics, side_id)
            except KioskError as error:
                log.warning("could not keep the model of snapshot %s: %s", side_id, error)


def _save_model(project: int, tflite: bytes, metrics: dict, side_id: int, store: Store) -> None:
    store.save_model(project, tflite, metrics, side_id)


def _model_not_kept(side_id: int, error: KioskError) -> None:
    log.warning("could not keep the model of snapshot %s: %s", side_id, error)
