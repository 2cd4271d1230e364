"""The sample ring buffer: ordering, wrap-around, time windows, and concurrent use."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.signal import SampleBuffer


def _fill(buffer: SampleBuffer, count: int, period: float = 0.02) -> None:
    for i in range(count):
        buffer.append(i * period, float(i), -float(i), 1.0)


def test_latest_returns_newest_samples_oldest_first_after_wrapping() -> None:
    buffer = SampleBuffer(capacity=8)
    _fill(buffer, 11)
    window = buffer.latest(5)
    assert window.xyz[:, 0].tolist() == [6.0, 7.0, 8.0, 9.0, 10.0]
    assert window.last_sequence == 10 == buffer.sequence
    assert len(buffer) == 8
    assert len(buffer.latest(100)) == 8


def test_extend_wraps_and_keeps_order() -> None:
    buffer = SampleBuffer(capacity=5)
    _fill(buffer, 3)
    rows = np.array([[1.0 + i, 10.0 + i, 0.0, 0.0] for i in range(4)])
    assert buffer.extend(rows) == 6
    window = buffer.latest(5)
    assert window.t.tolist() == [0.02, 0.04, 1.0, 2.0, 3.0, 4.0][-5:]


def test_extend_longer_than_capacity_keeps_the_newest() -> None:
    buffer = SampleBuffer(capacity=4)
    rows = np.column_stack([np.arange(10.0), np.arange(10.0), np.zeros(10), np.zeros(10)])
    buffer.extend(rows)
    assert buffer.latest(4).t.tolist() == [6.0, 7.0, 8.0, 9.0]


def test_windows_are_cut_by_time_not_count() -> None:
    buffer = SampleBuffer()
    # Bursty arrival: three samples close together, then a long gap.
    for t in (0.0, 0.001, 0.002, 0.5, 0.51, 0.52, 1.0):
        buffer.append(t, t, 0.0, 0.0)
    window = buffer.last_seconds(0.5)
    assert window.t.tolist() == [0.5, 0.51, 0.52, 1.0]
    assert window.last_sequence == 6
    middle = buffer.between(0.0015, 0.505)
    assert middle.t.tolist() == [0.002, 0.5]
    assert middle.last_sequence == 3


@settings(max_examples=300, deadline=None)
@given(
    capacity=st.integers(2, 12),
    steps=st.lists(st.sampled_from([0.0, 0.01, 0.02, 0.5]), min_size=0, max_size=40),
    start=st.floats(-0.1, 3.0),
    span=st.floats(0.0, 3.0),
)
def test_between_on_a_wrapped_ring_matches_a_search_of_the_stored_samples_in_order(
    capacity: int, steps: list[float], start: float, span: float
) -> None:
    """``between`` searches the ring in place; it must agree with sorting out a plain copy.

    Repeated times (a burst stamped alike) and every wrap position are covered.
    """
    buffer = SampleBuffer(capacity=capacity)
    times = np.cumsum(steps)
    for i, t in enumerate(times):
        buffer.append(float(t), float(i), 0.0, 0.0)
    stored = times[-capacity:]
    first = len(times) - len(stored)  # sequence number of the oldest stored sample
    lo = int(np.searchsorted(stored, start, side="left"))
    hi = int(np.searchsorted(stored, start + span, side="right"))
    window = buffer.between(start, start + span)
    assert window.t.tolist() == stored[lo:hi].tolist()
    assert window.xyz[:, 0].tolist() == [float(first + i) for i in range(lo, hi)]
    assert window.last_sequence == (first + hi - 1 if hi > lo else -1)


def test_empty_buffer_gives_empty_windows() -> None:
    buffer = SampleBuffer()
    assert buffer.sequence == -1
    assert len(buffer.last_seconds(1.0)) == 0
    assert len(buffer.latest(10)) == 0
    buffer.append(0.0, 1, 2, 3)
    buffer.clear()
    assert buffer.sequence == -1


def test_capacity_must_hold_a_window() -> None:
    with pytest.raises(ValueError):
        SampleBuffer(capacity=1)


def test_concurrent_writer_and_reader_never_see_torn_or_disordered_windows() -> None:
    buffer = SampleBuffer(capacity=256)
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set() and i < 200_000:
            buffer.append(float(i), float(i), float(i), float(i))
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(2000):
            window = buffer.latest(64)
            if len(window) > 1:
                # Rows are whole (all columns equal t) and strictly in order.
                assert np.all(window.xyz == window.t[:, None])
                assert np.all(np.diff(window.t) == 1.0)
    finally:
        stop.set()
        thread.join()
