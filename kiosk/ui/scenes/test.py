"""Test screen: move the micro:bit and watch the model recognise the move, live.

Shows the live x/y/z graph, the live fingerprint (updated on every sample),
one confidence bar per move with its recognition threshold (drag it), and the
recognised move big with its picture (also shown on the micro:bit's LEDs).
With the pretend micro:bit, a button per move makes the board act it out.
"""

from __future__ import annotations

import numpy as np
import pygame

from kiosk.session.explore import WhyView
from kiosk.session.presets import gesture_for
from kiosk.session.screens import Screen
from kiosk.session.session import Session
from kiosk.ui import draw, explain_views, theme
from kiosk.ui.geometry import (
    Rect,
    columns,
    graph_points,
    inset,
    rows,
    take_left,
    take_right,
    take_top,
    x_to_value,
)
from kiosk.ui.scenes.base import Scene, shows_banner
from kiosk.ui.widgets import Button

GRAPH_SPAN_S = 3.0


class TestScene(Scene):
    screen = Screen.TEST
    title = "Test it: do a move!"

    def __init__(self, cache) -> None:
        super().__init__(cache)

    def arrange(self) -> None:
        m, f = self.m, self.frame
        self._recognised_cache: dict[tuple, pygame.Surface] = {}
        self.more_rect = f.primary
        if m.portrait:
            # The bars (finger-sized sliders) take the body; the live view goes below.
            self.bars_area = f.body
            live, right = take_left(f.side, int(f.side.width * 0.62), m.gap)
            self.why_rect, self.big_rect = take_top(right, m.unit, m.gap)
        else:
            live, self.bars_area = take_left(f.body, int(f.body.width * 0.42), m.gap * 2)
            self.why_rect, self.big_rect = take_top(f.side, m.unit, m.gap)
        self.live = live
        # The "Why?" panel's tabs sit at the top of the live area.
        tabs, self.why_body = take_top(live, m.unit, m.gap)
        self.why_tabs = columns(tabs, [1, 1], m.gap)
        self.graph_rect, self.fp_rect = take_top(live, int(live.height * 0.55), m.gap)
        if not m.portrait:
            self.fp_rect.height -= m.small_px + m.gap  # room for the pretend-board hint

    def banner_place(self) -> bool:
        # While the board is lost the live graph and fingerprint have nothing to show, so
        # the banner covers them and the finger-sized sliders keep their room.
        return True

    def banner_rect(self) -> Rect:
        return self.live

    def bar_rows(self, n: int, simulated: bool) -> list[tuple[Rect, Rect, Rect | None]]:
        """(icon, bar track, pretend button) per move."""
        m = self.m
        gap = max(3, m.gap // 2)
        height = min(self.bars_area.height, int(m.unit * 1.3) * n + gap * (n - 1))
        area = Rect(self.bars_area.x, self.bars_area.y, self.bars_area.width, height)
        out = []
        for row in rows(area, [1] * n, gap):
            icon, rest = take_left(row, min(row.height, int(m.unit * 0.9)), m.gap)
            pretend = None
            if simulated:
                pretend, rest = take_right(rest, m.unit, m.gap)
            out.append((icon, rest, pretend))
        return out

    @staticmethod
    def track(slider: Rect) -> Rect:
        """The visible bar inside a slider's touch area (the whole row height is touchable)."""
        bar_h = max(16, slider.height // 3)
        track = Rect(slider.x + 12, 0, slider.width - 24, bar_h)
        track.bottom = slider.bottom - 6
        return track

    def static_key(self, session: Session):
        return (
            session.data.names,
            session.simulated,
            session.showing_why,
            session.why_view,
            tuple(session.thresholds()),
            session.pretend_gesture,
        )

    def live_rects(self, session: Session) -> list[Rect] | None:
        """Everywhere ``draw_dynamic`` may paint differently from one frame to the next.

        The app restores only these from the static layer each frame instead of the
        whole screen (see ``KioskApp._draw``); the margin covers line widths and the
        rounded ends of a short bar. The recognised panel is an opaque blit. None
        (restore everything) while "Why?" is open: its views may paint past their area.
        """
        if session.showing_why:
            return None
        areas = [self.graph_rect, self.fp_rect]
        for _, slider, _ in self.bar_rows(len(session.data.actions), session.simulated):
            areas.append(self.track(slider))
        return [area.inflate(6, 6) for area in areas]

    def scene_buttons(self, session: Session) -> list[Button]:
        out = []
        for i, (_, slider, pretend) in enumerate(
            self.bar_rows(len(session.data.actions), session.simulated)
        ):
            track = self.track(slider)
            out.append(
                Button(
                    slider,
                    "",
                    None,
                    "bare",
                    name=f"threshold_{i}",
                    on_drag=lambda pos, i=i, t=track: session.set_threshold(
                        i, x_to_value(pos[0], t)
                    ),
                )
            )
            if pretend is not None:
                gesture = gesture_for(session.data.actions[i].name)
                style = "selected" if gesture == session.pretend_gesture else "quiet"
                out.append(
                    Button(
                        pretend,
                        "act\nit out",
                        lambda g=gesture: session.set_pretend_gesture(g),
                        style,
                        name=f"pretend_{i}",
                    )
                )
        if session.showing_why and not shows_banner(session):  # the banner covers the panel
            tabs, _ = self.why_layout(session)
            for (view, label), rect in zip(
                ((WhyView.SQUARES, "Squares"), (WhyView.MAP, "Map")), tabs, strict=True
            ):
                out.append(
                    Button(
                        rect,
                        label,
                        lambda v=view: session.show_why_view(v),
                        "selected" if view == session.why_view else "quiet",
                        name=f"why_{view}",
                    )
                )
        why = "Hide why" if session.showing_why else "Why?"
        out.append(
            Button(
                self.why_rect,
                why,
                session.toggle_why,
                "normal",
                name="why",
            )
        )
        out.append(
            Button(
                self.more_rect,
                "Record more",
                session.add_more_recordings,
                "normal",
                name="record_more",
            )
        )
        return out

    def draw_static(self, surface: pygame.Surface, session: Session, buttons: list[Button]) -> None:
        super().draw_static(surface, session, buttons)
        m = self.m
        for action, (icon, slider, _) in zip(
            session.data.actions,
            self.bar_rows(len(session.data.actions), session.simulated),
            strict=False,
        ):
            draw.led_icon(surface, icon, action.icon)
            name = f"{action.name}: needs {round(action.threshold * 100)}%"
            size = self.cache.fit_size(name, m.small_px, slider.width - 16)
            draw.text(
                surface, self.cache, name, size, theme.TEXT, (slider.left + 12, slider.top + 4)
            )
        if session.simulated and not m.portrait:
            hint = "Pretend micro:bit: tap “act it out”"
            size = self.cache.fit_size(hint, m.small_px, self.live.width)
            draw.text(
                surface,
                self.cache,
                hint,
                size,
                theme.TEXT_DIM,
                (self.live.left, self.live.bottom),
                "bottomleft",
            )

    def draw_dynamic(self, surface: pygame.Surface, session: Session, now: float) -> None:
        tester = session.tester
        prediction = tester.latest if tester is not None else None
        if session.showing_why:
            self._draw_why(surface, session, prediction, self.why_layout(session)[1])
        else:
            self._draw_live(surface, session, prediction)
        self._draw_recognised(surface, session)
        # A confidence bar per move, with its draggable threshold.
        detected = tester.detected if tester is not None else None
        probabilities = (
            prediction.probabilities
            if prediction is not None
            else np.zeros(len(session.data.actions))
        )
        for i, (action, (_, slider, _)) in enumerate(
            zip(
                session.data.actions,
                self.bar_rows(len(session.data.actions), session.simulated),
                strict=False,
            )
        ):
            colour = theme.GOOD if i == detected else theme.INFO
            draw.bar(surface, self.track(slider), float(probabilities[i]), colour, action.threshold)

    def why_layout(self, session: Session) -> tuple[list[Rect], Rect]:
        """The "Why?" panel: (its two tab rects, the area its views draw in).

        Landscape: the live column. Portrait: the left column from just under the
        confidence bars down, which joins the room the bars leave free to the
        live column below (about twice the height), so the saliency squares and
        the map stay readable on a tall screen.
        """
        if not self.m.portrait:
            return self.why_tabs, self.why_body
        m = self.m
        bars = self.bar_rows(len(session.data.actions), session.simulated)
        top = (bars[-1][1].bottom if bars else self.bars_area.top) + m.gap
        column = Rect(self.live.x, top, self.live.width, self.live.bottom - top)
        tabs, body = take_top(column, m.unit, m.gap)
        return columns(tabs, [1, 1], m.gap), body

    def why_area(self, session: Session) -> Rect:
        """Where the "Why?" views draw (see ``why_layout``)."""
        return self.why_layout(session)[1]

    def _draw_why(self, surface: pygame.Surface, session: Session, prediction, area: Rect) -> None:
        """Saliency over the live fingerprint and the most similar recordings, or the map."""
        pygame.draw.rect(surface, theme.BACKGROUND, area)
        explanation = session.explanation
        if explanation is None or prediction is None:
            draw.wrapped(
                surface,
                self.cache,
                "Move the micro:bit…",
                self.m.body_px,
                theme.TEXT_DIM,
                area,
            )
            return
        if session.why_view == WhyView.MAP and session.explainer is not None:
            picture = session.explainer.picture.with_live(explanation.map_point)
            explain_views.draw_data_map(surface, area, self.cache, picture)
            return
        top, bottom = take_top(area, int(area.height * 0.55), self.m.gap)
        explain_views.draw_saliency_fingerprint(
            surface,
            top,
            self.cache,
            prediction.fingerprint,
            explanation.strength,
            explanation.target_name,
        )
        explain_views.draw_similar_recordings(surface, bottom, self.cache, explanation.similar)

    def _draw_live(self, surface: pygame.Surface, session: Session, prediction) -> None:
        lines = []
        if session.link is not None:
            window = session.link.samples.last_seconds(GRAPH_SPAN_S)
            if len(window):
                lines = graph_points(
                    window.t, window.xyz, self.graph_rect, float(window.t[-1]), GRAPH_SPAN_S
                )
        draw.graph(surface, self.graph_rect, lines)
        if prediction is not None:
            draw.fingerprint(surface, self.fp_rect, prediction.fingerprint)
        else:
            pygame.draw.rect(surface, theme.PANEL, self.fp_rect)

    def _draw_recognised(self, surface: pygame.Surface, session: Session) -> None:
        """The recognised move big, from a panel cached per move (it changes rarely)."""
        tester = session.tester
        detected = tester.detected if tester is not None else None
        name = session.data.actions[detected].name if detected is not None else ""
        key = (detected, name, self.big_rect.size)
        panel = self._recognised_cache.get(key)
        if panel is None:
            panel = pygame.Surface(self.big_rect.size).convert()
            self._render_recognised(panel, session, detected)
            self._recognised_cache[key] = panel
        surface.blit(panel, self.big_rect)

    def _render_recognised(
        self, panel: pygame.Surface, session: Session, detected: int | None
    ) -> None:
        m = self.m
        panel.fill(theme.BACKGROUND)
        whole = panel.get_rect()
        pygame.draw.rect(panel, theme.PANEL, whole, border_radius=10)
        big = inset(whole, m.gap)
        if detected is None:
            draw.wrapped(
                panel,
                self.cache,
                "Not sure yet…",
                m.body_px,
                theme.TEXT_DIM,
                big,
                "center",
                "center",
            )
            return
        action = session.data.actions[detected]
        size = self.cache.fit_size(action.name, m.title_px, big.width)
        side = min(big.height - size - m.gap, big.width)
        icon = Rect(0, 0, side, side)
        icon.midtop = (big.centerx, big.top)
        draw.led_icon(panel, icon, action.icon)
        draw.text(panel, self.cache, action.name, size, theme.GOOD, big.midbottom, "midbottom")
