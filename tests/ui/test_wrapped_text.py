"""Wrapped text stays inside its room: too long even at the smallest size, it is cut
with an ellipsis rather than drawn over the next button."""

from __future__ import annotations

import pygame

from kiosk.ui import draw
from kiosk.ui.text import TextCache

LONG = (
    "Fault: the store could not be written (disk full). At start-up: the database was "
    "moved aside and recovered. 3 moves, 16 recordings. Board: Simulated micro:bit. "
    "Changes last until the next restart."
)


def drawn_lines(words: str, rect: pygame.Rect) -> tuple[list[str], int, int]:
    pygame.init()
    cache = TextCache(floor=18)
    cache.drawn = []
    surface = pygame.Surface((400, 400))
    bottom = draw.wrapped(surface, cache, words, 22, (255, 255, 255), rect)
    return [w for w, _ in cache.drawn], bottom, cache.font(18).get_linesize()


def test_text_too_long_for_its_room_is_cut_with_an_ellipsis() -> None:
    rect = pygame.Rect(10, 10, 190, 120)
    lines, bottom, line_h = drawn_lines(LONG, rect)
    assert bottom <= rect.bottom, "drawn below its room"
    assert len(lines) == rect.height // line_h
    assert lines[-1].endswith("\u2026")
    pygame.init()
    font = TextCache(floor=18).font(18)
    assert all(font.size(line)[0] <= rect.width for line in lines)
    assert " ".join(lines).startswith("Fault: the store could not be written")


def test_text_that_fits_is_drawn_whole() -> None:
    rect = pygame.Rect(10, 10, 380, 380)
    lines, bottom, _ = drawn_lines(LONG, rect)
    assert " ".join(lines) == LONG and bottom <= rect.bottom
