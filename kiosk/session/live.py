"""Live testing: the trained model's confidences for every new sample, and what it recognises.

Each ``update`` (once per frame) takes the ``LivePredictor``'s predictions,
one per sample that arrived since the last frame, so with a real board the
model runs at the board's 50 Hz whatever the frame rate or the radio's bursts.
Every prediction is counted and goes through the recognition rule (each
action's own threshold, CreateAI's ``detect_action``) in order; the screen
shows the newest.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

import numpy as np

from kiosk.ml.predictor import LivePredictor, Prediction, detect_action
from kiosk.ml.runtime import TFLiteClassifier
from kiosk.ml.windows import DataWindow
from kiosk.signal import SampleBuffer


@dataclass
class LiveTester:
    classifier: TFLiteClassifier
    window: DataWindow
    predictor: LivePredictor = field(init=False)
    latest: Prediction | None = None
    detected: int | None = None  # action index recognised now, or None
    predictions: int = 0
    _times: collections.deque = field(default_factory=lambda: collections.deque(maxlen=200))

    def __post_init__(self) -> None:
        self.predictor = LivePredictor(self.classifier, self.window)

    def update(self, buffer: SampleBuffer, thresholds: list[float], now: float) -> bool:
        """Predict on each new sample; True when the recognised action changed since the last call.

        ``now`` is the frame's time; predictions are timed by their samples.
        """
        predictions = self.predictor.update(buffer)
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

    def rate_hz(self) -> float:
        """Predictions per second of sample time over the recent past."""
        if len(self._times) < 2 or self._times[-1] <= self._times[0]:
            return 0.0
        return (len(self._times) - 1) / (self._times[-1] - self._times[0])
