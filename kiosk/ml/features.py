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
arithmetic is vectorised over the three axes in as few numpy calls as
possible (at 50 x 3 values a call's overhead outweighs its arithmetic); only
the peak detector, which is sequential by nature, is a loop over plain floats,
skipped on still axes and exact to the last bit where a point is on a
threshold. Values other than peaks may differ from a plain numpy version in
the last bits (summation order), far inside the 1e-9 of the reference tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from math import sqrt
from typing import NamedTuple

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
    plan = _plan(n, window.nominal_samples)
    # One row per axis and quantity, so that one matrix product sums them all:
    # |y|, sign changes (column 0 stays 0), y, y*y. On 50 x 3 values numpy's
    # per-call overhead costs more than the arithmetic, so fewer calls is faster.
    rows = np.zeros((12, n))
    values = rows[6:9]
    values[...] = y.T
    np.absolute(values, out=rows[0:3])
    negative = np.less(values, 0.0)
    np.not_equal(negative[:, 1:], negative[:, :-1], out=rows[3:6, 1:])
    np.multiply(values, values, out=rows[9:12])
    # work: acc, zcr, mean, rms, std, max, min, peaks (3 each); plan.order sorts them.
    work = np.empty(24)
    np.matmul(rows, plan.ones, out=work[0:12])
    work[0:12] *= plan.scale
    centred = values - work[6:9, None]
    centred *= centred
    np.matmul(centred, plan.ones_over_n, out=work[12:15])
    np.sqrt(work[9:15], out=work[9:15])
    np.maximum.reduce(values, axis=1, out=work[15:18])
    np.minimum.reduce(values, axis=1, out=work[18:21])
    x, y_, z = values.tolist()
    high_x, high_y, high_z, low_x, low_y, low_z = work[15:21].tolist()
    work[21:24] = (
        _count_axis_peaks(x, high_x, low_x),
        _count_axis_peaks(y_, high_y, low_y),
        _count_axis_peaks(z, high_z, low_z),
    )
    return work[plan.order]


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


class _Plan(NamedTuple):
    """What ``compute_features`` needs for one window length, built once per length."""

    ones: np.ndarray  # (n,): sums by matrix product
    ones_over_n: np.ndarray  # (n,): means by matrix product
    scale: np.ndarray  # (12,): sums of |y|, sign changes, y, y*y -> acc, zcr, mean, mean square
    order: np.ndarray  # (24,): work layout -> FEATURE_NAMES order


# Feature-name order of compute_features' work layout (acc, zcr, mean, rms, std, max, min, peaks).
_ORDER = np.r_[15:18, 6:9, 18:21, 12:15, 21:24, 0:3, 3:6, 9:12]
_ORDER.flags.writeable = False


@lru_cache(maxsize=32)
def _plan(n: int, nominal_samples: int) -> _Plan:
    scale = np.repeat([nominal_samples / n, 1 / (n - 1), 1 / n, 1 / n], len(AXES))
    plan = _Plan(np.ones(n), np.full(n, 1 / n), scale, _ORDER)
    for array in plan:
        array.flags.writeable = False  # shared by every call (and thread) with this n
    return plan


# The loop decides most points from running sums of the window (a few operations
# instead of CreateAI's mean and standard deviation), with a margin per sample
# of the series that bounds how far those sums drift from CreateAI's by rounding
# (a few 1e-15 times the squared size of the values per sample) a hundred times
# over; a point within the margin of a threshold is decided CreateAI's way.
_RUNNING_SUM_SLACK = 1e-12


def _count_axis_peaks(values: list[float], high: float, low: float) -> int:
    """CreateAI's z-score peak count on one axis whose values lie in ``low`` .. ``high``.

    At point j CreateAI compares the raw value with the mean and (population)
    standard deviation of the filtered points j-6 .. j-2 (its filter lags one
    point); a signalled point enters the filtered series as the average of its
    value and the previous filtered one. Filtered points are therefore averages
    of raw ones and stay within ``low`` .. ``high``.

    Sequential by nature, so a tight loop over plain floats with the window in
    local variables and the constants as literals (PEAK_LAG 5, PEAK_MIN_DIFF
    0.1, PEAK_THRESHOLD 3.5: 3.5**2 = 12.25, 12.25 / 5 = 2.45; PEAK_INFLUENCE
    0.5; faster than globals). A still axis skips it: when the axis spans less
    than 0.1 g no point after the lead-in can differ from a window mean by more
    (the margin covers the sums' rounding; NaN never passes). Elsewhere the
    test |d| > 3.5 std is made as d**2 > 12.25 var from running sums, and
    only points within ``_RUNNING_SUM_SLACK`` of a threshold go through
    ``_signal``, which sums left to right as CreateAI does, so knife-edge
    comparisons come out the same (NaN or infinite values always do).
    """
    u0, u1, u2, u3, u4, value = values[0:6]
    # Point 5 compares with the lead-in (points 0..4) and, a CreateAI quirk,
    # uses the lead-in's mean where its standard deviation should be.
    mean = ((((u0 + u1) + u2) + u3) + u4) / PEAK_LAG
    difference = value - mean
    if abs(difference) > PEAK_MIN_DIFF and abs(difference) > PEAK_THRESHOLD * mean:
        count = int(difference > 0)
        previous_signal = True
        u5 = PEAK_INFLUENCE * value + (1 - PEAK_INFLUENCE) * u4
    else:
        count = 0
        previous_signal = False
        u5 = value
    if high - low < PEAK_MIN_DIFF * (1 - 1e-9) - 1e-9 * (abs(high) + abs(low)):
        return count
    size = max(abs(high), abs(low))
    slack = _RUNNING_SUM_SLACK * (len(values) + 8)
    inner = PEAK_MIN_DIFF - slack * (1.0 + size)  # |d| below: surely not above 0.1
    outer = 2 * PEAK_MIN_DIFF - inner  # |d| above: surely above 0.1
    margin = slack * (1.0 + size * size)  # for d**2 - 12.25 var
    # Sum and sum of squares of the window u0..u4 (filtered points j-6..j-2); u5 is j-1.
    s1 = u0 + u1 + u2 + u3 + u4
    s2 = u0 * u0 + u1 * u1 + u2 * u2 + u3 * u3 + u4 * u4
    for value in values[6:]:
        mean = s1 / 5.0
        difference = value - mean
        if difference > outer:
            excess = difference * difference - (2.45 * s2 - 12.25 * mean * mean)
            if excess > margin or (excess >= -margin and _signal(u0, u1, u2, u3, u4, value)):
                # A positive signal after a non-signal starts a peak; a signal of
                # either sign just before it means the peak is already counted.
                if not previous_signal:
                    count += 1
                previous_signal = True
                s1 += u5 - u0
                s2 += u5 * u5 - u0 * u0
                u0, u1, u2, u3, u4, u5 = u1, u2, u3, u4, u5, 0.5 * value + 0.5 * u5
                continue
        elif difference < -outer:
            excess = difference * difference - (2.45 * s2 - 12.25 * mean * mean)
            if excess > margin or (excess >= -margin and _signal(u0, u1, u2, u3, u4, value)):
                previous_signal = True
                s1 += u5 - u0
                s2 += u5 * u5 - u0 * u0
                u0, u1, u2, u3, u4, u5 = u1, u2, u3, u4, u5, 0.5 * value + 0.5 * u5
                continue
        elif not -inner < difference < inner:
            signal = _signal(u0, u1, u2, u3, u4, value)
            if signal:
                if signal > 0 and not previous_signal:
                    count += 1
                previous_signal = True
                s1 += u5 - u0
                s2 += u5 * u5 - u0 * u0
                u0, u1, u2, u3, u4, u5 = u1, u2, u3, u4, u5, 0.5 * value + 0.5 * u5
                continue
        previous_signal = False
        s1 += u5 - u0
        s2 += u5 * u5 - u0 * u0
        u0, u1, u2, u3, u4, u5 = u1, u2, u3, u4, u5, value
    return count


def _signal(u0: float, u1: float, u2: float, u3: float, u4: float, value: float) -> int:
    """CreateAI's test of ``value`` against the filtered window u0..u4: +1, -1 or 0.

    The sums run left to right as in CreateAI, so the result is exactly its.
    """
    mean = ((((u0 + u1) + u2) + u3) + u4) / PEAK_LAG
    difference = value - mean
    if abs(difference) > PEAK_MIN_DIFF:
        e0, e1, e2, e3, e4 = u0 - mean, u1 - mean, u2 - mean, u3 - mean, u4 - mean
        std = sqrt((e0 * e0 + e1 * e1 + e2 * e2 + e3 * e3 + e4 * e4) / PEAK_LAG)
        if abs(difference) > PEAK_THRESHOLD * std:
            return 1 if difference > 0 else -1
    return 0
