"""Live recognition: on every new sample, the model's confidences for the last window.

The UI thread calls ``LivePredictor.update(buffer)`` once per frame. It does
nothing when no sample has arrived since the last call (cheap: one integer
compare), and otherwise cuts the last ``window.duration_ms`` of samples by
time (BLE delivers in bursts, so counting samples would cut the wrong span),
computes the 24 features with the same function training used, and runs the
TFLite model. CreateAI's rule then picks the recognised action, if any.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kiosk.ml.features import compute_features, fingerprint_ranges
from kiosk.ml.runtime import TFLiteClassifier
from kiosk.ml.windows import DataWindow
from kiosk.signal.buffer import SampleBuffer, Window

# Far above any micro:bit rate (its fastest useful period is 10 ms, 100 Hz): bounds
# how many of the newest samples can fall in one window, so ``update`` copies
# those rather than the whole ring buffer.
MAX_SAMPLE_RATE_HZ = 250


@dataclass(frozen=True)
class Prediction:
    """The model's view of one live window."""

    probabilities: np.ndarray  # (k,) in the model's class order
    features: np.ndarray  # (24,)
    fingerprint: np.ndarray  # (24,) 0..1
    sequence: int  # sequence number of the newest sample in the window
    t: float  # time of the newest sample (monotonic seconds)


class LivePredictor:
    """Runs a TFLite classifier on the newest window of a sample buffer."""

    def __init__(self, classifier: TFLiteClassifier, window: DataWindow) -> None:
        self.classifier = classifier
        self.window = window
        self._duration_s = window.duration_ms / 1000.0
        self._last_sequence = -1
        self._max_samples = math.ceil(self._duration_s * MAX_SAMPLE_RATE_HZ) + 1
        # Precomputed once: the fingerprint is (features - low) * inverse_span, clipped.
        low, high = fingerprint_ranges(window)
        self._low = low
        self._inverse_span = 1.0 / (high - low)

    def reset(self) -> None:
        """Forget what was seen, e.g. after the buffer was cleared."""
        self._last_sequence = -1

    def update(self, buffer: SampleBuffer) -> Prediction | None:
        """A prediction for the newest window, or None if nothing new or too few samples."""
        if buffer.sequence == self._last_sequence:
            return None
        t, xyz, newest = self._last_window(buffer)
        self._last_sequence = newest
        if len(t) < self.window.min_samples:
            return None
        features = compute_features(xyz, self.window)
        probabilities = self.classifier.predict_proba(features)
        scaled = features - self._low
        scaled *= self._inverse_span
        np.clip(scaled, 0.0, 1.0, out=scaled)
        return Prediction(
            probabilities, features, scaled, newest, float(t[-1])
        )

    def _last_window(self, buffer: SampleBuffer) -> tuple[np.ndarray, np.ndarray, int]:
        """Times, samples and newest sequence of the last ``duration_ms``, as ``last_seconds``."""
        recent: Window = buffer.latest(self._max_samples)
        if len(recent) == 0:
            return recent.t, recent.xyz, recent.last_sequence
        start = int(np.searchsorted(recent.t, recent.t[-1] - self._duration_s, side="left"))
        if start == 0 and len(recent) == self._max_samples:
            # Samples arrived faster than any micro:bit sends: take the slow, exact path.
            recent = buffer.last_seconds(self._duration_s)
            return recent.t, recent.xyz, recent.last_sequence
        return recent.t[start:], recent.xyz[start:], recent.last_sequence


def detect_action(probabilities: np.ndarray, thresholds: Sequence[float]) -> int | None:
    """CreateAI's rule: the action whose confidence exceeds its threshold by the most, or None.

    As in CreateAI, reaching the threshold exactly counts, and of actions tied
    on the margin the later one wins (its stable sort puts it last).
    """
    margins = np.asarray(probabilities, dtype=np.float64) - np.asarray(thresholds, dtype=np.float64)
    best = len(margins) - 1 - int(np.argmax(margins[::-1]))
    return best if margins[best] >= 0 else None
