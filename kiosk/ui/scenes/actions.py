"""Actions screen: pick 2 to 5 moves from pictures, or make one of your own.

Each choice is a big card with its LED picture and name; tapping toggles it.
Admin-added names (typed on the admin screen's keyboard) appear as extra
cards, and so do the visitor's own moves. The last card, "Make your own
move", opens the make-move screen (a name, then a picture) unless staff
turned that off.
"""

from __future__ import annotations

import math
from functools import partial

import pygame

from kiosk.i18n import N_, _
from kiosk.session.presets import MAX_ACTIONS, MIN_ACTIONS
from kiosk.session.screens import Screen
from kiosk.session.session import Session
from kiosk.ui import draw, theme
from kiosk.ui.geometry import Rect, grid
from kiosk.ui.metrics import Metrics
from kiosk.ui.scenes.base import Scene, confirming
from kiosk.ui.widgets import Button


def best_grid(n: int, area: Rect, gap: int) -> tuple[int, int]:
    """(rows, columns) that give ``n`` cards the biggest squarish cells in ``area``."""
    best, best_side = (1, n), 0.0
    for cols in range(1, n + 1):
        n_rows = math.ceil(n / cols)
        side = min(
            (area.width - gap * (cols - 1)) / cols, (area.height - gap * (n_rows - 1)) / n_rows
        )
        if side > best_side:
            best, best_side = (n_rows, cols), side
    return best


class ActionsScene(Scene):
    screen = Screen.ACTIONS
    title = N_("Pick 2 to 5 moves to teach")

    def static_key(self, session: Session):
        return (
            session.data.names,
            tuple(session.staff.custom_action_names),
            session.data.version,
            session.settings.own_moves,
            session.confirm.pending,
        )

    def _cards(self, session: Session) -> tuple[list[tuple[str, str, Rect]], Rect | None]:
        """The choices' cards, and the "Make your own move" card (None when turned off)."""
        choices = session.available_choices()
        own = session.settings.own_moves
        n = len(choices) + (1 if own else 0)
        n_rows, n_cols = best_grid(n, self.frame.body, self.m.gap)
        cells = grid(self.frame.body, n_rows, n_cols, self.m.gap)[:n]
        cards = [(name, icon, cell) for (name, icon), cell in zip(choices, cells, strict=False)]
        return cards, cells[-1] if own else None

    def scene_buttons(self, session: Session) -> list[Button]:
        out = []
        chosen = [n.lower() for n in session.data.names]
        cards, make_own = self._cards(session)
        for name, icon, cell in cards:
            picked = name.lower() in chosen
            label, style = confirming(
                session, f"untick:{name}", name, "selected" if picked else "normal"
            )
            out.append(
                Button(
                    cell,
                    label,
                    partial(session.choose_action, name),
                    style,
                    icon=icon,
                    name=f"choose_{name.lower()}",
                )
            )
        if make_own is not None:
            out.append(
                Button(
                    make_own,
                    _("+ Make your\nown move"),
                    session.make_own_move,  # full: the session says to remove one first
                    "quiet",
                    name="make_own",
                    dimmed=len(chosen) >= MAX_ACTIONS,
                )
            )
        ready = len(chosen) >= MIN_ACTIONS
        out.append(
            Button(
                self.frame.primary,
                _("Next: record"),
                session.actions_done,  # not ready: the session says how many to pick
                "primary",
                name="next",
                dimmed=not ready,
            )
        )
        return out

    def draw_background(self, surface: pygame.Surface, session: Session) -> None:
        m = self.m
        n = len(session.data.actions)
        if n < MIN_ACTIONS:
            words = _(
                "Tap the moves you want the computer to learn. Pick at least {count}."
            ).format(count=MIN_ACTIONS)
            colour = theme.TEXT
        elif n < MAX_ACTIONS:
            words = _("{count} moves picked. Tap Next, or pick more (up to {most}).").format(
                count=n, most=MAX_ACTIONS
            )
            colour = theme.GOOD
        else:
            words = _("{count} moves: that's the most. Tap Next!").format(count=n)
            colour = theme.GOOD
        draw.panel(surface, self.frame.side)
        draw.wrapped(
            surface,
            self.cache,
            words,
            m.body_px,
            colour,
            self.frame.side.inflate(-m.gap * 4, -m.gap * 4),
            "center",
            "center",
        )

    def draw_static(self, surface: pygame.Surface, session: Session, buttons: list[Button]) -> None:
        super().draw_static(surface, session, buttons)
        draw_ticks(surface, buttons, self.m)


def draw_ticks(surface: pygame.Surface, buttons: list[Button], m: Metrics) -> None:
    """A tick on picked cards, so "chosen" never depends on colour alone."""
    for b in buttons:
        if b.style == "selected":
            r = max(10, m.unit // 6)
            centre = (b.rect.right - r - 4, b.rect.top + r + 4)
            pygame.draw.circle(surface, theme.TEXT, centre, r)
            pts = [
                (centre[0] - r // 2, centre[1]),
                (centre[0] - r // 8, centre[1] + r // 2),
                (centre[0] + r // 2, centre[1] - r // 2),
            ]
            pygame.draw.lines(surface, theme.SELECTED, False, pts, max(2, r // 4))
