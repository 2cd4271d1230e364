"""What every screen shares: the frame (title, body, side panel, "Start again", next button).

A scene draws one screen of the session in two layers: a static layer
(background, labels, buttons) redrawn only when ``static_key`` changes, and a
dynamic layer (graphs, bars, countdowns) drawn every frame on top of it. The
app caches the static layer and the button list per key, so a steady screen
costs one blit plus its live parts.

Landscape screens put "Start again" and the next step in a sidebar on the
right; portrait screens put "Start again" at the top and the next step at the
bottom, always in the same place so a visitor can find them.

Nothing is drawn over what a visitor needs: short messages take the title's
strip for a few seconds, and while the micro:bit is lost the frame is laid
out again with a strip of its own for that banner above the body.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from dataclasses import dataclass

import pygame

from kiosk.i18n import _
from kiosk.session.screens import Screen
from kiosk.session.session import Session
from kiosk.ui import draw, theme
from kiosk.ui.geometry import Rect, take_bottom, take_right, take_top
from kiosk.ui.metrics import Metrics
from kiosk.ui.redraw import Redraw
from kiosk.ui.text import TextCache
from kiosk.ui.widgets import Button


@dataclass(frozen=True)
class Frame:
    title: Rect  # the screen's heading
    body: Rect  # the screen's own content
    side: Rect  # a panel beside (landscape) or below (portrait) the body
    start_again: Rect
    primary: Rect  # the next step
    notice: Rect | None = None  # the lost-micro:bit banner's own strip (only while shown)


def frame_layout(m: Metrics, portrait_side_share: float = 0.33, banner: bool = False) -> Frame:
    g, u = m.gap, m.unit
    screen = Rect(0, 0, m.width, m.height).inflate(-2 * g, -2 * g)
    notice = None
    if not m.portrait:
        side_w = max(int(2.4 * u), int(0.25 * m.width))
        sidebar, main = take_right(screen, side_w, g)
        start_again, sidebar = take_top(sidebar, u, g)
        primary, side = take_bottom(sidebar, u, g)
        title, body = take_top(main, int(m.title_px * 1.3), g)
        if banner:
            notice, body = take_top(body, u, g)
        return Frame(title, body, side, start_again, primary, notice)
    top, rest = take_top(screen, u, g)
    start_again, title = take_right(top, max(int(2.4 * u), m.width // 3), g)
    primary, middle = take_bottom(rest, u, g)
    if banner:
        notice, middle = take_top(middle, int(u * 1.3), g)
    side, body = take_bottom(middle, int(middle.height * portrait_side_share), g)
    return Frame(title, body, side, start_again, primary, notice)


def confirming(session: Session, key: str, label: str, style: str) -> tuple[str, str]:
    """A destructive button's (label, style): its "Tap again to ..." face while it asks."""
    asking = session.confirm.asking(key)
    return (asking.words, "danger") if asking else (label, style)


def shows_banner(session: Session) -> bool:
    """Whether the lost-micro:bit banner is on this screen (not where no board is needed)."""
    return session.board_lost


class Scene:
    """One screen; subclasses fill in the hooks below."""

    screen: Screen
    title = ""  # marked with N_ by each scene, shown through _
    # Scenes paint their live parts every frame unless they say they repaint only what
    # changed (the test screen, through ``self.redraw``); the app turns the canvas for a
    # rotated display only on frames that changed it.
    repaints_only_changes = False
    shows_start_again = True
    portrait_side_share = 0.33  # of the space between the top and bottom bars

    def __init__(self, cache: TextCache, metrics: Metrics, redraw: Redraw | None = None) -> None:
        """A scene is complete when built: laid out for ``metrics`` (``layout`` again for
        another screen size or when the lost-micro:bit banner comes or goes). ``redraw``
        is the app's one record of what must be painted again."""
        self.cache = cache
        self.redraw = redraw if redraw is not None else Redraw()
        self.m = metrics
        self.frame = frame_layout(metrics, self.portrait_side_share)
        self.layout(metrics)

    # ---- layout ------------------------------------------------------------------

    def layout(self, metrics: Metrics, banner: bool = False) -> None:
        self.m = metrics
        elsewhere = self.banner_place() if banner else None
        self.frame = frame_layout(metrics, self.portrait_side_share, banner and not elsewhere)
        self.arrange()
        if elsewhere:
            self.frame = dataclasses.replace(self.frame, notice=self.banner_rect())

    def banner_place(self) -> bool:
        """True when this scene has a region that means nothing while the board is lost.

        The banner then goes there (``banner_rect``) instead of taking a strip off the body.
        """
        return False

    def banner_rect(self) -> Rect:
        raise NotImplementedError

    def fit_frame(self, session: Session) -> None:
        """Lay out again when the lost-micro:bit banner comes or goes (it gets its own strip)."""
        banner = shows_banner(session)
        if (self.frame.notice is not None) != banner:
            self.layout(self.m, banner)

    def arrange(self) -> None:
        """Compute this scene's own rects from ``self.m`` and ``self.frame``."""

    # ---- what the app asks -------------------------------------------------------

    def static_key(self, session: Session) -> Hashable:
        """Everything the static layer and the buttons depend on."""
        return ()

    def buttons(self, session: Session) -> list[Button]:
        self.fit_frame(session)  # the app asks for buttons first whenever the state changes
        out = []
        if self.shows_start_again:
            asking = session.confirm.asking("start_again")
            out.append(
                Button(
                    self.frame.start_again,
                    asking.words if asking else _("Start again"),
                    session.ask_start_again,
                    "danger" if asking else "quiet",
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
        if session.faults.unseen:
            # For staff only: a small mark in the admin corner says the admin screen has
            # a fault to read (no Bluetooth adapter, no runtime, a full disk).
            pygame.draw.circle(surface, theme.PROBLEM, (6, 6), 5)

    def title_for(self, session: Session) -> str:
        return _(self.title)

    def draw_title(self, surface: pygame.Surface, words: str) -> None:
        rect = self.frame.title
        size = self.cache.fit_size(words, self.m.title_px, rect.width)
        draw.text(surface, self.cache, words, size, theme.TEXT, rect.midleft, "midleft")

    def draw_background(self, surface: pygame.Surface, session: Session) -> None:
        """Static content besides the title and buttons."""

    def draw_dynamic(self, surface: pygame.Surface, session: Session, now: float) -> None:
        """Live content, drawn every frame over the static layer."""
