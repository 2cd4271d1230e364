"""The on-screen keyboard: finger-sized letter keys, a row of controls, a field showing the text.

Staff type move names with it on the admin screen and visitors type the name
of a move of their own; both get the same big keys. The keyboard takes the
whole screen (keys must stay at least one touch target wide on the smallest
panel), in alphabetical order, which a child finds faster than QWERTY.
Each key calls ``on_key`` with what ``kiosk.session.keyboard.Keyboard``
understands: a lower-case letter, "-", "space" or "back".
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import pygame

from kiosk.ui import draw, theme
from kiosk.ui.geometry import Rect, grid, take_bottom, take_right, take_top
from kiosk.ui.metrics import Metrics
from kiosk.ui.text import TextCache
from kiosk.ui.widgets import Button

KEYS = (*string.ascii_uppercase, "-")


@dataclass(frozen=True)
class KeyboardLayout:
    field: Rect  # where the typed text is shown
    aside: Rect | None  # a target beside the field (None when not asked for)
    keys: list[Rect]  # one per KEYS entry
    controls: list[Rect]  # the bottom row (space, delete, ...)


def keyboard_layout(m: Metrics, n_controls: int, aside: bool = False) -> KeyboardLayout:
    """The whole screen as a keyboard with ``n_controls`` controls (and a target by the field)."""
    area = Rect(m.gap, m.gap, m.width - 2 * m.gap, m.height - 2 * m.gap)
    field, keys_area = take_top(area, m.unit, m.gap)
    beside = None
    if aside:
        beside, field = take_right(field, max(int(2.4 * m.unit), field.width * 3 // 10), m.gap)
    n_cols = max(5, min(9, (keys_area.width + m.gap) // (m.unit + m.gap)))
    n_rows = -(-len(KEYS) // n_cols)
    controls, keys_area = take_bottom(keys_area, m.unit, m.gap)
    return KeyboardLayout(
        field, beside, grid(keys_area, n_rows, n_cols, m.gap), grid(controls, 1, n_controls, m.gap)
    )


def key_buttons(layout: KeyboardLayout, on_key: Callable[[str], None]) -> list[Button]:
    """One button per letter key (named ``key_a`` ...)."""
    return [
        Button(cell, key, partial(on_key, key.lower()), name=f"key_{key.lower()}")
        for key, cell in zip(KEYS, layout.keys, strict=False)
    ]


def control_buttons(
    layout: KeyboardLayout, controls: Sequence[tuple[str, str, Callable[[], None] | None, str]]
) -> list[Button]:
    """The bottom row: (name, label, intent, style) for each control, left to right."""
    return [
        Button(cell, label, action, style, name=f"key_{name}")
        for (name, label, action, style), cell in zip(controls, layout.controls, strict=True)
    ]


def draw_field(
    surface: pygame.Surface, cache: TextCache, rect: Rect, words: str, size: int
) -> None:
    """The typed text (with its prompt) on a panel, shrunk only as far as it must to fit."""
    pygame.draw.rect(surface, theme.PANEL, rect, border_radius=8)
    fitted = cache.fit_size(words, size, rect.width - 24)
    draw.text(surface, cache, words, fitted, theme.TEXT, (rect.left + 12, rect.centery), "midleft")
