"""A slow or starved kiosk never loses a recording of the pretend board.

The pretend micro:bit behaves like a real one: it takes a sample every 20 ms
on its own clock and every sample reaches the buffer, stamped with its
arrival time on the board's schedule, however late the kiosk's I/O thread
gets to run. The recorder cuts a take only once the buffer has caught up
with the end of the take's second. Time here is a fake clock the test moves;
nothing depends on how fast this machine is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from kiosk.microbit.simulated import SimulatedLink
from kiosk.session.recorder import LATE_SAMPLES_GRACE_S, Recorder
from kiosk.signal import SampleBuffer

MIN_SAMPLES = 44  # the CreateAI window's minimum for one second at 50 Hz


class SteppedClock:
    """A fake link clock: ``now`` only moves when the test says, and the I/O
    thread's wait between rounds returns only when the test lets it run one."""

    def __init__(self, start: float) -> None:
        self.t = start
        self._turns = threading.Semaphore(0)
        self.rounds = 0  # rounds the thread has started waiting for

    def now(self) -> float:
        return self.t

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        self.rounds += 1
        while not stop.is_set():
            # The short timeout only lets close() end the thread; no result depends on it.
            if self._turns.acquire(timeout=0.05):
                return False
        return True

    def run_one_round(self) -> None:
        """Let the thread deliver what the board sent up to ``now``, and wait until it has."""
        before = self.rounds
        self._turns.release()
        assert _poll(lambda: self.rounds > before), "the pretend board's thread did not run"


def _poll(condition: Callable[[], bool], deadline_s: float = 60.0) -> bool:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def _recorder() -> Recorder:
    return Recorder(
        countdown_s=0.0, record_s=1.0, gap_s=0.0, min_samples=MIN_SAMPLES, device_period_ms=20.0
    )


def test_a_starved_pretend_board_catches_up_and_the_take_keeps_every_sample() -> None:
    clock = SteppedClock(100.0)
    link = SimulatedLink("shake", seed=3, realtime=True, clock=clock)
    recorder = _recorder()
    link.connect()
    try:
        assert _poll(lambda: clock.rounds >= 1), "the pretend board's thread did not start"
        recorder.start(0, 1, now=100.0)
        # The kiosk's I/O thread gets no turn for the whole second (a loaded CPU),
        # then the UI thread ticks the recorder first.
        clock.t = 101.0
        assert recorder.tick(101.0, link.samples) is None, "cut before the board's samples were in"
        clock.run_one_round()
        # Still short of the second's end? The board's next connection event is later.
        while not len(link.samples) or link.samples.latest(1).t[-1] < 101.0:
            assert recorder.tick(clock.t, link.samples) is None
            clock.t += 0.02
            clock.run_one_round()
        take = recorder.tick(clock.t, link.samples)
    finally:
        link.close()
    assert take is not None and take.problem is None, take
    assert take.recording is not None
    # A board sampling every 20 ms for one second, delivered in Bluetooth bursts.
    assert 48 <= len(take.recording.samples) <= 52, len(take.recording.samples)
    t = link.samples.between(100.0, 101.0).t
    assert np.all(np.diff(t) > 0)
    assert np.diff(t).max() < 0.06, "a gap in the take: samples were skipped"


def test_the_take_waits_for_late_samples_instead_of_cutting_short() -> None:
    buffer = SampleBuffer()
    recorder = _recorder()
    recorder.start(0, 1, now=10.0)
    for i in range(45):  # the first 0.9 s of the second are in
        buffer.append(10.0 + 0.02 * i, 0.0, 0.0, 1.0)
    assert recorder.tick(11.0, buffer) is None
    assert recorder.busy
    for i in range(45, 52):  # the I/O thread catches up, up to past the second's end
        buffer.append(10.0 + 0.02 * i, 0.0, 0.0, 1.0)
    take = recorder.tick(11.1, buffer)
    assert take is not None and take.recording is not None, take
    assert len(take.recording.samples) == 51  # t = 10.00 .. 11.00
    assert not recorder.busy


def test_a_board_that_stopped_sending_is_still_reported_after_the_grace() -> None:
    buffer = SampleBuffer()
    recorder = _recorder()
    recorder.start(0, 1, now=10.0)
    for i in range(20):
        buffer.append(10.0 + 0.02 * i, 0.0, 0.0, 1.0)
    assert recorder.tick(11.0, buffer) is None
    assert recorder.tick(11.0 + LATE_SAMPLES_GRACE_S / 2, buffer) is None
    take = recorder.tick(11.0 + LATE_SAMPLES_GRACE_S, buffer)
    assert take is not None and take.recording is None
    assert take.problem is not None and "20 of 44" in str(take.problem)
