"""The attract screen's language buttons: each language by its own name, finger-sized.

A visitor looks for the word for their own language ("Dansk", "Deutsch"),
not a flag (a flag is a country, and many countries share a language) and not
a code. The language on screen is the selected button. Tapping one changes
every word from then on; the visitor reset puts back staff's default.
"""

from __future__ import annotations

from functools import partial

from kiosk import i18n
from kiosk.session.session import Session
from kiosk.ui.geometry import Rect, columns
from kiosk.ui.metrics import Metrics
from kiosk.ui.widgets import Button

# Each button is this many finger widths wide: room for the longest name at body size.
WIDTH_UNITS = 1.6


def row_width(m: Metrics, count: int) -> int:
    """How wide a row of ``count`` language buttons is."""
    return int(count * m.unit * WIDTH_UNITS) + (count - 1) * m.gap


def language_buttons(session: Session, rect: Rect, m: Metrics) -> list[Button]:
    """One button per language that can be shown, side by side in ``rect`` (centred)."""
    choices = session.language.choices()
    if len(choices) < 2:
        return []  # one language: nothing to choose
    width = min(rect.width, row_width(m, len(choices)))
    row = Rect(0, 0, width, rect.height)
    row.center = rect.center
    cells = columns(row, [1] * len(choices), m.gap)
    return [
        Button(
            cell,
            name,
            partial(session.choose_language, code),
            "selected" if code == i18n.language() else "quiet",  # the one on screen
            name=f"language_{code}",
        )
        for (code, name), cell in zip(choices, cells, strict=True)
    ]
