"""The 24 features of micro:bit CreateAI, computed from one window of accelerometer samples.

A model trained here must see the same numbers CreateAI's would, so every
filter follows CreateAI's definition, quirks included (see
``shared/design/microbit.md``): population standard deviation, ``acc`` as the
mean absolute value scaled by the window's nominal sample count, ``zcr`` as
sign changes (``>= 0`` versus ``< 0``) over ``n - 1``, and a z-score peak
detector whose first "standard deviation" is the lead-in's mean. The whole
recording is used (CreateAI does not trim a recording to the window); the
window only scales ``acc`` and the fingerprint ranges.

This one module serves training, live prediction and fingerprints, so the
three can never disagree. It is on the live path (every new sample), so the
arithmetic is vectorised over the three axes; only the peak detector, which
is sequential by nature, is a small loop over plain floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import sqrt

import numpy as np

from kiosk.errors import WindowTooShortError
from kiosk.ml.windows import DataWindow

FILTER_NAMES: tuple[str, ...] = ("max", "mean", "min", "std", "peaks", "acc", "zcr", "rms")
AXES: tuple[str, ...] = ("x", "y", "z")
FEATURE_NAMES: tuple[str, ...] = tuple(f"{f}-{a}" for f in FILTER_NAMES for a in AXES)
N_FEATURES = len(FEATURE_NAMES)

# CreateAI's peak detector: window of 5 filtered points, z-score 3.5, signals
# enter the filtered series at half weight, and a signal must also differ from
# the window mean by more than 0.1 g.
PEAK_LAG = 5
PEAK_THRESHOLD = 3.5
PEAK_INFLUENCE = 0.5
PEAK_MIN_DIFF = 0.1
# The detector needs a lead-in of PEAK_LAG points and two more (CreateAI throws below).
MIN_FEATURE_SAMPLES = PEAK_LAG + 2

MAX_ACCELERATION_G = 2.048  # the micro:bit's default range; CreateAI's fingerprint scale


def compute_features(samples: np.ndarray, window: DataWindow) -> np.ndarray:
    """The 24 features of one window of (n, 3) samples in g, in ``FEATURE_NAMES`` order."""
    y = _checked(samples)
    n = y.shape[0]
    # ufunc reductions rather than np.mean & co: on 50 x 3 values the Python
    # overhead of the convenience functions costs more than the arithmetic.
    out = np.empty((8, 3), dtype=np.float64)
    np.maximum.reduce(y, axis=0, out=out[0])
    np.add.reduce(y, axis=0, out=out[1])
    out[1] /= n
    np.minimum.reduce(y, axis=0, out=out[2])
    centred = y - out[1]
    np.sqrt(np.einsum("ij,ij->j", centred, centred) / n, out=out[3])
    out[4] = [_count_axis_peaks(column) for column in y.T.tolist()]
    np.add.reduce(np.abs(y), axis=0, out=out[5])
    out[5] *= window.nominal_samples / n
    negative = y < 0
    out[6] = np.add.reduce(negative[1:] != negative[:-1], axis=0)
    out[6] /= n - 1
    np.sqrt(np.einsum("ij,ij->j", y, y) / n, out=out[7])
    return out.reshape(N_FEATURES)


def feature_matrix(windows: Sequence[np.ndarray], window: DataWindow) -> np.ndarray:
    """Features of several windows (e.g. every recording of a dataset) as an (m, 24) array."""
    result = np.empty((len(windows), N_FEATURES), dtype=np.float64)
    for row, samples in enumerate(windows):
        try:
            result[row] = compute_features(samples, window)
        except WindowTooShortError as exc:
            raise WindowTooShortError(f"recording {row + 1}: {exc}") from None
    return result


def fingerprint_ranges(window: DataWindow) -> tuple[np.ndarray, np.ndarray]:
    """CreateAI's (low, high) range of each of the 24 features, for drawing fingerprints."""
    g = MAX_ACCELERATION_G
    per_filter = {
        "max": (-g, g),
        "mean": (-g, g),
        "min": (-g, g),
        "std": (0.0, g),
        "peaks": (0.0, 10.0),
        "acc": (0.0, window.min_samples * g),
        "zcr": (0.0, 1.0),
        # rms of min_samples copies of g is g itself.
        "rms": (0.0, g),
    }
    low = np.repeat([per_filter[name][0] for name in FILTER_NAMES], len(AXES))
    high = np.repeat([per_filter[name][1] for name in FILTER_NAMES], len(AXES))
    return low, high


def fingerprint(features: np.ndarray, window: DataWindow) -> np.ndarray:
    """Features mapped to 0..1 with CreateAI's ranges and clamped; (24,) or (m, 24)."""
    low, high = fingerprint_ranges(window)
    scaled = (np.asarray(features, dtype=np.float64) - low) / (high - low)
    return np.clip(scaled, 0.0, 1.0, out=scaled)


def _checked(samples: np.ndarray) -> np.ndarray:
    y = np.asarray(samples, dtype=np.float64)
    if y.ndim != 2 or y.shape[1] != 3:
        raise WindowTooShortError(
            f"a window must hold x, y, z samples as an (n, 3) array, not shape {y.shape}"
        )
    if y.shape[0] < MIN_FEATURE_SAMPLES:
        raise WindowTooShortError(
            f"a window needs at least {MIN_FEATURE_SAMPLES} samples to compute features, "
            f"but has {y.shape[0]}; record for longer or check the micro:bit connection"
        )
    return y


def _count_axis_peaks(values: list[float]) -> int:
    """CreateAI's z-score peak count on one axis.

    At point j CreateAI compares the raw value with the mean and (population)
    standard deviation of the filtered points j-6 .. j-2 (its filter lags one
    point); a signalled point enters the filtered series as the average of its
    value and the previous filtered one. The sums run left to right as in
    CreateAI, so knife-edge comparisons come out the same. Sequential by
    nature, so it is a tight loop over plain floats with the window in local
    variables (measured faster than any vectorised pre-pass at 50-90 points),
    and the standard deviation is computed only when the 0.1 g test passes.
    """
    u0, u1, u2, u3, u4, value = values[0:6]
    # Point 5 compares with the lead-in (points 0..4) and, a CreateAI quirk,
    # uses the lead-in's mean where its standard deviation should be.
    mean = ((((u0 + u1) + u2) + u3) + u4) / PEAK_LAG
    difference = value - mean
    count = 0
    if abs(difference) > PEAK_MIN_DIFF and abs(difference) > PEAK_THRESHOLD * mean:
        previous_signal = True
        count = int(difference > 0)
        u5 = PEAK_INFLUENCE * value + (1 - PEAK_INFLUENCE) * u4
    else:
        previous_signal = False
        u5 = value
    # u0..u4 hold filtered points j-6..j-2 and u5 point j-1.
    for value in values[6:]:
        mean = ((((u0 + u1) + u2) + u3) + u4) / PEAK_LAG
        difference = value - mean
        if difference > PEAK_MIN_DIFF or difference < -PEAK_MIN_DIFF:
            e0, e1, e2, e3, e4 = u0 - mean, u1 - mean, u2 - mean, u3 - mean, u4 - mean
            std = sqrt((e0 * e0 + e1 * e1 + e2 * e2 + e3 * e3 + e4 * e4) / PEAK_LAG)
            if abs(difference) > PEAK_THRESHOLD * std:
                # A positive signal after a non-signal starts a peak; a signal of
                # either sign just before it means the peak is already counted.
                if difference > 0 and not previous_signal:
                    count += 1
                previous_signal = True
                filtered = PEAK_INFLUENCE * value + (1 - PEAK_INFLUENCE) * u5
                u0, u1, u2, u3, u4, u5 = u1, u2, u3, u4, u5, filtered
                continue
        previous_signal = False
        u0, u1, u2, u3, u4, u5 = u1, u2, u3, u4, u5, value
    return count
