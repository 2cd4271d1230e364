"""Live testing: the trained model's confidences for every new sample, and what it recognises.

Each ``update`` (once per frame) takes the predictions made since the last
frame, one per sample that arrived, so with a real board the model runs at
the board's 50 Hz whatever the frame rate or the radio's bursts. Every
prediction is counted and goes through the recognition rule (each action's
own threshold, CreateAI's ``detect_action``) in order; the screen shows the
newest.

Two ways to make the predictions, one way to use them (``_consume``):

- synchronous (``threaded=False``): ``update`` runs the ``LivePredictor``
  itself. For tests that step a fake clock and a stepped pretend board, where
  a thread would make the outcome depend on timing.
- threaded (``threaded=True``, used with boards that deliver in real time): a
  ``PredictionThread`` predicts as samples arrive and ``update`` only drains
  its results, so a burst of samples never costs the UI frame a few model runs.
  The thread starts on the first ``update`` and stops on ``pause``/``stop``.

Either way the one classifier made after training (the network's ``TFLiteClassifier``,
or the numpy nearest-neighbours model: ``kiosk.ml.live_model``) is the model that
predicts (it serialises its own invocations), so what was trained, shown and
explained is exactly what runs.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from kiosk.ml.live_model import LiveClassifier
from kiosk.ml.predictor import LivePredictor, Prediction, detect_action
from kiosk.ml.windows import DataWindow
from kiosk.session.prediction_thread import PredictionThread
from kiosk.signal import SampleBuffer


@dataclass
class LiveTester:
    classifier: LiveClassifier
    window: DataWindow
    threaded: bool = False
    # Accepted for callers that still pass it; the classifier above is the one model.
    model_bytes: bytes | None = None
    predictor: LivePredictor | None = field(init=False, default=None)  # synchronous mode
    latest: Prediction | None = None
    detected: int | None = None  # action index recognised now, or None
    predictions: int = 0
    problem: str | None = None  # a visitor-readable failure of the thread, until taken
    _thread: PredictionThread | None = field(init=False, default=None)
    _failed: bool = field(init=False, default=False)
    _times: collections.deque = field(default_factory=lambda: collections.deque(maxlen=200))

    def __post_init__(self) -> None:
        if not self.threaded:
            self.predictor = LivePredictor(self.classifier, self.window)

    @property
    def running(self) -> bool:
        """True while a prediction thread is working for this tester."""
        return self._thread is not None and self._thread.alive

    @property
    def worker(self) -> PredictionThread | None:
        """The prediction thread while there is one (threaded mode)."""
        return self._thread

    def update(self, buffer: SampleBuffer, thresholds: Sequence[float], now: float) -> bool:
        """Use the new samples' predictions; True when the recognised action changed.

        ``now`` is the frame's time; predictions are timed by their samples.
        """
        if not self.threaded:
            assert self.predictor is not None
            return self._consume(self.predictor.update(buffer), thresholds)
        thread = self._thread
        if thread is None or thread.buffer is not buffer:  # first call, or a new link
            if self._failed:
                return False
            self.stop()
            thread = self._thread = PredictionThread(self._predictor_factory(), buffer).start()
        changed = self._consume(thread.drain(), thresholds)
        if thread.problem is not None and not self._failed:
            self._failed = True
            self.problem = thread.problem
        return changed

    def take_problem(self) -> str | None:
        """The thread's failure message, once (the session shows it)."""
        problem, self.problem = self.problem, None
        return problem

    def pause(self) -> None:
        """Stop predicting while the test screen is not shown; the next ``update`` restarts."""
        self.stop()

    def stop(self) -> bool:
        """Stop and join the prediction thread (bounded); True when none is left running."""
        thread, self._thread = self._thread, None
        return thread is None or thread.stop()

    def rate_hz(self) -> float:
        """Predictions per second of sample time over the recent past."""
        if len(self._times) < 2 or self._times[-1] <= self._times[0]:
            return 0.0
        return (len(self._times) - 1) / (self._times[-1] - self._times[0])

    def _consume(self, predictions: list[Prediction], thresholds: Sequence[float]) -> bool:
        """Count, recognise and keep the newest of ``predictions`` (both modes come here)."""
        if not predictions:
            return False
        before = self.detected
        limits = np.asarray(thresholds, dtype=np.float64)
        for prediction in predictions:
            self.detected = detect_action(prediction.probabilities, limits)
            self._times.append(prediction.t)
        self.latest = predictions[-1]
        self.predictions += len(predictions)
        return self.detected != before

    def _predictor_factory(self) -> Callable[[], LivePredictor]:
        classifier, window = self.classifier, self.window

        def make() -> LivePredictor:  # runs on the prediction thread
            return LivePredictor(classifier, window)

        return make
