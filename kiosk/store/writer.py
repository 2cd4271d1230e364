"""One thread that makes every change to the store, so the screen never waits for the disk.

A commit in WAL mode with ``synchronous=FULL`` waits for an fsync: under 1 ms
on a fast disk, often 10-100 ms and more on an SD card. The UI thread hands its
changes here (``submit``) and carries on drawing; this thread runs them one at
a time, in the order they were handed over, each in its own transaction as
before. Durability is unchanged: a change is done once its transaction
committed, and only then is its ``on_done`` called, on the owner's thread,
from ``deliver`` (the session calls it every tick). So a recording is "kept",
and the screen says so, only once it is on the disk.

A change handed over with a ``key`` replaces a queued change with the same key
that has not started yet, in its place in the queue: a threshold slider dragged
through fifty positions writes the last one, not fifty.

``call`` runs a change on this thread and waits for it (in order with the
queued ones), for the few callers that need the answer at once and are not
drawing frames (start-up, a command, a test).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from kiosk.errors import KioskError, StorageError
from kiosk.store.database import Store

log = logging.getLogger(__name__)

T = TypeVar("T")
FLUSH_TIMEOUT_S = 30.0  # a flush that takes longer than this means the disk has gone


@dataclass
class _Job(Generic[T]):
    run: Callable[[Store], T]
    on_done: Callable[[T], None] | None
    on_error: Callable[[KioskError], None] | None
    key: Hashable | None
    waited: bool = False  # from ``call``: its caller takes the result (or the error) itself
    result: Any = None
    error: KioskError | None = None
    finished: threading.Event = field(default_factory=threading.Event)


class Writer:
    """The store's one writer thread (started on first use; ``close`` joins it)."""

    def __init__(self, store: Store, name: str = "store-writer") -> None:
        self.store = store
        self._name = name
        self._lock = threading.Condition()
        self._queue: deque[_Job[Any]] = deque()
        self._done: deque[_Job[Any]] = deque()
        self._running: _Job[Any] | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self.committed = 0  # changes done (the bench and tests read it)

    # ---- the owner's side (the UI thread) --------------------------------------------

    def submit(
        self,
        run: Callable[[Store], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[KioskError], None] | None = None,
        key: Hashable | None = None,
    ) -> None:
        """Queue a change; ``on_done(result)`` or ``on_error(error)`` later, from ``deliver``."""
        job: _Job[T] = _Job(run, on_done, on_error, key)
        with self._lock:
            if self._closing:
                raise StorageError("the store is closing: nothing more can be saved")
            queued = None if key is None else next((j for j in self._queue if j.key == key), None)
            if queued is not None:
                # Where the queued one stands, so the order with other changes is kept
                # (a visit noted as active before the recording that followed it).
                queued.run, queued.on_done, queued.on_error = run, on_done, on_error
            else:
                self._queue.append(job)
            self._start()
            self._lock.notify_all()

    def call(self, run: Callable[[Store], T], timeout_s: float = FLUSH_TIMEOUT_S) -> T:
        """Run a change on the writer, after those queued, and return its result (or raise)."""
        job: _Job[T] = _Job(run, None, None, None, waited=True)
        with self._lock:
            if self._closing or threading.current_thread() is self._thread:
                return run(self.store)  # closing (or called from a change): run it here
            self._queue.append(job)
            self._start()
            self._lock.notify_all()
        if not job.finished.wait(timeout_s):
            raise StorageError("saving is taking too long: the disk may have failed")
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[no-any-return]

    def deliver(self) -> int:
        """Tell the owners what was saved (or could not be): call from the owner's thread."""
        delivered = 0
        while True:
            with self._lock:
                if not self._done:
                    return delivered
                job = self._done.popleft()
            delivered += 1
            if job.error is not None:
                if job.on_error is not None:
                    job.on_error(job.error)
                else:
                    log.error("a change could not be saved: %s", job.error)
            elif job.on_done is not None:
                job.on_done(job.result)

    @property
    def pending(self) -> int:
        """Changes handed over and not yet delivered."""
        with self._lock:
            return len(self._queue) + (self._running is not None) + len(self._done)

    def flush(self, timeout_s: float = FLUSH_TIMEOUT_S) -> bool:
        """Wait until every queued change is on the disk, then deliver; False on a timeout."""
        with self._lock:
            settled = self._lock.wait_for(
                lambda: not self._queue and self._running is None, timeout_s
            )
        self.deliver()
        return settled

    def close(self, timeout_s: float = FLUSH_TIMEOUT_S) -> None:
        """Finish every queued change, deliver, and join the thread (the owner's reset/close)."""
        with self._lock:
            self._closing = True
            self._lock.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
            if thread.is_alive():
                log.error("the store writer did not finish within %.0f s", timeout_s)
        with self._lock:
            self._thread = None
        self.deliver()

    @property
    def alive(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    # ---- the writer thread ---------------------------------------------------------------

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(lambda: self._queue or self._closing)
                if not self._queue:
                    return  # closing, and nothing left to write
                job = self._running = self._queue.popleft()
            try:
                job.result = job.run(self.store)
            except KioskError as error:
                job.error = error
            except Exception as error:  # a bug in a change must not kill the writer
                log.exception("a change to the store failed")
                job.error = StorageError(f"could not save: {error}")
            with self._lock:
                self._running = None
                if job.error is None:
                    self.committed += 1
                if not job.waited:
                    self._done.append(job)
                job.finished.set()
                self._lock.notify_all()
