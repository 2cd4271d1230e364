"""Recording gestures: a 3-2-1 countdown, then one second cut from the sample buffer by time.

"Record 5 in a row" repeats the recording with a short pause between takes,
so a visitor can make many examples quickly. A take with too few samples
(the board dropped out or stopped sending) is refused, never stored.

A take is cut once the buffer holds a sample stamped at or after the end of
its second, not merely when the clock says the second is over: the link's
I/O thread may not have delivered the last samples yet (a loaded CPU, a
Bluetooth burst still on its way), and cutting then would lose them. If
nothing more comes within ``LATE_SAMPLES_GRACE_S`` the take is cut with what
arrived (and refused if that is too little).
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass

from kiosk.dataset import Recording
from kiosk.errors import WindowTooShortError
from kiosk.i18n import _
from kiosk.signal import SampleBuffer

# How long after a take's second a recording waits for samples stamped inside
# it (at most; usually one Bluetooth connection event, under 50 ms). Long enough
# for a starved I/O thread to catch up, short enough that a board that stopped
# sending is reported promptly.
LATE_SAMPLES_GRACE_S = 1.5


class Phase(enum.Enum):
    COUNTDOWN = "countdown"  # 3-2-1 before the first take
    RECORDING = "recording"
    GAP = "gap"  # the pause between takes of a series


@dataclass(frozen=True)
class Take:
    """What one finished take produced: a recording, or why there is none."""

    action_index: int
    recording: Recording | None
    problem: WindowTooShortError | None = None


class Recorder:
    """Takes recordings for one action at a time, driven by ``tick(now)``."""

    def __init__(
        self,
        countdown_s: float,
        record_s: float,
        gap_s: float,
        min_samples: int,
        device_period_ms: float,
    ) -> None:
        self.countdown_s = countdown_s
        self.record_s = record_s
        self.gap_s = gap_s
        self.min_samples = min_samples
        self.device_period_ms = device_period_ms
        self.action_index: int | None = None
        self.phase: Phase | None = None
        self.remaining = 0
        self.total = 0
        self._phase_started = 0.0

    @property
    def busy(self) -> bool:
        return self.phase is not None

    def start(self, action_index: int, count: int, now: float) -> None:
        self.action_index = action_index
        self.remaining = self.total = max(1, count)
        self._enter(Phase.COUNTDOWN if self.countdown_s > 0 else Phase.RECORDING, now)

    def cancel(self) -> None:
        """Stop at once; nothing of the series is kept (also the recorder's reset)."""
        self.phase = None
        self.action_index = None
        self.remaining = self.total = 0
        self._phase_started = 0.0

    def countdown_number(self, now: float) -> int:
        """3, 2, 1 during the countdown (0 otherwise)."""
        if self.phase is not Phase.COUNTDOWN:
            return 0
        return max(1, int(self.countdown_s - (now - self._phase_started)) + 1)

    def progress(self, now: float) -> float:
        """0..1 through the current take while recording."""
        if self.phase is not Phase.RECORDING:
            return 0.0
        return min(1.0, (now - self._phase_started) / self.record_s)

    @property
    def take_number(self) -> int:
        """1-based number of the take under way within its series."""
        return self.total - self.remaining + 1

    def tick(self, now: float, buffer: SampleBuffer) -> Take | None:
        """Advance; returns a Take when one has just finished."""
        elapsed = now - self._phase_started
        if (self.phase is Phase.COUNTDOWN and elapsed >= self.countdown_s) or (
            self.phase is Phase.GAP and elapsed >= self.gap_s
        ):
            self._enter(Phase.RECORDING, now)
        elif self.phase is Phase.RECORDING and self._window_complete(elapsed, buffer):
            take = self._cut(buffer, self._phase_started, now)
            self.remaining -= 1
            if self.remaining > 0 and take.recording is not None:
                self._enter(Phase.GAP, now)
            else:
                self.phase = None
            return take
        return None

    def _window_complete(self, elapsed: float, buffer: SampleBuffer) -> bool:
        """The take's second is over and its samples are in (or have stopped coming)."""
        if elapsed < self.record_s:
            return False
        if elapsed >= self.record_s + LATE_SAMPLES_GRACE_S:
            return True
        newest = buffer.latest(1).t
        return len(newest) > 0 and float(newest[-1]) >= self._phase_started + self.record_s

    def _enter(self, phase: Phase, now: float) -> None:
        self.phase = phase
        self._phase_started = now

    def _cut(self, buffer: SampleBuffer, started: float, now: float) -> Take:
        assert self.action_index is not None
        window = buffer.between(started, started + self.record_s)
        if len(window) < self.min_samples:
            problem = WindowTooShortError(
                _(
                    "That recording was too short ({got} of {needed} readings): the micro:bit "
                    "stopped sending. Check it is switched on and close, then try again."
                ).format(got=len(window), needed=self.min_samples)
            )
            return Take(self.action_index, None, problem)
        span = float(window.t[-1] - window.t[0]) if len(window) > 1 else 0.0
        rate = (len(window) - 1) / span if span > 0 else None
        recording = Recording(
            samples=window.xyz,
            created_at=int(time.time() * 1000),
            sample_period_ms=self.device_period_ms,
            arrival_rate_hz=rate,
        )
        return Take(self.action_index, recording)
