"""BleLink's reconnects through bluepy's own way of connecting, including a connect that blocks.

bluepy's ``Peripheral.connect`` starts ``bluepy-helper`` and waits for its
answer with no time limit; the helper waits for the kernel, which gives up on
a board that is not there only after 20-40 s. ``BluepyLike`` is a bluepy
module over the fake radio that does the same: ``Peripheral()`` then
``connect(addr, addrType, iface)``, which holds the caller while no board
answers at that address, until the board turns up there or its helper is
killed (then bluepy's "Helper exited" error). Only the link's bounded connect
and a rescan by name get past it.
"""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import numpy as np
import pytest
from bluepy import btle

from kiosk.microbit.ble import BleLink, static_address
from kiosk.microbit.link import LinkState
from kiosk.signal import SampleBuffer
from tests.microbit.fake_bluepy import FakeBoard, FakePeripheral, FakeRadio
from tests.microbit.test_ble_link import NAME, check_samples, timing, wait_for

PRIVATE = "5a:3c:11:22:33:44"  # top bits 01: a resolvable private address
PRIVATE_AFTER = "47:9e:55:66:77:88"  # the one it draws when it advertises again
STATIC = "d4:2a:7e:11:22:33"  # top bits 11: a static random address, kept for good


class FakeHelper:
    """``bluepy-helper`` as a Peripheral holds it: a process to poll, kill and reap."""

    def __init__(self) -> None:
        self.killed = threading.Event()
        self.reaped = False
        self.stdin = io.StringIO()
        self.stdout = io.StringIO()

    def poll(self) -> int | None:
        return -9 if self.killed.is_set() else None

    def kill(self) -> None:
        self.killed.set()

    def wait(self, timeout: float | None = None) -> int | None:
        if self.killed.wait(timeout):
            self.reaped = True
        return self.poll()


class BluepyLike:
    """A bluepy module over a FakeRadio whose connect blocks as bluepy's does."""

    BTLEDisconnectError = btle.BTLEDisconnectError
    BTLEGattError = btle.BTLEGattError
    BTLEInternalError = btle.BTLEInternalError

    def __init__(self, radio: FakeRadio) -> None:
        self.radio = radio
        self.connects: list[str] = []  # every address a connect was started for
        self.helpers: list[FakeHelper] = []
        self.waiting = threading.Event()  # a connect is held: nobody answers at its address
        module = self

        class Peripheral:
            def __init__(
                self, deviceAddr: str | None = None, addrType: str = "public", iface: Any = None
            ) -> None:
                self._helper: FakeHelper | None = None
                self._inner: FakePeripheral | None = None
                if deviceAddr is not None:
                    self.connect(deviceAddr, addrType, iface)

            def connect(self, addr: str, addrType: str = "public", iface: Any = None) -> None:
                self._helper = helper = FakeHelper()
                module.helpers.append(helper)
                module.connects.append(addr)
                while not module.answers(addr):
                    module.waiting.set()
                    if helper.killed.wait(0.005):
                        raise btle.BTLEInternalError("Helper exited")
                self._inner = FakePeripheral(module.radio, addr, addrType)

            def disconnect(self) -> None:
                if self._inner is not None:
                    self._inner.disconnect()
                self._helper = None

            def __getattr__(self, name: str) -> Any:  # the GATT side is the fake board's
                return getattr(self._inner, name)

        self.Peripheral = Peripheral

    def Scanner(self, iface: int = 0) -> Any:  # bluepy's class name
        return self.radio.scanner_factory()

    def answers(self, addr: str) -> bool:
        board = self.radio.boards.get(addr.lower())
        return board is not None and not board.connected

    def kill_all(self) -> None:
        for helper in self.helpers:
            helper.kill()


@pytest.fixture
def bluepy() -> Any:
    made: list[BluepyLike] = []

    def make(board: FakeBoard) -> BluepyLike:
        made.append(BluepyLike(FakeRadio([board])))
        return made[-1]

    yield make
    for module in made:  # no connect left spinning after a test that failed
        module.kill_all()


def make_link(module: BluepyLike, **kw: Any) -> BleLink:
    return BleLink(
        NAME,
        btle=module,  # type: ignore[arg-type]
        adapter_check=lambda: True,
        clock=module.radio.clock,
        buffer=SampleBuffer(16384),
        **kw,
    )


def drop_once(module: BluepyLike, then: Any) -> None:
    """At the next connection event the link drops, and ``then()`` changes the air."""
    done: list[bool] = []

    def hook(peripheral: FakePeripheral) -> str | None:
        if done:
            return None
        done.append(True)
        then()
        return "drop"

    module.radio.on_connection_event = hook


def test_addresses_are_told_apart_by_their_top_bits() -> None:
    assert static_address(STATIC) and static_address("C0:00:00:00:00:01")
    assert not static_address(PRIVATE) and not static_address(PRIVATE_AFTER)
    assert not static_address("0a:00:00:00:00:01") and not static_address("??")


def test_a_board_back_at_a_new_private_address_is_found_by_name_at_once(bluepy: Any) -> None:
    board = FakeBoard(NAME, address=PRIVATE)
    module = bluepy(board)
    link = make_link(module)
    link.connect()
    try:
        assert wait_for(lambda: len(link.samples) >= 200)
        kept = link.samples.latest(link.samples.capacity)
        connects_before = len(module.connects)

        def new_address() -> None:
            board.address = PRIVATE_AFTER
            module.radio.boards = {PRIVATE_AFTER: board}

        drop_once(module, new_address)
        assert wait_for(lambda: link.address == PRIVATE_AFTER and len(link.samples) > len(kept.t))
        assert wait_for(lambda: len(link.samples) >= len(kept.t) + 200)
        assert link.state is LinkState.CONNECTED
    finally:
        link.close()
    # Straight to the board's new address: no connect was left waiting on the old one.
    assert module.connects[connects_before:] == [PRIVATE_AFTER]
    assert not module.waiting.is_set()
    # Nothing recorded before the drop changed or went missing, and every sample is right.
    # (By position, not time: samples of one connection event share a time stamp.)
    now = link.samples.latest(link.samples.capacity)
    assert len(now.t) < link.samples.capacity, "the buffer must not have wrapped"
    np.testing.assert_array_equal(now.t[: len(kept.t)], kept.t)
    np.testing.assert_array_equal(now.xyz[: len(kept.t)], kept.xyz)
    check_samples(link, board)
    assert link.stats["sessions"] == 2


def test_a_connect_to_a_board_that_is_away_gives_up_within_its_time(bluepy: Any) -> None:
    board = FakeBoard(NAME, address=STATIC)
    module = bluepy(board)
    # The retry policy never gives up here: only the connect's own time limit ends a try.
    link = make_link(module, timing=timing(10_000, failed_after_s=1e9, connect_s=0.2))
    link.connect()
    try:
        assert wait_for(lambda: len(link.samples) >= 100)
        kept = len(link.samples)
        drop_once(module, lambda: module.radio.boards.clear())  # the battery is pulled

        # Each connect to the static address is held (nobody there) and then let go,
        # its helper killed and reaped; after two the link scans by name again.
        def let_go() -> list[FakeHelper]:
            return [h for h in module.helpers if h.reaped and h.stdin.closed and h.stdout.closed]

        assert wait_for(lambda: len(let_go()) >= 2, timeout=20)
        assert module.connects[-2:] == [STATIC, STATIC]
        started = time.monotonic()
        module.radio.boards[STATIC] = board  # the battery goes back in
        assert wait_for(lambda: len(link.samples) > kept + 50, timeout=20)
        assert time.monotonic() - started < 10.0  # a generous bound on a busy machine
        assert link.state is LinkState.CONNECTED
    finally:
        link.close()
    assert link.address == STATIC


def test_close_stops_a_link_held_in_a_connect(bluepy: Any) -> None:
    module = bluepy(FakeBoard(NAME, address=STATIC))
    module.radio.boards.clear()  # the known address answers nobody
    link = make_link(module, address=STATIC, timing=timing(3, connect_s=600.0))
    link.connect()
    thread = link._thread
    assert thread is not None
    assert module.waiting.wait(10), "the connect never started"
    link.close(timeout=5.0)
    assert not thread.is_alive(), "close() left the link thread in bluepy's connect"
    assert module.helpers[-1].killed.is_set() and module.helpers[-1].reaped
    assert link.state is LinkState.DISCONNECTED
