"""1000 injected Bluetooth faults in one run: nothing escapes the link thread, every lost
link comes back within 5 s (fake time), and every sample delivered is a correct one."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from kiosk.microbit.ble import BleLink
from kiosk.microbit.link import ButtonEvent, LinkState, StateChange
from kiosk.signal import SampleBuffer
from tests.microbit.fake_bluepy import FakeBoard, FakePeripheral, FakeRadio
from tests.microbit.test_ble_link import NAME, check_samples, wait_for

TARGET_FAULTS = 1000
STREAM_FAULTS = ("drop", "silence", "garbage", "button_garbage", "unknown_handle")
STREAM_WEIGHTS = (0.45, 0.06, 0.25, 0.12, 0.12)


def _fault_plan(radio: FakeRadio, rng: np.random.Generator):
    """Per connection event (~every 39 ms): a fault about every 1.2 s, a button press rarely."""

    def plan(peripheral: FakePeripheral) -> str | None:
        if radio.log.total >= TARGET_FAULTS:
            return None
        draw = rng.random()
        if draw < 1 / 30:
            fault = str(rng.choice(STREAM_FAULTS, p=STREAM_WEIGHTS))
            armed = radio.fail_next_connects + radio.drop_during_setup + radio.miss_next_scans
            if fault == "drop" and not armed and rng.random() < 0.5:
                # the reconnect meets trouble too: refused connects, a drop during
                # set-up, or a scan that misses the board's first adverts
                which = rng.integers(4)
                if which == 0:
                    radio.fail_next_connects = 1
                elif which == 1:
                    radio.fail_next_connects = 2
                elif which == 2:
                    radio.drop_during_setup = 1
                else:
                    radio.fail_next_connects, radio.miss_next_scans = 2, 1
            return fault
        if draw < 1 / 30 + 1 / 300:
            return "press"
        return None

    return plan


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_thousand_faults(caplog: pytest.LogCaptureFixture) -> None:
    board = FakeBoard(NAME)
    radio = FakeRadio([board, FakeBoard("zuzuz", address="d4:2a:7e:00:00:01")], seed=11)
    radio.on_connection_event = _fault_plan(radio, np.random.default_rng(5))
    link = BleLink(
        NAME,
        peripheral_factory=radio.peripheral_factory,
        scanner_factory=radio.scanner_factory,
        clock=radio.clock,
        buffer=SampleBuffer(150_000),
    )
    start_fake, start_real = radio.clock.now(), time.monotonic()
    events: list = []
    with caplog.at_level(logging.WARNING):
        link.connect()
        try:
            while radio.log.total < TARGET_FAULTS:
                assert link._thread is not None and link._thread.is_alive()
                events += link.poll_events()
                time.sleep(0.05)
            # after the last fault the link settles and streams again
            assert wait_for(lambda: link.state is LinkState.CONNECTED, timeout=30)
            sequence = link.samples.sequence
            assert wait_for(lambda: link.samples.sequence > sequence + 50, timeout=30)
            assert link._thread.is_alive()
        finally:
            link.close()
    events += link.poll_events()
    fake_s, real_s = radio.clock.now() - start_fake, time.monotonic() - start_real

    # nothing escaped the thread (the base class would log "crashed" and go to failed)
    assert "crashed" not in caplog.text
    changes = [e for e in events if isinstance(e, StateChange)]
    assert LinkState.FAILED not in {c.state for c in changes}

    # every lost link came back within 5 s of (fake) time
    lost = np.array(radio.log.lost_at[:-1])  # the last one is close()
    up = np.array(radio.log.up_at)
    nxt = np.searchsorted(up, lost, side="right")
    assert np.all(nxt < len(up)), "a lost link never came back"
    latency = up[nxt] - lost
    worst = lost[np.argmax(latency)]
    story = [(round(t - worst, 3), k) for t, k in radio.log.timeline if -2 <= t - worst <= 12]
    assert latency.max() <= 5.0, f"slowest reconnect, from the loss: {story}"

    # every sample is a correct one, and each session delivered some
    ks = check_samples(link, board)
    t = link.samples.latest(link.samples.capacity).t
    ends = np.append(lost, np.inf)[np.searchsorted(lost, up, side="right")]
    per_session = np.searchsorted(t, ends) - np.searchsorted(t, up)
    silences = np.array([s for s, kind in radio.log.timeline if kind == "silence"])
    silenced = np.searchsorted(silences, ends) > np.searchsorted(silences, up)
    # a session without samples was cut short at once, or kept quiet by a silence fault
    empty = (per_session == 0) & ((ends - up) > 0.2)
    assert not np.any(empty & ~silenced), "a reconnect delivered no samples"

    # buttons: exactly the real presses, garbage made none
    buttons = [(e.button, e.pressed) for e in events if isinstance(e, ButtonEvent)]
    assert buttons == [("A", True), ("A", False)] * radio.log.presses
    assert link.stats["bad_payloads"] >= 3 * radio.log.injected.get("garbage", 0)

    print(
        f"\nBLE soak: {radio.log.total} faults {dict(sorted(radio.log.injected.items()))}, "
        f"{radio.log.presses} presses, {len(lost)} links lost, {radio.log.sessions} sessions, "
        f"reconnect latency median {np.median(latency):.2f} s max {latency.max():.2f} s "
        f"(fake time), {len(ks)} samples checked, {fake_s:.0f} s fake in {real_s:.1f} s real"
    )
