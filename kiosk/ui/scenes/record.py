"""Record screen: one row per move with its recordings' fingerprint tiles, and the live graph.

Tap a move's name to choose it, then "Record <move>" (or button B on the
micro:bit): 3-2-1, then one second of movement, with a progress bar. The new
recording's fingerprint tile (24 cells: 8 filters across, x/y/z down, viridis
colours) appears in the move's row; each name says how many there are of how
many needed ("2 of 3"). A row with more recordings than fit pages through
them ("More"), so every one can be seen. Tap a tile to see it larger, tap its
squares to hear what each means, or delete it ("Undo" puts it back). Under
the rows, when there is room, the fingerprint is introduced once: what a
square is and what bright means, with the colour scale.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pygame

from kiosk.i18n import N_, _, ngettext
from kiosk.ml.features import FILTER_NAMES
from kiosk.session.fingerprint_words import BRIGHT, INTRO, short_name
from kiosk.session.recorder import Phase
from kiosk.session.screens import Screen
from kiosk.session.session import Session
from kiosk.session.visitor_data import RecordingEntry
from kiosk.ui import draw, explain_views, theme
from kiosk.ui.geometry import (
    Rect,
    columns,
    graph_points,
    inset,
    rows,
    take_bottom,
    take_left,
    take_top,
)
from kiosk.ui.live_graph import LiveGraph
from kiosk.ui.metrics import Metrics
from kiosk.ui.redraw import Redraw
from kiosk.ui.scenes.base import Scene
from kiosk.ui.text import TextCache
from kiosk.ui.widgets import Button

GRAPH_SPAN_S = 3.0


class RecordScene(Scene):
    screen = Screen.RECORD
    title = N_("Record each move")

    def __init__(self, cache: TextCache, metrics: Metrics, redraw: Redraw | None = None) -> None:
        self._tiles: dict[tuple[str, tuple[int, int]], pygame.Surface] = {}
        self._pages: dict[str, int] = {}  # per move id: 0 shows the newest recordings
        super().__init__(cache, metrics, redraw)

    def title_for(self, session: Session) -> str:
        viewing = session.collecting.viewing_recording
        found = session.data.find_recording(viewing) if viewing is not None else None
        if found is not None:
            return _("One recording of {move}").format(move=session.data.actions[found[0]].name)
        need = session.settings.min_recordings_per_action
        if session.can_train:
            return _("Record more, or tap Train")
        return ngettext(
            "Record each move {count} time", "Record each move {count} times", need
        ).format(count=need)

    # ---- layout -----------------------------------------------------------------------

    def arrange(self) -> None:
        m, f = self.m, self.frame
        side = f.side
        if side.height >= side.width:  # sidebar (landscape): stack
            self.change_rect, rest = take_bottom(side, m.unit, m.gap)
            record_row, self.graph_rect = take_bottom(rest, m.unit, m.gap)
        else:  # a wide strip (portrait): graph left, buttons right
            self.graph_rect, right = take_left(side, int(side.width * 0.42), m.gap)
            record_row, self.change_rect = take_top(right, m.unit, m.gap)
            self.change_rect = Rect(
                self.change_rect.x, self.change_rect.y, self.change_rect.width, m.unit
            )
        self.record_rect, self.many_rect = columns(record_row, [1, 1], m.gap)
        self.stop_rect = record_row
        self.body = f.body
        # The viewer hides the recording controls, so in portrait it takes their strip too.
        whole = f.body.union(f.side).union(f.primary)
        self.viewer = inset(whole if m.portrait else f.body, m.gap)
        self._graph = LiveGraph(self.graph_rect.size, GRAPH_SPAN_S)

    def banner_place(self) -> bool:
        # While the board is lost the live graph shows nothing and recording is off, so the
        # banner covers them; the recordings (which are safe) stay in view.
        return True

    def banner_rect(self) -> Rect:
        if self.m.portrait:
            return self.graph_rect
        return self.graph_rect.union(self.stop_rect)

    def intro_height(self) -> int:
        """Room the fingerprint's introduction needs under the rows."""
        m = self.m
        line = self.cache.font(m.small_px).get_linesize()
        # One line of words and the colour scale, inside the panel's margins.
        return 4 * m.gap + line + m.gap + max(line, m.unit // 4)

    def row_rects(self, n: int) -> list[Rect]:
        m = self.m
        gap = max(3, m.gap // 2)
        # Rows shrink (down to a touchable size) before the introduction loses its room.
        room = self.body.height - self.intro_height() - m.gap * 2 - gap * (n - 1)
        row_h = max(min(int(m.unit * 1.3), room // max(n, 1)), int(m.unit * 0.8))
        height = min(self.body.height, row_h * n + gap * (n - 1))
        area = Rect(self.body.x, self.body.y, self.body.width, height)
        return rows(area, [1] * n, gap)

    def row_parts(self, row: Rect) -> tuple[Rect, list[Rect]]:
        """(the move's name button, the tile slots) of one row."""
        m = self.m
        name_w = max(int(m.unit * 1.8), int(row.width * 0.28))
        name_rect, tiles = take_left(row, name_w, m.gap)
        slot_w = max(m.unit, int(row.height * 0.95))
        n = max(1, (tiles.width + m.gap) // (slot_w + m.gap))
        slots = [
            Rect(tiles.x + i * (slot_w + m.gap), tiles.y, slot_w, tiles.height) for i in range(n)
        ]
        return name_rect, slots

    def viewer_parts(self) -> tuple[Rect, Rect, Rect, Rect]:
        """(big fingerprint, graph, delete button, close button) of the recording viewer."""
        m = self.m
        area = inset(self.viewer, m.gap * 2)
        buttons, content = take_bottom(area, m.unit, m.gap * 2)
        delete, close = columns(buttons, [1, 1], m.gap * 2)
        label_w = int(m.small_px * 1.5)
        # Squares no taller than wide-ish: a tall panel gives the rest to the graph.
        fp_h = min(int(content.height * 0.55), int(content.width * 0.45) + 2 * m.small_px)
        fp_area, graph = take_top(content, fp_h, m.gap)
        labels_h = 2 * m.small_px + 6  # column names, on two staggered lines if narrow
        fp = Rect(
            fp_area.x + label_w, fp_area.y, fp_area.width - label_w, fp_area.height - labels_h
        )
        return fp, graph, delete, close

    def square_centre(self, index: int) -> tuple[int, int]:
        """Where square ``index`` of the viewer's big fingerprint is (for the demo)."""
        fp = self.viewer_parts()[0]
        return explain_views.fingerprint_cell_rects(fp)[index].center

    def viewer_scale(self) -> tuple[Rect, Rect]:
        """(the colour scale, the recording's graph) in the viewer's lower part."""
        _, graph, _, _ = self.viewer_parts()
        return take_top(graph, self.cache.font(self.m.small_px).get_linesize(), self.m.gap)

    # ---- state -> buttons -----------------------------------------------------------

    def static_key(self, session: Session):
        rec = session.collecting.recorder
        return (
            session.data.version,
            session.collecting.selected_action,
            rec.busy,
            session.collecting.viewing_recording,
            session.can_train,
            session.connected,
            session.connection.problem,
            tuple(sorted(self._pages.items())),
            session.confirm.undoable is not None,
        )

    def scene_buttons(self, session: Session) -> list[Button]:
        if session.collecting.viewing_recording is not None:
            fp, _graph, delete, close = self.viewer_parts()
            rid = session.collecting.viewing_recording
            return [
                Button(
                    fp,
                    "",
                    None,
                    "bare",
                    name="fingerprint",
                    on_drag=partial(_explain_square, session, fp),
                ),
                Button(
                    delete,
                    _("Delete it"),
                    lambda: session.delete_recording(rid),
                    "danger",
                    name="delete_recording",
                ),
                Button(
                    close, _("Keep it"), session.close_recording, "normal", name="close_recording"
                ),
            ]
        out: list[Button] = []
        busy = session.collecting.recorder.busy
        need = session.settings.min_recordings_per_action
        for i, (action, row) in enumerate(
            zip(session.data.actions, self.row_rects(len(session.data.actions)), strict=False)
        ):
            name_rect, slots = self.row_parts(row)
            have = len(action.recordings)
            label = (
                _("{move}\n{have} of {need}").format(move=action.name, have=have, need=need)
                if have <= need
                else f"{action.name}\n{have}"
            )
            style = "selected" if i == session.collecting.selected_action else "normal"
            out.append(
                Button(
                    name_rect,
                    label,
                    None if busy else partial(session.select_action, i),
                    style,
                    icon=action.icon,
                    name=f"action_{i}",
                )
            )
            shown, paging = self._page(action.id, action.recordings, len(slots))
            if paging is not None:
                out.append(
                    Button(
                        slots[0],
                        paging,
                        None if busy else partial(self._next_page, action.id, len(slots)),
                        "quiet",
                        name=f"more_{i}",
                    )
                )
                slots = slots[1:]
            for slot, entry in zip(slots, shown, strict=False):
                out.append(
                    Button(
                        slot,
                        "",
                        None if busy else partial(session.view_recording, entry.id),
                        "quiet",
                        name=f"tile_{entry.id}",
                    )
                )
        if session.confirm.undoable is not None and not busy:
            out.append(Button(self.undo_rect(), _("Undo"), session.undo, "primary", name="undo"))
        if busy:
            out.append(
                Button(self.stop_rect, _("Stop"), session.cancel_recording, "danger", name="stop")
            )
        else:
            # Not connected: the buttons still answer, with the session saying why.
            can = session.connected
            actions = session.data.actions
            picked = actions[min(session.collecting.selected_action, len(actions) - 1)].name
            out.append(
                Button(
                    self.record_rect,
                    _("Record\n{move}").format(move=picked),
                    session.record,
                    "primary",
                    name="record",
                    dimmed=not can,
                )
            )
            out.append(
                Button(
                    self.many_rect,
                    _("5 in\na row"),
                    partial(session.record_many, None, 5),
                    "normal",
                    name="record_5",
                    dimmed=not can,
                )
            )
        out.append(
            Button(
                self.change_rect,
                _("Change moves"),
                None if busy else session.edit_actions,
                "quiet",
                name="change_moves",
            )
        )
        out.append(
            Button(
                self.frame.primary,
                _("Train"),
                None if busy else session.train,  # not ready: the session says what is missing
                "primary",
                name="train",
                dimmed=not session.can_train,
            )
        )
        return out

    def _page(
        self, action_id: str, recordings: list[RecordingEntry], n: int
    ) -> tuple[list[RecordingEntry], str | None]:
        """(the recordings shown, the "More" button's label or None) for a row of ``n`` slots.

        When they all fit they are all shown. Otherwise the first slot pages
        through them, newest page first; every recording is on some page.
        """
        if n <= 0:
            return [], None
        if len(recordings) <= n:
            return list(recordings), None
        per_page = max(1, n - 1)
        pages = -(-len(recordings) // per_page)
        page = self._pages.get(action_id, 0) % pages
        end = len(recordings) - page * per_page
        more = _("More\n{page}/{pages}").format(page=page + 1, pages=pages)
        return recordings[max(0, end - per_page) : end], more

    def _next_page(self, action_id: str, n: int) -> None:
        self._pages[action_id] = self._pages.get(action_id, 0) + 1

    def undo_rect(self) -> Rect:
        """The "Undo" button, at the bottom of the live graph's place (the graph pauses).

        The live graph is drawn every frame, so while "Undo" is offered it is not drawn.
        """
        g = self.graph_rect
        return Rect(g.x, g.bottom - self.m.unit, g.width, self.m.unit)

    # ---- drawing ---------------------------------------------------------------------

    def draw_static(self, surface: pygame.Surface, session: Session, buttons: list[Button]) -> None:
        m = self.m
        if session.collecting.viewing_recording is not None:
            # The viewer panel goes under its own buttons.
            surface.fill(theme.BACKGROUND)
            self.draw_title(surface, self.title_for(session))
            self._draw_viewer_static(surface, session)
            for b in buttons:
                draw.button(surface, self.cache, b, m.body_px)
            return
        super().draw_static(surface, session, buttons)
        for action, row in zip(
            session.data.actions, self.row_rects(len(session.data.actions)), strict=False
        ):
            _name, slots = self.row_parts(row)
            shown, paging = self._page(action.id, action.recordings, len(slots))
            if paging is not None:
                slots = slots[1:]
            for slot, entry in zip(slots, shown, strict=False):
                tile = inset(slot, m.gap)
                surface.blit(self._tile(entry, tile.size), tile)
            if not action.recordings:
                hint = _("None yet")
                draw.text(
                    surface,
                    self.cache,
                    hint,
                    m.small_px,
                    theme.TEXT_DIM,
                    (slots[0].left + m.gap, row.centery),
                    "midleft",
                )
        self._draw_after_rows(surface, session)

    def _draw_after_rows(self, surface: pygame.Surface, session: Session) -> None:
        m = self.m
        rows_ = self.row_rects(len(session.data.actions))
        top = (rows_[-1].bottom if rows_ else self.body.top) + m.gap * 2
        intro = Rect(self.body.x, top, self.body.width, self.body.bottom - top)
        if intro.height >= self.intro_height():
            self._draw_intro(surface, intro)
        if session.confirm.undoable is not None and not session.collecting.recorder.busy:
            g = self.graph_rect
            words = Rect(g.x, g.y, g.width, g.height - m.unit - m.gap)  # the button is below
            draw.panel(surface, words, theme.PANEL_LIGHT)
            draw.wrapped(
                surface,
                self.cache,
                session.confirm.undoable.words,
                m.body_px,
                theme.TEXT,
                inset(words, m.gap),
                "center",
                "center",
            )

    def _draw_intro(self, surface: pygame.Surface, area: Rect) -> None:
        """The fingerprint introduced once: a square is a clue, bright means a lot, the scale."""
        m = self.m
        draw.panel(surface, area, theme.PANEL)
        inner = inset(area, m.gap * 2)
        size = m.small_px
        line = self.cache.font(size).get_linesize()
        scale_h = max(line, m.unit // 4)
        words = Rect(inner.x, inner.y, inner.width, inner.height - scale_h - m.gap)
        sentence = f"{_(INTRO)} {_(BRIGHT)}"
        if len(self.cache.wrap(sentence, size, words.width)) * line > words.height:
            sentence = _(INTRO)  # short of room: the scale's ends say what bright means
        draw.wrapped(surface, self.cache, sentence, size, theme.TEXT, words)
        scale = Rect(inner.x, inner.bottom - scale_h, min(inner.width, m.unit * 6), scale_h)
        explain_views.draw_colour_scale(surface, scale, self.cache, size)

    def _tile(self, entry: RecordingEntry, size: tuple[int, int]) -> pygame.Surface:
        key = (entry.id, size)
        tile = self._tiles.get(key)
        if tile is None:
            if len(self._tiles) > 400:
                self._tiles.clear()
            tile = draw.fingerprint_surface(entry.fingerprint, size)
            self._tiles[key] = tile
        return tile

    def _draw_viewer_static(self, surface: pygame.Surface, session: Session) -> None:
        viewing = session.collecting.viewing_recording
        found = session.data.find_recording(viewing) if viewing is not None else None
        if found is None:
            return
        index, entry = found
        m = self.m
        draw.panel(surface, self.viewer, theme.PANEL)
        fp, graph_rect, _delete, _close = self.viewer_parts()
        draw.fingerprint(surface, fp, entry.fingerprint)
        cell_w = fp.width / 8
        names = [short_name(i) for i in range(len(FILTER_NAMES))]
        widest = max(names, key=lambda n: self.cache.font(m.small_px).size(n)[0])
        size = self.cache.fit_size(widest, m.small_px, int(cell_w) - 2)
        for i, name in enumerate(names):
            # Alternate rows of labels when the columns are narrower than the words.
            lower = i % 2 == 1 and self.cache.font(size).size(widest)[0] > cell_w - 2
            draw.text(
                surface,
                self.cache,
                name,
                size,
                theme.TEXT,
                (int(fp.left + cell_w * (i + 0.5)), fp.bottom + 2 + (size if lower else 0)),
                "midtop",
            )
        cell_h = fp.height / 3
        for axis, (name, colour) in enumerate(zip("xyz", theme.AXES, strict=True)):
            draw.text(
                surface,
                self.cache,
                name,
                m.small_px,
                colour,
                (fp.left - 6, int(fp.top + cell_h * (axis + 0.5))),
                "midright",
            )
        scale, graph_rect = self.viewer_scale()
        explain_views.draw_colour_scale(surface, scale, self.cache, m.small_px)
        samples = entry.recording.samples
        t = np.arange(len(samples)) * 0.02
        lines = graph_points(
            t,
            samples,
            graph_rect,
            t[-1] if len(t) else 0.0,
            max(1.0, float(t[-1]) if len(t) else 1.0),
        )
        draw.graph(surface, graph_rect, lines, 3)
        action = session.data.actions[index]
        draw.text(
            surface,
            self.cache,
            _("{move}: tap a square to find out what it means").format(move=action.name),
            self.cache.fit_size(
                _("{move}: tap a square to find out what it means").format(move=action.name),
                m.small_px,
                graph_rect.width - 12,
            ),
            theme.TEXT,
            (graph_rect.left + 6, graph_rect.top + 4),
        )

    def draw_dynamic(self, surface: pygame.Surface, session: Session, now: float) -> None:
        if session.collecting.viewing_recording is not None:
            return
        if session.confirm.undoable is None or session.collecting.recorder.busy:
            self._draw_live_graph(surface, session)
        rec = session.collecting.recorder
        if rec.busy:
            self._draw_capture(surface, session, now)

    def _draw_live_graph(self, surface: pygame.Surface, session: Session) -> None:
        rect = self.graph_rect
        if rect.height < 20:
            return
        link = session.link
        self._graph.update(link.samples if link is not None else None)
        self._graph.blit(surface, rect)
        label = _("Press B to record") if session.connected else _("Live movement")
        draw.text(
            surface,
            self.cache,
            label,
            self.cache.fit_size(label, self.m.small_px, rect.width - 8),
            theme.TEXT_DIM,
            (rect.left + 4, rect.top + 2),
        )
        if not self._graph.has_trace:
            draw.text(
                surface,
                self.cache,
                _("Nothing yet"),
                self.m.small_px,
                theme.TEXT_DIM,
                rect.center,
                "center",
            )

    def _draw_capture(self, surface: pygame.Surface, session: Session, now: float) -> None:
        m, rec = self.m, session.collecting.recorder
        if rec.action_index is None:
            return
        action = session.data.actions[rec.action_index]
        area = inset(self.body, m.gap)
        draw.overlay(surface, area)
        icon_side = min(area.height // 3, area.width // 4)
        icon = Rect(0, 0, icon_side, icon_side)
        icon.midtop = (area.centerx, area.top + m.gap * 2)
        draw.led_icon(surface, icon, action.icon)
        series = (
            " " + _("({number} of {total})").format(number=rec.take_number, total=rec.total)
            if rec.total > 1
            else ""
        )
        if rec.phase is Phase.COUNTDOWN:
            headline = _("Get ready: {move}").format(move=action.name) + series
            number = str(rec.countdown_number(now))
            draw.text(
                surface,
                self.cache,
                number,
                m.huge_px,
                theme.ACCENT,
                (area.centerx, icon.bottom + m.gap),
                "midtop",
            )
        elif rec.phase is Phase.GAP:
            headline = _("Well done! Next one…") + series
        else:
            headline = _("{move} now!").format(move=action.name) + series
            bar_rect = Rect(0, 0, int(area.width * 0.8), max(24, m.unit // 3))
            bar_rect.midtop = (area.centerx, icon.bottom + m.gap * 3)
            draw.bar(surface, bar_rect, rec.progress(now), theme.ACCENT)
        size = self.cache.fit_size(headline, m.title_px, area.width - 2 * m.gap)
        draw.text(
            surface,
            self.cache,
            headline,
            size,
            theme.TEXT,
            (area.centerx, area.bottom - m.gap),
            "midbottom",
        )


def _explain_square(session: Session, fingerprint: Rect, pos: tuple[int, int]) -> None:
    """A finger on the big fingerprint: the session says what the square under it measures."""
    index = explain_views.square_at(fingerprint, pos)
    if index is not None:
        session.explain_square(index)
