"""The fingerprint in a child's words: what a square is, what bright means, and each square.

A fingerprint has 24 squares: 8 clues (columns, ``FILTER_NAMES``) about each of
the micro:bit's 3 directions (rows, x/y/z). The names in ``kiosk.ml.features``
(max, mean, std, zcr...) are for engineers; these are for visitors.
"""

from __future__ import annotations

from kiosk.i18n import N_, _
from kiosk.ml.features import AXES, FILTER_NAMES

N_SQUARES = len(FILTER_NAMES) * len(AXES)
INTRO = N_("Each square is one clue about your move.")
BRIGHT = N_("Bright means a lot, dark means a little.")

# (what the column measures, what a bright square means), per filter.
_FILTERS: dict[str, tuple[str, str]] = {
    "max": (N_("How hard the biggest push was"), N_("a hard push")),
    "mean": (N_("Which way it was tilted"), N_("tilted a lot that way")),
    "min": (N_("The lowest reading"), N_("high even at its lowest")),
    "std": (N_("How much it changed"), N_("lots of change")),
    "peaks": (N_("How many bumps"), N_("many bumps")),
    "acc": (N_("How much it moved in all"), N_("lots of moving")),
    "zcr": (N_("How often it swapped direction"), N_("swapped often")),
    "rms": (N_("How strong the movement was"), N_("strong movement")),
}
# The row's direction, as a visitor holding the board sees it.
AXIS_WORDS: dict[str, str] = {
    "x": N_("side to side"),
    "y": N_("forwards and back"),
    "z": N_("up and down"),
}
# Short column names for labels under a big fingerprint.
SHORT: dict[str, str] = {
    "max": N_("push"),
    "mean": N_("tilt"),
    "min": N_("low"),
    "std": N_("change"),
    "peaks": N_("bumps"),
    "acc": N_("moving"),
    "zcr": N_("swaps"),
    "rms": N_("strong"),
}


def square_words(index: int) -> str:
    """What square ``index`` (0..23, filter-major like the features) measures: one sentence."""
    if not 0 <= index < N_SQUARES:
        raise ValueError(f"a fingerprint has {N_SQUARES} squares")
    what, bright = _FILTERS[FILTER_NAMES[index // len(AXES)]]
    axis = AXIS_WORDS[AXES[index % len(AXES)]]
    return _("{what}, {axis}: bright means {bright}.").format(
        what=_(what), axis=_(axis), bright=_(bright)
    )


def short_name(filter_index: int) -> str:
    return _(SHORT[FILTER_NAMES[filter_index]])
