"""The viridis colour map, computed with numpy from its published anchor colours.

Viridis is perceptually uniform and readable with colour-vision deficiencies,
which is why fingerprints use it. Nine anchors (from matplotlib's table at
0, 1/8, ..., 1) interpolated linearly give a 256-entry table within a couple
of levels of the full map.
"""

from __future__ import annotations

import numpy as np

_ANCHORS = np.array(
    [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ],
    dtype=np.float64,
)


def viridis_table(levels: int = 256) -> np.ndarray:
    """(levels, 3) uint8 colours from dark purple (0) to yellow (1)."""
    positions = np.linspace(0.0, 1.0, len(_ANCHORS))
    wanted = np.linspace(0.0, 1.0, levels)
    table = np.column_stack([np.interp(wanted, positions, _ANCHORS[:, c]) for c in range(3)])
    return np.round(table).astype(np.uint8)


VIRIDIS = viridis_table()


def viridis(values: np.ndarray) -> np.ndarray:
    """Colours (..., 3) uint8 for values in 0..1 (clamped; NaN shows as the lowest colour)."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
    index = np.clip(np.round(v * (len(VIRIDIS) - 1)), 0, len(VIRIDIS) - 1).astype(np.intp)
    return VIRIDIS[index]
