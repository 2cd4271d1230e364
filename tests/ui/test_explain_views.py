"""The explanation views draw what they are given, where they should, and nothing elsewhere."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from kiosk.ml.compare import ComparisonPicture
from kiosk.ml.explain import MapPicture, SimilarRecording
from kiosk.ui import explain_views as views
from kiosk.ui import theme
from kiosk.ui.colormap import viridis
from kiosk.ui.text import TextCache

SIZE = (800, 480)
AREA = pygame.Rect(40, 30, 700, 400)


@pytest.fixture(scope="module")
def text() -> TextCache:
    pygame.init()
    return TextCache()


def blank() -> pygame.Surface:
    surface = pygame.Surface(SIZE)
    surface.fill(theme.BACKGROUND)
    return surface


def colour_at(surface: pygame.Surface, pos: tuple[int, int]) -> tuple[int, int, int]:
    return tuple(surface.get_at(pos))[:3]


def assert_only_inside(surface: pygame.Surface, rect: pygame.Rect) -> None:
    """Something was drawn inside ``rect`` and nothing outside it."""
    pixels = pygame.surfarray.array3d(surface)
    outside = np.ones(pixels.shape[:2], bool)
    outside[rect.left : rect.right, rect.top : rect.bottom] = False
    assert (pixels[outside] == theme.BACKGROUND).all(), "drew outside its rectangle"
    inside = pixels[rect.left : rect.right, rect.top : rect.bottom].reshape(-1, 3)
    assert len(np.unique(inside[::5], axis=0)) > 10, "the view looks blank"


def test_fingerprint_cells_follow_the_feature_order() -> None:
    cells = views.fingerprint_cell_rects(pygame.Rect(0, 0, 80, 30))
    assert len(cells) == 24
    assert cells[0].topleft == (0, 0)  # max-x
    assert cells[2].topleft == (0, 20)  # max-z: third row
    assert cells[3].topleft == (10, 0)  # mean-x: second column
    assert sum(c.width * c.height for c in cells) == 80 * 30


def test_fingerprint_tile_colours_each_cell_by_its_value() -> None:
    surface = blank()
    rect = pygame.Rect(10, 10, 160, 60)
    values = np.linspace(0, 1, 24)
    views.draw_fingerprint_tile(surface, rect, values)
    for cell, colour in zip(views.fingerprint_cell_rects(rect), viridis(values), strict=True):
        assert colour_at(surface, cell.center) == tuple(int(c) for c in colour)


def test_saliency_overlay_marks_only_the_pushing_squares_in_the_right_colour() -> None:
    surface = blank()
    rect = pygame.Rect(10, 10, 400, 150)
    views.draw_fingerprint_tile(surface, rect, np.full(24, 0.5))
    strength = np.zeros(24)
    strength[4] = 1.0  # mean-y pushed up
    strength[20] = -0.6  # zcr-z pushed down
    views.draw_saliency_overlay(surface, rect, strength)
    cells = views.fingerprint_cell_rects(rect)
    up, down = cells[4], cells[20]
    frame = lambda cell: (cell.left + 2, cell.centery)  # noqa: E731 - inside the drawn frame
    assert colour_at(surface, frame(up)) == views.PUSH_UP
    assert colour_at(surface, frame(down)) == views.PUSH_DOWN
    assert colour_at(surface, up.center) == views.PUSH_UP  # the up triangle's body
    assert colour_at(surface, down.center) == views.PUSH_DOWN
    plain = tuple(int(c) for c in viridis(np.array([0.5]))[0])
    for i, cell in enumerate(cells):
        if i not in (4, 20):
            assert colour_at(surface, frame(cell)) == plain
            assert colour_at(surface, cell.center) == plain


def test_up_triangle_points_up_and_down_triangle_points_down() -> None:
    surface = blank()
    rect = pygame.Rect(0, 0, 800, 300)
    views.draw_fingerprint_tile(surface, rect, np.zeros(24))
    strength = np.zeros(24)
    strength[0], strength[3] = 1.0, -1.0
    views.draw_saliency_overlay(surface, rect, strength)
    cells = views.fingerprint_cell_rects(rect)

    def width_of(colour, cell, dy):
        y = cell.centery + dy
        row = [colour_at(surface, (x, y)) == colour for x in range(cell.left + 8, cell.right - 8)]
        return sum(row)

    up, down = cells[0], cells[3]
    assert width_of(views.PUSH_UP, up, -15) < width_of(views.PUSH_UP, up, 15)
    assert width_of(views.PUSH_DOWN, down, -15) > width_of(views.PUSH_DOWN, down, 15)


def test_saliency_view_draws_inside_its_rect(text) -> None:
    surface = blank()
    strength = np.zeros(24)
    strength[[1, 7]] = [0.8, -0.3]
    views.draw_saliency_fingerprint(surface, AREA, text, np.linspace(0, 1, 24), strength, "shake")
    assert_only_inside(surface, AREA)
    colours = {tuple(c) for c in pygame.surfarray.array3d(surface).reshape(-1, 3)}
    assert views.PUSH_UP in colours and views.PUSH_DOWN in colours


def map_picture(live: np.ndarray | None) -> MapPicture:
    points = np.array([[0.1, 0.1], [0.9, 0.9], [0.5, 0.2], [0.2, 0.8]])
    return MapPicture(
        points=points,
        labels=np.array([0, 1, 2, 0]),
        wrong=np.array([False, False, False, True]),
        class_names=("still", "shake", "circle"),
        live=live,
        note="",
        extent=(0.0, 0.0, 1.0, 1.0),
    )


def test_map_puts_dots_mistakes_and_the_live_point_where_they_belong(text) -> None:
    surface = blank()
    picture = map_picture(np.array([0.7, 0.4]))
    views.draw_data_map(surface, AREA, text, picture)
    assert_only_inside(surface, AREA)
    plot = views.map_plot_rect(AREA, text)
    for point, label in zip(picture.points[:3], picture.labels[:3], strict=True):
        pixel = views.map_point_to_pixel(plot, point)
        assert colour_at(surface, pixel) == views.action_colour(int(label))
    # y grows upwards: the (0.9, 0.9) dot is above and right of the (0.1, 0.1) one.
    low = views.map_point_to_pixel(plot, picture.points[0])
    high = views.map_point_to_pixel(plot, picture.points[1])
    assert high[0] > low[0] and high[1] < low[1]
    wrong = views.map_point_to_pixel(plot, picture.points[3])
    assert colour_at(surface, wrong) == views.WRONG_MARK  # the cross's centre
    live = views.map_point_to_pixel(plot, picture.live)
    assert colour_at(surface, live) == theme.TEXT  # crosshair centre


def test_map_without_live_point_or_recordings(text) -> None:
    surface = blank()
    views.draw_data_map(surface, AREA, text, map_picture(None))
    plot = views.map_plot_rect(AREA, text)
    assert colour_at(surface, views.map_point_to_pixel(plot, np.array([0.7, 0.4]))) == theme.PANEL
    empty = MapPicture(
        np.zeros((0, 2)), np.zeros(0, int), np.zeros(0, bool), (), None, "", (0.0, 0.0, 1.0, 1.0)
    )
    views.draw_data_map(blank(), AREA, text, empty)


def test_similar_and_average_views_show_each_fingerprint(text) -> None:
    similar = [
        SimilarRecording(
            row=i,
            action=i % 2,
            action_name=("still", "shake")[i % 2],
            fingerprint=np.full(24, v),
            distance=float(i),
        )
        for i, v in enumerate((0.0, 0.5, 1.0))
    ]
    surface = blank()
    views.draw_similar_recordings(surface, AREA, text, similar)
    assert_only_inside(surface, AREA)
    pixels = {tuple(c) for c in pygame.surfarray.array3d(surface).reshape(-1, 3)}
    for v in (0.0, 0.5, 1.0):
        assert tuple(int(c) for c in viridis(np.array([v]))[0]) in pixels
    views.draw_similar_recordings(blank(), AREA, text, [])

    surface = blank()
    averages = np.vstack([np.full(24, 0.25), np.full(24, np.nan), np.full(24, 0.75)])
    views.draw_average_fingerprints(surface, AREA, text, averages, ["a", "b", "c"])
    assert_only_inside(surface, AREA)
    pixels = {tuple(c) for c in pygame.surfarray.array3d(surface).reshape(-1, 3)}
    assert tuple(int(c) for c in viridis(np.array([0.75]))[0]) in pixels


def test_global_importance_view(text) -> None:
    surface = blank()
    strength = np.zeros((2, 24))
    strength[0, 5] = 1.0
    views.draw_global_importance(surface, AREA, text, strength, ["still", "shake"])
    assert_only_inside(surface, AREA)
    pixels = {tuple(c) for c in pygame.surfarray.array3d(surface).reshape(-1, 3)}
    assert tuple(int(c) for c in viridis(np.array([1.0]))[0]) in pixels


def test_comparison_view(text) -> None:
    sides = [
        ComparisonPicture(
            "Before", ("a", "b"), 0.5, np.array([[2, 2], [0, 4]]), 8, np.array([0.3, 0.7])
        ),
        ComparisonPicture("Now", ("a", "b", "c"), 1.0, np.eye(3, dtype=int) * 5, 15, None),
    ]
    surface = blank()
    views.draw_comparison(surface, AREA, text, sides)
    assert_only_inside(surface, AREA)
    pixels = {tuple(c) for c in pygame.surfarray.array3d(surface).reshape(-1, 3)}
    assert theme.ACCENT in pixels  # the big accuracy figures
    assert theme.GOOD in pixels  # a fully-right diagonal cell
    views.draw_comparison(blank(), AREA, text, [])


def test_saliency_view_says_so_when_no_square_stands_out(text) -> None:
    marked, unmarked = blank(), blank()
    strength = np.zeros(24)
    views.draw_saliency_fingerprint(unmarked, AREA, text, np.full(24, 0.5), strength, "still")
    strength[0], strength[4] = 1.0, -1.0
    views.draw_saliency_fingerprint(marked, AREA, text, np.full(24, 0.5), strength, "still")

    def count(surface: pygame.Surface, colour) -> int:
        return int(np.all(pygame.surfarray.array3d(surface) == colour, axis=-1).sum())

    # The x and y labels share the push colours (axis colours); marks add far more.
    assert count(marked, views.PUSH_UP) > count(unmarked, views.PUSH_UP) + 200
    assert count(marked, views.PUSH_DOWN) > count(unmarked, views.PUSH_DOWN) + 200
    assert count(unmarked, theme.TEXT_DIM) > count(marked, theme.TEXT_DIM)  # the sentence
