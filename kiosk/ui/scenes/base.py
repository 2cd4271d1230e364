"""What every screen shares: the frame (title, body, side panel, "Start again", next button).

A scene draws one screen of the session in two layers: a static layer
(background, labels, buttons) redrawn only when ``static_key`` changes, and a
dynamic layer (graphs, bars, countdowns) drawn every frame on top of it. The
app caches the static layer and the button list per key, so a steady screen
costs one blit plus its live parts.

Landscape screens put "Start again" and the next step in a sidebar on the
right; portrait screens put "Start again" at the top and the next step at the
bottom, always in the same place so a visitor can find them.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import pygame

from kiosk.session.screens import Screen
from kiosk.session.session import Session
from kiosk.ui import draw, theme
from kiosk.ui.geometry import Rect, take_bottom, take_right, take_top
from kiosk.ui.metrics import Metrics
from kiosk.ui.text import TextCache
from kiosk.ui.widgets import Button


@dataclass(frozen=True)
class Frame:
    title: Rect  # the screen's heading
    body: Rect  # the screen's own content
    side: Rect  # a panel beside (landscape) or below (portrait) the body
    start_again: Rect
    primary: Rect  # the next step


def frame_layout(m: Metrics, portrait_side_share: float = 0.33) -> Frame:
    g, u = m.gap, m.unit
    screen = Rect(0, 0, m.width, m.height).inflate(-2 * g, -2 * g)
    if not m.portrait:
        side_w = max(int(2.4 * u), int(0.25 * m.width))
        sidebar, main = take_right(screen, side_w, g)
        start_again, sidebar = take_top(sidebar, u, g)
        primary, side = take_bottom(sidebar, u, g)
        title, body = take_top(main, int(m.title_px * 1.3), g)
        return Frame(title, body, side, start_again, primary)
    top, rest = take_top(screen, u, g)
    start_again, title = take_right(top, max(int(2.4 * u), m.width // 3), g)
    primary, middle = take_bottom(rest, u, g)
    side, body = take_bottom(middle, int(middle.height * portrait_side_share), g)
    return Frame(title, body, side, start_again, primary)


class Scene:
    """One screen; subclasses fill in the hooks below."""

    screen: Screen
    title = ""
    shows_start_again = True
    portrait_side_share = 0.33  # of the space between the top and bottom bars

    def __init__(self, cache: TextCache) -> None:
        self.cache = cache
        self.m: Metrics | None = None
        self.frame: Frame | None = None

    # ---- layout ------------------------------------------------------------------

    def layout(self, metrics: Metrics) -> None:
        self.m = metrics
        self.frame = frame_layout(metrics, self.portrait_side_share)
        self.arrange()

    def arrange(self) -> None:
        """Compute this scene's own rects from ``self.m`` and ``self.frame``."""

    # ---- what the app asks -------------------------------------------------------

    def static_key(self, session: Session) -> Hashable:
        """Everything the static layer and the buttons depend on."""
        return ()

    def buttons(self, session: Session) -> list[Button]:
        out = []
        if self.shows_start_again:
            out.append(
                Button(
                    self.frame.start_again,
                    "Start again",
                    session.start_again,
                    "quiet",
                    name="start_again",
                )
            )
        return out + self.scene_buttons(session)

    def scene_buttons(self, session: Session) -> list[Button]:
        return []

    def draw_static(self, surface: pygame.Surface, session: Session, buttons: list[Button]) -> None:
        surface.fill(theme.BACKGROUND)
        if self.title:
            self.draw_title(surface, self.title_for(session))
        self.draw_background(surface, session)
        for b in buttons:
            draw.button(surface, self.cache, b, self.m.body_px)

    def title_for(self, session: Session) -> str:
        return self.title

    def draw_title(self, surface: pygame.Surface, words: str) -> None:
        rect = self.frame.title
        size = self.cache.fit_size(words, self.m.title_px, rect.width)
        draw.text(surface, self.cache, words, size, theme.TEXT, rect.midleft, "midleft")

    def draw_background(self, surface: pygame.Surface, session: Session) -> None:
        """Static content besides the title and buttons."""

    def draw_dynamic(self, surface: pygame.Surface, session: Session, now: float) -> None:
        """Live content, drawn every frame over the static layer."""
