"""The database schema, in one place, as numbered migrations.

``PRAGMA user_version`` records how many migrations a database has had; at
open the store applies the missing ones in order, each in its own transaction
together with the new version number, so a power cut mid-migration leaves the
previous version intact. Never edit a migration that has shipped: append one.

Layout: a project owns datasets. Its live dataset (``snapshot_name`` NULL) is
the one visitors record into; a snapshot is a frozen copy with a name.
Actions and recordings belong to a dataset, so a snapshot reuses the same
tables and the same loading code. Recording samples are a blob of float64
little-endian x, y, z triples (row-major), so every number read from a file
comes back bit for bit; ``n_samples`` is stored beside it and checked.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from kiosk.errors import StorageError

MIGRATIONS: Sequence[Sequence[str]] = (
    # 1: projects, datasets (live + snapshots), actions, recordings, models
    (
        """CREATE TABLE project (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
            createai_form TEXT NOT NULL DEFAULT 'current'
                CHECK (createai_form IN ('current', 'legacy')),
            created_at INTEGER NOT NULL
        )""",
        """CREATE TABLE dataset (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES project(id) ON DELETE CASCADE,
            snapshot_name TEXT,
            created_at INTEGER NOT NULL,
            UNIQUE (project_id, snapshot_name)
        )""",
        # NULLs never clash in UNIQUE, so this keeps one live dataset per project.
        "CREATE UNIQUE INDEX dataset_one_live ON dataset(project_id) WHERE snapshot_name IS NULL",
        """CREATE TABLE action (
            key INTEGER PRIMARY KEY,
            dataset_id INTEGER NOT NULL REFERENCES dataset(id) ON DELETE CASCADE,
            id TEXT NOT NULL,
            position INTEGER NOT NULL,
            name TEXT NOT NULL CHECK (length(trim(name)) > 0),
            icon TEXT,
            threshold REAL NOT NULL DEFAULT 0.8 CHECK (threshold BETWEEN 0 AND 1),
            created_at INTEGER,
            extra TEXT NOT NULL DEFAULT '{}',
            UNIQUE (dataset_id, id),
            UNIQUE (dataset_id, name)
        )""",
        """CREATE TABLE recording (
            key INTEGER PRIMARY KEY,
            action_key INTEGER NOT NULL REFERENCES action(key) ON DELETE CASCADE,
            dataset_id INTEGER NOT NULL REFERENCES dataset(id) ON DELETE CASCADE,
            id TEXT NOT NULL,
            position INTEGER NOT NULL,
            n_samples INTEGER NOT NULL CHECK (n_samples > 0),
            samples BLOB NOT NULL CHECK (length(samples) = 24 * n_samples),
            sample_period_ms REAL,
            arrival_rate_hz REAL,
            created_at INTEGER,
            UNIQUE (dataset_id, id)
        )""",
        "CREATE INDEX recording_by_action ON recording(action_key, position)",
        # Ids are looked up on their own (delete_recording(id), fresh-id checks).
        "CREATE INDEX action_by_id ON action(id)",
        "CREATE INDEX recording_by_id ON recording(id)",
        """CREATE TABLE model (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES project(id) ON DELETE CASCADE,
            snapshot_id INTEGER REFERENCES dataset(id) ON DELETE SET NULL,
            created_at INTEGER NOT NULL,
            tflite BLOB NOT NULL,
            metrics TEXT NOT NULL
        )""",
        "CREATE INDEX model_by_project ON model(project_id, id)",
        "CREATE INDEX model_by_snapshot ON model(snapshot_id)",
    ),
    # 2: the visit in progress per project (wall-clock ms), so a restart within
    # the visit window comes back to the same visitor's work
    (
        """CREATE TABLE visit (
            project_id INTEGER PRIMARY KEY REFERENCES project(id) ON DELETE CASCADE,
            started_at INTEGER NOT NULL,
            last_active INTEGER NOT NULL
        )""",
    ),
)

LATEST_VERSION = len(MIGRATIONS)


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the database up to LATEST_VERSION; returns the version it had before.

    The connection must be in autocommit mode (isolation_level=None) so that
    BEGIN/COMMIT here are the only transaction boundaries.
    """
    before = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if before > LATEST_VERSION:
        raise StorageError(
            f"the database was written by a newer kiosk (schema {before}, this one knows "
            f"{LATEST_VERSION}); update the kiosk software"
        )
    for version in range(before + 1, LATEST_VERSION + 1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the lock.
            current = int(connection.execute("PRAGMA user_version").fetchone()[0])
            if current >= version:
                connection.execute("ROLLBACK")
                continue
            for statement in MIGRATIONS[version - 1]:
                connection.execute(statement)
            # user_version is part of the transaction: it commits with the tables.
            connection.execute(f"PRAGMA user_version = {version:d}")
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
    return before
