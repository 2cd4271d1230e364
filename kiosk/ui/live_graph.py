"""A scrolling x/y/z graph of the newest seconds of a sample buffer, drawn a few segments at a time.

Redrawing the whole trace (3 s at 50 Hz: 450 line segments) whenever a
sample arrives was the largest part of a test-screen frame. Here time is
measured in whole screen columns (``column = floor(t * pixels_per_second)``),
so a sample keeps its column as the graph scrolls: the trace is drawn into
an off-screen strip twice the graph's width, each new sample adds only its
own segments, and the graph on screen is the strip's window that ends at
the newest sample. When the newest sample runs off the strip's right edge
(every ``span_s`` seconds), when time jumps, or when the buffer changes, the
strip is drawn again from the buffer with the window near its left edge.

Looks as ``draw.graph`` does (panel, zero line, x/y/z traces, +-``g_range``
g filling the height), except that where traces cross near the newest
sample the newest one is on top.
"""

from __future__ import annotations

import math

import numpy as np
import pygame

from kiosk.signal.buffer import SampleBuffer, Window
from kiosk.ui import theme
from kiosk.ui.geometry import G_RANGE, graph_rows

HISTORY_S = 0.25  # drawn left of the window: covers the gap between samples, even in bursts


class LiveGraph:
    """The graph of one ``size`` (width, height); ``update`` then ``blit`` each frame."""

    def __init__(
        self, size: tuple[int, int], span_s: float, g_range: float = G_RANGE, width: int = 2
    ) -> None:
        self.width, self.height = int(size[0]), int(size[1])
        self.span_s = float(span_s)
        self.g_range = float(g_range)
        self.line_width = width
        self._per_second = (self.width - 1) / self.span_s  # columns per second
        # Columns kept left of the window, drawn from samples up to HISTORY_S older than it,
        # so the segment entering at the left edge is never cut by the strip's own edge
        # (a clipped line is rasterised differently) and a picture drawn afresh matches.
        self._margin = math.ceil(HISTORY_S * self._per_second) + width
        self._strip = pygame.Surface((2 * self.width + self._margin, self.height))
        if pygame.display.get_surface() is not None:
            self._strip = self._strip.convert()  # the display's format: a plain copy to blit
        self._buffer: SampleBuffer | None = None
        self._sequence = -1  # newest sample drawn (-1: none)
        self._base = 0  # the absolute column at the strip's x = 0
        self._end = 0  # the absolute column of the newest sample drawn
        self._drawn = False  # whether any sample is on the strip
        self._segments = False  # whether any line is on the strip
        self._clear()

    def update(self, samples: SampleBuffer | None) -> bool:
        """Draw whatever arrived since the last call; True when the picture changed."""
        if samples is None or samples.sequence < 0:
            self._buffer, self._sequence = samples, -1
            if not self._drawn:
                return False  # already the blank panel
            self._drawn = False
            self._clear()
            return True
        sequence = samples.sequence
        if samples is self._buffer and sequence == self._sequence:
            return False
        fresh = samples is not self._buffer or sequence < self._sequence or not self._drawn
        if not fresh:
            # The new samples, and the one before them that the first new segment starts from.
            window = samples.latest(sequence - self._sequence + 1)
            first = window.last_sequence - len(window) + 1
            if first == self._sequence and self._extend(window):
                self._sequence = sequence
                return True
        self._redraw(samples)
        return True

    @property
    def has_trace(self) -> bool:
        """Whether at least two samples are drawn (a line to see)."""
        return self._segments

    def blit(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        """Paint the graph (every pixel of ``rect``, which has this graph's size)."""
        left = self._end - self._base - (self.width - 1) if self._drawn else 0
        surface.blit(self._strip, rect, pygame.Rect(left, 0, self.width, self.height))

    # ---- drawing ------------------------------------------------------------------------

    def _clear(self) -> None:
        self._segments = False
        self._strip.fill(theme.PANEL)
        middle = (self.height - 1) // 2
        pygame.draw.line(
            self._strip, theme.PANEL_LIGHT, (0, middle), (self._strip.get_width() - 1, middle)
        )

    def _columns(self, t: np.ndarray) -> np.ndarray:
        return np.floor(t * self._per_second).astype(np.int64)

    def _rows(self, xyz: np.ndarray) -> np.ndarray:
        """Strip rows (n, 3) for x, y, z in g."""
        return graph_rows(xyz, 0, self.height, self.g_range).astype(np.int64)

    def _redraw(self, samples: SampleBuffer) -> None:
        """Draw the newest ``span_s`` again, its window just right of the history margin."""
        self._buffer = samples
        self._clear()
        window = samples.last_seconds(self.span_s + HISTORY_S)
        self._sequence = window.last_sequence
        self._drawn = len(window) > 0
        if not self._drawn:
            return
        columns = self._columns(window.t)
        self._end = int(columns[-1])
        self._base = self._end - (self.width - 1) - self._margin
        self._draw(columns - self._base, self._rows(window.xyz))

    def _extend(self, window: Window) -> bool:
        """Add segments from the newest drawn sample to the new ones; False if they do not fit."""
        columns = self._columns(window.t)
        end = int(columns[-1])
        if end - self._base >= self._strip.get_width() or end < self._end:
            return False  # past the strip's edge, or time went back: draw afresh
        self._end = end
        self._draw(columns - self._base, self._rows(window.xyz))
        return True

    def _draw(self, x: np.ndarray, rows: np.ndarray) -> None:
        """Segments through strip points (x[i], rows[i, axis]) for each axis, x then y then z."""
        if len(x) >= 2:
            self._segments = True
            for axis, colour in enumerate(theme.AXES):
                points = np.column_stack((x, rows[:, axis])).tolist()
                pygame.draw.lines(self._strip, colour, False, points, self.line_width)
