"""Serial link soak: 1000 injected faults over a real pty, nothing escapes, every drop heals.

Timings are shrunk (``FAST``) and the fake board streams at 500 Hz, so the
whole run takes seconds; the figures it prints (``-s``) are the ones quoted in
reports: faults by kind, reconnect times, samples lost and checked.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections import Counter

import pytest

from kiosk.microbit.link import LinkState
from kiosk.microbit.serial_link import SerialLink
from kiosk.signal import SampleBuffer

from .fake_serial_board import (
    FAST,
    FAULT_KINDS,
    Events,
    FakeSerialBoard,
    is_contiguous_run,
    is_subsequence,
    received_milli_g,
    sent_xyz,
    wait_for,
)

TOTAL_FAULTS = 1000
EPISODE_EVERY = 30  # one drop (unplug, silence, or unplug + refused handshakes) per 30 faults
RECONNECT_LIMIT_S = 5.0


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_thousand_faults_no_crash_every_drop_reconnects(caplog, monkeypatch) -> None:
    caplog.set_level(logging.WARNING)
    escaped: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", escaped.append)
    retry = dataclasses.replace(FAST.retry, attempts_before_failed=10_000)
    timings = dataclasses.replace(FAST, retry=retry, handshake_timeout_s=0.3)
    rng = random.Random(2024)
    kinds: Counter[str] = Counter()
    reconnects: list[float] = []
    checked_after_reconnect = 0

    with FakeSerialBoard(rate_hz=500, lines_per_write=5, seed=3) as board:
        link = SerialLink(
            "auto", port_finder=board.ports, timings=timings, buffer=SampleBuffer(200_000)
        )
        events = Events(link)
        link.connect()
        assert events.wait_count(LinkState.CONNECTED, 1)
        step = 0
        while board.log.faults < TOTAL_FAULTS:
            step += 1
            if step % 97 == 0:  # hold a button state for a while, then change it
                board.buttons = rng.randrange(4)
            if step % EPISODE_EVERY:
                kind = rng.choice(FAULT_KINDS)
                board.inject(kind)
                kinds[kind] += 1
                time.sleep(0.001)
                continue
            kind = rng.choice(["unplug", "unplug", "silence", "refused_handshake"])
            kinds[kind] += 1
            connected = events.count(LinkState.CONNECTED)
            started = time.monotonic()
            if kind == "unplug":
                board.unplug()
                time.sleep(rng.uniform(0.0, 0.05))
                board.replug()
            elif kind == "silence":
                board.go_silent(timings.silence_timeout_s + 0.05)
            else:  # replugged with a board that ignores the handshake for a while
                board.answer_handshake = False
                board.unplug()
                board.replug()
                time.sleep(timings.handshake_timeout_s + 0.1)
                board.answer_handshake = True
            assert events.wait_count(LinkState.CONNECTED, connected + 1, RECONNECT_LIMIT_S), (
                f"no reconnect within {RECONNECT_LIMIT_S} s after {kind}"
            )
            reconnects.append(time.monotonic() - started)
            # samples after the reconnect are whole and exactly what the board sent
            count = len(link.samples)
            assert wait_for(lambda c=count: len(link.samples) >= c + 25)
            fresh = received_milli_g(link)[count:]
            assert is_contiguous_run(fresh[:20], sent_xyz(board.log.sent))
            checked_after_reconnect += 1

        assert wait_for(lambda: len(link.samples) > 100)
        time.sleep(0.05)
        received = received_milli_g(link)
        sent = sent_xyz(board.log.sent)
        thread = link._thread
        assert thread is not None and thread.is_alive()
        assert link.state is LinkState.CONNECTED
        link.close()
        faults = board.log.faults

    assert faults >= TOTAL_FAULTS
    assert not escaped, f"an exception escaped a thread: {escaped[0].exc_value!r}"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors[0].getMessage()
    assert events.count(LinkState.FAILED) == 0
    assert is_subsequence(received, sent)
    assert len(received) > 0.5 * len(sent)
    for button in ("A", "B"):  # presses and releases alternate: no stuck or doubled button
        pressed = [e.pressed for e in events.buttons if e.button == button]
        assert pressed == [i % 2 == 0 for i in range(len(pressed))]
    assert max(reconnects) < RECONNECT_LIMIT_S
    print(
        f"\nserial soak: {faults} faults {dict(sorted(kinds.items()))}; "
        f"{len(reconnects)} drops, reconnect max {max(reconnects):.3f} s, "
        f"mean {sum(reconnects) / len(reconnects):.3f} s; "
        f"{len(received)} of {len(sent)} samples received, all in order and exact; "
        f"{checked_after_reconnect} post-reconnect runs checked; stats {link.stats}"
    )
