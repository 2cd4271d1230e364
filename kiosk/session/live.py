"""Live testing: the trained model's confidences for every new sample, and what it recognises.

Each ``update`` asks the ``LivePredictor`` whether a new sample arrived; if
so, the model runs on the last window (so with a real board the model runs
at the board's 50 Hz, not on a timer). Recognition uses each action's own
threshold (CreateAI's rule, ``detect_action``).
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
        """Predict if a new sample arrived; True when the recognised action changed."""
        prediction = self.predictor.update(buffer)
        if prediction is None:
            return False
        self.latest = prediction
        self.predictions += 1
        self._times.append(now)
        detected = detect_action(prediction.probabilities, np.asarray(thresholds))
        changed = detected != self.detected
        self.detected = detected
        return changed

    def rate_hz(self) -> float:
        """Predictions per second over the recent past."""
        if len(self._times) < 2 or self._times[-1] <= self._times[0]:
            return 0.0
        return (len(self._times) - 1) / (self._times[-1] - self._times[0])
