"""Make-move screen: a visitor names a move of their own, then picks its picture.

Two steps, as in CreateAI: first the name, on the child-sized on-screen
keyboard (which takes the whole screen, so every key stays a fingertip wide);
then the picture, from MakeCode's icons shown a page at a time as big
tappable LED pictures, with the chosen one large beside them. "Add" puts the
move with the visitor's others and goes back to the actions screen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from functools import partial

import pygame

from kiosk.i18n import N_, _
from kiosk.microbit.icons import ICON_WORDS
from kiosk.session.own_move import Step
from kiosk.session.screens import Screen
from kiosk.session.session import Session
from kiosk.ui import draw, theme
from kiosk.ui.geometry import Rect, columns, grid, inset, rows, take_bottom
from kiosk.ui.keyboard import control_buttons, draw_field, key_buttons, keyboard_layout
from kiosk.ui.scenes.actions import best_grid, draw_ticks
from kiosk.ui.scenes.base import Frame, Scene
from kiosk.ui.widgets import Button


class MakeMoveScene(Scene):
    screen = Screen.MAKE_MOVE
    title = N_("Pick a picture")

    def arrange(self) -> None:
        m, f = self.m, self.frame
        self.picture_frame = f
        self.keyboard = keyboard_layout(m, 4)
        # On the keyboard the typed name is the heading, and a short message replaces it
        # for a few seconds like any title; the keyboard has no "Start again" ("Back" is).
        self.name_frame = dataclasses.replace(f, title=self.keyboard.field)
        # The picture step: the chosen picture large, "More pictures" and "Back" by it.
        if m.portrait:
            self.preview, buttons = columns(f.side, [1, 1], m.gap)
            self.more_rect, self.back_rect = rows(buttons, [1, 1], m.gap)
        else:
            self.back_rect, rest = take_bottom(f.side, m.unit, m.gap)
            self.more_rect, self.preview = take_bottom(rest, m.unit, m.gap)

    def _frame_for(self, session: Session) -> Frame:
        return self.name_frame if session.own_move.step is Step.NAME else self.picture_frame

    def static_key(self, session: Session) -> Hashable:
        own = session.own_move
        return (own.step, own.keyboard.text, own.icon, own.page, session.data.version)

    def buttons(self, session: Session) -> list[Button]:
        self.frame = self._frame_for(session)
        if session.own_move.step is Step.NAME:
            return self._name_buttons(session)
        return super().buttons(session)  # "Start again" and the pictures

    def _name_buttons(self, session: Session) -> list[Button]:
        out = [
            *key_buttons(self.keyboard, session.own_move_type),
            *control_buttons(
                self.keyboard,
                (
                    ("back", _("Back"), session.own_move_back, "quiet"),
                    ("space", _("Space"), partial(session.own_move_type, "space"), "quiet"),
                    ("delete", _("Delete"), partial(session.own_move_type, "back"), "quiet"),
                    ("next", _("Next"), session.own_move_next, "primary"),
                ),
            ),
        ]
        # Greyed until there is a name; a tap still answers (it says what to do).
        out[-1].dimmed = not session.own_move.name
        return out

    def scene_buttons(self, session: Session) -> list[Button]:
        own = session.own_move
        icons = own.page_icons()
        n_rows, n_cols = best_grid(len(icons), self.frame.body, self.m.gap)
        cells = grid(self.frame.body, n_rows, n_cols, self.m.gap)
        taken = session.icons_in_use()  # greyed: another move has it (a tap says so)
        out = [
            Button(
                cell,
                "",
                partial(session.own_move_pick_icon, icon),
                "selected" if icon == own.icon else "normal",
                icon=icon,
                name=f"icon_{icon}",
                dimmed=icon in taken,
            )
            for icon, cell in zip(icons, cells, strict=False)
        ]
        page = _("More pictures\n({page} of {pages})").format(
            page=own.page + 1, pages=own.page_count()
        )
        out += [
            Button(self.more_rect, page, session.own_move_more_icons, name="more_icons"),
            Button(self.back_rect, _("Back"), session.own_move_back, "quiet", name="back"),
            Button(
                self.frame.primary,
                _("Add {name}").format(name=own.name),
                session.own_move_add,
                "primary",
                name="add_move",
            ),
        ]
        return out

    def title_for(self, session: Session) -> str:
        return _("Pick a picture for {name}").format(name=session.own_move.name)

    def draw_title(self, surface: pygame.Surface, words: str) -> None:
        if self.frame is self.picture_frame:  # on the keyboard, the field is the heading
            super().draw_title(surface, words)

    def draw_background(self, surface: pygame.Surface, session: Session) -> None:
        m, own = self.m, session.own_move
        if own.step is Step.NAME:
            shown = _("Name your move: {name}").format(name=own.keyboard.text.upper()) + "_"
            draw_field(surface, self.cache, self.keyboard.field, shown, m.title_px)
            return
        draw.panel(surface, self.preview)
        area = inset(self.preview, m.gap * 2)
        words = _(ICON_WORDS.get(own.icon, ""))
        label_h = self.cache.font(m.body_px).get_linesize()
        side = max(10, min(area.width, area.height - label_h - m.gap))
        icon = Rect(0, 0, side, side)
        icon.midtop = area.midtop
        draw.led_icon(surface, icon, own.icon)
        size = self.cache.fit_size(words, m.body_px, area.width)
        draw.text(surface, self.cache, words, size, theme.TEXT, area.midbottom, "midbottom")

    def draw_static(self, surface: pygame.Surface, session: Session, buttons: list[Button]) -> None:
        super().draw_static(surface, session, buttons)
        draw_ticks(surface, [b for b in buttons if b.name.startswith("icon_")], self.m)
