"""The pairing pattern: five LED column heights <-> the board's 5-letter Bluetooth name.

In pairing mode a micro:bit shows its name as a bar chart: in column ``c`` the
bottom ``k`` LEDs (1..5) are lit. A visitor copies the five heights onto the
screen and the kiosk scans for ``BBC micro:bit [name]``. Columns 0, 2 and 4 use
one alphabet and columns 1 and 3 another, so every one of the 5^5 = 3125
patterns is a valid name (see ``/work/shared/design/microbit.md``).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence

from kiosk.errors import LinkError

#: Letters by lit-LED count (index 0 = one LED), for even and odd columns.
_EVEN_COLUMN = "zvgpt"
_ODD_COLUMN = "uoiea"
_ALPHABETS = (_EVEN_COLUMN, _ODD_COLUMN, _EVEN_COLUMN, _ODD_COLUMN, _EVEN_COLUMN)

COLUMNS = 5
MAX_HEIGHT = 5


class PatternError(LinkError, ValueError):
    """A pairing pattern or name that is not one a micro:bit can show."""


def pattern_to_name(pattern: Sequence[int]) -> str:
    """``[3, 1, 5, 2, 4]`` -> ``"gutop"``: the name a board showing these heights has."""
    heights = _check_heights(pattern)
    return "".join(alphabet[h - 1] for alphabet, h in zip(_ALPHABETS, heights, strict=True))


def name_to_pattern(name: str) -> list[int]:
    """``"gutop"`` -> ``[3, 1, 5, 2, 4]`` (any case); PatternError if no board has it."""
    letters = name.strip().lower()
    if len(letters) != COLUMNS:
        raise PatternError(f"A micro:bit name has {COLUMNS} letters; {name!r} has {len(letters)}.")
    heights = []
    for position, (letter, alphabet) in enumerate(zip(letters, _ALPHABETS, strict=True)):
        if letter not in alphabet:
            raise PatternError(
                f"Letter {position + 1} of {name!r} must be one of {', '.join(alphabet)}; "
                "check the name on the board."
            )
        heights.append(alphabet.index(letter) + 1)
    return heights


def parse_columns(text: str) -> list[int]:
    """``"31524"`` (spaces, commas or dashes allowed between) -> ``[3, 1, 5, 2, 4]``."""
    digits = re.sub(r"[\s,\-]", "", text)
    if not digits.isdigit() or len(digits) != COLUMNS:
        raise PatternError(
            f"Type the pattern as {COLUMNS} digits, one per LED column from left to right, "
            f"each the number of lit LEDs (1-{MAX_HEIGHT}), e.g. 31524; got {text!r}."
        )
    return _check_heights([int(d) for d in digits])


def pattern_to_icon(pattern: Sequence[int]) -> tuple[tuple[bool, ...], ...]:
    """The 5x5 LEDs (top row first) the board lights for this pattern: bars from the bottom."""
    heights = _check_heights(pattern)
    return tuple(
        tuple(MAX_HEIGHT - row <= heights[col] for col in range(COLUMNS))
        for row in range(MAX_HEIGHT)
    )


def _check_heights(pattern: Sequence[int]) -> list[int]:
    given = list(pattern)
    if len(given) != COLUMNS:
        raise PatternError(f"A pairing pattern has {COLUMNS} columns; got {len(given)}.")
    heights = []
    for column, height in enumerate(given):
        try:
            value = None if isinstance(height, bool) else operator.index(height)
        except TypeError:
            value = None
        if value is None or not 1 <= value <= MAX_HEIGHT:
            raise PatternError(
                f"Column {column + 1} has {height!r} lit LEDs; each column has 1 to "
                f"{MAX_HEIGHT} (count the lit LEDs from the bottom)."
            )
        heights.append(value)
    return heights
