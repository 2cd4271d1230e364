"""Open the kiosk's database at start-up so that the exhibit always comes up.

``Store.open`` refuses a damaged file with a clear ``StorageError``; that is
right for ``kiosk import`` but wrong for the touchscreen, which must show a
working kiosk whatever the SD card did. ``open_for_kiosk`` therefore:

1. opens the database and checks it the way the kiosk will use it (SQLite's
   ``quick_check``, the expected tables and columns, every live dataset and
   model list read back, text decoded);
2. if that fails, moves the file (with its ``-wal`` and ``-shm``) aside under
   a ``.damaged-<time>`` name (kept, never deleted), recovers what it can
   (``sqlite3 .recover`` when the sqlite3 program is installed, else reading
   every row that still reads) into a new database with the current schema,
   row by row, dropping only rows that fail the same checks;
3. if even that fails, starts on a fresh database; on a full disk, on an
   in-memory one with recording turned off.

What happened is returned as a ``StartupReport``: the journal gets it at
start-up, ``kiosk doctor`` reads the ``.damaged-*`` files and the report file
beside the database, and the admin screen can show ``report.staff_lines()``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.errors import StorageError, StorageFullError
from kiosk.i18n import N_, _
from kiosk.store.database import SAMPLE_DTYPE, Store
from kiosk.store.schema import migrate

log = logging.getLogger(__name__)

# Below this much free space the kiosk starts with recording turned off: a
# recording is ~10 kB, but SQLite needs room for its WAL and a checkpoint.
MIN_FREE_BYTES = 8 * 1024 * 1024
# The database may use at most this share of its file system, and never more
# than MAX_DB_BYTES: a runaway kiosk must not fill the SD card (the system
# needs the rest). Saves beyond the cap fail like a full disk.
DB_SHARE_OF_DISK = 0.5
MAX_DB_BYTES = 2 * 1024**3
MIN_DB_CAP_BYTES = 16 * 1024 * 1024
RECOVER_TIMEOUT_S = 120.0
REPORT_FILENAME = "startup-report.json"
DAMAGED_MARK = ".damaged-"

# The columns the kiosk reads, per table, in the order rows are copied
# (parents first, so foreign keys can be checked at the end).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "project": ("id", "name", "createai_form", "created_at"),
    "dataset": ("id", "project_id", "snapshot_name", "created_at"),
    "action": (
        "key",
        "dataset_id",
        "id",
        "position",
        "name",
        "icon",
        "threshold",
        "created_at",
        "extra",
    ),
    "recording": (
        "key",
        "action_key",
        "dataset_id",
        "id",
        "position",
        "n_samples",
        "samples",
        "sample_period_ms",
        "arrival_rate_hz",
        "created_at",
    ),
    "model": ("id", "project_id", "snapshot_id", "created_at", "tflite", "metrics"),
}
TEXT_COLUMNS = {
    "project": {"name", "createai_form"},
    "dataset": {"snapshot_name"},
    "action": {"id", "name", "icon", "extra"},
    "recording": {"id"},
    "model": {"metrics"},
}
JSON_COLUMNS = {("action", "extra"), ("model", "metrics")}
# What a column a damaged file lacks is filled with (the schema's defaults).
COLUMN_DEFAULTS: dict[tuple[str, str], object] = {
    ("project", "createai_form"): "current",
    ("action", "extra"): "{}",
    ("action", "threshold"): 0.8,
}
NULLABLE = {
    ("dataset", "snapshot_name"),
    ("action", "icon"),
    ("action", "created_at"),
    ("recording", "sample_period_ms"),
    ("recording", "arrival_rate_hz"),
    ("recording", "created_at"),
    ("model", "snapshot_id"),
}


@dataclass
class StartupReport:
    """What happened to the database at start-up, for the journal, doctor and admin."""

    path: str
    outcome: str = "ok"  # ok | wal-aside | recovered | fresh | memory
    recording_enabled: bool = True
    problem: str = ""  # why the database could not be used as it was
    moved_aside: list[str] = field(default_factory=list)
    recovered_rows: dict[str, int] = field(default_factory=dict)
    dropped_rows: int = 0
    recovery_tool: str = ""  # "sqlite3 .recover" | "row copy" | ""
    free_bytes: int | None = None
    cap_bytes: int | None = None
    at: float = field(default_factory=time.time)

    @property
    def clean(self) -> bool:
        return self.outcome == "ok" and self.recording_enabled

    @property
    def visitor_line(self) -> str | None:
        """One short sentence for visitors, or None when there is nothing to say."""
        if not self.recording_enabled:
            return _("Recording is switched off for now. Please tell a member of staff.")
        return None

    @property
    def summary(self) -> str:
        """One short line (systemd's STATUS=, a banner): what happened, not the detail."""
        return self._summary(str)

    @property
    def summary_shown(self) -> str:
        """``summary`` in the language on screen (the admin screen's first line)."""
        return self._summary(_)

    def _summary(self, translate: Callable[[str], str]) -> str:
        parts = {
            "ok": "",
            "wal-aside": translate(N_("a foreign -wal file was moved aside")),
            "recovered": translate(
                N_("database damaged: moved aside, {rows} rows recovered")
            ).format(rows=sum(self.recovered_rows.values())),
            "fresh": translate(N_("database damaged: moved aside, started on an empty one")),
            "memory": translate(N_("database unusable: nothing is saved")),
        }
        text = parts.get(self.outcome, self.outcome)
        if not self.recording_enabled:
            text = (text + "; " if text else "") + translate(N_("storage full: recording off"))
        if not text:
            return translate(N_("database ok"))
        return translate(N_("{summary} (see kiosk doctor)")).format(summary=text)

    def staff_lines(self) -> list[str]:
        """What staff should know, in plain sentences (empty when all went well)."""
        lines = []
        if self.outcome == "wal-aside":
            lines.append(
                "A -wal file left by another database lay beside the database; it was moved "
                "aside so it could not replace the kiosk's data, and the database used as it was."
            )
        if self.outcome == "recovered":
            kept = sum(self.recovered_rows.values())
            lines.append(
                f"The database was damaged ({self.problem}). It was moved aside and "
                f"{kept} rows were recovered into a new one with {self.recovery_tool}"
                + (
                    f"; {self.dropped_rows} damaged rows were left out."
                    if self.dropped_rows
                    else "."
                )
            )
        elif self.outcome == "fresh":
            lines.append(
                f"The database could not be used ({self.problem}); it was moved aside and "
                "the kiosk started on an empty one."
            )
        elif self.outcome == "memory":
            lines.append(
                f"The database could not be opened ({self.problem}); the kiosk runs without "
                "saving anything until this is fixed."
            )
        if self.moved_aside:
            lines.append("Kept for inspection: " + ", ".join(self.moved_aside))
        if not self.recording_enabled:
            free = "" if self.free_bytes is None else f" ({self.free_bytes // 1024} kB free)"
            lines.append(
                f"The storage is full{free}: recording is turned off. Delete old projects or "
                "free space on the SD card, then restart the kiosk."
            )
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "outcome": self.outcome,
            "recording_enabled": self.recording_enabled,
            "problem": self.problem,
            "moved_aside": list(self.moved_aside),
            "recovered_rows": dict(self.recovered_rows),
            "dropped_rows": self.dropped_rows,
            "recovery_tool": self.recovery_tool,
            "free_bytes": self.free_bytes,
            "cap_bytes": self.cap_bytes,
            "at": self.at,
            "staff": self.staff_lines(),
        }


def open_for_kiosk(
    path: str | Path,
    *,
    max_bytes: int | None = None,
    free_bytes: Callable[[Path], int] | None = None,
    sqlite3_program: str | None = "sqlite3",
) -> tuple[Store, StartupReport]:
    """A usable Store whatever state ``path`` is in, and what was done to get it. Never raises.

    ``max_bytes`` None picks the cap from the file system (see db_cap_bytes).
    ``free_bytes`` and ``sqlite3_program`` (None: recover in Python) are for tests.
    """
    path = Path(path)
    report = StartupReport(str(path))
    try:
        return _open_for_kiosk(path, report, max_bytes, free_bytes or _free_bytes, sqlite3_program)
    except Exception as error:  # the exhibit must come up: last resort, a memory store
        log.exception("opening the database %s failed unexpectedly", path)
        report.outcome = "memory"
        report.problem = report.problem or _describe(error)
        report.recording_enabled = False
        return _memory_store(), report


def _open_for_kiosk(
    path: Path,
    report: StartupReport,
    max_bytes: int | None,
    free_bytes: Callable[[Path], int],
    program: str | None,
) -> tuple[Store, StartupReport]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        report.outcome, report.problem = "memory", f"cannot create {path.parent}: {error}"
        report.recording_enabled = False
        return _memory_store(), report
    report.free_bytes = free_bytes(path.parent)
    report.cap_bytes = max_bytes if max_bytes is not None else db_cap_bytes(path)
    if report.free_bytes < MIN_FREE_BYTES:
        report.recording_enabled = False
    _set_aside_a_foreign_wal(path, report)
    store, problem = _try_open(path, report.cap_bytes)
    if store is not None:
        return store, _finish(report, path)
    assert problem is not None
    report.problem = _describe(problem)
    if (
        isinstance(problem, StorageFullError)
        or report.free_bytes < MIN_FREE_BYTES
        or not _is_file_problem(path, problem)
    ):
        # Nothing says the file is damaged: there is no room to open it (SQLite
        # needs to write its -shm), another program holds it, or the folder is
        # the problem. Never move a good database aside for that: run on a
        # copy in memory, with recording off, and say so.
        report.outcome, report.recording_enabled = "memory", False
        return _memory_copy(path), report
    aside = _move_aside(path, report)
    if aside is None:
        report.outcome, report.recording_enabled = "memory", False
        return _memory_store(), report
    log.error("database %s cannot be used (%s): moved aside to %s", path, report.problem, aside)
    if aside.is_file():
        _recover(aside, path, report, program)
    store, problem = _try_open(path, report.cap_bytes)
    if store is None:  # the recovered copy would not do: start empty
        if path.exists():
            _move_aside(path, report)
        report.recovered_rows, report.recovery_tool = {}, ""
        store, problem = _try_open(path, report.cap_bytes)
    if store is None:
        report.outcome, report.recording_enabled = "memory", False
        report.problem += f"; a new database failed too ({_describe(problem)})"
        return _memory_store(), report
    report.outcome = "recovered" if report.recovered_rows else "fresh"
    return store, _finish(report, path)


def _finish(report: StartupReport, path: Path) -> StartupReport:
    for line in report.staff_lines():
        log.warning("start-up: %s", line)
    if report.outcome != "ok" or not report.recording_enabled:
        write_report(report, path.parent / REPORT_FILENAME)
    return report


def write_report(report: StartupReport, where: Path) -> None:
    """Keep the report beside the database for ``kiosk doctor`` (best effort: disk may be full)."""
    try:
        where.write_text(json.dumps(report.as_dict(), indent=1), encoding="utf-8")
    except OSError as error:
        log.warning("could not write %s: %s", where, error)


def read_report(where: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _try_open(path: Path, cap: int | None) -> tuple[Store | None, BaseException | None]:
    store = None
    try:
        store = Store.open(path, max_bytes=cap)
        verify_for_kiosk(store)
        return store, None
    except Exception as error:  # any failure here means "do not use this file"
        if store is not None:
            try:
                store.close()
            except Exception:  # a damaged file may fail to close too
                log.debug("closing a damaged database failed", exc_info=True)
        return None, error


def verify_for_kiosk(store: Store) -> None:
    """Raise StorageError unless the kiosk can read everything it will need from ``store``."""
    problems = store.quick_check()
    if problems:
        raise StorageError(f"SQLite's check found: {problems[0]}")
    for table, columns in TABLE_COLUMNS.items():
        have = set(store.columns(table))
        missing = [c for c in columns if c not in have]
        if missing:
            raise StorageError(f"table {table} lacks {', '.join(missing)}")
    for project in store.list_projects():
        store.load_dataset(project.id)
        store.list_models(project.id)
        for snapshot in store.list_snapshots(project.id):
            store.load_snapshot(snapshot.id)


def _set_aside_a_foreign_wal(path: Path, report: StartupReport) -> None:
    """Move aside a -wal that would turn a kiosk database into something else.

    SQLite applies any -wal whose own checksums are right, even one left by
    another database; the kiosk would then see an empty database and write
    it over the real one at the next checkpoint.
    """
    wal = path.with_name(path.name + "-wal")
    try:
        if not wal.is_file() or wal.stat().st_size == 0 or not path.is_file():
            return
        with path.open("rb") as handle:
            header = handle.read(100)
        if len(header) < 100 or not header.startswith(b"SQLite format 3\0"):
            return
        on_disk = int.from_bytes(header[60:64], "big")
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            seen = int(connection.execute("PRAGMA user_version").fetchone()[0])
        finally:
            connection.close()
    except (OSError, sqlite3.Error, UnicodeDecodeError):
        return  # the open that follows finds out
    if on_disk >= 1 and seen < on_disk:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        aside = wal.with_name(f"{path.name}{DAMAGED_MARK}{stamp}-wal-foreign")
        try:
            os.replace(wal, aside)
            path.with_name(path.name + "-shm").unlink(missing_ok=True)
        except OSError as error:
            log.error("cannot move the foreign %s aside: %s", wal, error)
            return
        report.moved_aside.append(aside.name)
        report.problem = "its -wal file belonged to another database"
        report.outcome = "wal-aside"


def _is_file_problem(path: Path, error: BaseException) -> bool:
    """True when the file itself is the problem (so moving it aside can help)."""
    if not path.exists() and not path.is_symlink():
        return False  # nothing to move: the folder is the problem
    text = str(error)
    # Busy, read-only, an I/O error: the file may be fine, the moment or the device is not.
    return not (
        isinstance(error, StorageError)
        and any(
            words in text
            for words in ("read-only", "another program", "reported an error", "storage is full")
        )
    )


def _move_aside(path: Path, report: StartupReport) -> Path | None:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = path.with_name(f"{path.name}{DAMAGED_MARK}{stamp}")
    n = 1
    while aside.exists() or aside.is_symlink():
        n += 1
        aside = path.with_name(f"{path.name}{DAMAGED_MARK}{stamp}-{n}")
    try:
        os.replace(path, aside)
    except OSError as error:
        report.problem += f"; it could not be moved aside ({error.strerror or error})"
        log.error("cannot move %s aside: %s", path, error)
        return None
    report.moved_aside.append(aside.name)
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            try:
                # The WAL holds committed changes: it goes with the file, under a
                # name SQLite pairs with the moved file.
                os.replace(companion, aside.with_name(aside.name + suffix))
                report.moved_aside.append(aside.name + suffix)
            except OSError as error:
                log.warning("cannot move %s aside: %s", companion, error)
    return aside


# --- recovery ---------------------------------------------------------------------------


def _recover(damaged: Path, target: Path, report: StartupReport, program: str | None) -> None:
    """Fill a new database at ``target`` with every good row found in ``damaged``.

    Two sources are tried and the one giving more rows is kept: the sqlite3
    program's ``.recover`` (reads raw pages, so it gets past a damaged schema;
    some builds lack the page reader it needs and return nothing) and a row
    copy straight from the damaged file (skips over unreadable pages).
    """
    best: tuple[int, dict[str, int], int, str] = (0, {}, 0, "")
    scratch = target.with_name(target.name + ".recovering")
    candidate = target.with_name(target.name + ".candidate")
    sources: list[tuple[Path, str]] = []
    _remove(scratch, candidate)
    if program and shutil.which(program) and _sqlite3_recover(program, damaged, scratch):
        sources.append((scratch, "sqlite3 .recover"))
    sources.append((damaged, "row copy"))
    try:
        for source, tool in sources:
            _remove(candidate)
            try:
                rows, dropped = _copy_rows(source, candidate)
            except (sqlite3.Error, StorageError, OSError) as error:
                log.warning("recovery with %s from %s failed: %s", tool, damaged, error)
                continue
            if sum(rows.values()) > best[0]:
                _remove(target)
                os.replace(candidate, target)
                best = (sum(rows.values()), rows, dropped, tool)
    finally:
        _remove(scratch, candidate)
    _, report.recovered_rows, report.dropped_rows, report.recovery_tool = best


def _remove(*paths: Path) -> None:
    for path in paths:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _sqlite3_recover(program: str, damaged: Path, scratch: Path) -> bool:
    """``sqlite3 damaged .recover | sqlite3 scratch``; False when it did not work."""
    try:
        dump = subprocess.run(
            [program, "-readonly", str(damaged), ".recover"],
            capture_output=True,
            timeout=RECOVER_TIMEOUT_S,
            check=False,
        )
        if not dump.stdout:
            return False
        subprocess.run(
            [program, str(scratch)],
            input=dump.stdout,
            capture_output=True,
            timeout=RECOVER_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        log.warning("sqlite3 .recover failed: %s", error)
        return False
    # The loader reports statements it could not run (a damaged schema line);
    # the rows it could load are still there. Whether there are any is for
    # the row copy to find out.
    return scratch.exists()


def _copy_rows(source: Path, target: Path) -> tuple[dict[str, int], int]:
    """Copy each readable, valid row of the kiosk's tables from ``source`` into a new ``target``."""
    fresh = Store.open(target)
    fresh.close()
    try:
        return _copy_rows_from(source, target)
    except sqlite3.DatabaseError:
        # "file is not a database": the 100-byte header is gone; the pages may be fine.
        patched = _with_fresh_header(source, target.with_name(target.name + ".patched"))
        if patched is None:
            raise
        try:
            return _copy_rows_from(patched, target)
        finally:
            _remove(patched)


def _with_fresh_header(source: Path, patched: Path) -> Path | None:
    """A copy of ``source`` with a new header (4096-byte pages, as the kiosk makes them)."""
    try:
        data = bytearray(source.read_bytes())
    except OSError:
        return None
    if len(data) < 2 * 4096:
        return None
    template = patched.with_name(patched.name + ".template")
    _remove(template)
    maker = sqlite3.connect(template, isolation_level=None)
    try:
        maker.execute("PRAGMA page_size = 4096")
        maker.execute("CREATE TABLE t (x)")
    finally:
        maker.close()
    header = bytearray(template.read_bytes()[:100])
    _remove(template)
    header[28:32] = (len(data) // 4096).to_bytes(4, "big")  # pages in the file
    header[32:40] = bytes(8)  # no freelist: a damaged one would only mislead
    header[40:44] = (1).to_bytes(4, "big")  # schema cookie: read sqlite_master
    header[60:64] = (1).to_bytes(4, "big")  # user_version
    data[:100] = header
    patched.write_bytes(bytes(data[: len(data) // 4096 * 4096]))
    return patched


def _copy_rows_from(source: Path, target: Path) -> tuple[dict[str, int], int]:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, isolation_level=None)
    src.text_factory = bytes  # decode each value here, so one bad byte drops one row
    # Tolerate CREATE text SQLite cannot parse: the tables' pages can still be read.
    src.execute("PRAGMA writable_schema = ON")
    src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # "not a database" shows here
    dst = sqlite3.connect(target, isolation_level=None)
    copied: dict[str, int] = {}
    dropped = 0
    try:
        dst.execute("PRAGMA foreign_keys = OFF")
        dst.execute("BEGIN IMMEDIATE")
        for table, columns in TABLE_COLUMNS.items():
            count = 0
            placeholders = ", ".join("?" for _ in columns)
            insert = f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
            for row in _readable_rows(src, table, columns):
                clean = _clean_row(table, columns, row)
                if clean is None:
                    dropped += 1
                    continue
                try:
                    if dst.execute(insert, clean).rowcount:
                        count += 1
                    else:
                        dropped += 1
                except sqlite3.IntegrityError:
                    dropped += 1
            copied[table] = count
        dropped += _drop_orphans(dst)
        dst.execute("COMMIT")
    except BaseException:
        if dst.in_transaction:
            dst.execute("ROLLBACK")
        raise
    finally:
        src.close()
        dst.close()
    return copied, dropped


def _readable_rows(
    src: sqlite3.Connection, table: str, columns: tuple[str, ...]
) -> Iterator[tuple]:
    """The rows of ``table`` SQLite can still read, in rowid order, jumping over damaged pages."""
    try:
        have = {
            bytes(row[0]).decode("utf-8", "replace") if isinstance(row[0], bytes) else str(row[0])
            for row in src.execute("SELECT name FROM pragma_table_info(?)", (table,))
        }
    except sqlite3.Error:
        have = set()
    if not have:
        return
    chosen = []
    for column in columns:
        if column in have:
            chosen.append(column)
        elif (table, column) in COLUMN_DEFAULTS:
            chosen.append(_sql_literal(COLUMN_DEFAULTS[table, column]))
        elif (table, column) in NULLABLE:
            chosen.append("NULL")
        else:
            log.warning("recovery: table %s lacks %s; its rows are lost", table, column)
            return
    query = f"SELECT rowid, {', '.join(chosen)} FROM {table} WHERE rowid > ? ORDER BY rowid"
    last = -(2**63)
    step = 1
    failures = 0
    while failures < 64:
        try:
            cursor = src.execute(query, (last,))
        except sqlite3.Error as error:  # no such table or column: nothing to copy
            log.warning("recovery: cannot read %s: %s", table, error)
            return
        try:
            for row in cursor:
                last, step = int(row[0]), 1
                yield tuple(row[1:])
            return
        except sqlite3.Error:
            # A damaged page: start again further on, a bigger jump each time.
            failures += 1
            last = max(last, 0) + step
            step *= 4


def _sql_literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _clean_row(table: str, columns: tuple[str, ...], row: tuple) -> tuple | None:
    """The row with text decoded and checked, or None when it cannot be trusted."""
    out: list[Any] = []
    texts = TEXT_COLUMNS[table]
    for name, value in zip(columns, row, strict=True):
        if name in texts and value is not None:
            if not isinstance(value, bytes | str):
                return None
            if isinstance(value, bytes):
                try:
                    value = value.decode("utf-8")
                except UnicodeDecodeError:
                    if name == "id":
                        return None  # an id must match exactly, or not at all
                    # A damaged byte in a name costs the byte (shown as U+FFFD), not the move.
                    value = value.decode("utf-8", "replace")
            if name == "name":
                value = "".join("\ufffd" if ord(ch) < 32 else ch for ch in value)
            if (table, name) in JSON_COLUMNS:
                try:
                    if not isinstance(json.loads(value), dict):
                        raise ValueError("not an object")
                except ValueError:
                    if (table, name) != ("action", "extra"):
                        return None
                    value = "{}"  # CreateAI's unused fields: losing them costs nothing
        out.append(value)
    values = dict(zip(columns, out, strict=True))
    if table == "recording":
        blob, n = values["samples"], values["n_samples"]
        if not isinstance(blob, bytes) or not isinstance(n, int):
            return None
        if n <= 0 or len(blob) != n * 3 * SAMPLE_DTYPE.itemsize:
            return None
    if table == "model" and not isinstance(values["tflite"], bytes):
        return None
    if table == "action":
        threshold = values["threshold"]
        if not isinstance(threshold, int | float) or not math.isfinite(threshold):
            return None
    return tuple(out)


def _drop_orphans(dst: sqlite3.Connection) -> int:
    """Delete rows whose parent was lost, children first; returns how many."""
    statements = (
        "DELETE FROM dataset WHERE project_id NOT IN (SELECT id FROM project)",
        # a project without its live dataset cannot be opened: give it one back
        """INSERT INTO dataset (project_id, snapshot_name, created_at)
           SELECT id, NULL, created_at FROM project p WHERE NOT EXISTS
           (SELECT 1 FROM dataset d WHERE d.project_id = p.id AND d.snapshot_name IS NULL)""",
        "DELETE FROM action WHERE dataset_id NOT IN (SELECT id FROM dataset)",
        """DELETE FROM recording WHERE action_key NOT IN (SELECT key FROM action)
           OR dataset_id NOT IN (SELECT id FROM dataset)""",
        "DELETE FROM model WHERE project_id NOT IN (SELECT id FROM project)",
        """UPDATE model SET snapshot_id = NULL
           WHERE snapshot_id IS NOT NULL AND snapshot_id NOT IN (SELECT id FROM dataset)""",
    )
    removed = 0
    for number, statement in enumerate(statements):
        changed = dst.execute(statement).rowcount
        if number != 1:
            removed += max(0, changed)
    return removed


# --- space ------------------------------------------------------------------------------


def _free_bytes(folder: Path) -> int:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return 0


def db_cap_bytes(path: Path) -> int:
    """The size the database may grow to: half its file system, at most MAX_DB_BYTES."""
    try:
        total = shutil.disk_usage(path.parent).total
    except OSError:
        return MAX_DB_BYTES
    return max(MIN_DB_CAP_BYTES, min(MAX_DB_BYTES, int(total * DB_SHARE_OF_DISK)))


def _memory_store() -> Store:
    return Store.open(":memory:")


MAX_MEMORY_COPY_BYTES = 64 * 1024 * 1024


def _memory_copy(path: Path) -> Store:
    """The database at ``path`` copied into memory (read-only use of the file), else empty.

    For a kiosk that cannot write its folder: the visitor still sees the
    moves and recordings (a visit interrupted by the restart resumes), and
    nothing on the card is touched.
    """
    try:
        if not path.is_file() or path.stat().st_size > MAX_MEMORY_COPY_BYTES:
            return _memory_store()
    except OSError:
        return _memory_store()
    # mode=ro sees the WAL's changes but needs the -shm; immutable needs nothing.
    for query in ("mode=ro", "immutable=1"):
        store = None
        try:
            store = _open_memory_copy(path, query)
            verify_for_kiosk(store)
            return store
        except Exception as error:  # try the next way, then an empty store
            log.warning("could not copy %s into memory (%s): %s", path, query, error)
            if store is not None:
                store.close()
    return _memory_store()


def _open_memory_copy(path: Path, query: str) -> Store:
    connection = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    source = sqlite3.connect(f"file:{path}?{query}", uri=True)
    try:
        source.backup(connection)
    finally:
        source.close()
    connection.execute("PRAGMA foreign_keys = ON")
    migrate(connection)
    return Store(connection, Path(":memory:"))


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "unknown problem"
    if isinstance(error, UnicodeDecodeError):
        return "it holds text that is not valid UTF-8 (a damaged byte)"
    text = str(error) or type(error).__name__
    return text if isinstance(error, StorageError) else f"{type(error).__name__}: {text}"


def damaged_files(folder: Path, name: str) -> list[Path]:
    """Databases moved aside in ``folder`` (for ``kiosk doctor``)."""
    try:
        return sorted(
            p
            for p in folder.glob(f"{name}{DAMAGED_MARK}*")
            if not p.name.endswith(("-wal", "-shm"))
        )
    except OSError:
        return []
