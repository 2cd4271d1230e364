"""Power-cut safety: a writer process killed with SIGKILL at random moments loses nothing
that it had been told was saved, and never leaves a damaged database.

Each trial forks a writer that opens the store and saves recordings in a loop;
after each ``add_recording`` returns it writes "id index" to a pipe. The test
kills it after a random delay (sometimes while opening, mostly mid-save or
mid-checkpoint), reopens the database and checks: ``PRAGMA integrity_check``
is ok, every reported recording is present with exactly its samples, and every
recording present at all is intact (its samples are rebuilt from the index
stored in ``created_at``). The same database carries over from trial to trial,
like a kiosk switched off every evening.

fork() rather than a fresh interpreter keeps a trial at a few milliseconds;
the child is a separate process with its own SQLite connection (the parent
holds none at fork time), and SIGKILL gives it no chance to clean up.
"""

from __future__ import annotations

import os
import random
import select
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from kiosk.store.database import Store
from tests.store.helpers import recording, samples_for

TRIALS = 120
OPENING_DELAY_S = 0.03
OPENING_SHARE = 0.2  # share of trials killed while the writer is still opening the store


def _writer(db_path: Path, pipe: int, first_index: int) -> None:
    """The child: save recordings forever, reporting each one after it returns."""
    store = Store.open(db_path)
    project = store.ensure_project("power")
    dataset = store.load_dataset(project)
    action = dataset.actions[0].id if dataset.actions else store.add_action(project, "a", None)
    os.write(pipe, b"ready\n")
    index = first_index
    while True:
        rec_id = store.add_recording(action, recording(index, created_at=index))
        os.write(pipe, f"{rec_id} {index}\n".encode())
        index += 1


def _run_trial(db_path: Path, first_index: int, rng: random.Random) -> dict[str, int]:
    """One writer, killed at a random moment; returns the saves it reported (id -> index)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        try:
            os.close(read_end)
            _writer(db_path, write_end, first_index)
        finally:
            os._exit(1)
    os.close(write_end)
    received = b""
    deadline: float | None = None
    if rng.random() < OPENING_SHARE:
        # Kill while it opens the database (WAL recovery, schema check, first writes).
        deadline = time.monotonic() + rng.uniform(0.0, OPENING_DELAY_S)
    else:
        # Kill while it saves: after a few reported saves, at a random point of the
        # next save cycle, scaled by how long the last one took (machines differ).
        wanted = rng.randint(1, 4)
        last_line_at = time.monotonic()
    while True:
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            break
        timeout = 10.0 if deadline is None else deadline - now
        ready, _, _ = select.select([read_end], [], [], timeout)
        if not ready:
            assert deadline is not None, "the writer stopped reporting"
            continue
        received += os.read(read_end, 65536)
        if deadline is None:
            now = time.monotonic()
            if received.count(b"\n") > wanted:  # "ready" plus the wanted saves
                deadline = now + rng.uniform(0.0, 1.5 * (now - last_line_at))
            last_line_at = now
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status), "the writer stopped by itself"
    while chunk := os.read(read_end, 65536):  # lines written before the kill count too
        received += chunk
    os.close(read_end)
    lines = [line.split() for line in received.decode().splitlines() if line != "ready"]
    return {rec_id: int(index) for rec_id, index in lines}


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_saved_recording(tmp_path: Path) -> None:
    db_path = tmp_path / "kiosk.sqlite3"
    rng = random.Random(20240611)
    reported: dict[str, int] = {}
    killed_with_saves = 0
    started = time.monotonic()
    for trial in range(TRIALS):
        saved = _run_trial(db_path, trial * 1_000_000, rng)
        killed_with_saves += bool(saved)
        reported.update(saved)
        with Store.open(db_path) as store:
            assert store.check() == [], f"trial {trial}: integrity check failed"
            project = store.project_id("power")
            if project is None:  # killed before the first commit
                assert not reported
                continue
            recordings = {r.id: r for _, _, r in store.load_dataset(project).labelled_recordings()}
        missing = set(reported) - set(recordings)
        assert not missing, f"trial {trial}: saved recordings lost: {sorted(missing)[:5]}"
        for rec_id, index in reported.items():
            assert recordings[rec_id].created_at == index
        for rec in recordings.values():  # reported or not, nothing is half-written
            assert rec.created_at is not None
            assert np.array_equal(rec.samples, samples_for(rec.created_at)), rec.id
    elapsed = time.monotonic() - started
    # Committed but killed before it could report: proof that kills hit the save cycle.
    unreported = len(set(recordings) - set(reported))
    print(
        f"\npower-cut: {TRIALS} SIGKILL trials, {len(reported)} reported saves, "
        f"{unreported} committed but unreported, {killed_with_saves} kills after at least "
        f"one save, {elapsed:.1f} s"
    )
    assert killed_with_saves >= TRIALS // 2  # most kills land mid-stream, not at start-up
    assert len(reported) > TRIALS
