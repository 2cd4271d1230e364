"""Pure layout and plotting arithmetic: rectangles and point arrays, never drawing.

Scenes compute where things go with these functions (from the surface size
and the touch-target unit), and the drawing code only draws what they give.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pygame

Rect = pygame.Rect


def inset(rect: Rect, by: int) -> Rect:
    return rect.inflate(-2 * by, -2 * by)


def columns(rect: Rect, weights: Sequence[float], gap: int) -> list[Rect]:
    """Split ``rect`` left to right in proportion to ``weights``, with gaps between."""
    usable = rect.width - gap * (len(weights) - 1)
    total = float(sum(weights))
    out, x = [], rect.x
    for i, w in enumerate(weights):
        width = (
            usable - (x - rect.x - gap * i) if i == len(weights) - 1 else int(usable * w / total)
        )
        out.append(Rect(x, rect.y, width, rect.height))
        x += width + gap
    return out


def rows(rect: Rect, weights: Sequence[float], gap: int) -> list[Rect]:
    """Split ``rect`` top to bottom in proportion to ``weights``, with gaps between."""
    flipped = columns(Rect(rect.y, rect.x, rect.height, rect.width), weights, gap)
    return [Rect(r.y, r.x, r.height, r.width) for r in flipped]


def take_top(rect: Rect, height: int, gap: int = 0) -> tuple[Rect, Rect]:
    """(the top ``height`` px, the rest below it after ``gap``)."""
    height = min(height, rect.height)
    top = Rect(rect.x, rect.y, rect.width, height)
    rest = Rect(rect.x, rect.y + height + gap, rect.width, max(0, rect.height - height - gap))
    return top, rest


def take_bottom(rect: Rect, height: int, gap: int = 0) -> tuple[Rect, Rect]:
    """(the bottom ``height`` px, the rest above it before ``gap``)."""
    height = min(height, rect.height)
    bottom = Rect(rect.x, rect.bottom - height, rect.width, height)
    rest = Rect(rect.x, rect.y, rect.width, max(0, rect.height - height - gap))
    return bottom, rest


def take_left(rect: Rect, width: int, gap: int = 0) -> tuple[Rect, Rect]:
    width = min(width, rect.width)
    left = Rect(rect.x, rect.y, width, rect.height)
    rest = Rect(rect.x + width + gap, rect.y, max(0, rect.width - width - gap), rect.height)
    return left, rest


def take_right(rect: Rect, width: int, gap: int = 0) -> tuple[Rect, Rect]:
    width = min(width, rect.width)
    right = Rect(rect.right - width, rect.y, width, rect.height)
    rest = Rect(rect.x, rect.y, max(0, rect.width - width - gap), rect.height)
    return right, rest


def grid(rect: Rect, n_rows: int, n_cols: int, gap: int) -> list[Rect]:
    """Cells row by row (left to right, then down)."""
    cells = []
    for r in rows(rect, [1] * n_rows, gap):
        cells.extend(columns(r, [1] * n_cols, gap))
    return cells


def square_in(rect: Rect) -> Rect:
    side = min(rect.width, rect.height)
    square = Rect(0, 0, side, side)
    square.center = rect.center
    return square


def fit_aspect(rect: Rect, aspect: float) -> Rect:
    """The largest rect of width/height ``aspect`` centred in ``rect``."""
    width = min(rect.width, int(rect.height * aspect))
    height = min(rect.height, int(width / aspect))
    out = Rect(0, 0, width, height)
    out.center = rect.center
    return out


G_RANGE = 2.2  # +- this many g fill a graph's height


def graph_rows(xyz: np.ndarray, top: int, height: int, g_range: float = G_RANGE) -> np.ndarray:
    """Screen y (float, same shape as ``xyz``) of values in g: +``g_range`` at the top, clipped."""
    half = (height - 1) / 2.0
    return top + half - np.clip(xyz / g_range, -1.0, 1.0) * half


def graph_points(
    t: np.ndarray,
    xyz: np.ndarray,
    rect: Rect,
    t_end: float,
    span_s: float,
    g_range: float = G_RANGE,
) -> list[np.ndarray]:
    """Screen points (n, 2) int per axis for samples in the last ``span_s`` up to ``t_end``.

    Time runs left to right; +-``g_range`` g fills the height (clipped).
    """
    if len(t) == 0:
        return []
    x = rect.left + (t - (t_end - span_s)) / span_s * (rect.width - 1)
    ys = graph_rows(xyz, rect.top, rect.height, g_range)
    keep = x >= rect.left
    x = x[keep]
    if len(x) < 2:
        return []
    return [np.column_stack((x, ys[keep, axis])).astype(np.int32) for axis in range(3)]


def value_to_x(value: float, rect: Rect) -> int:
    return int(rect.left + np.clip(value, 0.0, 1.0) * rect.width)


def x_to_value(x: float, rect: Rect) -> float:
    return float(np.clip((x - rect.left) / max(1, rect.width), 0.0, 1.0))
