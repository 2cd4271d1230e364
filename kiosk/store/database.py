"""The kiosk's durable store: one SQLite file holding projects, actions,
recordings, trained models and dataset snapshots.

A kiosk is switched off at the wall, sometimes mid-save, so every change is one
transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``) in WAL mode with
``synchronous=FULL``: once a call returns, its change survives a power cut,
and a change interrupted half-way is never seen. The UI thread changes the store
through one writer thread (``kiosk.store.writer``), so no frame waits for a
commit; every call is short all the same: indexed queries, samples as one blob per
recording, no work proportional to the whole database.

Ids. Actions and recordings carry CreateAI-style ids (a millisecond time
stamp as text): those made in the kiosk get a fresh one, imported ones keep
their file's id. Among live datasets an id is unique in the whole database,
so ``delete_recording(id)`` needs no project; an imported id that would clash
with one already in use (the same file imported twice) is replaced by a
fresh one. A snapshot's copies keep the ids of the recordings they copy.

SQLite errors never escape: a full disk becomes ``StorageFullError`` (the
transaction is rolled back, everything stored before is intact and the store
stays usable), anything else a ``StorageError`` that says what to do.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from kiosk.dataset import Action, Dataset, Recording
from kiosk.errors import StorageError, StorageFullError
from kiosk.store.createai_json import (
    DEFAULT_THRESHOLD,
    MAX_NAME_CHARS,
    MAX_SAMPLES_PER_RECORDING,
    FileForm,
    control_character_problem,
    load_createai,
)
from kiosk.store.schema import migrate

log = logging.getLogger(__name__)

SAMPLE_DTYPE = np.dtype("<f8")  # float64 little-endian: exact, and the same on every host
MODELS_KEPT = 10  # per project and training set; older models are pruned on save
WAL_SIZE_LIMIT = 4 * 1024 * 1024  # bytes the WAL file is truncated to after a checkpoint


@dataclass(frozen=True)
class ProjectSummary:
    """A project as the admin screen lists it (counts are of its live dataset)."""

    name: str
    actions: int
    recordings: int
    id: int = 0
    snapshots: int = 0
    models: int = 0


@dataclass(frozen=True)
class SnapshotSummary:
    """A named, frozen copy of a project's dataset."""

    id: int
    name: str
    created_at: int  # ms since the epoch
    actions: int
    recordings: int
    models: int


@dataclass(frozen=True)
class Visit:
    """The visit in progress on a project (wall-clock ms since the epoch)."""

    started_at: int
    last_active: int


@dataclass(frozen=True)
class StoredModel:
    """A trained model as saved: the .tflite bytes and its metrics."""

    id: int
    project_id: int
    snapshot_id: int | None  # None: trained on the project's live dataset
    created_at: int  # ms since the epoch
    tflite: bytes
    metrics: Mapping[str, Any]


@dataclass(frozen=True)
class ModelSummary:
    """A saved model without its bytes, for lists."""

    id: int
    snapshot_id: int | None
    created_at: int
    size_bytes: int


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Store:
    """The kiosk's SQLite database. Open with ``Store.open(path)``; thread-safe."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self._path = path
        self._lock = threading.RLock()
        self._ids = threading.Lock()  # _last_id: ids are also reserved outside a transaction
        self._last_id = 0
        # Called in every write transaction just before its COMMIT (whose fsync makes the
        # change durable): a test injects a slow disk here and sees which thread waits.
        self.before_commit: Callable[[], None] | None = None

    # --- opening and closing -------------------------------------------------

    @classmethod
    def open(
        cls, path: str | Path, *, max_bytes: int | None = None, busy_timeout_s: float = 2.0
    ) -> Store:
        """Open (creating if needed) the database at ``path`` and bring its schema up to date.

        ``max_bytes`` caps the database file (SQLite's ``max_page_count``), so a
        runaway kiosk cannot fill the SD card; a save beyond it fails like a
        full disk, with ``StorageFullError``.
        """
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"cannot create the folder for the database {path}: {exc.strerror or exc}"
            ) from None
        connection: sqlite3.Connection | None = None
        try:
            connection = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_s
            )
            connection.execute("PRAGMA foreign_keys = ON")
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                # Still safe (rollback journal + synchronous=FULL), only slower.
                log.warning("database %s cannot use WAL (journal mode %s)", path, mode)
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT:d}")
            if max_bytes is not None:
                page_size = int(connection.execute("PRAGMA page_size").fetchone()[0])
                pages = max(1, int(max_bytes) // page_size)
                connection.execute(f"PRAGMA max_page_count = {pages:d}")
            before = migrate(connection)
        except sqlite3.Error as exc:
            if connection is not None:
                connection.close()
            raise _translate(exc, f"open the database {path}", path) from None
        except UnicodeDecodeError:
            # SQLite's message quoted a damaged byte of the schema, which Python
            # cannot decode: the file is damaged all the same.
            if connection is not None:
                connection.close()
            raise _damaged(f"open the database {path}", path) from None
        except BaseException:
            if connection is not None:
                connection.close()
            raise
        if before == 0:
            log.info("created the database %s", path)
        elif before != int(connection.execute("PRAGMA user_version").fetchone()[0]):
            log.info("database %s migrated from schema %d", path, before)
        return cls(connection, path)

    @property
    def path(self) -> Path:
        return self._path

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def check(self) -> list[str]:
        """SQLite's integrity check: an empty list when the file is sound."""
        with self._read("check the database") as db:
            rows = [str(row[0]) for row in db.execute("PRAGMA integrity_check")]
        return [] if rows == ["ok"] else rows

    def quick_check(self, limit: int = 5) -> list[str]:
        """SQLite's quick_check (no index cross-checks, so fast enough at every start-up)."""
        with self._read("check the database") as db:
            rows = [str(row[0]) for row in db.execute(f"PRAGMA quick_check({int(limit):d})")]
        return [] if rows == ["ok"] else rows

    def columns(self, table: str) -> list[str]:
        """The column names of ``table`` (empty when there is no such table)."""
        with self._read("read the schema") as db:
            rows = db.execute("SELECT name FROM pragma_table_info(?)", (table,))
            return [str(row[0]) for row in rows]

    # --- projects ---------------------------------------------------------------

    def ensure_project(self, name: str) -> int:
        """The id of the project called ``name``, created (empty) if it does not exist."""
        name = _checked_name(name, "a project name")
        with self._write(f"create the project {name!r}") as db:
            found = self._project_id(db, name)
            return found if found is not None else self._create_project(db, name, "current")

    def project_id(self, name: str) -> int | None:
        with self._read("find a project") as db:
            return self._project_id(db, name)

    def project_name(self, project_id: int) -> str:
        with self._read("find a project") as db:
            row = db.execute("SELECT name FROM project WHERE id = ?", (project_id,)).fetchone()
        if row is None:
            raise StorageError(f"there is no project number {project_id}")
        return str(row[0])

    def project_form(self, project_id: int) -> FileForm:
        """The CreateAI form the project was imported from ("current" if made here)."""
        with self._read("find a project") as db:
            row = db.execute(
                "SELECT createai_form FROM project WHERE id = ?", (project_id,)
            ).fetchone()
        if row is None:
            raise StorageError(f"there is no project number {project_id}")
        return "legacy" if row[0] == "legacy" else "current"

    def list_projects(self) -> list[ProjectSummary]:
        with self._read("list the projects") as db:
            rows = db.execute(
                """SELECT p.name,
                    (SELECT count(*) FROM action a WHERE a.dataset_id = d.id),
                    (SELECT count(*) FROM recording r WHERE r.dataset_id = d.id),
                    p.id,
                    (SELECT count(*) FROM dataset s
                        WHERE s.project_id = p.id AND s.snapshot_name IS NOT NULL),
                    (SELECT count(*) FROM model m WHERE m.project_id = p.id)
                FROM project p JOIN dataset d ON d.project_id = p.id AND d.snapshot_name IS NULL
                ORDER BY p.name"""
            ).fetchall()
        return [ProjectSummary(*row) for row in rows]

    def delete_project(self, name: str) -> bool:
        """Delete a project with its actions, recordings, snapshots and models."""
        with self._write(f"delete the project {name!r}") as db:
            return db.execute("DELETE FROM project WHERE name = ?", (name,)).rowcount > 0

    def clear_recordings(self, project_id: int) -> int:
        """Delete every recording of the project's live dataset, keeping its actions."""
        with self._write("clear the recordings") as db:
            live = self._live_dataset(db, project_id)
            return db.execute("DELETE FROM recording WHERE dataset_id = ?", (live,)).rowcount

    def clear_dataset(self, project_id: int) -> int:
        """Delete every action (and so every recording) of the project's live dataset."""
        with self._write("clear the dataset") as db:
            live = self._live_dataset(db, project_id)
            return db.execute("DELETE FROM action WHERE dataset_id = ?", (live,)).rowcount

    # --- the visit in progress ---------------------------------------------------------

    def mark_visit(self, project_id: int, at_ms: int) -> None:
        """The visitor is active now: start the visit if none is open, else move last_active."""
        with self._write("note the visit") as db:
            db.execute(
                """INSERT INTO visit (project_id, started_at, last_active) VALUES (?, ?, ?)
                ON CONFLICT (project_id) DO UPDATE SET last_active = excluded.last_active""",
                (project_id, at_ms, at_ms),
            )

    def visit(self, project_id: int) -> Visit | None:
        with self._read("read the visit") as db:
            row = db.execute(
                "SELECT started_at, last_active FROM visit WHERE project_id = ?", (project_id,)
            ).fetchone()
        return None if row is None else Visit(int(row[0]), int(row[1]))

    def end_visit(self, project_id: int, *, wipe: bool) -> None:
        """Close the visit; with ``wipe`` also delete its actions and recordings, atomically."""
        with self._write("end the visit") as db:
            if wipe:
                live = self._live_dataset(db, project_id)
                db.execute("DELETE FROM action WHERE dataset_id = ?", (live,))
            db.execute("DELETE FROM visit WHERE project_id = ?", (project_id,))

    # --- actions ------------------------------------------------------------------

    def add_action(
        self,
        project_id: int,
        name: str,
        icon: str | None,
        threshold: float = DEFAULT_THRESHOLD,
        action_id: str | None = None,
    ) -> str:
        """Add an action at the end of the project's live dataset; returns its id.

        Keeps ``action_id`` (from ``reserve_id``) when it is free, else makes a fresh one.
        """
        name = _checked_name(name, "an action name")
        threshold = _checked_threshold(threshold)
        with self._write(f"add the action {name!r}") as db:
            live = self._live_dataset(db, project_id)
            if db.execute(
                "SELECT 1 FROM action WHERE dataset_id = ? AND name = ?", (live, name)
            ).fetchone():
                raise StorageError(f"there is already an action called {name!r}; pick another name")
            if not action_id or self._id_in_use(db, "action", action_id):
                action_id = self._fresh_id(db, "action")
            db.execute(
                """INSERT INTO action (dataset_id, id, position, name, icon, threshold, created_at)
                VALUES (?, ?, (SELECT coalesce(max(position), -1) + 1 FROM action
                               WHERE dataset_id = ?), ?, ?, ?, ?)""",
                (live, action_id, live, name, icon, threshold, now_ms()),
            )
            return action_id

    def set_threshold(self, action_id: str, value: float) -> None:
        value = _checked_threshold(value)
        with self._write("change the threshold") as db:
            db.execute(
                "UPDATE action SET threshold = ? WHERE key = ?",
                (value, self._live_action_key(db, action_id)),
            )

    def rename_action(self, action_id: str, name: str) -> None:
        name = _checked_name(name, "an action name")
        with self._write(f"rename the action to {name!r}") as db:
            key = self._live_action_key(db, action_id)
            clash = db.execute(
                """SELECT 1 FROM action WHERE name = ? AND key != ?
                   AND dataset_id = (SELECT dataset_id FROM action WHERE key = ?)""",
                (name, key, key),
            ).fetchone()
            if clash:
                raise StorageError(f"there is already an action called {name!r}; pick another name")
            db.execute("UPDATE action SET name = ? WHERE key = ?", (name, key))

    def set_icon(self, action_id: str, icon: str | None) -> None:
        with self._write("change the icon") as db:
            db.execute(
                "UPDATE action SET icon = ? WHERE key = ?",
                (icon, self._live_action_key(db, action_id)),
            )

    def delete_action(self, action_id: str) -> bool:
        """Delete a live action and its recordings; False if there was none."""
        with self._write("delete the action") as db:
            return (
                db.execute(
                    f"DELETE FROM action WHERE id = ? AND dataset_id IN ({_LIVE_DATASETS})",
                    (action_id,),
                ).rowcount
                > 0
            )

    # --- recordings -----------------------------------------------------------------

    def add_recording(self, action_id: str, recording: Recording) -> str:
        """Save a recording under a live action, all or nothing; returns its id.

        Keeps ``recording.id`` when it is set and free, else makes a fresh one;
        a missing ``created_at`` becomes now.
        """
        blob = _samples_blob(recording)
        with self._write("save the recording") as db:
            key = self._live_action_key(db, action_id)
            dataset_id = db.execute("SELECT dataset_id FROM action WHERE key = ?", (key,))
            dataset = int(dataset_id.fetchone()[0])
            recording_id = recording.id
            if not recording_id or self._id_in_use(db, "recording", recording_id):
                recording_id = self._fresh_id(db, "recording")
            db.execute(
                """INSERT INTO recording (action_key, dataset_id, id, position, n_samples, samples,
                    sample_period_ms, arrival_rate_hz, created_at)
                VALUES (?, ?, ?, (SELECT coalesce(max(position), -1) + 1 FROM recording
                                  WHERE action_key = ?), ?, ?, ?, ?, ?)""",
                (
                    key,
                    dataset,
                    recording_id,
                    key,
                    recording.length,
                    blob,
                    _optional_float(recording.sample_period_ms),
                    _optional_float(recording.arrival_rate_hz),
                    recording.created_at if recording.created_at is not None else now_ms(),
                ),
            )
            return recording_id

    def delete_recording(self, recording_id: str) -> bool:
        """Delete a live recording; False if there was none."""
        with self._write("delete the recording") as db:
            return (
                db.execute(
                    f"DELETE FROM recording WHERE id = ? AND dataset_id IN ({_LIVE_DATASETS})",
                    (recording_id,),
                ).rowcount
                > 0
            )

    def load_dataset(self, project_id: int) -> Dataset:
        """The project's live dataset; its Action.id and Recording.id work with delete_*."""
        with self._read("load the dataset") as db:
            return _load(db, self._live_dataset(db, project_id))

    # --- snapshots --------------------------------------------------------------------

    def create_snapshot(self, project_id: int, name: str) -> int:
        """Freeze a copy of the project's live dataset under ``name``; returns its id."""
        name = _checked_name(name, "a snapshot name")
        with self._write(f"save the snapshot {name!r}") as db:
            live = self._live_dataset(db, project_id)
            if db.execute(
                "SELECT 1 FROM dataset WHERE project_id = ? AND snapshot_name = ?",
                (project_id, name),
            ).fetchone():
                raise StorageError(f"there is already a snapshot called {name!r}")
            snapshot = int(
                db.execute(
                    "INSERT INTO dataset (project_id, snapshot_name, created_at) VALUES (?, ?, ?)",
                    (project_id, name, now_ms()),
                ).lastrowid
                or 0
            )
            db.execute(
                """INSERT INTO action (dataset_id, id, position, name, icon, threshold,
                    created_at, extra)
                SELECT ?, id, position, name, icon, threshold, created_at, extra
                FROM action WHERE dataset_id = ?""",
                (snapshot, live),
            )
            db.execute(
                """INSERT INTO recording (action_key, dataset_id, id, position, n_samples,
                    samples, sample_period_ms, arrival_rate_hz, created_at)
                SELECT copy.key, ?, r.id, r.position, r.n_samples, r.samples,
                    r.sample_period_ms, r.arrival_rate_hz, r.created_at
                FROM recording r
                JOIN action original ON original.key = r.action_key
                JOIN action copy ON copy.dataset_id = ? AND copy.id = original.id
                WHERE r.dataset_id = ?""",
                (snapshot, snapshot, live),
            )
            return snapshot

    def list_snapshots(self, project_id: int) -> list[SnapshotSummary]:
        with self._read("list the snapshots") as db:
            rows = db.execute(
                """SELECT s.id, s.snapshot_name, s.created_at,
                    (SELECT count(*) FROM action a WHERE a.dataset_id = s.id),
                    (SELECT count(*) FROM recording r WHERE r.dataset_id = s.id),
                    (SELECT count(*) FROM model m WHERE m.snapshot_id = s.id)
                FROM dataset s WHERE s.project_id = ? AND s.snapshot_name IS NOT NULL
                ORDER BY s.created_at, s.id""",
                (project_id,),
            ).fetchall()
        return [SnapshotSummary(*row) for row in rows]

    def load_snapshot(self, snapshot_id: int) -> Dataset:
        with self._read("load the snapshot") as db:
            self._snapshot_project(db, snapshot_id)
            return _load(db, snapshot_id)

    def delete_snapshot(self, snapshot_id: int) -> bool:
        """Delete a snapshot; models trained on it stay, no longer linked to it."""
        with self._write("delete the snapshot") as db:
            return (
                db.execute(
                    "DELETE FROM dataset WHERE id = ? AND snapshot_name IS NOT NULL",
                    (snapshot_id,),
                ).rowcount
                > 0
            )

    # --- models -----------------------------------------------------------------------

    def save_model(
        self,
        project_id: int,
        tflite_bytes: bytes,
        metrics: Mapping[str, Any],
        snapshot_id: int | None = None,
    ) -> int:
        """Save a trained model (its .tflite bytes and metrics); returns its id.

        ``snapshot_id`` names the snapshot it was trained on; None means the
        project's live dataset. Only the newest MODELS_KEPT models per project
        and training set are kept.
        """
        if not tflite_bytes:
            raise StorageError("the model to save is empty")
        try:
            metrics_text = json.dumps(dict(metrics), default=_jsonable)
        except (TypeError, ValueError) as exc:
            raise StorageError(f"the model's metrics cannot be saved: {exc}") from None
        with self._write("save the model") as db:
            self._live_dataset(db, project_id)
            if snapshot_id is not None and self._snapshot_project(db, snapshot_id) != project_id:
                raise StorageError(f"snapshot {snapshot_id} belongs to another project")
            model_id = int(
                db.execute(
                    """INSERT INTO model (project_id, snapshot_id, created_at, tflite, metrics)
                    VALUES (?, ?, ?, ?, ?)""",
                    (project_id, snapshot_id, now_ms(), bytes(tflite_bytes), metrics_text),
                ).lastrowid
                or 0
            )
            db.execute(
                """DELETE FROM model WHERE project_id = ? AND snapshot_id IS ? AND id NOT IN
                (SELECT id FROM model WHERE project_id = ? AND snapshot_id IS ?
                 ORDER BY id DESC LIMIT ?)""",
                (project_id, snapshot_id, project_id, snapshot_id, MODELS_KEPT),
            )
            return model_id

    def latest_model(self, project_id: int, snapshot_id: int | None = None) -> StoredModel | None:
        """The newest model trained on the live dataset (or on ``snapshot_id``), or None."""
        with self._read("load the model") as db:
            row = db.execute(
                f"""SELECT {_MODEL_COLUMNS} FROM model WHERE project_id = ? AND snapshot_id IS ?
                ORDER BY id DESC LIMIT 1""",
                (project_id, snapshot_id),
            ).fetchone()
        return None if row is None else _stored_model(row)

    def load_model(self, model_id: int) -> StoredModel:
        with self._read("load the model") as db:
            row = db.execute(
                f"SELECT {_MODEL_COLUMNS} FROM model WHERE id = ?", (model_id,)
            ).fetchone()
        if row is None:
            raise StorageError(f"there is no model number {model_id}")
        return _stored_model(row)

    def list_models(self, project_id: int) -> list[ModelSummary]:
        with self._read("list the models") as db:
            rows = db.execute(
                """SELECT id, snapshot_id, created_at, length(tflite) FROM model
                WHERE project_id = ? ORDER BY id""",
                (project_id,),
            ).fetchall()
        return [ModelSummary(*row) for row in rows]

    # --- import -------------------------------------------------------------------------

    def import_createai(
        self, path: str | Path, project_name: str | None = None, *, replace: bool = False
    ) -> int:
        """Import a CreateAI dataset file as a project; returns the project id.

        The file is read and checked completely before anything is written, then
        saved in one transaction: a refused file (DatasetFormatError) or a
        failed save changes nothing. ``project_name`` defaults to the file's
        name without extension. An existing project is refused unless
        ``replace``, which swaps its live dataset for the file's (snapshots and
        models stay).
        """
        dataset, form = load_createai(path)
        return self.import_dataset(dataset, project_name or Path(path).stem, form, replace=replace)

    def import_dataset(
        self, dataset: Dataset, project_name: str, form: FileForm = "current", *, replace: bool
    ) -> int:
        """Save an already parsed dataset as a project (see import_createai)."""
        name = _checked_name(project_name, "a project name")
        rows = [(action, _checked_threshold(action.threshold)) for action in dataset.actions]
        blobs = [[_samples_blob(rec) for rec in action.recordings] for action in dataset.actions]
        with self._write(f"import the project {name!r}") as db:
            project = self._project_id(db, name)
            if project is None:
                project = self._create_project(db, name, form)
            elif not replace:
                raise StorageError(
                    f"there is already a project called {name!r}; choose another name or replace it"
                )
            else:
                db.execute("UPDATE project SET createai_form = ? WHERE id = ?", (form, project))
                db.execute(
                    "DELETE FROM action WHERE dataset_id = ?", (self._live_dataset(db, project),)
                )
            live = self._live_dataset(db, project)
            names: set[str] = set()
            for position, (action, threshold) in enumerate(rows):
                action_name = _checked_name(action.name, "an action name")
                if action_name in names:
                    raise StorageError(f"the dataset has two actions called {action_name!r}")
                names.add(action_name)
                action_id = action.id
                if not action_id or self._id_in_use(db, "action", action_id):
                    action_id = self._fresh_id(db, "action")
                key = db.execute(
                    """INSERT INTO action (dataset_id, id, position, name, icon, threshold,
                        created_at, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        live,
                        action_id,
                        position,
                        action_name,
                        action.icon,
                        threshold,
                        action.created_at,
                        json.dumps(dict(action.extra)),
                    ),
                ).lastrowid
                for index, (recording, blob) in enumerate(
                    zip(action.recordings, blobs[position], strict=True)
                ):
                    recording_id = recording.id
                    if not recording_id or self._id_in_use(db, "recording", recording_id):
                        recording_id = self._fresh_id(db, "recording")
                    db.execute(
                        """INSERT INTO recording (action_key, dataset_id, id, position,
                            n_samples, samples, sample_period_ms, arrival_rate_hz, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                        (
                            key,
                            live,
                            recording_id,
                            index,
                            recording.length,
                            blob,
                            _optional_float(recording.sample_period_ms),
                            _optional_float(recording.arrival_rate_hz),
                            recording.created_at,
                        ),
                    )
            return project

    # --- transactions and helpers ---------------------------------------------------------

    @contextmanager
    def _write(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One write transaction; any failure rolls it back and becomes a StorageError."""
        with self._lock, _errors_translated(doing, self._path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                if self.before_commit is not None:
                    self.before_commit()
                self._db.execute("COMMIT")
            except BaseException:
                _rollback(self._db)
                raise

    @contextmanager
    def _read(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One read transaction, so that several SELECTs see the same state."""
        with self._lock, _errors_translated(doing, self._path):
            self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                _rollback(self._db)

    @staticmethod
    def _project_id(db: sqlite3.Connection, name: str) -> int | None:
        row = db.execute("SELECT id FROM project WHERE name = ?", (name,)).fetchone()
        return None if row is None else int(row[0])

    @staticmethod
    def _create_project(db: sqlite3.Connection, name: str, form: FileForm) -> int:
        created = now_ms()
        project = int(
            db.execute(
                "INSERT INTO project (name, createai_form, created_at) VALUES (?, ?, ?)",
                (name, form, created),
            ).lastrowid
            or 0
        )
        db.execute(
            "INSERT INTO dataset (project_id, snapshot_name, created_at) VALUES (?, NULL, ?)",
            (project, created),
        )
        return project

    @staticmethod
    def _live_dataset(db: sqlite3.Connection, project_id: int) -> int:
        row = db.execute(
            "SELECT id FROM dataset WHERE project_id = ? AND snapshot_name IS NULL", (project_id,)
        ).fetchone()
        if row is None:
            raise StorageError(f"there is no project number {project_id}")
        return int(row[0])

    @staticmethod
    def _snapshot_project(db: sqlite3.Connection, snapshot_id: int) -> int:
        row = db.execute(
            "SELECT project_id FROM dataset WHERE id = ? AND snapshot_name IS NOT NULL",
            (snapshot_id,),
        ).fetchone()
        if row is None:
            raise StorageError(f"there is no snapshot number {snapshot_id}")
        return int(row[0])

    @staticmethod
    def _live_action_key(db: sqlite3.Connection, action_id: str) -> int:
        row = db.execute(
            f"SELECT key FROM action WHERE id = ? AND dataset_id IN ({_LIVE_DATASETS})",
            (action_id,),
        ).fetchone()
        if row is None:
            raise StorageError(f"there is no action {action_id!r} (was it deleted?)")
        return int(row[0])

    @staticmethod
    def _id_in_use(db: sqlite3.Connection, table: str, identifier: str) -> bool:
        return (
            db.execute(
                f"SELECT 1 FROM {table} WHERE id = ? AND dataset_id IN ({_LIVE_DATASETS}) LIMIT 1",
                (identifier,),
            ).fetchone()
            is not None
        )

    def reserve_id(self) -> str:
        """A CreateAI-style id never issued before, without touching the disk.

        For a change queued for the writer thread (``kiosk.store.writer``) whose
        id is needed at once; the write keeps it if no stored row has it.
        """
        with self._ids:
            self._last_id = max(now_ms(), self._last_id + 1)
            return str(self._last_id)

    def _fresh_id(self, db: sqlite3.Connection, table: str) -> str:
        """A CreateAI-style id: the time in ms, bumped until unused (and never reissued)."""
        with self._ids:
            candidate = max(now_ms(), self._last_id + 1)
            # Any row, snapshots included: a fresh id must not look like a copy of another.
            while db.execute(f"SELECT 1 FROM {table} WHERE id = ?", (str(candidate),)).fetchone():
                candidate += 1
            self._last_id = candidate
        return str(candidate)


_LIVE_DATASETS = "SELECT id FROM dataset WHERE snapshot_name IS NULL"
_MODEL_COLUMNS = "id, project_id, snapshot_id, created_at, tflite, metrics"


def _load(db: sqlite3.Connection, dataset_id: int) -> Dataset:
    recordings: dict[int, list[Recording]] = {}
    for key, rec_id, n, blob, period, rate, created in db.execute(
        """SELECT action_key, id, n_samples, samples, sample_period_ms, arrival_rate_hz,
            created_at FROM recording WHERE dataset_id = ? ORDER BY action_key, position""",
        (dataset_id,),
    ):
        if len(blob) != n * SAMPLE_DTYPE.itemsize * 3:
            raise StorageError(f"recording {rec_id} is damaged; delete it and record it again")
        samples = np.frombuffer(blob, dtype=SAMPLE_DTYPE).reshape(n, 3)
        recordings.setdefault(key, []).append(
            Recording(
                samples=samples,
                id=rec_id,
                created_at=created,
                sample_period_ms=period,
                arrival_rate_hz=rate,
            )
        )
    actions = []
    for key, action_id, name, icon, threshold, created, extra in db.execute(
        """SELECT key, id, name, icon, threshold, created_at, extra FROM action
        WHERE dataset_id = ? ORDER BY position, key""",
        (dataset_id,),
    ):
        actions.append(
            Action(
                name=name,
                recordings=tuple(recordings.get(key, ())),
                icon=icon,
                id=action_id,
                created_at=created,
                threshold=float(threshold),
                extra=MappingProxyType(json.loads(extra)),
            )
        )
    return Dataset(tuple(actions))


def _stored_model(row: tuple[Any, ...]) -> StoredModel:
    model_id, project_id, snapshot_id, created_at, tflite, metrics = row
    return StoredModel(
        id=model_id,
        project_id=project_id,
        snapshot_id=snapshot_id,
        created_at=created_at,
        tflite=bytes(tflite),
        metrics=MappingProxyType(json.loads(metrics)),
    )


def _samples_blob(recording: Recording) -> bytes:
    samples = recording.samples
    if samples.shape[0] == 0:
        raise StorageError("a recording needs at least one sample")
    if samples.shape[0] > MAX_SAMPLES_PER_RECORDING:
        raise StorageError(
            f"a recording can have at most {MAX_SAMPLES_PER_RECORDING} samples, "
            f"not {samples.shape[0]}"
        )
    if not np.isfinite(samples).all():
        raise StorageError("a recording has values that are not numbers; record it again")
    return np.ascontiguousarray(samples, dtype=SAMPLE_DTYPE).tobytes()


def _checked_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise StorageError(f"{what} cannot be empty")
    name = name.strip()
    if len(name) > MAX_NAME_CHARS:
        raise StorageError(f"{what} can have at most {MAX_NAME_CHARS} characters")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise StorageError(f"{what} is not valid text") from None
    problem = control_character_problem(name)
    if problem:
        raise StorageError(f"{what} {problem}")
    return name


def _checked_threshold(value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:  # also refuses NaN
        raise StorageError(f"a threshold must be between 0 and 1, not {value}")
    return value


def _optional_float(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _jsonable(value: Any) -> Any:
    """Let metrics hold numpy arrays and numbers (e.g. a confusion matrix)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not a number, text, list or mapping")


def _rollback(db: sqlite3.Connection) -> None:
    if db.in_transaction:
        try:
            db.execute("ROLLBACK")
        except sqlite3.Error:
            # SQLite may have rolled back already (e.g. after SQLITE_FULL).
            log.debug("rollback after a failed transaction did nothing", exc_info=True)


@contextmanager
def _errors_translated(doing: str, path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise _translate(exc, doing, path) from None
    except UnicodeDecodeError:  # a damaged byte in stored text or in SQLite's message
        raise _damaged(doing, path) from None
    except (json.JSONDecodeError, TypeError) as exc:  # stored JSON a hand edit or bad block broke
        raise _damaged(doing, path, f" ({exc})") from None


def _damaged(doing: str, path: Path, detail: str = "") -> StorageError:
    return StorageError(
        f"could not {doing}: {path} is damaged{detail}; "
        "the kiosk moves it aside and starts a new one when it next starts"
    )


_FULL, _BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _CANTOPEN, _NOTADB = 13, 5, 6, 8, 10, 11, 14, 26


def _translate(exc: sqlite3.Error, doing: str, path: Path) -> StorageError:
    """One sentence a person can act on, for each way SQLite can fail."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code == _FULL:
        return StorageFullError(
            f"could not {doing}: the storage is full (nothing saved before was lost); "
            "delete old projects or snapshots, or free space on the SD card, and try again"
        )
    if code in (_BUSY, _LOCKED):
        return StorageError(
            f"could not {doing}: another program is using the database {path}; try again"
        )
    if code == _READONLY:
        return StorageError(f"could not {doing}: the database {path} is read-only")
    if code in (_CORRUPT, _NOTADB):
        return _damaged(doing, path, " or not a kiosk database")
    if code == _CANTOPEN:
        return StorageError(
            f"could not {doing}: cannot open {path}; check the folder's permissions"
        )
    if code == _IOERR:
        return StorageError(
            f"could not {doing}: the storage device reported an error ({exc}); check the SD card"
        )
    if isinstance(exc, sqlite3.ProgrammingError):
        return StorageError(f"could not {doing}: the database is closed")
    return StorageError(f"could not {doing}: {exc}")
