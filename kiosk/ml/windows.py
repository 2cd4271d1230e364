"""The data windows of micro:bit CreateAI: how long a gesture lasts and how many samples it needs.

CreateAI has two windows. Recordings made by its current version last 990 ms at
a 20 ms device period; older (legacy) ones last 1.8 s at 25 ms. The ``acc``
feature is scaled by the window's nominal sample count and the fingerprint
ranges by its minimum sample count, so features are only comparable within one
window. The kiosk records 1 s gestures, so it uses ``CURRENT_WINDOW``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class DataWindow:
    """One CreateAI data window."""

    name: str
    duration_ms: int  # span of a recording and of the live window
    min_samples: int  # fewest samples a live window needs for a reliable prediction
    device_period_ms: int  # accelerometer period the board is asked for
    nominal_samples: int  # samples the board guarantees per window (scales ``acc``)


CURRENT_WINDOW = DataWindow("current", 990, 44, 20, 50)
LEGACY_WINDOW = DataWindow("legacy", 1800, 80, 25, 80)
WINDOWS = (CURRENT_WINDOW, LEGACY_WINDOW)


def choose_window(recording_lengths: Sequence[int]) -> DataWindow:
    """CreateAI's rule: legacy when the first recording has at least 80 samples, else current."""
    if len(recording_lengths) and recording_lengths[0] >= LEGACY_WINDOW.min_samples:
        return LEGACY_WINDOW
    return CURRENT_WINDOW


def window_by_name(name: str) -> DataWindow:
    """``"current"`` or ``"legacy"`` -> that window; anything else is a ValueError."""
    for window in WINDOWS:
        if window.name == name:
            return window
    raise ValueError(f"unknown data window {name!r}; use 'current' or 'legacy'")
