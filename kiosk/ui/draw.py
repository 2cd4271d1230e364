"""Drawing primitives shared by the scenes: text, buttons, LED icons, fingerprints, graphs, bars.

Each function only draws what it is given (positions come from
``geometry``). Things that look the same every frame (icons, fingerprint
tiles) are cached as small surfaces and blitted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pygame

from kiosk.session.presets import icon_cells
from kiosk.ui import theme
from kiosk.ui.colormap import viridis
from kiosk.ui.text import TextCache
from kiosk.ui.widgets import Button

Rect = pygame.Rect
_icon_cache: dict[tuple[str, int, bool], pygame.Surface] = {}


def text(
    surface: pygame.Surface,
    cache: TextCache,
    words: str,
    size: int,
    colour: theme.Colour,
    at: tuple[int, int],
    anchor: str = "topleft",
) -> Rect:
    rendered = cache.render(words, size, colour)
    rect = rendered.get_rect(**{anchor: at})
    surface.blit(rendered, rect)
    return rect


def wrapped(
    surface: pygame.Surface,
    cache: TextCache,
    words: str,
    size: int,
    colour: theme.Colour,
    rect: Rect,
    align: str = "left",
    valign: str = "top",
) -> int:
    """Draw ``words`` wrapped inside ``rect`` (shrinking the size if needed); returns the bottom."""
    while True:
        lines = cache.wrap(words, size, rect.width)
        line_h = cache.font(size).get_linesize()
        if len(lines) * line_h <= rect.height or size <= cache.floor:
            break
        size -= 1
    if cache.overflow is not None:  # a test is looking for copy too long for its room
        font = cache.font(size)
        if len(lines) * line_h > rect.height or any(font.size(w)[0] > rect.width for w in lines):
            cache.overflow.append((words, size, rect.width))
    if len(lines) * line_h > rect.height:
        # Too long even at the floor: what fits, ending in an ellipsis, rather than words
        # drawn over the next button (the whole text is in the log or a longer view).
        lines = _cut_lines(cache, lines, size, rect.width, max(1, rect.height // line_h))
    total = len(lines) * line_h
    y = rect.top if valign == "top" else rect.centery - total // 2
    for line in lines:
        rendered = cache.render(line, size, colour)
        x = rect.centerx - rendered.get_width() // 2 if align == "center" else rect.left
        surface.blit(rendered, (x, y))
        y += line_h
    return y


def _cut_lines(cache: TextCache, lines: list[str], size: int, width: int, keep: int) -> list[str]:
    """The first ``keep`` lines, the last ending in "..." (words dropped until it fits)."""
    font = cache.font(size)
    kept = lines[:keep]
    words = kept[-1].split()
    while words and font.size(" ".join(words) + "\u2026")[0] > width:
        words.pop()
    kept[-1] = " ".join(words) + "\u2026"
    return kept


_STYLE_COLOURS = {
    "normal": (theme.BUTTON, theme.TEXT),
    "primary": (theme.ACCENT, theme.ACCENT_TEXT),
    "selected": (theme.SELECTED, theme.TEXT),
    "quiet": (theme.PANEL_LIGHT, theme.TEXT),
    "danger": (theme.PROBLEM, theme.TEXT),
}


def button(
    surface: pygame.Surface, cache: TextCache, b: Button, size: int, pressed: bool = False
) -> None:
    """A rounded button with its label (and icon), greyed when disabled.

    Style "bare" draws nothing: the scene draws that target itself (grid cells, sliders).
    """
    if b.style == "bare":
        return
    fill, ink = _STYLE_COLOURS.get(b.style, _STYLE_COLOURS["normal"])
    if not b.enabled or b.dimmed:
        fill, ink = theme.BUTTON_DISABLED, theme.TEXT_DIM
    elif pressed:
        fill = theme.BUTTON_PRESSED
    radius = max(6, min(b.rect.width, b.rect.height) // 6)
    pygame.draw.rect(surface, fill, b.rect, border_radius=radius)
    inner = b.rect.inflate(-12, -8)
    if b.icon and b.label:
        if b.rect.height >= b.rect.width * 0.9:  # tall: icon above the label
            label_h = cache.font(size).get_linesize()
            icon_side = max(10, min(inner.width, inner.height - label_h - 4))
            icon_rect = Rect(0, 0, icon_side, icon_side)
            icon_rect.midtop = inner.midtop
            led_icon(surface, icon_rect, b.icon, lit=b.enabled)
            fitted = cache.fit_size(b.label, size, inner.width)
            text(surface, cache, b.label, fitted, ink, (inner.centerx, inner.bottom), "midbottom")
        else:  # wide: icon left of the label (which may have several lines)
            icon_side = min(inner.height, int(inner.width * 0.42))
            icon_rect = Rect(inner.left, inner.centery - icon_side // 2, icon_side, icon_side)
            led_icon(surface, icon_rect, b.icon, lit=b.enabled)
            label_rect = Rect(
                icon_rect.right + 8, inner.top, inner.right - icon_rect.right - 8, inner.height
            )
            _label_lines(surface, cache, b.label, size, ink, label_rect, centred=False)
    elif b.icon:
        side = min(inner.width, inner.height)
        icon_rect = Rect(0, 0, side, side)
        icon_rect.center = inner.center
        led_icon(surface, icon_rect, b.icon, lit=b.enabled)
    else:
        _label_lines(surface, cache, b.label, size, ink, inner, centred=True)


def _label_lines(
    surface: pygame.Surface,
    cache: TextCache,
    label: str,
    size: int,
    ink: theme.Colour,
    rect: Rect,
    centred: bool,
) -> None:
    """A button label: explicit lines, each shrunk (together) to fit ``rect``."""
    lines = label.split("\n")
    fitted = min(cache.fit_size(line, size, rect.width) for line in lines)
    line_h = cache.font(fitted).get_linesize()
    y = rect.centery - line_h * len(lines) // 2
    for line in lines:
        if centred:
            text(surface, cache, line, fitted, ink, (rect.centerx, y), "midtop")
        else:
            text(surface, cache, line, fitted, ink, (rect.left, y), "topleft")
        y += line_h


def led_icon(surface: pygame.Surface, rect: Rect, icon: str, lit: bool = True) -> None:
    """A 5x5 picture drawn as round red LEDs like the micro:bit's (cached per size)."""
    side = min(rect.width, rect.height)
    if side < 5:
        return
    key = (icon, side, lit)
    cached = _icon_cache.get(key)
    if cached is None:
        cached = _render_icon(icon_cells(icon), side, lit)
        _icon_cache[key] = cached
    surface.blit(cached, cached.get_rect(center=rect.center))


def led_pattern(surface: pygame.Surface, rect: Rect, cells: Sequence[Sequence[bool]]) -> None:
    """A 5x5 pattern that is not a named icon (e.g. the pairing grid preview)."""
    side = min(rect.width, rect.height)
    rendered = _render_icon(tuple(tuple(r) for r in cells), side, True)
    surface.blit(rendered, rendered.get_rect(center=rect.center))


def _render_icon(cells: Sequence[Sequence[bool]], side: int, lit: bool) -> pygame.Surface:
    out = pygame.Surface((side, side), pygame.SRCALPHA)
    pitch = side / 5.0
    radius = max(1, int(pitch * 0.36))
    on = theme.LED_ON if lit else theme.TEXT_DIM
    for r in range(5):
        for c in range(5):
            centre = (int(pitch * (c + 0.5)), int(pitch * (r + 0.5)))
            pygame.draw.circle(out, on if cells[r][c] else theme.LED_OFF, centre, radius)
    return out


def fingerprint_surface(values: np.ndarray, size: tuple[int, int]) -> pygame.Surface:
    """A fingerprint tile: 8 columns (filters) x 3 rows (x, y, z axes), viridis colours.

    Feature ``i`` is filter ``i // 3`` and axis ``i % 3`` (CreateAI's order), so
    column = filter and row = axis.
    """
    colours = viridis(np.asarray(values).reshape(8, 3))  # [filter, axis] -> rgb
    small = pygame.surfarray.make_surface(np.ascontiguousarray(colours))  # width 8, height 3
    return pygame.transform.scale(small, size)


_fingerprint_cells: pygame.Surface | None = None  # 8x3, one pixel per feature, reused


def fingerprint(surface: pygame.Surface, rect: Rect, values: np.ndarray) -> None:
    """A fingerprint tile painted straight into ``rect`` (every pixel of it), with a border.

    The live fingerprint changes with every sample, so this fills one reused
    8x3 surface and scales it into the destination in place, with no new
    surfaces per call (same picture as ``fingerprint_surface``).
    """
    global _fingerprint_cells
    if _fingerprint_cells is None:
        _fingerprint_cells = pygame.Surface((8, 3))
    colours = viridis(np.asarray(values).reshape(8, 3))  # [filter, axis] -> rgb
    pygame.surfarray.blit_array(_fingerprint_cells, colours)
    pygame.transform.scale(_fingerprint_cells, rect.size, surface.subsurface(rect))
    pygame.draw.rect(surface, theme.PANEL_LIGHT, rect, 1)


@contextmanager
def clipped(surface: pygame.Surface, rect: Rect) -> Iterator[None]:
    """Drawing inside the block paints nothing outside ``rect`` (nor the clip already set)."""
    clip = surface.get_clip()
    surface.set_clip(rect.clip(clip))
    try:
        yield
    finally:
        surface.set_clip(clip)


def graph(surface: pygame.Surface, rect: Rect, lines: Sequence[np.ndarray], width: int = 2) -> None:
    """x, y, z traces (from ``geometry.graph_points``) over a panel with a zero line."""
    pygame.draw.rect(surface, theme.PANEL, rect)
    pygame.draw.line(
        surface, theme.PANEL_LIGHT, (rect.left, rect.centery), (rect.right - 1, rect.centery)
    )
    # Clipped, so a graph paints exactly its rect: the test screen repaints it in place.
    with clipped(surface, rect):
        for colour, points in zip(theme.AXES, lines, strict=False):
            if len(points) >= 2:
                pygame.draw.lines(surface, colour, False, points, width)  # type: ignore[arg-type]  # an (n, 2) array works


def bar(
    surface: pygame.Surface,
    rect: Rect,
    value: float,
    colour: theme.Colour,
    threshold: float | None = None,
) -> None:
    """A horizontal 0..1 bar, with a threshold marker when given."""
    pygame.draw.rect(surface, theme.PANEL_LIGHT, rect, border_radius=6)
    filled = rect.copy()
    filled.width = bar_fill_width(rect, value)
    if filled.width > 0:
        pygame.draw.rect(surface, colour, filled, border_radius=6)
    if threshold is not None:
        x = rect.left + int(rect.width * threshold)
        pygame.draw.line(surface, theme.TEXT, (x, rect.top - 6), (x, rect.bottom + 5), 4)
        pygame.draw.polygon(
            surface, theme.TEXT, [(x - 9, rect.top - 12), (x + 9, rect.top - 12), (x, rect.top - 2)]
        )


def bar_fill_width(rect: Rect, value: float) -> int:
    """How many pixels of a ``bar`` in ``rect`` a 0..1 value fills."""
    value = float(value)
    if not value > 0.0:  # also NaN: an empty bar, never a crash
        return 0
    return int(rect.width * min(value, 1.0))


def panel(surface: pygame.Surface, rect: Rect, colour: theme.Colour = theme.PANEL) -> None:
    pygame.draw.rect(surface, colour, rect, border_radius=10)


def overlay(surface: pygame.Surface, rect: Rect | None = None) -> None:
    """Dim what is behind a modal message."""
    rect = rect or surface.get_rect()
    shade = pygame.Surface(rect.size, pygame.SRCALPHA)
    shade.fill(theme.OVERLAY)
    surface.blit(shade, rect)
