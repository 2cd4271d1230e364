"""The one retry policy: its waits, and the Link base driving every backend the same way."""

from __future__ import annotations

import threading

import pytest

from kiosk.microbit.ble import BleLink, BleTiming
from kiosk.microbit.link import (
    BoardFault,
    Fault,
    Link,
    LinkState,
    RetryPolicy,
    StateChange,
)
from kiosk.microbit.serial_link import SerialLink, SerialTimings, _port_errors
from kiosk.microbit.simulated import SimulatedLink

from .fake_bluepy import FakeBoard, FakeRadio
from .fake_serial_board import wait_for

pytestmark = pytest.mark.timeout(60)

POLICY = RetryPolicy(
    first_delay_s=0.5, max_delay_s=3.0, attempts_before_failed=4, keep_trying_after_failed=True
)


class FakeClock:
    """Time that moves only when the link waits; stops the link after ``waits`` waits."""

    def __init__(self, waits: int) -> None:
        self.t = 0.0
        self.left = waits
        self.waited: list[float] = []
        self.seen: list[tuple[LinkState, Fault | None]] = []  # the link's state at each wait
        self.link: Link | None = None
        self.done = threading.Event()

    def now(self) -> float:
        return self.t

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        self.waited.append(seconds)
        if self.link is not None:
            self.seen.append((self.link.state, self.link.fault))
        self.t += seconds
        self.left -= 1
        if self.left <= 0:
            stop.set()
            self.done.set()
        return stop.is_set()


def test_delays_double_up_to_the_cap_and_the_cap_once_failed() -> None:
    assert [POLICY.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert not POLICY.has_failed(3, 100.0) and POLICY.has_failed(4, 0.0)
    patient = RetryPolicy(attempts_before_failed=2, failed_after_s=20.0)
    assert not patient.has_failed(5, 19.9) and patient.has_failed(2, 20.0)
    with pytest.raises(ValueError):
        RetryPolicy(first_delay_s=2.0, max_delay_s=1.0)
    with pytest.raises(ValueError):
        RetryPolicy(attempts_before_failed=0)


def _run_until_clock_done(link: Link, clock: FakeClock) -> list[StateChange]:
    clock.link = link
    link.connect()
    assert clock.done.wait(20), "the link never waited as often as expected"
    assert wait_for(lambda: link._thread is None or not link._thread.is_alive(), 10)
    changes = [e for e in link.poll_events() if isinstance(e, StateChange)]
    link.close()
    return changes


def _serial_that_never_opens(clock: FakeClock) -> SerialLink:
    def refuse(path: str, _timeout: float):
        raise _port_errors()[0](f"[Errno 5] Input/output error: '{path}'")

    return SerialLink(
        "/dev/ttyFAKE",
        timings=SerialTimings(retry=POLICY),
        serial_factory=refuse,
        port_finder=lambda: ["/dev/ttyFAKE"],
        clock=clock,
    )


def _runs(items: list) -> list:
    """``items`` with repeats in a row collapsed (a backend may report progress between)."""
    return [item for i, item in enumerate(items) if i == 0 or items[i - 1] != item]


def _faults(changes: list[StateChange]) -> list[tuple[LinkState, Fault | None]]:
    """The states that report a fault (progress within an attempt carries none)."""
    return [(c.state, c.fault) for c in changes if c.fault is not None]


def _ble_that_never_connects(clock: FakeClock) -> BleLink:
    radio = FakeRadio([FakeBoard("gutop")])
    radio.fail_next_connects = 1000  # seen on the air, but every connection fails
    return BleLink(
        "gutop",
        peripheral_factory=radio.peripheral_factory,
        scanner_factory=radio.scanner_factory,
        adapter_check=radio.adapter_check,
        timing=BleTiming(retry=POLICY),
        clock=clock,
    )


def test_one_policy_drives_the_serial_bluetooth_and_simulated_links_alike() -> None:
    waits = 7
    clocks = [FakeClock(waits) for _ in range(3)]
    links: list[Link] = [
        _serial_that_never_opens(clocks[0]),
        _ble_that_never_connects(clocks[1]),
        SimulatedLink(realtime=False, unanswered_attempts=100, retry=POLICY, clock=clocks[2]),
    ]
    changes = [
        _run_until_clock_done(link, clock) for link, clock in zip(links, clocks, strict=True)
    ]

    for link, clock, seen in zip(links, clocks, changes, strict=True):
        assert clock.waited == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0], link.kind
        # what the screen would read while each wait runs: the same for every backend
        assert (
            clock.seen
            == [(LinkState.CONNECTING, Fault.NO_ANSWER)] * 3
            + [(LinkState.FAILED, Fault.NO_ANSWER)] * 4
        ), link.kind
        assert _runs(_faults(seen)) == [
            (LinkState.CONNECTING, Fault.NO_ANSWER),
            (LinkState.FAILED, Fault.NO_ANSWER),
        ], link.kind
        # once failed, each retries quietly: no more states, no "connecting" flicker
        states = [c.state for c in seen]
        assert states.index(LinkState.FAILED) == len(states) - 1, link.kind
        assert "still trying quietly" in seen[-1].reason


def test_a_policy_that_stops_after_failed_ends_the_thread() -> None:
    clock = FakeClock(waits=100)
    policy = RetryPolicy(
        first_delay_s=0.1, max_delay_s=0.4, attempts_before_failed=3, keep_trying_after_failed=False
    )
    link = SimulatedLink(realtime=False, unanswered_attempts=100, retry=policy, clock=clock)
    link.connect()
    assert wait_for(lambda: link.state is LinkState.FAILED, 10)
    assert wait_for(lambda: link._thread is not None and not link._thread.is_alive(), 10)
    assert clock.waited == [0.1, 0.2]  # no wait after giving up: the thread returned
    assert link.fault is Fault.NO_ANSWER and "still trying" not in link.reason
    link.close()


def test_failed_waits_for_the_time_without_data_too() -> None:
    """A flaky link that delivered recently is not called failed after a few bad tries."""
    clock = FakeClock(waits=100)
    policy = RetryPolicy(
        first_delay_s=1.0,
        max_delay_s=1.0,
        attempts_before_failed=2,
        failed_after_s=5.0,
        keep_trying_after_failed=False,
    )
    link = SimulatedLink(realtime=False, unanswered_attempts=100, retry=policy, clock=clock)
    link.connect()
    assert wait_for(lambda: link.state is LinkState.FAILED, 10)
    # attempts at t = 0 .. 5; the sixth fails with 5 s gone since the start: failed
    assert clock.waited == [1.0] * 5
    link.close()


def test_the_board_answering_resets_the_count_and_connects() -> None:
    clock = FakeClock(waits=100)
    link = SimulatedLink(realtime=False, unanswered_attempts=2, retry=POLICY, clock=clock)
    link.connect()
    assert wait_for(lambda: link.state is LinkState.CONNECTED, 10)
    assert wait_for(lambda: len(link.samples) > 10, 10)
    assert clock.waited == [0.5, 1.0]
    assert link.fault is None
    link.close()


class Flaky(Link):
    """Delivers, fails twice, delivers, fails: the count starts afresh after each delivery."""

    kind = "Test"

    def __init__(self, script: list[str], clock: FakeClock) -> None:
        super().__init__(retry=POLICY, clock=clock)
        self.script = script

    def _attempt(self, stop: threading.Event) -> bool:
        step = self.script.pop(0) if self.script else "fail"
        if step == "deliver":
            self._set_state(LinkState.CONNECTED, "ok")
            return True
        if step == "crash":
            raise RuntimeError("a bug")
        raise BoardFault(Fault.CONNECTION_LOST, "lost")


def test_a_delivery_resets_the_backoff_and_a_bug_is_a_retried_internal_fault() -> None:
    clock = FakeClock(waits=4)
    link = Flaky(["deliver", "fail", "crash", "deliver", "fail", "fail"], clock)
    changes = _run_until_clock_done(link, clock)
    assert clock.waited == [0.5, 1.0, 0.5, 1.0]
    assert _faults(changes) == [
        (LinkState.RECONNECTING, Fault.CONNECTION_LOST),
        (LinkState.RECONNECTING, Fault.INTERNAL),
        (LinkState.RECONNECTING, Fault.CONNECTION_LOST),
    ]


def test_a_fault_that_retrying_cannot_fix_fails_at_once() -> None:
    class NoRadio(Link):
        kind = "Test"

        def _attempt(self, stop: threading.Event) -> bool:
            raise BoardFault(Fault.ADAPTER_MISSING, "no radio here", retry=False)

    link = NoRadio(clock=FakeClock(waits=100))
    link.connect()
    assert wait_for(lambda: link.state is LinkState.FAILED, 10)
    assert link.fault is Fault.ADAPTER_MISSING and link.reason == "no radio here"
    link.close()
