"""The one interface the rest of the kiosk uses to talk to a micro:bit.

A ``Link`` hides how samples travel (Bluetooth LE, USB serial, or a simulated
board): it runs its I/O on its own thread, puts accelerometer samples (in g,
time-stamped on arrival with the monotonic clock) into a ``SampleBuffer``, and
queues button presses and state changes for the UI thread to drain. Nothing
here blocks the caller: ``connect`` starts the thread and returns, and
``show_icon`` only queues the pattern for the I/O thread to write.

Reconnecting is decided here, once, for every backend: ``Link._run`` calls
the backend's ``_attempt`` (find the board, connect, stream until stop or
loss) again and again under one ``RetryPolicy`` (first wait, longest wait,
attempts before ``failed``, and whether to go on quietly after that). A
backend only says how an attempt ended: it returns whether the board
delivered data, or raises ``BoardFault`` naming what went wrong (a ``Fault``)
with a detail for staff. It reports progress through ``_set_state``,
``_push_sample`` / ``_push_samples`` and ``_push_button``.

The hardware layer never writes words for a visitor: a ``StateChange``
carries the typed ``fault`` and a ``reason`` detail for the log, ``kiosk
monitor`` and ``kiosk doctor``; the session chooses what the screen says
(``kiosk.session.board_words``).
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from kiosk.errors import LinkError
from kiosk.signal import SampleBuffer

log = logging.getLogger(__name__)

Icon = Sequence[Sequence[bool]]  # 5 rows of 5 booleans, top row first, left column first


class LinkState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"


class Fault(enum.Enum):
    """What went wrong between the kiosk and a board, as the session needs to tell it apart."""

    BOARD_NOT_FOUND = "board not found"  # no board plugged in, or none advertising the pattern
    UNPLUGGED = "unplugged"  # the USB board went away; the link waits for it
    NO_ANSWER = "no answer"  # a board is there but does not answer (frozen, busy, flashing)
    WRONG_PROGRAM = "wrong program"  # it answers, but its program is not one the kiosk speaks
    NO_DATA = "no data"  # it answers but no movement arrives (a radio remote off or far away)
    CONNECTION_LOST = "connection lost"  # a working link dropped or went silent
    ADAPTER_MISSING = "adapter missing"  # no Bluetooth adapter or no Bluetooth support
    ADAPTER_DOWN = "adapter down"  # the adapter is there but switched off or not usable
    PERMISSION_MISSING = "permission missing"  # the service lacks a group or capability
    PORT_BUSY = "port busy"  # another program holds the serial port
    BAD_SETTING = "bad setting"  # the board refused a kiosk setting (a radio remote id)
    INTERNAL = "internal error"  # a bug in the kiosk's own link code


class BoardFault(LinkError):
    """One connection attempt failed: ``fault`` says how, ``detail`` says it for staff.

    ``retry=False`` ends the link at once (nothing would change by trying again,
    for example Bluetooth support not installed).
    """

    def __init__(self, fault: Fault, detail: str, *, retry: bool = True) -> None:
        super().__init__(detail)
        self.fault = fault
        self.detail = detail
        self.retry = retry


@dataclass(frozen=True)
class StateChange:
    state: LinkState
    reason: str  # a detail for staff and the log, e.g. "Saying hello to the micro:bit…"
    t: float
    fault: Fault | None = None  # what went wrong, for the session to put into visitor words


@dataclass(frozen=True)
class RetryPolicy:
    """How a link retries failed connection attempts; one policy for every backend.

    After a failed attempt the link waits ``first_delay_s``, doubling each time
    up to ``max_delay_s``. After ``attempts_before_failed`` failures in a row
    (and at least ``failed_after_s`` since the board last delivered, so a flaky
    but working link keeps trying), the state is ``failed``. Then the link
    either stops (``connect()`` starts over) or, with
    ``keep_trying_after_failed``, keeps trying every ``max_delay_s`` without
    changing the state, so a board that froze or was re-flashed comes back by
    itself. An attempt in which the board delivered resets the count, and the
    next attempt starts at once.
    """

    first_delay_s: float = 0.5
    max_delay_s: float = 8.0
    attempts_before_failed: int = 5
    failed_after_s: float = 0.0
    keep_trying_after_failed: bool = True

    def __post_init__(self) -> None:
        if self.first_delay_s < 0 or self.max_delay_s < self.first_delay_s:
            raise ValueError("retry delays must satisfy 0 <= first_delay_s <= max_delay_s")
        if self.attempts_before_failed < 1:
            raise ValueError("attempts_before_failed must be at least 1")

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` failed attempts in a row."""
        if failures >= self.attempts_before_failed:
            return self.max_delay_s
        return min(self.first_delay_s * 2 ** max(failures - 1, 0), self.max_delay_s)

    def has_failed(self, failures: int, since_delivery_s: float) -> bool:
        return failures >= self.attempts_before_failed and since_delivery_s >= self.failed_after_s


class Clock(Protocol):
    """Time as a link's retry loop sees it (monotonic seconds); tests pass a fake one."""

    def now(self) -> float: ...

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        """Wait up to ``seconds``; True if ``stop`` was set."""
        ...


class MonotonicClock:
    def now(self) -> float:
        return time.monotonic()

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        return stop.wait(seconds)


@dataclass(frozen=True)
class ButtonEvent:
    button: str  # "A" or "B"
    pressed: bool  # True on press, False on release
    t: float
    long_press: bool = False


LinkEvent = StateChange | ButtonEvent


class Link:
    """A connection to one micro:bit; see the module docstring."""

    #: Human-readable kind, shown to the visitor ("Bluetooth", "USB", "Simulated").
    kind: str = "micro:bit"
    #: True for boards the kiosk makes up (demo mode): the UI labels them clearly.
    simulated: bool = False
    #: True when samples arrive on their own, as time passes (every real board);
    #: False for a board a test steps by hand, which the session then predicts
    #: for synchronously rather than on a prediction thread.
    realtime: bool = True
    #: How this backend retries; backends (and tests) replace it per instance.
    retry: RetryPolicy = RetryPolicy()

    def __init__(
        self,
        buffer: SampleBuffer | None = None,
        *,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        if retry is not None:
            self.retry = retry
        self._clock: Clock = clock or MonotonicClock()
        self._quiet = False  # failed, retrying without changing the state
        self.samples = buffer if buffer is not None else SampleBuffer()
        self._events: queue.SimpleQueue[LinkEvent] = queue.SimpleQueue()
        self._icons: queue.SimpleQueue[tuple[tuple[bool, ...], ...]] = queue.SimpleQueue()
        self._state = LinkState.DISCONNECTED
        self._reason = "Not connected yet."
        self._fault: Fault | None = None
        self._state_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- what the kiosk calls -------------------------------------------------

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def reason(self) -> str:
        """The detail of the latest state, for staff and the log (not for visitors)."""
        return self._reason

    @property
    def fault(self) -> Fault | None:
        """What went wrong, while the state is about a fault; None otherwise."""
        return self._fault

    @property
    def description(self) -> str:
        """What this link is connected to, for the screen and the log."""
        return self.kind

    @property
    def can_show_icons(self) -> bool:
        """Whether ``show_icon`` reaches the board's LEDs; when False the screen says so.

        Backends whose board program may lack an LED command override this.
        """
        return True

    def connect(self) -> None:
        """Start the I/O thread; returns at once. Progress arrives as StateChange events."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            if not self._stop.is_set() and self._state is not LinkState.FAILED:
                return  # already running
            # A thread that just gave up sets FAILED a moment before it returns:
            # let it finish rather than run two at once (bounded: never hang the UI).
            self._stop.set()
            thread.join(1.0)
        # A fresh stop event per thread: an old thread still stuck in a blocking
        # radio call after close() keeps its own (set) event and exits when the
        # call returns, instead of being revived alongside the new one.
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._thread_main, args=(self._stop,), name=f"link-{self.kind}", daemon=True
        )
        self._thread.start()

    def close(self, timeout: float = 3.0) -> None:
        """Stop the I/O thread and release the hardware."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("%s link thread did not stop within %.1f s", self.kind, timeout)
        self._thread = None
        self._set_state(LinkState.DISCONNECTED, "Disconnected.")

    def poll_events(self) -> list[LinkEvent]:
        """Drain the button and state events that arrived since the last call."""
        events: list[LinkEvent] = []
        while True:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                return events

    def show_icon(self, icon: Icon) -> None:
        """Queue a 5x5 pattern for the board's LEDs (dropped with a logged note if unsupported)."""
        rows = tuple(tuple(bool(cell) for cell in row) for row in icon)
        if len(rows) != 5 or any(len(row) != 5 for row in rows):
            raise ValueError("an icon is 5 rows of 5 cells")
        self._icons.put(rows)

    # ---- what backends implement and call ----------------------------------------

    def _attempt(self, stop: threading.Event) -> bool:
        """One attempt: find the board, connect, stream until ``stop`` or the link is lost.

        Returns True if the board delivered data (the link worked: the next
        attempt starts at once and the failure count starts afresh), False
        when it ended without a fault (stopped, or the board unplugged: look
        again at once). Raises ``BoardFault`` when the attempt failed.
        """
        raise NotImplementedError(f"{type(self).__name__} implements neither _attempt nor _run")

    def _run(self, stop: threading.Event) -> None:
        """The one retry loop: ``_attempt`` again and again under ``self.retry``."""
        policy, clock = self.retry, self._clock
        failures = 0
        delivered_ever = False
        last_delivery = clock.now()
        self._quiet = False
        while not stop.is_set():
            fault: BoardFault | None = None
            try:
                delivered = self._attempt(stop)
            except BoardFault as exc:
                delivered, fault = False, exc
            except Exception as exc:  # a bug must not end the link: log it and retry
                log.exception("unexpected error in the %s link", self.kind)
                delivered = False
                fault = BoardFault(Fault.INTERNAL, f"Unexpected error in the link ({exc!r}).")
            if delivered:
                delivered_ever, failures, last_delivery = True, 0, clock.now()
                self._quiet = False
            if stop.is_set():
                return
            if fault is None:
                continue  # a drop or an unplug: the backend looks for the board again at once
            if not fault.retry:
                self._set_state(LinkState.FAILED, fault.detail, fault.fault)
                return
            failures += 1
            if self._quiet:
                pass  # failed already: retry without a word until the board delivers
            elif policy.has_failed(failures, clock.now() - last_delivery):
                if not policy.keep_trying_after_failed:
                    self._set_state(
                        LinkState.FAILED,
                        f"{fault.detail} Gave up after {failures} tries.",
                        fault.fault,
                    )
                    return
                self._set_state(
                    LinkState.FAILED,
                    f"{fault.detail} Failed {failures} tries in a row; still trying quietly.",
                    fault.fault,
                )
                self._quiet = True
            else:
                waiting = LinkState.RECONNECTING if delivered_ever else LinkState.CONNECTING
                self._set_state(waiting, f"{fault.detail} Trying again…", fault.fault)
            if clock.wait(stop, policy.delay(failures)):
                return

    def _progress(self, state: LinkState, reason: str, fault: Fault | None = None) -> None:
        """Report progress within an attempt, unless retrying quietly after ``failed``."""
        if not self._quiet:
            self._set_state(state, reason, fault)

    def _thread_main(self, stop: threading.Event) -> None:
        try:
            self._run(stop)
        except Exception as exc:  # a backend bug must not kill the kiosk silently
            log.exception("%s link thread crashed", self.kind)
            self._set_state(
                LinkState.FAILED, f"The connection stopped working ({exc}).", Fault.INTERNAL
            )

    def _set_state(self, state: LinkState, reason: str, fault: Fault | None = None) -> None:
        with self._state_lock:
            if state is self._state and reason == self._reason and fault is self._fault:
                return
            self._state, self._reason, self._fault = state, reason, fault
        if state is LinkState.CONNECTED:
            self._quiet = False
        log.info(
            "%s link: %s (%s)%s",
            self.kind,
            state.value,
            reason,
            f" [{fault.value}]" if fault is not None else "",
        )
        self._events.put(StateChange(state, reason, time.monotonic(), fault))

    def _push_sample(self, x: float, y: float, z: float, t: float | None = None) -> None:
        self.samples.append(time.monotonic() if t is None else t, x, y, z)

    def _push_samples(self, rows: np.ndarray) -> None:
        """Several samples as an (n, 4) array of t, x, y, z."""
        self.samples.extend(rows)

    def _push_button(self, button: str, pressed: bool, long_press: bool = False) -> None:
        self._events.put(ButtonEvent(button, pressed, time.monotonic(), long_press))

    def _next_icon(self) -> tuple[tuple[bool, ...], ...] | None:
        """The newest queued icon (older ones are stale), or None."""
        icon = None
        while True:
            try:
                icon = self._icons.get_nowait()
            except queue.Empty:
                return icon


def icon_to_led_bytes(icon: Icon) -> bytes:
    """5 bytes, one per row from the top; bit ``1 << (4 - column)`` lights that column."""
    return bytes(sum(1 << (4 - c) for c, lit in enumerate(row) if lit) for row in icon)
