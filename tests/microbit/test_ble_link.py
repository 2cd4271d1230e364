"""BleLink against the fake bluepy: pairing, streaming, buttons, LEDs, drops and give-up."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
import time
import types
from collections.abc import Callable

import numpy as np
import pytest

from kiosk.microbit.ble import BLE_RETRY, BleLink, BleTiming, adapter_up
from kiosk.microbit.link import ButtonEvent, Fault, LinkState, StateChange
from kiosk.microbit.pattern import PatternError
from kiosk.session.board_words import pair_failed_words
from kiosk.signal import SampleBuffer
from tests.microbit.fake_bluepy import (
    FakeBoard,
    FakeRadio,
    decode_sample,
    sample_values,
)

NAME = "gutop"  # pattern 3 1 5 2 4


def timing(attempts: int, failed_after_s: float = 20.0, **kw) -> BleTiming:
    """The kiosk's Bluetooth timing with its retry policy changed."""
    retry = dataclasses.replace(
        BLE_RETRY, attempts_before_failed=attempts, failed_after_s=failed_after_s
    )
    return BleTiming(retry=retry, **kw)


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.002)
    return predicate()


def make_link(radio: FakeRadio, board: object = NAME, capacity: int = 4096, **kw) -> BleLink:
    return BleLink(
        board,
        peripheral_factory=radio.peripheral_factory,
        scanner_factory=radio.scanner_factory,
        adapter_check=radio.adapter_check,
        clock=radio.clock,
        buffer=SampleBuffer(capacity),
        **kw,
    )


def states(link: BleLink) -> list[StateChange]:
    return [e for e in link.poll_events() if isinstance(e, StateChange)]


def check_samples(link: BleLink, board: FakeBoard) -> np.ndarray:
    """Every sample in the buffer is one the board took, in order, delivered after it was taken."""
    window = link.samples.latest(link.samples.capacity)
    milli = np.rint(window.xyz * 1000).astype(int)
    np.testing.assert_allclose(window.xyz * 1000, milli, atol=1e-6)
    ks = np.array([decode_sample(x, y) for x, y, _ in milli])
    expected_z = np.array([sample_values(int(k))[2] for k in ks])
    np.testing.assert_array_equal(milli[:, 2], expected_z)
    assert np.all(np.diff(ks) > 0), "samples repeated or out of order"
    taken = np.array([board.sample_time(int(k)) for k in ks])
    lag = window.t - taken
    assert np.all(lag >= 0), "a sample arrived before the board took it"
    assert np.all(lag < 0.1), "a stale sample was delivered"
    return ks


@pytest.fixture
def board() -> FakeBoard:
    return FakeBoard(NAME)


@pytest.fixture
def radio(board: FakeBoard) -> FakeRadio:
    others = [FakeBoard("zuzuz", address="d4:2a:7e:00:00:01", rssi=-40)]
    return FakeRadio([board, *others])


def test_the_board_is_named_by_pattern_digits_heights_or_name(radio: FakeRadio) -> None:
    assert make_link(radio, "31524").board_name == NAME
    assert make_link(radio, [3, 1, 5, 2, 4]).board_name == NAME
    assert make_link(radio, "GUTOP").board_name == NAME
    with pytest.raises(PatternError):
        make_link(radio, "31624")
    with pytest.raises(PatternError):
        make_link(radio, "hello")
    with pytest.raises(ValueError):
        make_link(radio, period_ms=0)


def test_pairs_streams_correct_samples_in_g(radio: FakeRadio, board: FakeBoard) -> None:
    link = make_link(radio)
    link.connect()
    try:
        assert wait_for(lambda: len(link.samples) >= 200)
    finally:
        link.close()
    assert link.address == board.address, "picked the named board, not the stronger other one"
    assert radio.peripherals[0].addr == board.address
    assert board.period_writes == [20], "asked once for 20 ms, never 0"
    assert link.period_ms == 20
    assert link.model == "BBC micro:bit V2"
    assert "gutop" in link.description
    ks = check_samples(link, board)
    # no sample lost while connected
    assert np.all(np.diff(ks) == 1)
    seen = [(s.state, s.reason) for s in states(link)]
    assert seen[0] == (LinkState.CONNECTING, "Looking for micro:bit gutop…")
    assert (LinkState.CONNECTED, "Connected to micro:bit gutop.") in seen
    assert seen[-1][0] is LinkState.DISCONNECTED


def test_reads_back_the_period_the_board_chose(radio: FakeRadio, board: FakeBoard) -> None:
    link = make_link(radio, period_ms=30)
    link.connect()
    try:
        assert wait_for(lambda: len(link.samples) >= 20)
    finally:
        link.close()
    assert board.period_writes == [30]
    assert link.period_ms == board.period_ms in (20, 40)
    check_samples(link, board)


def test_finds_a_board_advertising_as_ubit() -> None:
    board = FakeBoard(NAME, advertised_as="uBit [gutop]")
    radio = FakeRadio([board])
    link = make_link(radio)
    link.connect()
    try:
        assert wait_for(lambda: len(link.samples) >= 5)
    finally:
        link.close()
    check_samples(link, board)


def test_buttons_and_garbage_on_the_button_handles(radio: FakeRadio) -> None:
    plan = iter(["press", None, "button_garbage", None, "unknown_handle"])
    radio.on_connection_event = lambda p: next(plan, None)
    link = make_link(radio)
    link.connect()
    try:
        assert wait_for(lambda: radio.log.injected.get("unknown_handle") == 1)
        assert wait_for(lambda: link.stats["bad_payloads"] >= 3)
    finally:
        link.close()
    buttons = [(e.button, e.pressed) for e in link.poll_events() if isinstance(e, ButtonEvent)]
    assert buttons == [("A", True), ("A", False)]


def test_long_press_and_a_press_held_through_a_drop(radio: FakeRadio) -> None:
    from tests.microbit import fake_bluepy as fb

    def plan(peripheral: fb.FakePeripheral) -> str | None:
        step = radio.log.sessions, len(radio.log.lost_at)
        if step == (1, 0) and not getattr(peripheral, "_pressed", False):
            peripheral._pressed = True
            peripheral._queued += [(fb.H_BUTTON_B, b"\x01"), (fb.H_BUTTON_B, b"\x02")]
            return None
        return "drop" if step == (1, 0) else None

    radio.on_connection_event = plan
    link = make_link(radio)
    link.connect()
    try:
        assert wait_for(lambda: radio.log.sessions >= 2 and len(link.samples) > 50)
    finally:
        link.close()
    buttons = [
        (e.button, e.pressed, e.long_press)
        for e in link.poll_events()
        if isinstance(e, ButtonEvent)
    ]
    assert buttons == [("B", True, False), ("B", True, True), ("B", False, True)]


def test_an_adapter_that_is_off_is_named_not_the_board(radio: FakeRadio) -> None:
    # bluepy's scan "starts" on a powered-off adapter and hears nothing, so
    # without asking the kernel the visitor would be told to check the board.
    radio.adapter_powered = False
    link = make_link(radio, timing=timing(2, failed_after_s=1.0))
    link.connect()
    try:
        assert wait_for(lambda: link.state is LinkState.FAILED)
    finally:
        link.close()
    changes = states(link)
    reasons = [s.reason for s in changes]
    assert any("Bluetooth is not available" in r for r in reasons), reasons
    assert not any("Can't see" in r for r in reasons), reasons
    assert {s.fault for s in changes} - {None} == {Fault.ADAPTER_DOWN}
    failed = next(s for s in changes if s.state is LinkState.FAILED)
    assert failed.fault is Fault.ADAPTER_DOWN and "hci0" in failed.reason
    # the visitor is sent to staff, not told to check the board
    words = pair_failed_words(failed.fault, link.kind)
    assert "staff" in words.next and "lights" not in words.sentence


def test_scan_and_connect_use_the_same_adapter() -> None:
    # With two adapters, bluepy left alone connects through whichever the
    # kernel picks: here the board's own, which hangs until a 40 s timeout.
    seen: list[tuple[str, object]] = []

    class Disconnected(Exception):
        pass

    class Entry:
        addr, rssi = "f2:4d:3b:0c:7a:51", -50

        def getValueText(self, kind: int) -> str:
            return f"BBC micro:bit [{NAME}]"

    class Scanner:
        def __init__(self, iface: int = 0) -> None:
            seen.append(("scan", iface))

        def clear(self) -> None: ...
        def start(self, passive: bool = False) -> None: ...
        def process(self, timeout: float) -> None: ...
        def stop(self) -> None: ...

        def getDevices(self) -> list[Entry]:
            return [Entry()]

    class Peripheral:  # bluepy's: connects on construction with an address, or by connect()
        def __init__(
            self, deviceAddr: str | None = None, addrType: str = "public", iface: int | None = None
        ) -> None:
            if deviceAddr is not None:
                self.connect(deviceAddr, addrType, iface)

        def connect(self, addr: str, addrType: str, iface: int | None = None) -> None:
            seen.append(("connect", iface))
            raise Disconnected("Failed to connect")

    btle = types.SimpleNamespace(
        Scanner=Scanner,
        Peripheral=Peripheral,
        BTLEDisconnectError=Disconnected,
        BTLEGattError=LookupError,
    )
    link = BleLink(
        NAME,
        btle=btle,  # type: ignore[arg-type]
        adapter=1,
        adapter_check=lambda: True,
        timing=timing(1, failed_after_s=0.0),
    )
    link.connect()
    try:
        assert wait_for(lambda: link.state is LinkState.FAILED)
    finally:
        link.close()
    assert ("scan", 1) in seen and ("connect", 1) in seen, seen
    assert {iface for _, iface in seen} == {1}, seen


def test_the_kernel_is_asked_whether_the_adapter_is_up() -> None:
    # The same question hciconfig asks; on a machine without hci0 the answer is
    # "no" or "cannot tell", never an exception.
    assert adapter_up(0) in (True, False, None)
    assert adapter_up(250) in (False, None)


def test_icons_go_to_the_led_matrix_with_response(radio: FakeRadio, board: FakeBoard) -> None:
    # The board's matrix characteristic takes write requests only; a write
    # command would be dropped on the way and the icon never shown.
    link = make_link(radio)
    link.connect()
    try:
        assert wait_for(lambda: link.state is LinkState.CONNECTED)
        link.show_icon([[r == c for c in range(5)] for r in range(5)])
        assert wait_for(lambda: len(board.led_writes) + board.led_commands_dropped >= 1)
    finally:
        link.close()
    assert board.led_commands_dropped == 0
    assert board.led_writes == [bytes([16, 8, 4, 2, 1])]
    assert link.led_supported is True and link.can_show_icons


def test_no_led_service_is_said_once_when_an_icon_cannot_be_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    board = FakeBoard(NAME, has_led=False, has_buttons=False)
    radio = FakeRadio([board])
    link = make_link(radio)
    with caplog.at_level(logging.INFO, logger="kiosk.microbit.ble"):
        link.connect()
        try:
            assert wait_for(lambda: link.state is LinkState.CONNECTED)
            for _ in range(3):
                link.show_icon([[True] * 5] * 5)
                n = link.samples.sequence
                assert wait_for(lambda n=n: link.samples.sequence >= n + 10)
            assert wait_for(lambda: len(link.samples) >= 50)
        finally:
            link.close()
    assert link.led_supported is False and not link.can_show_icons  # the screen says so
    assert board.led_writes == []
    said = [
        r for r in caplog.records if r.levelno >= logging.WARNING and "LED service" in r.message
    ]
    assert len(said) == 1, [r.message for r in caplog.records]
    assert "cannot show icons" in said[0].message
    check_samples(link, board)


def test_a_drop_reconnects_to_the_known_address_and_samples_stay_correct(
    radio: FakeRadio, board: FakeBoard
) -> None:
    scans = []
    factory = radio.scanner_factory
    radio_scanner = lambda: scans.append(1) or factory()  # noqa: E731
    drops = iter(["drop"] * 3)
    radio.on_connection_event = lambda p: next(drops) if radio.rng.random() < 0.05 else None
    link = BleLink(
        NAME,
        peripheral_factory=radio.peripheral_factory,
        scanner_factory=radio_scanner,
        clock=radio.clock,
        buffer=SampleBuffer(20000),
    )
    link.connect()
    try:
        assert wait_for(lambda: radio.log.sessions >= 4 and len(link.samples) > 600)
    finally:
        link.close()
    assert len(scans) == 1, "reconnects go straight to the address"
    assert radio.log.injected["drop"] == 3
    check_samples(link, board)
    lost = [s for s in states(link) if s.state is LinkState.RECONNECTING and s.fault]
    assert lost and {s.fault for s in lost} == {Fault.CONNECTION_LOST}
    assert "Lost the Bluetooth link to micro:bit gutop. Reconnecting…" in [s.reason for s in lost]
    for lost, up in zip(radio.log.lost_at, radio.log.up_at[1:], strict=False):
        assert up - lost < 1.0


def test_silence_for_3_s_reconnects(radio: FakeRadio, board: FakeBoard) -> None:
    faults = iter([None] * 20 + ["silence"])
    radio.on_connection_event = lambda p: next(faults, None)
    link = make_link(radio)
    link.connect()
    try:
        assert wait_for(lambda: radio.log.sessions >= 2 and len(link.samples) > 100)
    finally:
        link.close()
    ks = check_samples(link, board)
    gap_s = np.diff(ks).max() * board.period_ms / 1000
    assert 3.0 <= gap_s < 4.0, "silence detected after 3 s, then reconnected at once"
    silent = [s for s in states(link) if "stopped sending data" in s.reason]
    assert silent and silent[0].fault is Fault.CONNECTION_LOST


def test_connect_failures_back_off_then_rescan_then_connect(radio: FakeRadio, board: FakeBoard):
    radio.fail_next_connects = 3
    link = make_link(radio)
    link.connect()
    try:
        assert wait_for(lambda: len(link.samples) >= 10)
    finally:
        link.close()
    assert radio.log.injected["connect_fail"] == 3
    retries = [s for s in states(link) if s.fault is not None]
    assert retries and {s.fault for s in retries} == {Fault.NO_ANSWER}
    assert retries[0].reason.startswith("Found micro:bit gutop at ")
    assert retries[0].reason.endswith("but could not connect. Trying again…")
    assert link.stats["failed_attempts"] == 3
    check_samples(link, board)


def test_repeated_failures_end_in_failed_and_connect_starts_over(
    radio: FakeRadio, board: FakeBoard
) -> None:
    radio.fail_next_connects = 100
    slow = timing(4, failed_after_s=10.0)
    link = make_link(radio, timing=slow)
    start = radio.clock.now()
    link.connect()
    assert wait_for(lambda: link.state is LinkState.FAILED)
    tries = link.stats["failed_attempts"]
    assert tries >= 4
    assert link.fault is Fault.NO_ANSWER
    assert link.reason == (
        f"Found micro:bit gutop at {board.address} but could not connect. "
        f"Gave up after {tries} tries."
    )
    # it kept trying for the give-up time, backing off between attempts
    assert radio.clock.now() - start >= 10.0
    assert radio.clock.now() - start >= sum(slow.retry.delay(n) for n in range(1, tries))
    assert [slow.retry.delay(n) for n in (1, 2, 3)] == [0.25, 0.5, 1.0]
    assert tries < 10.0 / 0.25, "it backed off, not hammered the adapter"
    radio.fail_next_connects = 0
    link.connect()
    try:
        assert wait_for(lambda: len(link.samples) >= 10)
    finally:
        link.close()
    check_samples(link, board)


def test_board_not_found_says_so(radio: FakeRadio) -> None:
    link = make_link(radio, "tatat", timing=timing(2, scan_s=2.0))
    link.connect()
    try:
        assert wait_for(lambda: link.state is LinkState.FAILED)
    finally:
        link.close()
    changes = states(link)
    assert any(s.reason.startswith("Can't see micro:bit tatat") for s in changes)
    failed = next(s for s in changes if s.state is LinkState.FAILED)
    assert failed.fault is Fault.BOARD_NOT_FOUND
    assert "lights" in pair_failed_words(failed.fault, link.kind).sentence


def test_scanning_without_permission_explains(radio: FakeRadio, caplog) -> None:
    radio.scan_permission_denied = True
    link = make_link(radio, timing=timing(2))
    link.connect()
    try:
        assert wait_for(lambda: link.state is LinkState.FAILED)
        assert link.reason.startswith("Bluetooth is not available on this kiosk")
        assert link.fault in (Fault.PERMISSION_MISSING, Fault.ADAPTER_MISSING)
    finally:
        link.close()
    assert "CAP_NET_RAW" in caplog.text


def test_firmware_without_accelerometer_fails_with_a_reason() -> None:
    radio = FakeRadio([FakeBoard(NAME, has_accelerometer=False)])
    link = make_link(radio, timing=timing(2))
    link.connect()
    try:
        assert wait_for(lambda: link.state is LinkState.FAILED)
        assert link.fault is Fault.WRONG_PROGRAM
        assert "does not send movement data" in link.reason
        assert "it needs the kiosk's program" in link.reason
        assert "staff" in pair_failed_words(link.fault, link.kind).next
    finally:
        link.close()


def test_importing_the_package_does_not_import_bluepy() -> None:
    code = (
        "import sys, kiosk.microbit, kiosk.microbit.ble, kiosk.microbit.simulated;"
        "print('bluepy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
