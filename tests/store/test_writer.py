"""The store's writer thread: changes in order, off the caller's thread, kept once committed.

The slow disk is the store's ``before_commit`` hook (called inside each write
transaction just before its COMMIT, whose fsync makes it durable): it sleeps
200 ms and notes the thread it ran on. Behaviour is asserted (which thread
waited, what survived a kill -9), never time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from kiosk.dataset import Recording
from kiosk.errors import StorageError
from kiosk.ml.windows import CURRENT_WINDOW
from kiosk.session.visitor_data import VisitorData
from kiosk.store.database import Store
from kiosk.store.writer import Writer

SLOW_COMMIT_S = 0.2


def _recording(seed: int) -> Recording:
    rng = np.random.default_rng(seed)
    return Recording(rng.normal(0, 1, (50, 3)))


class SlowDisk:
    """Every commit waits ``delay`` s; the threads that waited are noted."""

    def __init__(self, delay: float = SLOW_COMMIT_S) -> None:
        self.delay = delay
        self.threads: list[threading.Thread] = []

    def __call__(self) -> None:
        self.threads.append(threading.current_thread())
        time.sleep(self.delay)


def test_changes_run_in_order_on_the_writer_and_are_told_on_the_callers_thread(
    tmp_path: Path,
) -> None:
    store = Store.open(tmp_path / "k.sqlite3")
    writer = Writer(store)
    project = store.ensure_project("p")
    disk = store.before_commit = SlowDisk(0.01)
    done: list[tuple[str, threading.Thread]] = []
    for name in ("Still", "Shake", "Circle"):
        writer.submit(
            lambda s, n=name: s.add_action(project, n, None),
            on_done=lambda _id, n=name: done.append((n, threading.current_thread())),
        )
    assert done == []  # nothing is told before deliver, whatever the writer has done
    assert writer.flush()
    assert [n for n, _ in done] == ["Still", "Shake", "Circle"]
    assert all(t is threading.current_thread() for _, t in done)
    assert disk.threads and threading.current_thread() not in disk.threads
    assert [a.name for a in store.load_dataset(project).actions] == ["Still", "Shake", "Circle"]
    writer.close()
    assert not writer.alive
    store.close()


def test_a_drag_writes_its_last_value_and_a_refused_change_is_reported(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "k.sqlite3")
    writer = Writer(store)
    project = store.ensure_project("p")
    action = store.add_action(project, "Still", None)
    hold, started = threading.Event(), threading.Event()

    def blocking(_: Store) -> None:
        started.set()
        assert hold.wait(60)

    writer.submit(blocking)
    assert started.wait(60)  # the writer is busy: what follows waits in the queue
    ran: list[float] = []
    for value in (0.3, 0.4, 0.5, 0.6):
        writer.submit(
            lambda s, v=value: (ran.append(v), s.set_threshold(action, v)),
            key=("threshold", action),
        )
    errors: list[StorageError] = []
    writer.submit(lambda s: s.add_action(project, "Still", None), on_error=errors.append)
    hold.set()
    assert writer.flush()
    assert ran == [0.6]
    assert store.load_dataset(project).actions[0].threshold == 0.6
    assert len(errors) == 1 and "already an action" in str(errors[0])
    writer.close()
    with pytest.raises(StorageError):
        writer.submit(lambda s: None)
    store.close()


def test_recordings_show_at_once_and_count_as_kept_only_once_committed(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "k.sqlite3")
    writer = Writer(store)
    data = VisitorData(store, "p", CURRENT_WINDOW, writer=writer)  # start-up: the project
    disk = store.before_commit = SlowDisk()
    data.add_action("Still", "still")
    kept: list[str] = []
    entry = data.keep_recording(0, _recording(1), lambda e: kept.append(e.id))
    assert data.n_recordings == 1 and not entry.saved and kept == []  # shown, not yet kept
    data.set_threshold(0, 0.5)
    assert data.actions[0].threshold == 0.5  # the slider follows the finger at once
    assert writer.flush()
    assert entry.saved and kept == [entry.id]
    assert threading.current_thread() not in disk.threads
    stored = store.load_dataset(data.project_id)
    assert [r.id for r in stored.actions[0].recordings] == [entry.id]
    assert stored.actions[0].threshold == 0.5
    writer.close()
    store.close()


_CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from kiosk.dataset import Recording
    from kiosk.ml.windows import CURRENT_WINDOW
    from kiosk.session.visitor_data import VisitorData
    from kiosk.store.database import Store
    from kiosk.store.writer import Writer

    store = Store.open(sys.argv[1])
    store.before_commit = lambda: time.sleep(float(sys.argv[2]))  # a slow SD card
    writer = Writer(store)
    data = VisitorData(store, "p", CURRENT_WINDOW, writer=writer)
    data.add_action("Shake", "shake")
    rng = np.random.default_rng(0)

    def kept(entry):
        print("KEPT", entry.id, flush=True)  # what the screen would now say is kept

    while True:  # a visitor recording as fast as takes come, the UI thread ticking
        data.keep_recording(0, Recording(rng.normal(0, 1, (50, 3))), kept)
        for _ in range(5):
            writer.deliver()
            time.sleep(0.01)
    """
)


def test_nothing_confirmed_is_lost_when_the_process_is_killed(tmp_path: Path) -> None:
    """A child process keeps recordings on a slow disk; SIGKILL; every confirmed one is there."""
    db = tmp_path / "k.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(db), str(SLOW_COMMIT_S)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    confirmed: list[str] = []
    try:
        assert child.stdout is not None
        for line in child.stdout:  # ends if the child dies: then the assert below says why
            if line.startswith("KEPT "):
                confirmed.append(line.split()[1])
            if len(confirmed) >= 4:
                break
        # More were queued and shown, not yet committed, when the kill comes mid-fsync.
        child.send_signal(signal.SIGKILL)
        child.wait(60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(60)
    assert len(confirmed) >= 4, child.stderr.read() if child.stderr else ""
    store = Store.open(db)
    try:
        assert store.check() == []
        project = store.project_id("p")
        assert project is not None
        stored = {r.id for a in store.load_dataset(project).actions for r in a.recordings}
        assert set(confirmed) <= stored
    finally:
        store.close()
