"""Test screen: move the micro:bit and watch the model recognise the move, live.

Shows the live x/y/z graph and the live fingerprint (each labelled; tap a
square to hear what it means), one confidence bar per move with its name, its
percentage and its own threshold label (drag the marker), and the recognised
move big with its picture (also shown on the micro:bit's LEDs). With the
pretend micro:bit, a button per move makes the board act it out.

"Why?" replaces the fingerprint, never the live graph: the movement stays in
view while the panel explains the answer. Its two views ("Squares", "Map")
are tabs where the "Why?" button was, and "Hide why" sits under the
recognised move.
"""

from __future__ import annotations

from functools import partial

import pygame

from kiosk.i18n import N_, _
from kiosk.ml.explain import SIMILAR_CAPTION
from kiosk.session.board_prep import board_words
from kiosk.session.explore import WhyView
from kiosk.session.model_choice import NETWORK, similar_caption
from kiosk.session.presets import gesture_for
from kiosk.session.screens import Screen
from kiosk.session.session import Session
from kiosk.ui import draw, explain_views, theme, why_panel
from kiosk.ui.geometry import (
    Rect,
    columns,
    inset,
    rows,
    take_bottom,
    take_left,
    take_right,
    take_top,
    x_to_value,
)
from kiosk.ui.live_graph import LiveGraph
from kiosk.ui.scenes.base import Scene, shows_banner
from kiosk.ui.widgets import Button

GRAPH_SPAN_S = 3.0
BAR_ROW_UNITS = 1.1  # a bar row: its label line and a finger-sized slider


class TestScene(Scene):
    screen = Screen.TEST
    title = N_("Test it: do a move!")
    repaints_only_changes = True  # through self.redraw: see draw_dynamic

    def arrange(self) -> None:
        m, f = self.m, self.frame
        self._recognised_cache: dict[tuple, pygame.Surface] = {}
        self._bar_rows_cache: dict[tuple[int, bool], list[tuple[Rect, Rect, Rect | None]]] = {}
        self.more_rect = f.primary
        if m.portrait:
            # The bars (finger-sized sliders) take the body; the live view goes below.
            self.bars_area = f.body
            live, right = take_left(f.side, int(f.side.width * 0.62), m.gap)
            self.why_rect, self.big_rect = take_top(right, m.unit, m.gap)
        else:
            live, self.bars_area = take_left(f.body, int(f.body.width * 0.4), m.gap * 2)
            self.why_rect, self.big_rect = take_top(f.side, m.unit, m.gap)
        # "Put my model on my micro:bit" (and how it goes): beside "Record more" in
        # portrait (the side is short there), under the recognised move in landscape.
        if m.portrait:
            self.home_rect, self.more_rect = columns(f.primary, [1, 1], m.gap)
        else:
            self.home_rect, self.big_rect = take_bottom(self.big_rect, m.unit, m.gap)
        self.live = live
        # With "Why?" open: its tabs where the button was, "Hide why" under the answer.
        self.why_tabs = columns(self.why_rect, [1, 1], m.gap)
        self.hide_rect, self.small_big_rect = take_bottom(self.big_rect, m.unit, m.gap)
        line = self.cache.font(m.small_px).get_linesize()
        self.graph_label, rest = take_top(live, line, 2)
        share = 0.35 if m.portrait else 0.42  # portrait: "Why?" needs the room below
        self.graph_rect, rest = take_top(rest, int(live.height * share), m.gap)
        self.fp_label, self.fp_rect = take_top(rest, line, 2)
        self.why_body = rest  # "Why?" takes the fingerprint's place, below the live graph
        self._graph = LiveGraph(self.graph_rect.size, GRAPH_SPAN_S)
        self._map_view = why_panel.MapView()
        self._squares_view = why_panel.SquaresView()

    def fit_frame(self, session: Session) -> None:
        """Also, in portrait, size the bars' area to the moves and give the rest to the live view.

        With 2-3 moves a fixed split left a band of empty screen under the bars
        while the live graph and fingerprint were squeezed below it.
        """
        super().fit_frame(session)
        if not self.m.portrait:
            return
        share = self._portrait_side_share(len(session.data.actions))
        if share != self.portrait_side_share:
            self.portrait_side_share = share
            self.layout(self.m, shows_banner(session))

    def _portrait_side_share(self, moves: int) -> float:
        """The share of the middle of the screen the live view gets (0.33 to 0.6)."""
        m, f = self.m, self.frame
        middle = f.body.height + f.side.height + m.gap
        bars = int(m.unit * BAR_ROW_UNITS) * moves + max(3, m.gap // 2) * max(0, moves - 1)
        share = (middle - bars - m.gap) / max(1, middle)
        return round(min(max(share, type(self).portrait_side_share), 0.6), 3)

    def banner_place(self) -> bool:
        # While the board is lost the live graph and fingerprint have nothing to show, so
        # the banner covers them and the finger-sized sliders keep their room.
        return True

    def banner_rect(self) -> Rect:
        return self.live

    def bar_rows(self, n: int, simulated: bool) -> list[tuple[Rect, Rect, Rect | None]]:
        """(label line, slider, pretend button) per move (worked out once per layout).

        The label line (the move's name and its threshold) is the top of the slider's
        touch area; the bar itself is at the slider's bottom (``track``).
        """
        key = (n, simulated)
        cached = self._bar_rows_cache.get(key)
        if cached is None:
            cached = self._bar_rows_cache[key] = self._lay_out_bar_rows(n, simulated)
        return cached

    def _lay_out_bar_rows(self, n: int, simulated: bool) -> list[tuple[Rect, Rect, Rect | None]]:
        m = self.m
        gap = max(3, m.gap // 2)
        height = min(self.bars_area.height, int(m.unit * BAR_ROW_UNITS) * n + gap * (n - 1))
        area = Rect(self.bars_area.x, self.bars_area.y, self.bars_area.width, height)
        out = []
        line = self.cache.font(m.small_px).get_linesize()
        for row in rows(area, [1] * n, gap):
            pretend = None
            rest = row
            if simulated:
                pretend, rest = take_right(rest, m.unit, m.gap)
            label = Rect(rest.x + 12, rest.y + 2, rest.width - 24, line)
            out.append((label, rest, pretend))
        return out

    @staticmethod
    def track(slider: Rect) -> Rect:
        """The visible bar inside a slider's touch area (the whole row height is touchable)."""
        bar_h = max(16, slider.height // 3, slider.height - 2 * 18 - 14)
        track = Rect(slider.x + 12, 0, slider.width - 24, bar_h)
        track.bottom = slider.bottom - 6
        return track

    def static_key(self, session: Session):
        return (
            shows_banner(session),
            session.data.names,
            session.simulated,
            session.learning.showing_why,
            session.learning.why_view,
            tuple(session.thresholds()),
            session.connection.pretend_gesture,
            board_words(session.link, short=True),
            session.take_home.step,
        )

    def live_rects(self, session: Session) -> list[Rect] | None:
        """Where the static layer must be restored before ``draw_dynamic`` paints this frame.

        The app restores only these instead of the whole screen (see
        ``KioskApp._draw``). The graph, the fingerprint, the recognised panel and
        the "Why?" panel paint every pixel they change, inside their rects (the
        panel clipped to its area), so they need no restoring; a confidence bar
        does (it has rounded ends), and only when it will change (the margin
        covers line widths).
        """
        return [
            self.track(slider).inflate(6, 6)
            for index, slider, _, shown in self._bar_states(session)
            if not self.redraw.shows(f"bar{index}", shown)
        ]

    def _bar_states(self, session: Session) -> list[tuple[int, Rect, float, tuple]]:
        """(index, slider, confidence, what its bar shows on screen) per move.

        What a bar shows is its filled width in pixels, colour and threshold:
        a confidence wobbling by less than a pixel repaints nothing.
        """
        tester = session.learning.tester
        prediction = tester.latest if tester is not None else None
        detected = tester.detected if tester is not None else None
        out = []
        for i, (action, (_label, slider, _pretend)) in enumerate(
            zip(
                session.data.actions,
                self.bar_rows(len(session.data.actions), session.simulated),
                strict=False,
            )
        ):
            value = float(prediction.probabilities[i]) if prediction is not None else 0.0
            colour = theme.GOOD if i == detected else theme.INFO
            filled = draw.bar_fill_width(self.track(slider), value)
            percent = round(value * 100)
            out.append((i, slider, value, (filled, colour, action.threshold, percent)))
        return out

    def scene_buttons(self, session: Session) -> list[Button]:
        out = []
        for i, (_label, slider, pretend) in enumerate(
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
                    on_drag=partial(_drag_threshold, session, i, track),
                )
            )
            if pretend is not None:
                gesture = gesture_for(session.data.actions[i].name)
                style = "selected" if gesture == session.connection.pretend_gesture else "quiet"
                out.append(
                    Button(
                        pretend,
                        _("act\nit out"),
                        partial(session.set_pretend_gesture, gesture),
                        style,
                        name=f"pretend_{i}",
                    )
                )
        if session.learning.showing_why:
            tabs = self.why_layout(session)[0]
            for (view, label), rect in zip(
                ((WhyView.SQUARES, _("Squares")), (WhyView.MAP, _("Map"))), tabs, strict=True
            ):
                out.append(
                    Button(
                        rect,
                        label,
                        partial(session.show_why_view, view),
                        "selected" if view == session.learning.why_view else "quiet",
                        name=f"why_{view}",
                    )
                )
            out.append(
                Button(self.hide_rect, _("Hide why"), session.toggle_why, "normal", name="why")
            )
            if session.learning.why_view == WhyView.SQUARES and not shows_banner(session):
                top = self._why_squares_rect(session)
                tile = explain_views.saliency_tile(top, self.cache)
                out.append(
                    Button(
                        top,  # the whole view is the target: a finger-sized one
                        "",
                        None,
                        "bare",
                        name="why_fingerprint",
                        on_drag=partial(_explain_square, session, tile),
                    )
                )
        else:
            out.append(Button(self.why_rect, _("Why?"), session.toggle_why, "normal", name="why"))
            if not shows_banner(session):  # the banner covers the live view
                out.append(
                    Button(
                        self.fp_label.union(self.fp_rect),  # a finger-sized target
                        "",
                        None,
                        "bare",
                        name="fingerprint",
                        on_drag=partial(_explain_square, session, self.fp_rect),
                    )
                )
        out.append(self._take_home_button(session))
        out.append(
            Button(
                self.more_rect,
                _("Record more"),
                session.add_more_recordings,
                "normal",
                name="record_more",
            )
        )
        return out

    def _take_home_button(self, session: Session) -> Button:
        """The button, or while it works and after, how it went in one short sentence."""
        line = session.take_home.line
        words = line or session.take_home.button_words
        inner = self.home_rect.inflate(-12, -8)
        for size in (self.m.small_px, self.m.min_px):  # smaller only when it must be
            lines = self.cache.wrap(words, size, inner.width)
            fit = max(1, inner.height // self.cache.font(size).get_linesize())
            if len(lines) <= fit:
                break
        lines = lines[:fit]
        return Button(
            self.home_rect,
            "\n".join(lines),
            session.put_model_on_microbit,
            "quiet" if line else "normal",
            name="take_home",
        )

    def draw_static(self, surface: pygame.Surface, session: Session, buttons: list[Button]) -> None:
        super().draw_static(surface, session, buttons)
        m = self.m
        # Every move's big panel now, with the screen, rather than in the live frame that
        # first recognises the move (a few ms each: a dropped frame on a Pi).
        for detected in (None, *range(len(session.data.actions))):
            self._recognised_panel(session, detected)
        for action, (label, _bar, _pretend) in zip(
            session.data.actions,
            self.bar_rows(len(session.data.actions), session.simulated),
            strict=False,
        ):
            # The move's name, and its own threshold at the right of its own bar.
            need = _("needs {percent}%").format(percent=round(action.threshold * 100))
            need_w = self.cache.font(m.small_px).size(need)[0]
            draw.text(
                surface, self.cache, need, m.small_px, theme.TEXT_DIM, label.topright, "topright"
            )
            size = self.cache.fit_size(action.name, m.small_px, label.width - need_w - 8)
            draw.text(surface, self.cache, action.name, size, theme.TEXT, label.topleft)
        self._pretend_hint(surface, session)
        # A board whose program shows no icons is said here: nothing is lost.
        graph_words = board_words(session.link, short=True) or _("Live movement")
        size = self.cache.fit_size(graph_words, m.small_px, self.graph_label.width)
        draw.text(surface, self.cache, graph_words, size, theme.TEXT_DIM, self.graph_label.topleft)
        if not session.learning.showing_why:
            words = _("Its fingerprint: tap a square")
            size = self.cache.fit_size(words, m.small_px, self.fp_label.width)
            draw.text(surface, self.cache, words, size, theme.TEXT_DIM, self.fp_label.topleft)

    def _pretend_hint(self, surface: pygame.Surface, session: Session) -> None:
        """With the pretend micro:bit, what its "act it out" buttons do, in the room the
        bars leave below them (with few moves on a large screen); nothing where it would
        not fit whole."""
        bar_rows = self.bar_rows(len(session.data.actions), session.simulated)
        if not session.simulated or not bar_rows:
            return
        m = self.m
        top = bar_rows[-1][1].bottom + m.gap
        room = Rect(self.bars_area.x, top, self.bars_area.width, self.bars_area.bottom - top)
        words = _("No micro:bit? Tap \u201cact it out\u201d and the pretend one does that move.")
        lines = self.cache.wrap(words, m.small_px, room.width)
        if len(lines) * self.cache.font(m.small_px).get_linesize() <= room.height:
            draw.wrapped(surface, self.cache, words, m.small_px, theme.TEXT_DIM, room)

    def draw_dynamic(self, surface: pygame.Surface, session: Session, now: float) -> None:
        """The live parts, each painted only when what it shows changed.

        The canvas keeps its pixels between frames (``KioskApp._draw``), and a
        board sends 50 samples a second in bursts while the screen runs at
        60 fps, so most frames have no new sample for the graph and no new
        prediction for the fingerprint and bars. ``self.redraw`` remembers what
        each part last showed, and forgets it when the app
        restored the whole screen.
        """
        tester = session.learning.tester
        prediction = tester.latest if tester is not None else None
        self._draw_live(surface, session, None if session.learning.showing_why else prediction)
        if session.learning.showing_why:
            self._draw_why(surface, session, prediction, self.why_layout(session)[1])
        self._draw_recognised(surface, session)
        # A confidence bar per move, with its draggable threshold.
        for index, slider, value, shown in self._bar_states(session):
            key = f"bar{index}"
            if self.redraw.shows(key, shown):
                continue
            _, colour, threshold, percent = shown
            track = self.track(slider)
            draw.bar(surface, track, value, colour, threshold)
            size = min(self.m.small_px, max(self.cache.floor, track.height - 4))
            draw.text(
                surface,
                self.cache,
                f"{percent}%",
                size,
                theme.TEXT,
                (track.left + 8, track.centery),
                "midleft",
            )
            self.redraw.painted(key, shown)

    def recognised_rect(self, session: Session) -> Rect:
        """The recognised move's panel: smaller while "Hide why" sits under it."""
        return self.small_big_rect if session.learning.showing_why else self.big_rect

    def why_layout(self, session: Session) -> tuple[list[Rect], Rect]:
        """The "Why?" panel: (its two tab rects, the area its views draw in).

        The tabs take the "Why?" button's place; the views take the fingerprint's,
        under the live graph, which stays in view.
        """
        return self.why_tabs, self.why_body

    def _why_squares_parts(self, area: Rect) -> tuple[Rect, Rect]:
        """(the marked fingerprint, the similar recordings) of the squares view.

        The similar recordings only where there is room for them at a readable size.
        """
        caption_w = self.cache.font(self.m.min_px).size(SIMILAR_CAPTION)[0]
        if area.height > 14 * self.m.min_px and area.width >= caption_w:
            return take_top(area, int(area.height * 0.55), self.m.gap)
        return area, Rect(area.x, area.bottom, area.width, 0)

    def _why_squares_rect(self, session: Session) -> Rect:
        return self._why_squares_parts(self.why_layout(session)[1])[0]

    def why_area(self, session: Session) -> Rect:
        """Where the "Why?" views draw (see ``why_layout``)."""
        return self.why_layout(session)[1]

    def _draw_why(self, surface: pygame.Surface, session: Session, prediction, area: Rect) -> None:
        """Saliency over the live fingerprint and the most similar recordings, or the map.

        Each view repaints only what changed since it was last painted
        (``kiosk.ui.why_panel``): the map's dots are drawn once per model.
        """
        explanation = session.learning.explanation
        if explanation is None or prediction is None:
            key = ("waiting", tuple(area))
            if not self.redraw.shows("why", key):
                pygame.draw.rect(surface, theme.BACKGROUND, area)
                draw.wrapped(
                    surface,
                    self.cache,
                    _("Move the micro:bit…"),
                    self.m.body_px,
                    theme.TEXT_DIM,
                    area,
                )
                self.redraw.painted("why", key)
            return
        explainer = session.learning.explainer
        if session.learning.why_view == WhyView.MAP and explainer is not None:
            self._map_view.paint(
                surface, area, self.cache, explainer.picture, explanation.map_point, self.redraw
            )
            return
        top, bottom = self._why_squares_parts(area)
        trained = session.learning.trained
        kind = trained.model.kind if trained is not None else NETWORK
        self._squares_view.paint(
            surface,
            area,
            top,
            bottom,
            self.cache,
            prediction.fingerprint,
            explanation,
            self.redraw,
            similar_caption(kind),
        )

    def _draw_live(self, surface: pygame.Surface, session: Session, prediction) -> None:
        link = session.link
        changed = self._graph.update(link.samples if link is not None else None)
        if changed or not self.redraw.shows("graph", True):
            self._graph.blit(surface, self.graph_rect)
            self.redraw.painted("graph", True)
        if session.learning.showing_why:
            return  # the "Why?" panel has the fingerprint's place
        if not self.redraw.shows("fingerprint", prediction, same_object=True):
            if prediction is not None:
                draw.fingerprint(surface, self.fp_rect, prediction.fingerprint)
            else:
                pygame.draw.rect(surface, theme.PANEL, self.fp_rect)
            self.redraw.painted("fingerprint", prediction)

    def _draw_recognised(self, surface: pygame.Surface, session: Session) -> None:
        """The recognised move big, from a panel cached per move (it changes rarely)."""
        tester = session.learning.tester
        detected = tester.detected if tester is not None else None
        key, panel = self._recognised_panel(session, detected)
        if self.redraw.shows("recognised", key):
            return
        surface.blit(panel, self.recognised_rect(session))
        self.redraw.painted("recognised", key)

    def _recognised_panel(
        self, session: Session, detected: int | None
    ) -> tuple[tuple, pygame.Surface]:
        """(cache key, panel) for a move (None: not sure yet), rendered on first use."""
        name = session.data.actions[detected].name if detected is not None else ""
        rect = self.recognised_rect(session)
        key = (detected, name, rect.size)
        panel = self._recognised_cache.get(key)
        if panel is None:
            panel = pygame.Surface(rect.size).convert()
            self._render_recognised(panel, session, detected)
            self._recognised_cache[key] = panel
        return key, panel

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
                _("Not sure yet…"),
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


def _drag_threshold(session: Session, index: int, track: Rect, pos: tuple[int, int]) -> None:
    """A threshold slider dragged to ``pos``."""
    session.set_threshold(index, x_to_value(pos[0], track))


def _explain_square(session: Session, fingerprint: Rect, pos: tuple[int, int]) -> None:
    """A finger on the live fingerprint: the session says what the square under it measures."""
    index = explain_views.square_at(fingerprint, pos)
    if index is not None:
        session.explain_square(index)
