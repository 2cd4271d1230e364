"""The incrementally drawn live graph must look like the same samples drawn from scratch."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import numpy as np
import pygame
import pytest

from kiosk.signal import SampleBuffer
from kiosk.ui import theme
from kiosk.ui.live_graph import LiveGraph

SIZE = (300, 120)
SPAN_S = 3.0


@pytest.fixture(autouse=True)
def _display():
    pygame.display.init()
    pygame.display.set_mode((400, 200))
    yield
    pygame.display.quit()


def _picture(graph: LiveGraph) -> np.ndarray:
    surface = pygame.Surface(SIZE).convert()
    surface.fill((255, 0, 255))
    graph.blit(surface, surface.get_rect())
    return pygame.surfarray.array3d(surface)


def _fresh(buffer: SampleBuffer) -> np.ndarray:
    graph = LiveGraph(SIZE, SPAN_S)
    graph.update(buffer)
    return _picture(graph)


def _stream(buffer: SampleBuffer, start: int, count: int, t0: float = 100.0) -> None:
    """Samples every 20 ms; the three axes kept apart so their traces never cross."""
    for i in range(start, start + count):
        wiggle = 0.3 * np.sin(i / 7.0)
        buffer.append(t0 + 0.02 * i, 1.4 + wiggle, wiggle, -1.4 + wiggle)


def test_samples_added_a_few_at_a_time_match_a_graph_drawn_from_scratch() -> None:
    buffer = SampleBuffer()
    graph = LiveGraph(SIZE, SPAN_S)
    assert graph.update(buffer) is False  # nothing yet: the blank panel is already there
    sent = 0
    # Bursts of 1-3 like Bluetooth, for 9 s: the newest sample runs off the strip's edge
    # (every 3 s) and the strip is drawn again, twice over.
    rng = np.random.default_rng(3)
    while sent < 450:
        burst = int(rng.integers(1, 4))
        _stream(buffer, sent, burst)
        sent += burst
        assert graph.update(buffer) is True
        assert graph.update(buffer) is False  # no new sample, no change
        if sent % 5 == 0 or sent > 440:
            assert np.array_equal(_picture(graph), _fresh(buffer)), f"differs after {sent}"
    assert graph.has_trace


def test_the_newest_sample_is_at_the_right_edge_and_the_oldest_shown_three_seconds_back() -> None:
    buffer = SampleBuffer()
    graph = LiveGraph(SIZE, SPAN_S)
    for i in range(400):  # 8 s of a still board lying flat: x = y = 0, z = -1 g
        buffer.append(50.0 + 0.02 * i, 0.0, 0.0, -1.0)
        graph.update(buffer)
    picture = _picture(graph)
    w, h = SIZE
    z_row = int((h - 1) / 2.0 + (1.0 / 2.2) * (h - 1) / 2.0)
    z_colour = theme.AXES[2]
    assert tuple(picture[w - 1, z_row]) == z_colour
    assert tuple(picture[0, z_row]) == z_colour  # the trace fills the whole span
    assert (picture != (255, 0, 255)).any(axis=2).all()  # every pixel painted


def test_a_new_buffer_a_cleared_one_or_time_going_back_starts_the_picture_again() -> None:
    first = SampleBuffer()
    _stream(first, 0, 100)
    graph = LiveGraph(SIZE, SPAN_S)
    graph.update(first)
    second = SampleBuffer()
    _stream(second, 0, 30, t0=7.0)
    assert graph.update(second) is True
    assert np.array_equal(_picture(graph), _fresh(second))
    second.clear()
    assert graph.update(second) is True
    assert not graph.has_trace
    blank = _picture(graph)
    assert tuple(blank[5, 5]) == theme.PANEL
    assert tuple(blank[5, (SIZE[1] - 1) // 2]) == theme.PANEL_LIGHT  # the zero line
    _stream(second, 0, 50, t0=3.0)  # earlier times than anything drawn before
    graph.update(second)
    assert np.array_equal(_picture(graph), _fresh(second))
    assert graph.update(None) is True  # the board went away
    assert not graph.has_trace
