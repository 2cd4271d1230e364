"""The one interface the rest of the kiosk uses to talk to a micro:bit.

A ``Link`` hides how samples travel (Bluetooth LE, USB serial, or a simulated
board): it runs its I/O on its own thread, puts accelerometer samples (in g,
time-stamped on arrival with the monotonic clock) into a ``SampleBuffer``, and
queues button presses and state changes for the UI thread to drain. Nothing
here blocks the caller: ``connect`` starts the thread and returns, and
``show_icon`` only queues the pattern for the I/O thread to write.

Backends subclass ``Link`` and implement ``_run``; they report through
``_set_state``, ``_push_sample`` / ``_push_samples`` and ``_push_button``, and
must never let an exception escape their thread (the base class catches and
logs any that do, and moves to ``failed`` with a reason).
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kiosk.signal import SampleBuffer

log = logging.getLogger(__name__)

Icon = Sequence[Sequence[bool]]  # 5 rows of 5 booleans, top row first, left column first


class LinkState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"


@dataclass(frozen=True)
class StateChange:
    state: LinkState
    reason: str  # words a visitor can read, e.g. "Looking for your micro:bit…"
    t: float


@dataclass(frozen=True)
class ButtonEvent:
    button: str  # "A" or "B"
    pressed: bool  # True on press, False on release
    t: float
    long_press: bool = False


LinkEvent = StateChange | ButtonEvent


class Link(ABC):
    """A connection to one micro:bit; see the module docstring."""

    #: Human-readable kind, shown to the visitor ("Bluetooth", "USB", "Simulated").
    kind: str = "micro:bit"
    #: True for boards the kiosk makes up (demo mode): the UI labels them clearly.
    simulated: bool = False
    #: True when samples arrive on their own, as time passes (every real board);
    #: False for a board a test steps by hand, which the session then predicts
    #: for synchronously rather than on a prediction thread.
    realtime: bool = True

    def __init__(self, buffer: SampleBuffer | None = None) -> None:
        self.samples = buffer if buffer is not None else SampleBuffer()
        self._events: queue.SimpleQueue[LinkEvent] = queue.SimpleQueue()
        self._icons: queue.SimpleQueue[tuple[tuple[bool, ...], ...]] = queue.SimpleQueue()
        self._state = LinkState.DISCONNECTED
        self._reason = "Not connected yet."
        self._state_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- what the kiosk calls -------------------------------------------------

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def reason(self) -> str:
        return self._reason

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

    @abstractmethod
    def _run(self, stop: threading.Event) -> None:
        """Connect, stream, reconnect; return when ``stop`` is set."""

    def _thread_main(self, stop: threading.Event) -> None:
        try:
            self._run(stop)
        except Exception as exc:  # a backend bug must not kill the kiosk silently
            log.exception("%s link thread crashed", self.kind)
            self._set_state(LinkState.FAILED, f"The connection stopped working ({exc}).")

    def _set_state(self, state: LinkState, reason: str) -> None:
        with self._state_lock:
            if state is self._state and reason == self._reason:
                return
            self._state, self._reason = state, reason
        log.info("%s link: %s (%s)", self.kind, state.value, reason)
        self._events.put(StateChange(state, reason, time.monotonic()))

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
