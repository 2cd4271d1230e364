"""SampleBuffer.watch: a reader on another thread is woken by every append, extend and clear."""

from __future__ import annotations

import threading

import numpy as np

from kiosk.signal import SampleBuffer


def test_watch_sets_the_event_on_append_extend_and_clear_until_unwatched() -> None:
    buffer = SampleBuffer(capacity=8)
    event = threading.Event()
    buffer.watch(event)
    for change in (
        lambda: buffer.append(0.0, 1.0, 2.0, 3.0),
        lambda: buffer.extend(np.array([[0.02, 0, 0, 1], [0.04, 0, 0, 1]])),
        buffer.clear,
    ):
        event.clear()
        change()
        assert event.is_set()
    buffer.unwatch(event)
    buffer.unwatch(event)  # twice is harmless
    event.clear()
    buffer.append(0.06, 0.0, 0.0, 1.0)
    assert not event.is_set()
    assert buffer.sequence == 0


def test_a_waiting_thread_wakes_when_a_sample_arrives() -> None:
    buffer = SampleBuffer()
    event = threading.Event()
    buffer.watch(event)
    seen: list[int] = []

    def reader() -> None:
        if event.wait(10.0):
            seen.append(buffer.sequence)

    thread = threading.Thread(target=reader)
    thread.start()
    buffer.append(0.0, 0.0, 0.0, 1.0)
    thread.join(10.0)
    assert not thread.is_alive()
    assert seen == [0]
