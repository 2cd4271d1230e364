"""A made-up micro:bit: synthetic gestures delivered with Bluetooth-like timing.

The demo mode, the scripted walk-through and the tests need a board without
hardware. ``SimulatedLink`` behaves like a Bluetooth link from the kiosk's side:
the board samples every 20 ms, but samples arrive in bursts at connection
events (gaps from ~1 to ~50 ms, ~20 ms on average) and are time-stamped on
arrival, so windows must be cut by time exactly as with a real board.

Two ways to run it:

* ``realtime=True`` and ``connect()``: an I/O thread delivers samples at the
  pace of the link's clock (the monotonic clock unless a test passes a fake
  one), like a real board (the demo). The board keeps its own time: every
  sample it took is delivered, stamped with its arrival time on the board's
  schedule, even when the thread is starved (a loaded or emulated CPU) and
  catches up late; a slow kiosk never loses samples of the pretend board.
* ``realtime=False``: ``run_for(seconds)`` generates that many seconds of
  samples synchronously with virtual arrival times (tests); ``connect()`` then
  streams as fast as the thread can go.

A test (or the scripted walk-through) chooses what the board does next with
``set_gesture``, presses buttons with ``press_button`` and simulates the radio
link dropping out with ``drop_out``. Everything is deterministic for a seed
(in real time, the sample values are; the arrival times follow the clock).

Connecting goes through the same retry loop as a real board's
(``kiosk.microbit.link``): ``unanswered_attempts`` makes the first attempts
fail as a board that does not answer would, so the failure and retry path can
be shown and tested without hardware.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

import numpy as np

from kiosk.errors import LinkError
from kiosk.microbit.gestures import GESTURES, GestureStream
from kiosk.microbit.link import (
    BoardFault,
    Clock,
    Fault,
    Link,
    LinkState,
    RetryPolicy,
    icon_to_led_bytes,
)
from kiosk.signal import SampleBuffer

__all__ = ["GESTURES", "BleArrivalSchedule", "SimulatedLink"]

CONNECTED_REASON = "Simulated micro:bit connected."
DROPPED_REASON = "The simulated micro:bit went out of range; reconnecting…"
UNANSWERED_REASON = "The simulated micro:bit does not answer (told to fail this attempt)."


class BleArrivalSchedule:
    """When samples taken every ``period_s`` reach the kiosk over Bluetooth LE.

    Notifications queue on the board until the next connection event (Linux
    uses a 30-50 ms connection interval), then arrive back to back about 1 ms
    apart. Virtual times start at 0 (the board's first sample).
    """

    def __init__(self, rng: np.random.Generator, period_s: float = 0.02) -> None:
        self._rng = rng
        self._period = period_s
        self._next_sample = 0  # index of the next sample the board will take
        self._next_event = rng.uniform(0.0, 0.045)

    def until(self, horizon: float) -> tuple[np.ndarray, np.ndarray]:
        """Samples delivered by connection events up to virtual time ``horizon``.

        Returns (sample indices, arrival times), both possibly empty.
        """
        indices: list[np.ndarray] = []
        arrivals: list[np.ndarray] = []
        while self._next_event <= horizon:
            event = self._next_event
            # samples taken at least ~2 ms before the event make it into this one
            last = int(np.floor((event - 0.002) / self._period))
            if last >= self._next_sample:
                idx = np.arange(self._next_sample, last + 1)
                gaps = self._rng.uniform(0.0008, 0.0025, len(idx))
                gaps[0] = 0.0
                indices.append(idx)
                arrivals.append(event + np.cumsum(gaps))
                self._next_sample = last + 1
            self._next_event = event + self._rng.uniform(0.030, 0.048)
        if not indices:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(indices), np.concatenate(arrivals)


@runtime_checkable
class PretendBoard(Protocol):
    """A board whose movement the kiosk chooses: the pretend micro:bit's one extra verb."""

    def set_gesture(self, name: str) -> None: ...


class SimulatedLink(Link):
    """A micro:bit that makes synthetic gestures; see the module docstring.

    ``start_time`` anchors virtual time 0 on the monotonic clock (default: now),
    so tests can pass 0.0 to get fully reproducible time stamps.
    """

    kind = "Simulated"
    simulated = True

    def __init__(
        self,
        gesture: str = "still",
        seed: int = 0,
        realtime: bool = True,
        rate_hz: float = 50.0,
        buffer: SampleBuffer | None = None,
        start_time: float | None = None,
        *,
        unanswered_attempts: int = 0,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(buffer, retry=retry, clock=clock)
        self.unanswered_attempts = unanswered_attempts  # attempts left that fail (tests, demos)
        try:
            self._stream = GestureStream(gesture, seed, rate_hz)
        except ValueError as exc:
            raise LinkError(f"The simulated micro:bit cannot do that: {exc}.") from None
        if rate_hz <= 0:
            raise LinkError("The simulated micro:bit needs a sample rate above 0 Hz.")
        self.seed = seed
        self.realtime = realtime
        self.rate_hz = float(rate_hz)
        self._schedule = BleArrivalSchedule(np.random.default_rng([seed, 1]), 1.0 / rate_hz)
        self._origin = self._clock.now() if start_time is None else float(start_time)
        self._virtual_now = 0.0  # virtual seconds generated so far
        self._drop_until = -1.0  # virtual time the current drop-out ends
        self._pending_drop = 0.0
        self._lock = threading.Lock()  # guards the stream, schedule and virtual clock
        self.last_icon: tuple[tuple[bool, ...], ...] | None = None
        self.led_bytes: bytes | None = None

    # ---- what a test or the demo calls ---------------------------------------------

    @property
    def description(self) -> str:
        return f"Simulated micro:bit ({self.gesture})"

    @property
    def gesture(self) -> str:
        return self._stream.gesture

    def set_gesture(self, name: str) -> None:
        """Make the board do ``name`` (one of GESTURES) from its next sample on."""
        try:
            with self._lock:
                self._stream.set_gesture(name)
        except ValueError as exc:
            raise LinkError(f"The simulated micro:bit cannot do that: {exc}.") from None

    def press_button(self, button: str, long_press: bool = False) -> None:
        """Press and release button "A" or "B" (two ButtonEvents)."""
        button = button.strip().upper()
        if button not in ("A", "B"):
            raise LinkError(f"A micro:bit has buttons A and B, not {button!r}.")
        self._push_button(button, True, long_press)
        self._push_button(button, False, long_press)

    def drop_out(self, seconds: float) -> None:
        """Lose the radio link for ``seconds`` (state reconnecting, no samples), then recover."""
        with self._lock:
            self._pending_drop = max(self._pending_drop, float(seconds))

    def run_for(self, seconds: float) -> int:
        """Generate ``seconds`` of virtual time synchronously; returns the samples delivered.

        Meant for ``realtime=False`` without the thread; it also works after
        ``close()``. Marks the link connected if it was not.
        """
        if self.state is not LinkState.CONNECTED and not self._in_drop():
            self._set_state(LinkState.CONNECTED, CONNECTED_REASON)
        return self._advance(self._virtual_now + max(float(seconds), 0.0))

    # ---- the I/O thread --------------------------------------------------------------

    def _attempt(self, stop: threading.Event) -> bool:
        """Start the board and stream until ``stop``; the base's retry loop calls this."""
        self._progress(LinkState.CONNECTING, "Starting the simulated micro:bit…")
        if self.unanswered_attempts > 0:
            self.unanswered_attempts -= 1
            raise BoardFault(Fault.NO_ANSWER, UNANSWERED_REASON)
        if self.realtime:
            with self._lock:
                # continue from where virtual time is, anchored to now
                self._origin = self._clock.now() - self._virtual_now
        self._set_state(LinkState.CONNECTED, CONNECTED_REASON)
        step = 0.01 if self.realtime else 0.5
        while not stop.is_set():
            self._show_queued_icon()
            if self.realtime:
                # Everything the board sent up to now, however late this thread
                # runs: a starved thread catches up (each sample keeps the arrival
                # time the board's schedule gave it), it never skips samples.
                self._advance(self._clock.now() - self._origin)
                self._clock.wait(stop, step)
            else:
                self._advance(self._virtual_now + step)
                time.sleep(0)  # let other threads run between bursts
        return True

    def _show_queued_icon(self) -> None:
        icon = self._next_icon()
        if icon is not None:
            self.last_icon = icon
            self.led_bytes = icon_to_led_bytes(icon)

    def _in_drop(self) -> bool:
        return self._virtual_now < self._drop_until

    def _skip_to(self, virtual_t: float) -> None:
        with self._lock:
            idx, _ = self._schedule.until(virtual_t)
            if len(idx):
                self._stream.take(len(idx))
            self._virtual_now = max(self._virtual_now, virtual_t)

    def _advance(self, horizon: float) -> int:
        """Deliver everything that arrives up to virtual ``horizon``; returns the count."""
        delivered = 0
        while True:
            with self._lock:
                if self._pending_drop > 0:
                    self._drop_until = self._virtual_now + self._pending_drop
                    self._pending_drop = 0.0
                    starting_drop = True
                else:
                    starting_drop = False
                drop_until = self._drop_until
                now = self._virtual_now
            if starting_drop:
                self._set_state(LinkState.RECONNECTING, DROPPED_REASON, Fault.CONNECTION_LOST)
            if now < drop_until:
                # the board keeps moving while the link is down; its samples are lost
                self._skip_to(min(drop_until, horizon))
                if self._virtual_now >= drop_until:
                    self._set_state(LinkState.CONNECTED, CONNECTED_REASON)
                if self._virtual_now >= horizon:
                    return delivered
                continue
            with self._lock:
                idx, arrival = self._schedule.until(horizon)
                xyz = self._stream.take(len(idx))
                self._virtual_now = max(self._virtual_now, horizon)
            if len(idx):
                rows = np.column_stack((arrival + self._origin, xyz))
                self._push_samples(rows)
                delivered += len(idx)
            if self.state is not LinkState.CONNECTED:
                self._set_state(LinkState.CONNECTED, CONNECTED_REASON)
            return delivered
