"""Live recognition: on every new sample, the model's confidences for the window ending there.

The UI thread calls ``LivePredictor.update(buffer)`` once per frame. It does
nothing when no sample has arrived since the last call (cheap: one integer
compare); otherwise it makes one prediction for *each* new sample: the window
of the last ``window.duration_ms`` ending at that sample, cut by time (BLE
delivers in bursts, so counting samples would cut the wrong span), its 24
features from the same function training used, and the TFLite model's
confidences. So the model runs at the board's rate (50 Hz), not at the frame
rate, however the samples bunch up. CreateAI's rule then picks the recognised
action, if any.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kiosk.ml.features import compute_features, fingerprint_ranges
from kiosk.ml.windows import DataWindow
from kiosk.signal.buffer import SampleBuffer, Window

if TYPE_CHECKING:  # the network's TFLiteClassifier or the numpy KNN model
    from kiosk.ml.live_model import LiveClassifier

# Far above any micro:bit rate (its fastest useful period is 10 ms, 100 Hz): bounds
# how many of the newest samples can fall in one window, so ``update`` copies
# those rather than the whole ring buffer.
MAX_SAMPLE_RATE_HZ = 250
# After a stall (the first call, a slow frame) at most this many of the newest
# samples get a prediction: half a second at 50 Hz, ~3 ms of work; older ones
# are stale and nobody will see their answer.
MAX_CATCH_UP = 25


@dataclass(frozen=True)
class Prediction:
    """The model's view of one live window."""

    probabilities: np.ndarray  # (k,) in the model's class order
    features: np.ndarray  # (24,)
    fingerprint: np.ndarray  # (24,) 0..1
    sequence: int  # sequence number of the newest sample in the window
    t: float  # time of the newest sample (monotonic seconds)


class LivePredictor:
    """Runs the live classifier on the window ending at each new sample of a buffer."""

    def __init__(self, classifier: LiveClassifier, window: DataWindow) -> None:
        self.classifier = classifier
        self.window = window
        self._duration_s = window.duration_ms / 1000.0
        self._last_sequence = -1
        self._max_samples = math.ceil(self._duration_s * MAX_SAMPLE_RATE_HZ) + 1
        # Precomputed once: the fingerprint is (features - low) * inverse_span, clipped.
        low, high = fingerprint_ranges(window)
        self._low = low
        self._inverse_span = 1.0 / (high - low)

    @property
    def last_sequence(self) -> int:
        """Sequence number of the newest sample seen by the last ``update`` (-1: none yet)."""
        return self._last_sequence

    def reset(self) -> None:
        """Forget what was seen, e.g. after the buffer was cleared."""
        self._last_sequence = -1

    def update(self, buffer: SampleBuffer) -> list[Prediction]:
        """One prediction per sample that arrived since the last call, oldest first.

        Empty when nothing is new. A window with fewer than ``min_samples``
        samples (the board just connected, or came back) gets no prediction.
        """
        if buffer.sequence == self._last_sequence:
            return []
        recent: Window = buffer.latest(self._max_samples + MAX_CATCH_UP)
        newest = recent.last_sequence
        if len(recent) == 0:
            self._last_sequence = newest
            return []
        if self._last_sequence < 0 or newest < self._last_sequence:  # first call, or cleared
            new = 1
        else:
            new = newest - self._last_sequence
        new = min(new, MAX_CATCH_UP, len(recent))
        self._last_sequence = newest
        t, xyz = recent.t, recent.xyz
        ends = np.arange(len(recent) - new, len(recent))
        starts = np.searchsorted(t, t[ends] - self._duration_s, side="left")
        predictions = []
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            if start == 0 and len(recent) == self._max_samples + MAX_CATCH_UP:
                # Samples arrived faster than any micro:bit sends: take the slow, exact path.
                exact = buffer.between(t[end] - self._duration_s, t[end])
                samples = exact.xyz
            else:
                samples = xyz[start : end + 1]
            if len(samples) < self.window.min_samples:
                continue
            predictions.append(
                self._predict(samples, newest - (len(recent) - 1 - end), float(t[end]))
            )
        return predictions

    def _predict(self, samples: np.ndarray, sequence: int, t: float) -> Prediction:
        features = compute_features(samples, self.window)
        probabilities = self.classifier.predict_proba(features)
        scaled = features - self._low
        scaled *= self._inverse_span
        np.clip(scaled, 0.0, 1.0, out=scaled)
        return Prediction(probabilities, features, scaled, sequence, t)


def detect_action(
    probabilities: np.ndarray, thresholds: Sequence[float] | np.ndarray
) -> int | None:
    """CreateAI's rule: the action whose confidence exceeds its threshold by the most, or None.

    As in CreateAI, reaching the threshold exactly counts, and of actions tied
    on the margin the later one wins (its stable sort puts it last).
    """
    margins = np.asarray(probabilities, dtype=np.float64) - np.asarray(thresholds, dtype=np.float64)
    best = len(margins) - 1 - int(np.argmax(margins[::-1]))
    return best if margins[best] >= 0 else None
