"""The test screen's "Why?" panel, painted only where it changes.

The panel follows the live movement (50 new answers a second), but most of
what it shows changes far more rarely: the map's dots change only with the
model, the saliency view's title and legend only when the answer does, the
similar recordings only when other ones come nearest. Redrawing every dot and
every word each frame made the map's cost grow with the data and the panel
the most expensive part of the screen, so each part here remembers what it
painted (``kiosk.ui.redraw.Redraw``) and repaints only when that changes:

- the map is drawn once, without its live mark, to a cached surface; a frame
  puts the cached pixels back under the old mark and draws the new one;
- the squares view repaints its fingerprint tile (and its marks) per answer,
  its words when the answer's name changes, the similar recordings when they do.

Everything is painted inside the panel's area (clipped), so the app need not
restore the static layer there (``TestScene.live_rects``).
"""

from __future__ import annotations

import numpy as np
import pygame

from kiosk.ml.explain import LiveExplanation, MapPicture
from kiosk.ui import draw, explain_views, theme
from kiosk.ui.redraw import Redraw
from kiosk.ui.text import TextCache

Rect = pygame.Rect
# What the panel's views remember besides the view itself ("why"): forgotten when the
# whole panel is painted again, so that each part is painted afresh over it.
PARTS = ("why_mark", "why_tile", "why_similar")


class MapView:
    """The data map of one model, drawn once per model and size; the live mark moves over it."""

    def __init__(self) -> None:
        self._picture: MapPicture | None = None  # the model's map (no live point) drawn in _base
        self._rect: tuple[int, ...] | None = None
        self._base: pygame.Surface | None = None
        self.base_draws = 0  # how many times the dots were drawn (a test reads it)

    def _base_for(self, rect: Rect, text: TextCache, picture: MapPicture) -> pygame.Surface:
        if self._base is None or self._picture is not picture or self._rect != tuple(rect):
            base = pygame.Surface(rect.size).convert()
            base.fill(theme.BACKGROUND)
            explain_views.draw_data_map_base(base, base.get_rect(), text, picture, True)
            self._base, self._picture, self._rect = base, picture, tuple(rect)
            self.base_draws += 1
        return self._base

    def paint(
        self,
        surface: pygame.Surface,
        rect: Rect,
        text: TextCache,
        picture: MapPicture,
        live_point: np.ndarray | None,
        redraw: Redraw,
    ) -> None:
        """The map in ``rect`` with the live mark at ``live_point`` (map units)."""
        with draw.clipped(surface, rect):
            base = self._base_for(rect, text, picture)
            local = Rect(0, 0, rect.width, rect.height)
            live = picture.with_live(live_point)
            mark = explain_views.data_map_live_rect(local, text, live)
            at = None if mark is None else mark.clip(local)
            # A new base (a new model, a new size) is a new drawing: the counter says so, where
            # the picture itself (numpy arrays) cannot be compared.
            whole = ("map", self.base_draws, tuple(rect))
            if redraw.shows("why", whole):
                old = redraw.shown("why_mark")
                if old == (None if at is None else tuple(at)):
                    return  # the mark did not move by a pixel
                if isinstance(old, tuple):  # put the dots back where the mark was
                    old_rect = Rect(*old)
                    surface.blit(base, old_rect.move(rect.topleft), old_rect)
            else:
                surface.blit(base, rect.topleft)
                redraw.painted("why", whole)
                redraw.forget(*PARTS)
            if at is not None:
                explain_views.draw_data_map_live(surface, rect, text, live)
            redraw.painted("why_mark", None if at is None else tuple(at))


class SquaresView:
    """The live fingerprint with its marked squares, and the most similar recordings."""

    def paint(
        self,
        surface: pygame.Surface,
        area: Rect,
        top: Rect,
        bottom: Rect,
        text: TextCache,
        fingerprint: np.ndarray,
        explanation: LiveExplanation,
        redraw: Redraw,
        caption: str = explain_views.SIMILAR_CAPTION,
    ) -> None:
        """The view in ``area``: the marked fingerprint in ``top``, similar ones in ``bottom``
        under ``caption`` (what similar recordings mean for the model shown)."""
        with draw.clipped(surface, area):
            strength = np.asarray(explanation.strength, np.float64)
            marked = bool(np.any(strength != 0))
            words = ("squares", tuple(area), explanation.target_name, marked)
            tile = explain_views.saliency_tile(top, text)
            cells = (np.asarray(fingerprint).tobytes(), strength.tobytes())
            if not redraw.shows("why", words):
                redraw.forget(*PARTS)
                pygame.draw.rect(surface, theme.BACKGROUND, area)
                explain_views.draw_saliency_fingerprint(
                    surface, top, text, fingerprint, strength, explanation.target_name
                )
                redraw.painted("why", words)
                redraw.painted("why_tile", cells)
            elif not redraw.shows("why_tile", cells):
                explain_views.draw_fingerprint_tile(surface, tile, fingerprint)
                explain_views.draw_saliency_overlay(surface, tile, strength)
                redraw.painted("why_tile", cells)
            if bottom.height <= 0:
                return
            similar = tuple((item.row, item.action) for item in explanation.similar)
            if not redraw.shows("why_similar", (tuple(bottom), similar, caption)):
                pygame.draw.rect(surface, theme.BACKGROUND, bottom)
                explain_views.draw_similar_recordings(
                    surface, bottom, text, explanation.similar, caption
                )
                redraw.painted("why_similar", (tuple(bottom), similar, caption))
