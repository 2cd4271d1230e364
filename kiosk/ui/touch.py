"""Touches from pygame events, in the app's drawing coordinates.

A touch panel sends FINGER* events (positions 0..1) and SDL also synthesises
mouse events from them (``event.touch`` is true); a mouse sends only mouse
events. Only one finger is followed at a time, so a second hand on the screen
cannot confuse a press. Display rotation maps window pixels back to the
rotated drawing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pygame


@dataclass(frozen=True)
class Touch:
    kind: str  # "down" | "move" | "up"
    pos: tuple[int, int]


class TouchReader:
    def __init__(self) -> None:
        self._finger: int | None = None
        self._mouse_down = False

    def read(self, event: pygame.event.Event, window: tuple[int, int]) -> Touch | None:
        t = event.type
        if t in (pygame.FINGERDOWN, pygame.FINGERMOTION, pygame.FINGERUP):
            finger = getattr(event, "finger_id", 0)
            pos = (int(event.x * window[0]), int(event.y * window[1]))
            if t == pygame.FINGERDOWN:
                if self._finger is not None:
                    return None
                self._finger = finger
                return Touch("down", pos)
            if finger != self._finger:
                return None
            if t == pygame.FINGERUP:
                self._finger = None
                return Touch("up", pos)
            return Touch("move", pos)
        if t in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEMOTION, pygame.MOUSEBUTTONUP):
            if getattr(event, "touch", False) or self._finger is not None:
                return None  # SDL's copy of a finger event
            if t == pygame.MOUSEBUTTONDOWN and event.button == 1:
                self._mouse_down = True
                return Touch("down", event.pos)
            if t == pygame.MOUSEBUTTONUP and event.button == 1 and self._mouse_down:
                self._mouse_down = False
                return Touch("up", event.pos)
            if t == pygame.MOUSEMOTION and self._mouse_down:
                return Touch("move", event.pos)
        return None


def to_canvas(pos: tuple[int, int], rotation: int, canvas: tuple[int, int]) -> tuple[int, int]:
    """Window pixel -> drawing pixel, for a drawing shown rotated ``rotation`` degrees clockwise."""
    x, y = pos
    w, h = canvas
    if rotation == 90:
        return (y, h - 1 - x)
    if rotation == 180:
        return (w - 1 - x, h - 1 - y)
    if rotation == 270:
        return (w - 1 - y, x)
    return (x, y)
