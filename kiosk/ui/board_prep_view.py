"""The admin screen's "Prepare a micro:bit" page: three choices, then each step in plain words.

Drawing only; the work and its state are ``kiosk.session.board_prep.BoardPrep``.
The admin scene hands over its body (the choices) and side panel (the words).
"""

from __future__ import annotations

from collections.abc import Callable

import pygame

from kiosk.i18n import N_, _
from kiosk.session.board_prep import CHOICES
from kiosk.session.session import Session
from kiosk.ui import draw, theme
from kiosk.ui.geometry import Rect, grid, inset
from kiosk.ui.text import TextCache
from kiosk.ui.widgets import Button

TITLE = N_("Prepare a micro:bit")


def buttons(session: Session, body: Rect, primary: Rect, gap: int) -> list[Button]:
    prep = session.board_prep
    busy = prep.busy

    def choose(role: str) -> Callable[[], None] | None:
        return None if busy else lambda: session.admin_prepare_board_as(role)

    out = [
        Button(
            cell,
            _(label),
            choose(role),
            "selected" if prep.role == role else "normal",
            name=f"prepare_{role}",
        )
        for (role, label, _what), cell in zip(CHOICES, grid(body, 3, 1, gap), strict=True)
    ]
    out.append(
        Button(
            primary, _("Back"), session.admin_close_prepare_board, "primary", name="prepare_back"
        )
    )
    return out


def words(session: Session) -> tuple[str, theme.Colour]:
    """What the side panel says now, and in which colour."""
    prep = session.board_prep
    if prep.error:
        return _("That did not work. {error}").format(error=prep.error), theme.PROBLEM
    if prep.outcome:
        return prep.outcome, theme.GOOD
    if prep.busy:
        return prep.stage or _("Working…"), theme.ACCENT
    guide = " ".join(f"{_(label)}: {_(what)}" for _role, label, what in CHOICES)
    return f"{prep.stage} {guide}", theme.TEXT_DIM


def draw_side(
    surface: pygame.Surface, cache: TextCache, session: Session, side: Rect, px: int, gap: int
) -> None:
    text, colour = words(session)
    draw.panel(surface, side)
    draw.wrapped(surface, cache, text, px, colour, inset(side, gap * 2))
