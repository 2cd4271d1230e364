"""A thread-safe, time-stamped ring buffer of accelerometer samples.

A link's I/O thread appends samples as they arrive; the UI thread reads
windows cut by time (CreateAI windows are defined in milliseconds, and BLE
delivers samples in bursts, so counting samples would cut the wrong span).
Every sample gets a running sequence number, so a reader can tell cheaply
whether anything new arrived since it last looked ("predict on every sample").
A reader on another thread can also ``watch`` the buffer with a
``threading.Event`` that every append sets, so it sleeps until a sample comes
instead of polling.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

import numpy as np


@dataclass(frozen=True)
class Window:
    """A copy of consecutive samples: times in seconds (monotonic clock) and x, y, z in g."""

    t: np.ndarray  # (n,) float64
    xyz: np.ndarray  # (n, 3) float64
    last_sequence: int  # sequence number of the newest sample in the window (-1 if empty)

    def __len__(self) -> int:
        return int(self.t.shape[0])


class SampleBuffer:
    """Fixed-capacity ring of (t, x, y, z) rows; oldest samples are overwritten."""

    def __init__(self, capacity: int = 4096) -> None:
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self._capacity = capacity
        self._rows = np.zeros((capacity, 4), dtype=np.float64)
        self._written = 0  # total samples ever appended; the next sequence number
        self._lock = threading.Lock()
        # Events set after every append/extend/clear; a tuple replaced on change, so
        # writers iterate it without the lock (empty: one loop over nothing).
        self._watchers: tuple[threading.Event, ...] = ()

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def sequence(self) -> int:
        """Sequence number of the newest sample, -1 when none has arrived."""
        return self._written - 1

    def __len__(self) -> int:
        return min(self._written, self._capacity)

    def append(self, t: float, x: float, y: float, z: float) -> int:
        """Store one sample; returns its sequence number."""
        with self._lock:
            self._rows[self._written % self._capacity] = (t, x, y, z)
            self._written += 1
            sequence = self._written - 1
        self._notify()
        return sequence

    def extend(self, rows: np.ndarray) -> int:
        """Store samples given as an (n, 4) array of t, x, y, z; returns the last sequence."""
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
        if len(rows) > self._capacity:
            rows = rows[-self._capacity :]
        with self._lock:
            start = self._written % self._capacity
            first = min(len(rows), self._capacity - start)
            self._rows[start : start + first] = rows[:first]
            self._rows[: len(rows) - first] = rows[first:]
            self._written += len(rows)
            sequence = self._written - 1
        self._notify()
        return sequence

    def clear(self) -> None:
        with self._lock:
            self._written = 0
        self._notify()

    def watch(self, event: threading.Event) -> None:
        """Set ``event`` whenever samples are added (or the buffer is cleared)."""
        with self._lock:
            self._watchers = (*self._watchers, event)

    def unwatch(self, event: threading.Event) -> None:
        """Stop setting ``event``; a no-op if it was not watching."""
        with self._lock:
            self._watchers = tuple(w for w in self._watchers if w is not event)

    def latest(self, count: int) -> Window:
        """The newest ``count`` samples (fewer if fewer have arrived), oldest first."""
        with self._lock:
            rows = self._ordered_tail(min(count, len(self)))
            last = self._written - 1
        return Window(rows[:, 0].copy(), rows[:, 1:].copy(), last)

    def between(self, t_start: float, t_end: float) -> Window:
        """Samples with t_start <= t <= t_end, oldest first.

        Searches the ring where it lies (times only increase, oldest first from
        the write position) and copies just the rows in the span: the live
        graph asks for the last 3 s of a 4096-row ring every frame.
        """
        with self._lock:
            count = len(self)
            newest = self._written - 1
            lo = self._search(t_start, "left", count)
            hi = self._search(t_end, "right", count)
            rows = self._logical_rows(lo, hi, count) if hi > lo else np.zeros((0, 4))
        last = newest - (count - hi) if hi > lo else -1
        return Window(rows[:, 0].copy(), rows[:, 1:].copy(), last)

    def last_seconds(self, duration_s: float) -> Window:
        """The samples in the ``duration_s`` seconds up to the newest sample."""
        with self._lock:
            if self._written == 0:
                return Window(np.zeros(0), np.zeros((0, 3)), -1)
            t_end = self._rows[(self._written - 1) % self._capacity, 0]
        return self.between(t_end - duration_s, t_end)

    def _notify(self) -> None:
        for event in self._watchers:
            event.set()

    def _ordered_tail(self, count: int) -> np.ndarray:
        """The newest ``count`` rows, oldest first (caller holds the lock)."""
        if count <= 0:
            return np.zeros((0, 4))
        end = self._written % self._capacity
        if count <= end:
            return self._rows[end - count : end].copy()
        return np.concatenate((self._rows[self._capacity - (count - end) :], self._rows[:end]))

    def _first(self, count: int) -> int:
        """Where the oldest of ``count`` stored rows sits in the ring (caller holds the lock)."""
        return (self._written - count) % self._capacity

    def _search(self, value: float, side: Literal["left", "right"], count: int) -> int:
        """``np.searchsorted`` over the stored times, oldest first, without reordering them.

        The ring holds at most two runs of increasing times: from the oldest row
        to the end of the array, then from its start to the newest row.
        """
        first = self._first(count)
        head = min(count, self._capacity - first)  # rows in the first run
        times = self._rows[:, 0]
        older = times[first : first + head]
        # The answer is in the first run unless ``value`` lies past all of it.
        in_older = head == count or (value <= older[-1] if side == "left" else value < older[-1])
        if in_older:
            return int(np.searchsorted(older, value, side=side))
        return head + int(np.searchsorted(times[: count - head], value, side=side))

    def _logical_rows(self, lo: int, hi: int, count: int) -> np.ndarray:
        """Rows ``lo``..``hi`` (oldest first) of the ``count`` stored, as one array."""
        start = (self._first(count) + lo) % self._capacity
        stop = start + (hi - lo)
        if stop <= self._capacity:
            return self._rows[start:stop]
        return np.concatenate((self._rows[start:], self._rows[: stop - self._capacity]))
