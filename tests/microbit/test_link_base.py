"""The Link base class: thread lifecycle, restarts after failure, events and icons."""

from __future__ import annotations

import threading
import time

import pytest

from kiosk.microbit.link import Link, LinkState, StateChange, icon_to_led_bytes


class GivesUpSlowly(Link):
    """A backend that fails, then takes a moment to return (as real ones do while cleaning up)."""

    kind = "Test"

    def __init__(self) -> None:
        super().__init__()
        self.runs = 0
        self.release = threading.Event()

    def _run(self, stop: threading.Event) -> None:
        self.runs += 1
        if self.runs == 1:
            self._set_state(LinkState.FAILED, "Gave up.")
            self.release.wait(0.3)  # still alive after reporting FAILED
            return
        self._set_state(LinkState.CONNECTED, "Connected again.")
        self._push_sample(0.1, 0.2, 0.3)
        stop.wait(5)


def _wait(predicate, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


def test_connect_right_after_failed_starts_over() -> None:
    link = GivesUpSlowly()
    link.connect()
    assert _wait(lambda: link.state is LinkState.FAILED)
    link.connect()  # the first thread has not returned yet
    assert _wait(lambda: link.state is LinkState.CONNECTED)
    assert link.runs == 2
    assert link.samples.latest(1).xyz.tolist() == [[0.1, 0.2, 0.3]]
    link.close()
    assert link.state is LinkState.DISCONNECTED


def test_connect_twice_while_running_keeps_one_thread() -> None:
    link = GivesUpSlowly()
    link.runs = 1  # skip the failing first run
    link.connect()
    assert _wait(lambda: link.state is LinkState.CONNECTED)
    running = link._thread
    link.connect()  # returns at once: no second thread is started beside the first
    assert link._thread is running and running is not None and running.is_alive()
    assert link.runs == 2
    link.close()


def test_a_crashing_backend_ends_failed_with_a_reason_not_an_exception() -> None:
    class Crashes(Link):
        kind = "Test"

        def _run(self, stop: threading.Event) -> None:
            raise RuntimeError("radio on fire")

    link = Crashes()
    link.connect()
    assert _wait(lambda: link.state is LinkState.FAILED)
    assert "radio on fire" in link.reason
    events = link.poll_events()
    assert isinstance(events[-1], StateChange) and events[-1].state is LinkState.FAILED
    assert link.poll_events() == []


def test_icons_are_checked_and_only_the_newest_is_written() -> None:
    link = GivesUpSlowly()
    with pytest.raises(ValueError):
        link.show_icon([[True] * 5] * 4)
    heart = (
        [[False, True, False, True, False]]
        + [[True] * 5] * 2
        + [
            [False, True, True, True, False],
            [False, False, True, False, False],
        ]
    )
    link.show_icon([[False] * 5] * 5)
    link.show_icon(heart)
    assert link._next_icon() == tuple(tuple(row) for row in heart)
    assert link._next_icon() is None
    assert icon_to_led_bytes(heart) == bytes([0b01010, 0b11111, 0b11111, 0b01110, 0b00100])
