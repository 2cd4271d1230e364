"""What can appear over any screen: a lost-micro:bit banner, a short message, the idle countdown.

Layout functions say where; draw functions draw. Neither covers what a
visitor needs: a message (it times out after a few seconds) takes the
title's strip, and the banner has a strip of its own that the frame makes
room for while the board is lost (``frame_layout(banner=True)``). The
banner's "Connect again" button joins the scene's buttons while the board is
lost for good.
"""

from __future__ import annotations

import pygame

from kiosk.i18n import _
from kiosk.microbit.link import LinkState
from kiosk.session.session import Session
from kiosk.ui import draw, theme
from kiosk.ui.geometry import Rect, inset, take_bottom, take_right
from kiosk.ui.metrics import Metrics
from kiosk.ui.scenes.base import Frame
from kiosk.ui.text import TextCache
from kiosk.ui.widgets import Button

_KIND_COLOURS = {"good": theme.GOOD, "problem": theme.PROBLEM, "info": theme.INFO}


def banner_rect(frame: Frame, m: Metrics) -> Rect:
    """The banner's own strip (laid out by the frame); above the body if a scene has none."""
    if frame.notice is not None:
        return frame.notice
    body = frame.body
    return Rect(body.x, body.y, body.width, min(body.height, m.unit))


def message_rect(frame: Frame, m: Metrics) -> Rect:
    """A message replaces the title for a few seconds, so it hides nothing the visitor uses."""
    return frame.title


def needs_reconnect(session: Session) -> bool:
    link = session.link
    return session.connection.problem is not None and (
        link is None or link.state is LinkState.FAILED
    )


def chrome_buttons(session: Session, frame: Frame, m: Metrics) -> list[Button]:
    if not needs_reconnect(session):
        return []
    button_rect = _split(banner_rect(frame, m), m)[0]
    return [Button(button_rect, _("Connect again"), session.reconnect, "primary", name="reconnect")]


def _split(rect: Rect, m: Metrics) -> tuple[Rect, Rect]:
    """(the "Connect again" button, the rest for words): at the right, or below when narrow."""
    if rect.width >= int(m.unit * 5):
        return take_right(rect, int(m.unit * 2.2), m.gap)
    return take_bottom(rect, m.unit, m.gap)


def draw_banner(
    surface: pygame.Surface,
    cache: TextCache,
    session: Session,
    frame: Frame,
    m: Metrics,
    buttons: list[Button],
) -> None:
    rect = banner_rect(frame, m)
    if needs_reconnect(session):
        rect = _split(rect, m)[1]
    pygame.draw.rect(surface, theme.PROBLEM, rect, border_radius=10)
    text_rect = inset(rect, m.gap * 2)
    draw.wrapped(
        surface,
        cache,
        session.connection.problem or "",
        m.body_px,
        theme.TEXT,
        text_rect,
        "left",
        "center",
    )
    for b in buttons:
        draw.button(surface, cache, b, m.body_px)


def draw_message(
    surface: pygame.Surface, cache: TextCache, session: Session, frame: Frame, m: Metrics
) -> None:
    message = session.messages.message
    if message is None:
        return
    rect = message_rect(frame, m)
    pygame.draw.rect(surface, _KIND_COLOURS.get(message.kind, theme.INFO), rect, border_radius=10)
    draw.wrapped(
        surface,
        cache,
        message.text,
        m.body_px,
        theme.TEXT,
        rect.inflate(-4 * m.gap, -m.gap),
        "center",
        "center",
    )


def draw_idle_countdown(
    surface: pygame.Surface, cache: TextCache, seconds: float, m: Metrics
) -> None:
    draw.overlay(surface)
    area = inset(surface.get_rect(), m.unit // 2)
    draw.wrapped(
        surface,
        cache,
        _("Are you still there?\nTouch the screen to keep going."),
        m.title_px,
        theme.TEXT,
        Rect(area.x, area.y, area.width, area.height // 2),
        "center",
        "center",
    )
    draw.text(
        surface,
        cache,
        str(int(seconds) + 1),
        m.huge_px,
        theme.ACCENT,
        (area.centerx, area.centery + m.gap),
        "midtop",
    )
    words = _("Starting again for the next visitor in")
    size = cache.fit_size(words, m.body_px, area.width)
    draw.text(
        surface, cache, words, size, theme.TEXT_DIM, (area.centerx, area.centery), "midbottom"
    )
