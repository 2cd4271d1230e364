"""Attract screen: what the exhibit does at a glance, moving, with "Touch to start".

The whole screen is one touch target. The four steps of the journey are
shown as pictures, a pretend micro:bit cycles through action icons and a
wavy x/y/z trace runs along the bottom, so the screen is visibly alive.
"""

from __future__ import annotations

import math

import numpy as np
import pygame

from kiosk import i18n
from kiosk.i18n import N_, _
from kiosk.session.presets import PRESETS
from kiosk.session.screens import Screen
from kiosk.session.session import Session
from kiosk.ui import draw, language_picker, theme
from kiosk.ui.geometry import Rect, columns, inset, take_bottom, take_right, take_top
from kiosk.ui.scenes.base import Scene
from kiosk.ui.widgets import Button

STEPS = (
    ("circle", N_("1. Connect\na micro:bit")),
    ("shake", N_("2. Record\nyour moves")),
    ("heart", N_("3. The computer\nlearns them")),
    ("smile", N_("4. Test it\nlive!")),
)


class AttractScene(Scene):
    screen = Screen.ATTRACT
    shows_start_again = False

    def arrange(self) -> None:
        m = self.m
        area = inset(Rect(0, 0, m.width, m.height), m.gap * 2)
        self.headline, rest = take_top(area, int(m.title_px * 3.2), m.gap)
        self.touch_rect, rest = take_bottom(rest, int(m.unit * 1.3), m.gap)
        # The language buttons: beside "Touch to start" when wide, in a row above it when not.
        languages = len(i18n.available())
        if m.portrait:
            self.language_rect, rest = take_bottom(rest, m.unit, m.gap)
        else:
            width = language_picker.row_width(m, languages)
            self.language_rect, self.touch_rect = take_right(self.touch_rect, width, m.gap)
        self.wave_rect, rest = take_bottom(rest, max(30, rest.height // 5), m.gap)
        portrait = m.portrait
        n_cols = 2 if portrait else 4
        if portrait:
            top, bottom = rest.copy(), rest.copy()
            top.height = bottom.height = rest.height // 2
            bottom.top = top.bottom
            self.step_rects = columns(top, [1, 1], m.gap) + columns(bottom, [1, 1], m.gap)
        else:
            self.step_rects = columns(rest, [1] * n_cols, m.gap)
        phase = np.linspace(0, 4 * math.pi, 160)
        self._wave_phase = phase

    def buttons(self, session: Session) -> list[Button]:
        # The whole screen starts the journey; the big button is what it looks like.
        whole = Button(
            Rect(0, 0, self.m.width, self.m.height), "", session.start, name="touch_to_start"
        )
        # The language buttons lie on top of it (later buttons are hit first).
        return [whole, *language_picker.language_buttons(session, self.language_rect, self.m)]

    def draw_static(self, surface: pygame.Surface, session: Session, buttons: list[Button]) -> None:
        surface.fill(theme.BACKGROUND)
        m = self.m
        for b in buttons[1:]:  # the language buttons (the whole-screen one is not drawn)
            draw.button(surface, self.cache, b, m.body_px)
        draw.wrapped(
            surface,
            self.cache,
            _("Teach a computer to recognise your moves!"),
            int(m.title_px * 1.25),
            theme.ACCENT,
            self.headline,
            align="center",
            valign="center",
        )
        for (icon, words), rect in zip(STEPS, self.step_rects, strict=False):
            draw.panel(surface, rect)
            label_h = int(m.body_px * 2.6)
            label_rect, picture = take_bottom(rect.inflate(-m.gap * 2, -m.gap * 2), label_h, m.gap)
            side = min(picture.width, picture.height)
            square = Rect(0, 0, side, side)
            square.center = picture.center
            draw.led_icon(surface, square, icon)
            draw.wrapped(
                surface, self.cache, _(words), m.body_px, theme.TEXT, label_rect, "center", "center"
            )

    def draw_dynamic(self, surface: pygame.Surface, session: Session, now: float) -> None:
        m = self.m
        # A pulsing "Touch to start".
        pulse = 0.5 + 0.5 * math.sin(now * 3.0)
        grow = int(m.gap * 2 * pulse)
        rect = self.touch_rect.inflate(grow - m.gap * 2, grow - m.gap * 2)
        width = min(rect.width, int(m.unit * 5))
        rect = Rect(0, 0, width, rect.height)
        rect.center = self.touch_rect.center
        pygame.draw.rect(surface, theme.BACKGROUND, self.touch_rect)
        pygame.draw.rect(surface, theme.ACCENT, rect, border_radius=rect.height // 3)
        words = _("Touch to start")
        size = self.cache.fit_size(words, int(m.title_px * 1.2), rect.width - 20)
        draw.text(surface, self.cache, words, size, theme.ACCENT_TEXT, rect.center, "center")
        # A moving x/y/z trace, like a micro:bit being waved.
        r = self.wave_rect
        pygame.draw.rect(surface, theme.BACKGROUND, r)
        xs = np.linspace(r.left, r.right - 1, len(self._wave_phase))
        for axis, colour in enumerate(theme.AXES):
            ys = (
                r.centery
                + np.sin(self._wave_phase * (1 + axis * 0.3) + now * (2 + axis)) * r.height * 0.4
            )
            points = np.column_stack((xs, ys)).astype(np.int32)
            pygame.draw.lines(surface, colour, False, points, 3)  # type: ignore[arg-type]  # (n, 2) works
        # The pretend micro:bit in the "record" step cycles through actions.
        icon = PRESETS[int(now) % len(PRESETS)].icon
        step = self.step_rects[1].inflate(-m.gap * 2, -m.gap * 2)
        picture = take_bottom(step, int(m.body_px * 2.6), m.gap)[1]
        side = min(picture.width, picture.height)
        square = Rect(0, 0, side, side)
        square.center = picture.center
        pygame.draw.rect(surface, theme.PANEL, square)
        draw.led_icon(surface, square, icon)
