"""Pictures that explain the model to a visitor: drawing only, from values computed in kiosk.ml.

Each ``draw_*`` function takes a surface, the rectangle to fill, a ``TextCache``
and plain data (from ``kiosk.ml.explain`` / ``kiosk.ml.compare``), keeps no
state and computes nothing about the model. Fingerprints are laid out exactly
as ``kiosk.ui.draw.fingerprint`` draws them (8 columns = filters, 3 rows = x, y,
z; viridis), so the saliency marks can also be laid over the screen's own
fingerprint with ``draw_saliency_overlay``.

Colours are Okabe-Ito (readable with the common colour-vision deficiencies) and
never carry meaning alone: "pushed up" is an orange frame with an up triangle,
"pushed down" a blue frame with a down triangle; actions on the map also differ
by marker shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pygame

from kiosk.i18n import N_, _, ngettext
from kiosk.ml.compare import ComparisonPicture
from kiosk.ml.explain import AVERAGE_CAPTION, SIMILAR_CAPTION, MapPicture, SimilarRecording
from kiosk.ml.features import FILTER_NAMES
from kiosk.session.fingerprint_words import SHORT
from kiosk.ui import theme
from kiosk.ui.colormap import viridis
from kiosk.ui.text import TextCache

Rect = pygame.Rect
Colour = tuple[int, int, int]

N_FILTERS, N_AXES = 8, 3
FILTER_LABELS = tuple(SHORT[name] for name in FILTER_NAMES)  # plain words (shown through _)
AXIS_LABELS = ("x", "y", "z")
PUSH_UP: Colour = (230, 159, 0)  # Okabe-Ito orange
PUSH_DOWN: Colour = (86, 180, 233)  # Okabe-Ito sky blue
WRONG_MARK: Colour = (255, 255, 255)
ACTION_COLOURS: tuple[Colour, ...] = (
    (230, 159, 0),
    (86, 180, 233),
    (0, 158, 115),
    (240, 228, 66),
    (0, 114, 178),
    (213, 94, 0),
    (204, 121, 167),
    (200, 200, 200),
)
MARKERS = ("circle", "square", "triangle", "diamond")


def action_colour(index: int) -> Colour:
    return ACTION_COLOURS[index % len(ACTION_COLOURS)]


# ---------------------------------------------------------------- layout (pure geometry)


def fingerprint_cell_rects(rect: Rect) -> list[Rect]:
    """The 24 cells of a fingerprint drawn in ``rect``, in feature order (filter, then axis)."""
    xs = np.linspace(rect.left, rect.right, N_FILTERS + 1).round().astype(int)
    ys = np.linspace(rect.top, rect.bottom, N_AXES + 1).round().astype(int)
    return [
        Rect(int(xs[f]), int(ys[a]), int(xs[f + 1] - xs[f]), int(ys[a + 1] - ys[a]))
        for f in range(N_FILTERS)
        for a in range(N_AXES)
    ]


def _split_top(rect: Rect, height: int) -> tuple[Rect, Rect]:
    height = max(0, min(height, rect.height))
    return Rect(rect.left, rect.top, rect.width, height), Rect(
        rect.left, rect.top + height, rect.width, rect.height - height
    )


def _split_bottom(rect: Rect, height: int) -> tuple[Rect, Rect]:
    height = max(0, min(height, rect.height))
    return Rect(rect.left, rect.top, rect.width, rect.height - height), Rect(
        rect.left, rect.bottom - height, rect.width, height
    )


def _font_px(rect: Rect, share: float, lo: int = 12, hi: int = 40) -> int:
    return int(np.clip(rect.height * share, lo, hi))


# ---------------------------------------------------------------- small pieces


def _text(
    surface: pygame.Surface,
    text: TextCache,
    words: str,
    size: int,
    colour: Colour,
    at: tuple[int, int],
    anchor: str = "topleft",
    width: int | None = None,
) -> Rect:
    if width is not None:
        size = text.fit_size(words, size, max(width, 1))
    rendered = text.render(words, size, colour)
    where = rendered.get_rect(**{anchor: at})
    surface.blit(rendered, where)
    return where


def _triangle(
    surface: pygame.Surface, centre: tuple[int, int], side: float, up: bool, colour: Colour
) -> None:
    cx, cy = centre
    h = side * 0.87
    if up:
        points = [(cx, cy - h / 2), (cx - side / 2, cy + h / 2), (cx + side / 2, cy + h / 2)]
    else:
        points = [(cx, cy + h / 2), (cx - side / 2, cy - h / 2), (cx + side / 2, cy - h / 2)]
    pygame.draw.polygon(surface, colour, points)
    pygame.draw.polygon(surface, theme.BACKGROUND, points, 2)


def _marker(
    surface: pygame.Surface,
    shape: str,
    centre: tuple[int, int],
    r: int,
    colour: Colour,
    width: int = 0,
) -> None:
    cx, cy = centre
    if shape == "square":
        pygame.draw.rect(surface, colour, Rect(cx - r, cy - r, 2 * r, 2 * r), width)
    elif shape == "triangle":
        pygame.draw.polygon(
            surface, colour, [(cx, cy - r - 1), (cx - r - 1, cy + r), (cx + r + 1, cy + r)], width
        )
    elif shape == "diamond":
        pygame.draw.polygon(
            surface,
            colour,
            [(cx, cy - r - 1), (cx + r + 1, cy), (cx, cy + r + 1), (cx - r - 1, cy)],
            width,
        )
    else:
        pygame.draw.circle(surface, colour, centre, r, width)


def draw_fingerprint_tile(surface: pygame.Surface, rect: Rect, fingerprint: np.ndarray) -> None:
    """A fingerprint as 8 x 3 viridis cells (same layout as ``kiosk.ui.draw.fingerprint``)."""
    values = np.asarray(fingerprint, np.float64)
    if np.isnan(values).all():
        pygame.draw.rect(surface, theme.PANEL, rect)
    else:
        colours = viridis(values)
        for cell, colour in zip(fingerprint_cell_rects(rect), colours, strict=True):
            pygame.draw.rect(surface, tuple(int(c) for c in colour), cell)
    pygame.draw.rect(surface, theme.PANEL_LIGHT, rect, 1)


def _fingerprint_labels(surface: pygame.Surface, text: TextCache, rect: Rect, size: int) -> None:
    """Filter names under the columns and x, y, z (axis colours) left of the rows."""
    cells = fingerprint_cell_rects(rect)
    _filter_labels(surface, text, rect, size)
    for a, name in enumerate(AXIS_LABELS):
        cell = cells[a]
        _text(surface, text, name, size, theme.AXES[a], (rect.left - 6, cell.centery), "midright")


def _filter_labels(surface: pygame.Surface, text: TextCache, rect: Rect, size: int) -> None:
    """Filter names under a fingerprint's columns, all at one size; none if they cannot fit."""
    cells = fingerprint_cell_rects(rect)
    room = min(cells[f * N_AXES].width for f in range(N_FILTERS)) - 3
    labels = [_(label) for label in FILTER_LABELS]
    widest = max(labels, key=lambda label: text.font(size).size(label)[0])
    size = text.fit_size(widest, size, room)
    if text.font(size).size(widest)[0] > room:
        return  # squeezed labels would overlap into nonsense; the screen shows them elsewhere
    for f, name in enumerate(labels):
        cell = cells[f * N_AXES + N_AXES - 1]
        _text(surface, text, name, size, theme.TEXT_DIM, (cell.centerx, rect.bottom + 3), "midtop")


# ---------------------------------------------------------------- saliency


def draw_saliency_overlay(surface: pygame.Surface, rect: Rect, strength: np.ndarray) -> None:
    """Marks over a fingerprint drawn in ``rect``: frame + triangle on each pushing square.

    ``strength`` is ``LiveExplanation.strength`` (-1..1, 0 = not marked).
    """
    cells = fingerprint_cell_rects(rect)
    for cell, s in zip(cells, np.asarray(strength, np.float64), strict=True):
        if s == 0 or not np.isfinite(s):
            continue
        colour = PUSH_UP if s > 0 else PUSH_DOWN
        width = 2 + round(4 * abs(s))
        pygame.draw.rect(surface, colour, cell.inflate(-2, -2), width)
        side = min(cell.width, cell.height) * (0.3 + 0.4 * abs(s))
        _triangle(surface, cell.center, side, s > 0, colour)


def draw_saliency_fingerprint(
    surface: pygame.Surface,
    rect: Rect,
    text: TextCache,
    fingerprint: np.ndarray,
    strength: np.ndarray,
    action_name: str,
) -> None:
    """The live fingerprint with the squares that made the model say ``action_name`` marked."""
    size, small, title, legend, tile = _saliency_parts(rect, text)
    _text(
        surface,
        text,
        _("Why it says {move}").format(move=action_name),
        size,
        theme.TEXT,
        title.midleft,
        "midleft",
        width=title.width,
    )
    draw_fingerprint_tile(surface, tile, fingerprint)
    draw_saliency_overlay(surface, tile, strength)
    _fingerprint_labels(surface, text, tile, small)
    if np.any(np.asarray(strength) != 0):
        _push_legend(surface, text, legend, small, action_name)
    else:  # e.g. a movement just like the average one: say so rather than show nothing
        _text(
            surface,
            text,
            _("No square stands out: this looks like an average movement"),
            small,
            theme.TEXT_DIM,
            legend.midleft,
            "midleft",
            width=legend.width,
        )


def _saliency_parts(rect: Rect, text: TextCache) -> tuple[int, int, Rect, Rect, Rect]:
    """(title size, label size, title, legend, fingerprint tile) of the saliency view."""
    size = _font_px(rect, 0.08, text.floor)
    small = max(text.floor, int(size * 0.75))
    title, rest = _split_top(rect, int(size * 1.5))
    body, legend = _split_bottom(rest, int(small * 1.8))
    label_w = small * 2
    tile = Rect(
        body.left + label_w, body.top + 4, body.width - label_w - 4, body.height - small - 12
    )
    return size, small, title, legend, tile


def saliency_tile(rect: Rect, text: TextCache) -> Rect:
    """Where ``draw_saliency_fingerprint`` in ``rect`` puts the fingerprint (to tap its squares)."""
    return _saliency_parts(rect, text)[4]


def _push_legend(
    surface: pygame.Surface, text: TextCache, rect: Rect, size: int, action_name: str
) -> None:
    """(up) for <action>, (down) against it: one text size, on one line."""
    items = ((True, _("for {move}").format(move=action_name)), (False, _("against it")))
    joined = "  ".join(words for _, words in items)
    size = text.fit_size(joined, size, max(1, rect.width - 2 * (size + 8) - size))
    x = rect.left
    for up, words in items:
        _triangle(
            surface, (x + size // 2 + 2, rect.centery), size * 0.9, up, PUSH_UP if up else PUSH_DOWN
        )
        where = _text(
            surface, text, words, size, theme.TEXT, (x + size + 6, rect.centery), "midleft"
        )
        x = where.right + size


# ---------------------------------------------------------------- rows of fingerprints


def _row_sizes(rect: Rect, size: int, floor: int, n: int) -> tuple[int, int, int]:
    """Row height, name column width and axis column width of ``n`` fingerprint rows."""
    small = max(floor, int(size * 0.8))
    label_h = small + 6
    return (rect.height - label_h) // n, rect.width // 4, small + 8


def _row_tiles(rect: Rect, size: int, floor: int, n: int) -> list[Rect]:
    """Where each row's fingerprint is drawn (one place, so drawing and tapping agree)."""
    row_h, name_w, axis_w = _row_sizes(rect, size, floor, n)
    return [
        Rect(
            rect.left + name_w + axis_w,
            rect.top + i * row_h + 4,
            rect.width - name_w - axis_w,
            row_h - 8,
        )
        for i in range(n)
    ]


def _fingerprint_rows(
    surface: pygame.Surface,
    rect: Rect,
    text: TextCache,
    size: int,
    names: Sequence[str],
    actions: Sequence[int],
    tiles: Sequence[np.ndarray],
) -> None:
    """One labelled fingerprint per row; x, y, z beside each, filter names under the last."""
    n = len(names)
    if n == 0:
        return
    small = max(text.floor, int(size * 0.8))
    row_h, name_w, _ = _row_sizes(rect, size, text.floor, n)
    for i, (name, action, values, tile) in enumerate(
        zip(names, actions, tiles, _row_tiles(rect, size, text.floor, n), strict=True)
    ):
        row = Rect(rect.left, rect.top + i * row_h, rect.width, row_h)
        pygame.draw.rect(surface, action_colour(action), Rect(row.left, row.top + 6, 8, row_h - 12))
        _text(
            surface,
            text,
            name,
            size,
            theme.TEXT,
            (row.left + 14, row.centery),
            "midleft",
            width=name_w - 18,
        )
        draw_fingerprint_tile(surface, tile, values)
        cells = fingerprint_cell_rects(tile)
        for a, axis in enumerate(AXIS_LABELS):
            _text(
                surface,
                text,
                axis,
                small,
                theme.AXES[a],
                (tile.left - 5, cells[a].centery),
                "midright",
            )
        if i == n - 1:
            _filter_labels(surface, text, tile, small)


# ---------------------------------------------------------------- global importance


#: Text size of the explore pages' rows, as a share of the page (``_font_px``).
IMPORTANCE_SHARE = 0.06
AVERAGES_SHARE = 0.07


def square_in_rows(
    rect: Rect, text: TextCache, share: float, n: int, pos: tuple[int, int]
) -> int | None:
    """Which of the 24 squares is under ``pos`` on a page of ``n`` fingerprint rows.

    ``rect`` and ``share`` are what ``draw_global_importance`` (``IMPORTANCE_SHARE``)
    or ``draw_average_fingerprints`` (``AVERAGES_SHARE``) was drawn with.
    """
    if n <= 0:
        return None
    size = _font_px(rect, share, text.floor)
    _, rest = _split_top(rect, int(size * 1.6))
    for tile in _row_tiles(rest, size, text.floor, n):
        index = square_at(tile, pos)
        if index is not None:
            return index
    return None


def draw_global_importance(
    surface: pygame.Surface,
    rect: Rect,
    text: TextCache,
    strength: np.ndarray,
    class_names: Sequence[str],
) -> None:
    """Per action, the squares the model relies on overall (``importance_strength`` 0..1).

    Drawn as fingerprint-shaped tiles: bright = scrambling this square hurts
    recognising the action a lot (measured on recordings the model did not train on).
    """
    size = _font_px(rect, IMPORTANCE_SHARE, text.floor)
    title, rest = _split_top(rect, int(size * 1.6))
    _text(
        surface,
        text,
        _("Which squares each move needs (bright = needed a lot)"),
        size,
        theme.TEXT,
        title.midleft,
        "midleft",
        width=title.width,
    )
    values = np.asarray(strength)
    _fingerprint_rows(
        surface,
        rest,
        text,
        size,
        list(class_names),
        range(len(class_names)),
        [values[c] for c in range(len(class_names))],
    )


# ---------------------------------------------------------------- similar recordings


def draw_similar_recordings(
    surface: pygame.Surface,
    rect: Rect,
    text: TextCache,
    similar: Sequence[SimilarRecording],
    caption: str = SIMILAR_CAPTION,
) -> None:
    """The nearest recordings' fingerprints and actions, under ``caption`` (what they mean:
    similarity only for a network; the deciding votes for nearest neighbours)."""
    size = _font_px(rect, 0.07, text.floor)
    title, rest = _split_top(rect, int(size * 1.6))
    _text(
        surface,
        text,
        caption,
        size,
        theme.TEXT,
        title.midleft,
        "midleft",
        width=title.width,
    )
    if not similar:
        _text(surface, text, _("No recordings yet"), size, theme.TEXT_DIM, rest.center, "center")
        return
    _fingerprint_rows(
        surface,
        rest,
        text,
        size,
        [item.action_name for item in similar],
        [item.action for item in similar],
        [item.fingerprint for item in similar],
    )


# ---------------------------------------------------------------- averages


def draw_average_fingerprints(
    surface: pygame.Surface,
    rect: Rect,
    text: TextCache,
    averages: np.ndarray,
    class_names: Sequence[str],
) -> None:
    """One average fingerprint per action, clearly labelled as averages."""
    size = _font_px(rect, AVERAGES_SHARE, text.floor)
    title, rest = _split_top(rect, int(size * 1.6))
    _text(
        surface,
        text,
        AVERAGE_CAPTION,
        size,
        theme.TEXT,
        title.midleft,
        "midleft",
        width=title.width,
    )
    values = np.asarray(averages)
    _fingerprint_rows(
        surface,
        rest,
        text,
        size,
        [_("average {move}").format(move=n) for n in class_names],
        range(len(class_names)),
        [values[c] for c in range(len(class_names))],
    )


# ---------------------------------------------------------------- data map


def map_point_to_pixel(plot: Rect, point: np.ndarray) -> tuple[int, int]:
    """0..1 map coordinates (y up) -> pixel inside ``plot``."""
    x = plot.left + float(point[0]) * (plot.width - 1)
    y = plot.bottom - 1 - float(point[1]) * (plot.height - 1)
    return round(x), round(y)


def _legend_columns(rect: Rect, size: int, k: int) -> int:
    """How many move names fit side by side in the map's legend (about seven letters each)."""
    slot = int(size * 0.8 * 0.6 * 7) + 2 * size
    return max(1, min(k, rect.width // max(1, slot)))


MAP_CAPTIONS = (
    N_("Map of your recordings: close dots have similar fingerprints"),
    N_("Close dots: similar fingerprints"),
    N_("Close dots are alike"),
)


def _first_that_fits(text: TextCache, size: int, width: int, choices: Sequence[str]) -> str:
    """The longest of ``choices`` that fits ``width`` at the size ``_text`` would pick."""
    for words in choices:
        fitted = text.fit_size(words, size, max(width, 1))
        if text.font(fitted).size(words)[0] <= width:
            return words
    return choices[-1]


def map_plot_rect(rect: Rect, text: TextCache, picture: MapPicture | None = None) -> Rect:
    """Where the dots go inside a ``draw_data_map`` rectangle (title above, legend below).

    A narrow map puts the move names of ``picture`` on more than one legend line.
    """
    size = _font_px(rect, 0.06, text.floor)
    name_rows = 1
    if picture is not None:
        k = len(picture.class_names)
        name_rows = -(-k // _legend_columns(rect, size, k))
    legend_h = int(size * (1.8 if name_rows == 1 else 1.4)) * (name_rows + 1)
    return Rect(
        rect.left + 6,
        rect.top + int(size * 1.6) + 6,
        rect.width - 12,
        rect.height - int(size * 1.6) - legend_h - 12,
    )


def draw_data_map(
    surface: pygame.Surface, rect: Rect, text: TextCache, picture: MapPicture
) -> None:
    """Every recording as a dot (colour and shape = action), mistakes ringed, the live dot big."""
    draw_data_map_base(surface, rect, text, picture, picture.live is not None)
    if picture.live is not None:
        draw_data_map_live(surface, rect, text, picture)


def _map_dot_radius(plot: Rect) -> int:
    return max(4, min(plot.width, plot.height) // 40)


def draw_data_map_base(
    surface: pygame.Surface, rect: Rect, text: TextCache, picture: MapPicture, live_legend: bool
) -> None:
    """The map without its live mark: title, dots, legend (``live_legend``: explain the mark).

    This is what changes only with the model, so a view that follows the live
    movement draws it once and moves only the mark (``draw_data_map_live``).
    """
    size = _font_px(rect, 0.06, text.floor)
    small = max(text.floor, int(size * 0.8))
    title = _split_top(rect, int(size * 1.6))[0]
    # A narrow panel gets fewer words rather than words running into its neighbours.
    words = _first_that_fits(text, size, title.width, [_(c) for c in MAP_CAPTIONS])
    _text(surface, text, words, size, theme.TEXT, title.midleft, "midleft", width=title.width)
    plot = map_plot_rect(rect, text, picture)
    pygame.draw.rect(surface, theme.PANEL, plot, border_radius=8)
    r = _map_dot_radius(plot)
    for point, label, wrong in zip(picture.points, picture.labels, picture.wrong, strict=True):
        centre = map_point_to_pixel(plot, point)
        _marker(surface, MARKERS[int(label) % len(MARKERS)], centre, r, action_colour(int(label)))
        if wrong:
            _wrong_mark(surface, centre, r)
    _map_legend(
        surface,
        text,
        Rect(rect.left, plot.bottom + 6, rect.width, rect.bottom - plot.bottom - 6),
        small,
        picture,
        r,
        _legend_columns(rect, size, len(picture.class_names)),
        live_legend,
    )


def data_map_live_rect(rect: Rect, text: TextCache, picture: MapPicture) -> Rect | None:
    """The pixels ``draw_data_map_live`` paints for ``picture.live`` (None: no live point)."""
    if picture.live is None:
        return None
    plot = map_plot_rect(rect, text, picture)
    r = _map_dot_radius(plot)
    reach = r * 4 + 2  # the crosshair's arms, with their line width
    cx, cy = map_point_to_pixel(plot, picture.live)
    return Rect(cx - reach, cy - reach, 2 * reach + 1, 2 * reach + 1)


def draw_data_map_live(
    surface: pygame.Surface, rect: Rect, text: TextCache, picture: MapPicture
) -> None:
    """The live movement's mark on a map drawn in ``rect`` (only the mark)."""
    if picture.live is None:
        return
    plot = map_plot_rect(rect, text, picture)
    _live_mark(surface, map_point_to_pixel(plot, picture.live), _map_dot_radius(plot))


def _wrong_mark(surface: pygame.Surface, centre: tuple[int, int], r: int) -> None:
    """A white cross over the dot: shape, not colour, says "mixed up"."""
    cx, cy = centre
    d = r + 3
    pygame.draw.line(surface, theme.BACKGROUND, (cx - d, cy - d), (cx + d, cy + d), 5)
    pygame.draw.line(surface, theme.BACKGROUND, (cx - d, cy + d), (cx + d, cy - d), 5)
    pygame.draw.line(surface, WRONG_MARK, (cx - d, cy - d), (cx + d, cy + d), 2)
    pygame.draw.line(surface, WRONG_MARK, (cx - d, cy + d), (cx + d, cy - d), 2)


def _live_mark(surface: pygame.Surface, centre: tuple[int, int], r: int) -> None:
    """The live movement: a big white ring with a crosshair."""
    cx, cy = centre
    pygame.draw.circle(surface, theme.BACKGROUND, centre, r * 3 + 3)
    pygame.draw.circle(surface, theme.TEXT, centre, r * 3, 3)
    pygame.draw.line(surface, theme.TEXT, (cx - r * 4, cy), (cx + r * 4, cy), 2)
    pygame.draw.line(surface, theme.TEXT, (cx, cy - r * 4), (cx, cy + r * 4), 2)


def _map_legend(
    surface: pygame.Surface,
    text: TextCache,
    rect: Rect,
    size: int,
    picture: MapPicture,
    r: int,
    n_cols: int,
    live_legend: bool,
) -> None:
    names = picture.class_names
    n_rows = -(-len(names) // n_cols)
    line_h = rect.height // (n_rows + 1)
    slot = rect.width // n_cols
    for c, name in enumerate(names):
        row, col = divmod(c, n_cols)
        centre = (rect.left + col * slot + r + 4, rect.top + row * line_h + line_h // 2)
        _marker(surface, MARKERS[c % len(MARKERS)], centre, r, action_colour(c))
        _text(
            surface,
            text,
            name,
            size,
            theme.TEXT,
            (centre[0] + r + 6, centre[1]),
            "midleft",
            width=slot - 2 * r - 14,
        )
    y = rect.top + n_rows * line_h + line_h // 2
    x = rect.left + r + 4
    if live_legend:  # the live point is only explained where there is one
        x += 3 * r
        _live_mark(surface, (x, y), max(2, r * 2 // 3))
        words = _text(surface, text, _("you, now"), size, theme.TEXT, (x + 3 * r + 6, y), "midleft")
        x = words.right + 24 + r
    _marker(surface, "circle", (x, y), r, theme.TEXT_DIM)
    _wrong_mark(surface, (x, y), r)
    long_words = _("the model mixed this one up when tested")
    wide = rect.right - x > text.font(size).size(long_words)[0]
    _text(
        surface,
        text,
        long_words if wide else _("mixed up when tested"),
        size,
        theme.TEXT,
        (x + 2 * r + 8, y),
        "midleft",
        width=rect.right - x - 2 * r - 8,
    )


# ---------------------------------------------------------------- comparison


def draw_comparison(
    surface: pygame.Surface, rect: Rect, text: TextCache, sides: Sequence[ComparisonPicture]
) -> None:
    """Two (or more) trained datasets side by side: accuracy, confusion matrix, live answer."""
    if not sides:
        return
    gap = max(8, rect.width // 60)
    width = (rect.width - gap * (len(sides) - 1)) // len(sides)
    for i, side in enumerate(sides):
        column = Rect(rect.left + i * (width + gap), rect.top, width, rect.height)
        pygame.draw.rect(surface, theme.PANEL, column, border_radius=10)
        _comparison_side(surface, column.inflate(-16, -16), text, side)


def _comparison_side(
    surface: pygame.Surface, rect: Rect, text: TextCache, side: ComparisonPicture
) -> None:
    size = _font_px(rect, 0.06, text.floor)
    small = max(text.floor, int(size * 0.75))
    y = rect.top
    _text(surface, text, side.name, size, theme.TEXT, (rect.left, y), width=rect.width)
    y += int(size * 1.3)
    _text(
        surface,
        text,
        ngettext("{count} recording", "{count} recordings", side.n_recordings).format(
            count=side.n_recordings
        ),
        small,
        theme.TEXT_DIM,
        (rect.left, y),
        width=rect.width,
    )
    y += int(small * 1.4)
    big = int(size * 1.8)
    _text(surface, text, f"{round(100 * side.accuracy)}%", big, theme.ACCENT, (rect.left, y))
    _text(
        surface,
        text,
        _("right on new recordings"),
        small,
        theme.TEXT,
        (rect.left, y + big + 2),
        width=rect.width,
    )
    y += big + int(small * 1.8)
    k = len(side.classes)
    bars_h = int(small * 1.6) * k + small * 2
    compact = bars_h > 0.3 * rect.height  # a small panel: the answer in words, not k bars
    live_h = 0 if side.live is None else (int(small * 3.2) if compact else bars_h)
    matrix_rect = Rect(rect.left, y, rect.width, rect.bottom - y - live_h)
    _confusion(surface, matrix_rect, text, side.confusion, side.classes, small)
    if side.live is not None and compact:
        _live_answer(
            surface,
            Rect(rect.left, rect.bottom - live_h, rect.width, live_h),
            text,
            side.live,
            side.classes,
            small,
        )
    elif side.live is not None:
        _live_bars(
            surface,
            Rect(rect.left, rect.bottom - live_h, rect.width, live_h),
            text,
            side.live,
            side.classes,
            small,
        )


def _confusion(
    surface: pygame.Surface,
    rect: Rect,
    text: TextCache,
    confusion: np.ndarray,
    classes: Sequence[str],
    size: int,
) -> None:
    """Rows = what it really was, columns = what the model said; the diagonal is right."""
    k = len(classes)
    if k == 0 or rect.height < size * 3:
        return
    _text(
        surface,
        text,
        _("rows: it was - columns: model said"),
        size,
        theme.TEXT_DIM,
        (rect.left, rect.top),
        width=rect.width,
    )
    label_w = rect.width // 3
    # Column names written upwards above their columns, in full (a move is always named).
    header = max(text.font(size).size(name)[0] for name in classes) + 4
    top = rect.top + int(size * 1.4)
    cell = max(4, min((rect.width - label_w) // k, (rect.bottom - top - header) // k))
    grid_left = rect.left + label_w
    for c, name in enumerate(classes):
        turned = pygame.transform.rotate(text.render(name, size, action_colour(c)), 90)
        surface.blit(
            turned, turned.get_rect(midbottom=(grid_left + c * cell + cell // 2, top + header))
        )
    top += header + 4
    counts = np.asarray(confusion)
    row_totals = counts.sum(axis=1)
    for r, name in enumerate(classes):
        _text(
            surface,
            text,
            name,
            size,
            action_colour(r),
            (grid_left - 6, top + r * cell + cell // 2),
            "midright",
            width=label_w - 8,
        )
        for c in range(k):
            box = Rect(grid_left + c * cell, top + r * cell, cell - 2, cell - 2)
            share = counts[r, c] / row_totals[r] if row_totals[r] else 0.0
            good = r == c
            base = theme.GOOD if good else theme.PROBLEM
            colour = tuple(
                int(theme.PANEL_LIGHT[i] + share * (base[i] - theme.PANEL_LIGHT[i]))
                for i in range(3)
            )
            pygame.draw.rect(surface, colour, box, border_radius=4)
            _text(
                surface,
                text,
                str(int(counts[r, c])),
                size,
                theme.TEXT,
                box.center,
                "center",
                width=box.width - 2,
            )


def _live_answer(
    surface: pygame.Surface,
    rect: Rect,
    text: TextCache,
    live: np.ndarray,
    classes: Sequence[str],
    size: int,
) -> None:
    """The model's answer to the movement now, in words: "It says: Shake (97%)"."""
    _text(surface, text, _("Your movement now:"), size, theme.TEXT, rect.topleft, width=rect.width)
    if not len(live):
        return
    winner = int(np.argmax(live))
    words = _("It says: {move} ({percent}%)").format(
        move=classes[winner], percent=round(100 * float(live[winner]))
    )
    _text(
        surface,
        text,
        words,
        int(size * 1.3),
        action_colour(winner),
        (rect.left, rect.top + int(size * 1.5)),
        width=rect.width,
    )


def _live_bars(
    surface: pygame.Surface,
    rect: Rect,
    text: TextCache,
    live: np.ndarray,
    classes: Sequence[str],
    size: int,
) -> None:
    _text(
        surface,
        text,
        _("Your movement now:"),
        size,
        theme.TEXT,
        (rect.left, rect.top),
        width=rect.width,
    )
    row_h = int(size * 1.6)
    y = rect.top + int(size * 1.5)
    label_w = rect.width // 3
    winner = int(np.argmax(live)) if len(live) else -1
    for c, name in enumerate(classes):
        _text(
            surface,
            text,
            name,
            size,
            theme.TEXT,
            (rect.left, y + row_h // 2),
            "midleft",
            width=label_w - 6,
        )
        bar = Rect(rect.left + label_w, y + 3, rect.width - label_w, row_h - 6)
        pygame.draw.rect(surface, theme.PANEL_LIGHT, bar, border_radius=5)
        filled = Rect(bar.left, bar.top, int(bar.width * float(np.clip(live[c], 0, 1))), bar.height)
        if filled.width:
            pygame.draw.rect(surface, action_colour(c), filled, border_radius=5)
        if c == winner:
            pygame.draw.rect(surface, theme.TEXT, bar, 2, border_radius=5)
        y += row_h


def square_at(rect: Rect, pos: tuple[int, int]) -> int | None:
    """Which of the 24 squares of a fingerprint drawn in ``rect`` is under ``pos``."""
    for index, cell in enumerate(fingerprint_cell_rects(rect)):
        if cell.collidepoint(pos):
            return index
    return None


def draw_colour_scale(surface: pygame.Surface, rect: Rect, text: TextCache, size: int) -> None:
    """The fingerprint's colours from dark to bright, with "a little" and "a lot" at the ends."""
    little = text.render(_("a little"), size, theme.TEXT)
    lot = text.render(_("a lot"), size, theme.TEXT)
    bar = Rect(
        rect.left + little.get_width() + 8,
        rect.top,
        max(8, rect.width - little.get_width() - lot.get_width() - 16),
        rect.height,
    )
    ramp = viridis(np.linspace(0.0, 1.0, 64)[:, None])  # (64, 1, 3)
    strip = pygame.surfarray.make_surface(np.ascontiguousarray(ramp))
    surface.blit(pygame.transform.scale(strip, bar.size), bar)
    pygame.draw.rect(surface, theme.PANEL_LIGHT, bar, 1)
    surface.blit(little, little.get_rect(midright=(bar.left - 6, bar.centery)))
    surface.blit(lot, lot.get_rect(midleft=(bar.right + 6, bar.centery)))
