"""Live predictions off the UI thread: one worker predicts on every new sample, the UI drains them.

With a real board the model runs on every sample (50 Hz), and the radio
delivers in bursts of 2-3, so predicting inside the UI frame made those frames
the slowest (their p95 decides whether a Pi holds 60 fps). Here a daemon
thread owns a ``LivePredictor`` (and so its TFLite interpreter: built on this
thread and used from nowhere else), sleeps until the ``SampleBuffer`` says a
sample arrived (``SampleBuffer.watch``), makes exactly the predictions the
UI thread used to make, and appends them to a deque. The UI thread only
drains that deque; it never waits on this thread, except for a bounded join
when testing stops.

A bug or a runtime failure in the thread is logged and kept as a message a
visitor can read (``problem``); the kiosk carries on without live guesses.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable

from kiosk.i18n import N_, _
from kiosk.ml.predictor import LivePredictor, Prediction
from kiosk.signal.buffer import SampleBuffer

log = logging.getLogger(__name__)

# Predictions waiting for the UI: two seconds at 50 Hz. The UI drains every
# frame; if it stops draining (a long stall) the oldest answers are dropped.
QUEUE_LENGTH = 100
# A safety net only: the buffer's event wakes the thread on every sample.
IDLE_WAIT_S = 0.25
STOP_TIMEOUT_S = 1.0

PROBLEM = N_(
    "The live guessing stopped because of a problem. Tap “Record more”, then “Train” to start "
    "it again."
)


class PredictionThread:
    """A worker predicting on each new sample of ``buffer``; see the module docstring.

    ``make_predictor`` runs on the worker thread, so the interpreter it builds
    belongs to that thread.
    """

    def __init__(
        self,
        make_predictor: Callable[[], LivePredictor],
        buffer: SampleBuffer,
        queue_length: int = QUEUE_LENGTH,
    ) -> None:
        self.buffer = buffer
        self._make_predictor = make_predictor
        self._ready: collections.deque[Prediction] = collections.deque(maxlen=queue_length)
        self._woken = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="live-predictor", daemon=True)
        self.problem: str | None = None  # set (once) by the worker when it fails
        self.made = 0  # predictions made by the worker (read by tests and the bench)
        self.seen = -1  # sequence of the newest sample the worker has looked at

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> PredictionThread:
        self.buffer.watch(self._woken)
        self._thread.start()
        return self

    def drain(self) -> list[Prediction]:
        """Every prediction made since the last drain, oldest first; never blocks."""
        ready = self._ready
        out: list[Prediction] = []
        # popleft is atomic on a deque, so this needs no lock while the worker appends.
        while ready:
            out.append(ready.popleft())
        return out

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> bool:
        """Ask the worker to finish and wait for it (bounded); True when it has stopped."""
        self._stop.set()
        self._woken.set()
        self.buffer.unwatch(self._woken)
        if self._thread.ident is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the live predictor thread did not stop within %.1f s", timeout)
            return False
        return True

    def _main(self) -> None:
        try:
            predictor = self._make_predictor()
            while not self._stop.is_set():
                self._woken.wait(IDLE_WAIT_S)
                # Cleared before reading the buffer: a sample appended from here on sets
                # it again, so no sample can slip between a look and the next sleep.
                self._woken.clear()
                if self._stop.is_set():
                    break
                predictions = predictor.update(self.buffer)
                if predictions:
                    self.made += len(predictions)
                    self._ready.extend(predictions)
                self.seen = predictor.last_sequence
        except Exception:  # a failure here must never take the kiosk down
            log.exception("the live predictor thread failed")
            self.problem = _(PROBLEM)
