"""What can appear over any screen: a lost-micro:bit banner, a short message, the idle countdown.

Layout functions say where; draw functions draw. The banner's "Connect
again" button joins the scene's buttons while the board is lost for good.
"""

from __future__ import annotations

import pygame

from kiosk.microbit.link import LinkState
from kiosk.session.session import Session
from kiosk.ui import draw, theme
from kiosk.ui.geometry import Rect, inset, take_right
from kiosk.ui.metrics import Metrics
from kiosk.ui.scenes.base import Frame
from kiosk.ui.text import TextCache
from kiosk.ui.widgets import Button

_KIND_COLOURS = {"good": theme.GOOD, "problem": theme.PROBLEM, "info": theme.INFO}


def banner_rect(frame: Frame, m: Metrics) -> Rect:
    body = frame.body
    return Rect(body.x, body.y, body.width, min(body.height, int(m.unit * 1.5)))


def message_rect(frame: Frame, m: Metrics) -> Rect:
    body = frame.body
    height = min(body.height, int(m.body_px * 2.6))
    return Rect(body.x, body.bottom - height, body.width, height)


def needs_reconnect(session: Session) -> bool:
    link = session.link
    return session.link_problem is not None and (link is None or link.state is LinkState.FAILED)


def chrome_buttons(session: Session, frame: Frame, m: Metrics) -> list[Button]:
    if not needs_reconnect(session):
        return []
    button_rect, _ = take_right(inset(banner_rect(frame, m), m.gap), int(m.unit * 2.2), m.gap)
    button_rect.height = max(button_rect.height, m.unit)
    return [Button(button_rect, "Connect again", session.reconnect, "primary", name="reconnect")]


def draw_banner(
    surface: pygame.Surface,
    cache: TextCache,
    session: Session,
    frame: Frame,
    m: Metrics,
    buttons: list[Button],
) -> None:
    rect = banner_rect(frame, m)
    pygame.draw.rect(surface, theme.PROBLEM, rect, border_radius=10)
    text_rect = inset(rect, m.gap * 2)
    if needs_reconnect(session):
        text_rect.width -= int(m.unit * 2.2) + m.gap
    draw.wrapped(
        surface,
        cache,
        session.link_problem or "",
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
    message = session.message
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
        inset(rect, m.gap * 2),
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
        "Are you still there?\nTouch the screen to keep going.",
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
    words = "Starting again for the next visitor in"
    size = cache.fit_size(words, m.body_px, area.width)
    draw.text(
        surface, cache, words, size, theme.TEXT_DIM, (area.centerx, area.centery), "midbottom"
    )
