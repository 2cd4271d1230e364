"""The fingerprint in a child's words: what a square is, what bright means, and each square.

A fingerprint has 24 squares: 8 clues (columns, ``FILTER_NAMES``) about each of
the micro:bit's 3 directions (rows, x/y/z). The names in ``kiosk.ml.features``
(max, mean, std, zcr...) are for engineers; these are for visitors.
"""

from __future__ import annotations

from kiosk.ml.features import AXES, FILTER_NAMES

N_SQUARES = len(FILTER_NAMES) * len(AXES)
INTRO = "Each square is one clue about your move."
BRIGHT = "Bright means a lot, dark means a little."

# (what the column measures, what a bright square means), per filter.
_FILTERS: dict[str, tuple[str, str]] = {
    "max": ("How hard the biggest push was", "a hard push"),
    "mean": ("Which way it was tilted", "tilted a lot that way"),
    "min": ("The lowest reading", "high even at its lowest"),
    "std": ("How much it changed", "lots of change"),
    "peaks": ("How many bumps", "many bumps"),
    "acc": ("How much it moved in all", "lots of moving"),
    "zcr": ("How often it swapped direction", "swapped often"),
    "rms": ("How strong the movement was", "strong movement"),
}
# The row's direction, as a visitor holding the board sees it.
AXIS_WORDS: dict[str, str] = {"x": "side to side", "y": "forwards and back", "z": "up and down"}
# Short column names for labels under a big fingerprint.
SHORT: dict[str, str] = {
    "max": "push",
    "mean": "tilt",
    "min": "low",
    "std": "change",
    "peaks": "bumps",
    "acc": "moving",
    "zcr": "swaps",
    "rms": "strong",
}


def square_words(index: int) -> str:
    """What square ``index`` (0..23, filter-major like the features) measures: one sentence."""
    if not 0 <= index < N_SQUARES:
        raise ValueError(f"a fingerprint has {N_SQUARES} squares")
    what, bright = _FILTERS[FILTER_NAMES[index // len(AXES)]]
    axis = AXIS_WORDS[AXES[index % len(AXES)]]
    return f"{what}, {axis}: bright means {bright}."


def short_name(filter_index: int) -> str:
    return SHORT[FILTER_NAMES[filter_index]]
