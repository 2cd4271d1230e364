"""Pair screen: copy the micro:bit's light pattern onto a 5x5 grid, or use a USB or pretend board.

Tapping a cell sets its column's height (the lit LEDs go from the bottom up
to the tapped cell), exactly like the board's pairing pattern. Progress and
problems are one short sentence a child understands, with a way forward:
"Try again" when the visitor can fix it (the lights did not match), the
pretend micro:bit when only staff can (no Bluetooth here; the detail goes to
the staff side).
"""

from __future__ import annotations

import math
from functools import partial

import pygame

from kiosk.i18n import N_, _
from kiosk.session.faults import visitor_words
from kiosk.session.pairing import COLUMNS, ROWS
from kiosk.session.screens import Screen
from kiosk.session.session import PairStatus, Session
from kiosk.ui import draw, theme
from kiosk.ui.geometry import Rect, columns, grid, rows, square_in, take_bottom, take_left
from kiosk.ui.scenes.base import Scene
from kiosk.ui.widgets import Button


class PairScene(Scene):
    screen = Screen.PAIR
    title = N_("Connect your micro:bit")
    portrait_side_share = 0.3  # the grid needs five finger-sized rows

    def title_for(self, session: Session) -> str:
        return (
            _("Pair the kiosk's own micro:bit")
            if session.connection.pairing_fixed_board
            else _(self.title)
        )

    def arrange(self) -> None:
        m, f = self.m, self.frame
        if m.portrait:
            self.grid_rect = square_in(f.body)
            alt_row, self.info = take_bottom(f.side, m.unit, m.gap)
            self.alt_rects = columns(alt_row, [1, 1], m.gap)
        else:
            need = 5 * m.unit + 4 * max(3, m.gap // 2) + 2  # five finger-sized cells
            side = min(f.body.height, max(need, int(f.body.width * 0.58)))
            grid_area, self.info = take_left(f.body, side, m.gap * 3)
            self.grid_rect = square_in(grid_area)
            self.alt_rects = rows(f.side, [1, 1], m.gap)
            if min(r.height for r in self.alt_rects) < m.unit:  # no room for two: one
                self.alt_rects = [f.side, f.side]
        self.cells = grid(self.grid_rect, ROWS, COLUMNS, max(3, m.gap // 2))

    def static_key(self, session: Session):
        return (
            tuple(session.connection.grid.heights),
            session.connection.status,
            session.connection.message,
            session.connection.usb_present,
            session.connection.pairing_fixed_board,
        )

    def scene_buttons(self, session: Session) -> list[Button]:
        out = []
        for index, cell in enumerate(self.cells):
            row, column = divmod(index, COLUMNS)
            height = ROWS - row
            out.append(
                Button(
                    cell,
                    "",
                    partial(session.set_pair_column, column, height),
                    "bare",
                    name=f"cell_{column}_{height}",
                )
            )
        status = session.connection.status
        if status == PairStatus.CONNECTING:
            primary = Button(self.frame.primary, _("Connecting…"), None, "primary", name="connect")
        elif status == PairStatus.FAILED and self._staff_fault(session):
            # "Try again" cannot help: the way forward is the pretend board.
            pretend_ok = not session.connection.pairing_fixed_board
            primary = Button(
                self.frame.primary,
                _("Use the pretend\nmicro:bit") if pretend_ok else _("Try again"),
                session.use_simulated_board if pretend_ok else session.pair,
                "primary",
                name="connect",
            )
        elif status == PairStatus.FAILED:
            primary = Button(
                self.frame.primary, _("Try again"), session.pair, "primary", name="connect"
            )
        else:
            ready = session.connection.grid.complete
            primary = Button(
                self.frame.primary,
                _("Connect"),
                session.pair,  # not ready: the session says which columns are missing
                "primary",
                name="connect",
                dimmed=not ready,
            )
        out.append(primary)
        first, second = self.alt_rects
        if session.connection.usb_present:
            out.append(
                Button(
                    first,
                    _("micro:bit plugged in:\nuse it"),
                    session.use_usb_board,
                    name="use_usb",
                )
            )
        if not session.connection.pairing_fixed_board and (
            not session.connection.usb_present or second is not first
        ):
            out.append(
                Button(
                    second if session.connection.usb_present else first,
                    _("Pretend micro:bit\n(demo)"),
                    session.use_simulated_board,
                    "quiet",
                    name="pretend",
                )
            )
        return out

    @staticmethod
    def _staff_fault(session: Session) -> bool:
        return visitor_words(session.connection.message).staff_fault

    def draw_background(self, surface: pygame.Surface, session: Session) -> None:
        m = self.m
        draw.panel(surface, self.grid_rect.inflate(m.gap * 2, m.gap * 2))
        for index, cell in enumerate(self.cells):
            row, column = divmod(index, COLUMNS)
            lit = session.connection.grid.lit(row, column)
            pygame.draw.rect(surface, theme.LED_OFF, cell, border_radius=8)
            radius = int(min(cell.width, cell.height) * 0.32)
            pygame.draw.circle(surface, theme.LED_ON if lit else (90, 50, 56), cell.center, radius)
        steps = _(
            "Copy the lights on your micro:bit: tap the top light of each column.\n"
            "No lights? Press the button on its back."
        )
        if session.connection.usb_present:
            steps = _("A micro:bit is plugged in: tap “use it”. Or copy another one's lights.")
        bottom = draw.wrapped(surface, self.cache, steps, m.body_px, theme.TEXT, self.info)
        status_rect = Rect(
            self.info.left,
            bottom + m.gap * 2,
            self.info.width,
            self.info.bottom - bottom - m.gap * 2,
        )
        status = session.connection.status
        if status == PairStatus.FAILED:
            colour, words = theme.PROBLEM, visitor_words(session.connection.message).sentence
        elif status == PairStatus.CONNECTING:
            colour, words = (
                theme.ACCENT,
                session.connection.message or _("Looking for your micro:bit…"),
            )
        elif status == PairStatus.CONNECTED:
            colour, words = theme.GOOD, _("Connected!")
        elif not session.connection.grid.complete:
            done = sum(1 for h in session.connection.grid.heights if h)
            colour, words = theme.TEXT_DIM, _("{done} of 5 columns set.").format(done=done)
        else:
            colour, words = theme.GOOD, _("All 5 columns set. Tap Connect!")
        if status_rect.height > m.body_px:
            draw.wrapped(surface, self.cache, words, m.body_px, colour, status_rect)

    def draw_dynamic(self, surface: pygame.Surface, session: Session, now: float) -> None:
        if session.connection.status != PairStatus.CONNECTING:
            return
        # A turning dot next to "Connecting…" shows the kiosk is working.
        rect = self.frame.primary
        radius = max(6, rect.height // 8)
        centre = (rect.left + rect.height // 2, rect.centery)
        angle = now * 6.0
        dot = (
            int(centre[0] + math.cos(angle) * radius * 1.6),
            int(centre[1] + math.sin(angle) * radius * 1.6),
        )
        pygame.draw.circle(surface, theme.ACCENT_TEXT, dot, radius // 2 + 2)
