"""After a weak score: the one mix-up that matters, and what to do about it, in one sentence."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kiosk.i18n import _

GOOD_ENOUGH = 0.9  # share right on unseen recordings above which no advice is needed


def confusion_advice(confusion: np.ndarray, names: Sequence[str]) -> str | None:
    """The pair of moves mixed up most often (both ways counted), or None when it learned well.

    ``confusion[i, j]`` counts recordings of move ``i`` the model took for move ``j``.
    """
    counts = np.asarray(confusion, dtype=np.int64)
    total = int(counts.sum())
    if total == 0 or np.trace(counts) >= GOOD_ENOUGH * total:
        return None
    both = counts + counts.T
    np.fill_diagonal(both, 0)
    i, j = np.unravel_index(int(np.argmax(both)), both.shape)
    if both[i, j] == 0:
        return None
    first, second = sorted((int(i), int(j)))
    return _(
        "{first} and {second} got mixed up: record more of each, or make them more different."
    ).format(first=names[first], second=names[second])
