"""Touches from pygame events, in the app's drawing coordinates.

A touch panel sends FINGER* events (positions 0..1) and SDL also synthesises
mouse events from them (``event.touch`` is true); a mouse sends only mouse
events. Only one finger is followed at a time, so a second hand on the screen
cannot confuse a press. Display rotation maps window pixels back to the
rotated drawing.

Input can never die. A touch panel sometimes loses a FINGERUP (a flaky USB
link, a finger sliding off the edge); followed blindly, that one lost event
would leave "a finger is down" set for ever and every later touch ignored.
So the followed finger is forgotten when it has been down implausibly long
(``MAX_HOLD_S``), when a new FINGERDOWN reuses its id, when the app calls
``reset`` (idle reset, screen change), and a real mouse click always counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pygame

# No visitor holds one finger still on the glass this long (the admin corner
# needs 3 s, a slider drag a few): a "down" older than this lost its "up".
MAX_HOLD_S = 20.0


@dataclass(frozen=True)
class Touch:
    kind: str  # "down" | "move" | "up"
    pos: tuple[int, int]


class TouchReader:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._finger: int | None = None
        self._finger_since = 0.0
        self._mouse_down = False
        self._mouse_since = 0.0
        self.stale_resets = 0  # how often a lost "up" was noticed (for the log and tests)

    @property
    def pressed(self) -> bool:
        """True while a finger or the mouse button is followed as down."""
        return self._finger is not None or self._mouse_down

    def reset(self) -> None:
        """Forget any finger or button that is down (idle reset, screen change)."""
        self._finger = None
        self._mouse_down = False

    def expire(self, now: float | None = None) -> bool:
        """Forget a press held implausibly long; True when one was forgotten."""
        now = self._clock() if now is None else now
        stale = (self._finger is not None and now - self._finger_since > MAX_HOLD_S) or (
            self._mouse_down and now - self._mouse_since > MAX_HOLD_S
        )
        if stale:
            self.stale_resets += 1
            self.reset()
        return stale

    def read(self, event: pygame.event.Event, window: tuple[int, int]) -> Touch | None:
        t = event.type
        now = self._clock()
        self.expire(now)
        if t in (pygame.FINGERDOWN, pygame.FINGERMOTION, pygame.FINGERUP):
            finger = getattr(event, "finger_id", 0)
            pos = (int(event.x * window[0]), int(event.y * window[1]))
            if t == pygame.FINGERDOWN:
                if self._finger is not None and finger != self._finger:
                    return None  # a second finger while the first is followed
                # A down for the finger already followed means its "up" was lost.
                self._finger, self._finger_since = finger, now
                return Touch("down", pos)
            if finger != self._finger:
                return None
            if t == pygame.FINGERUP:
                self._finger = None
                return Touch("up", pos)
            return Touch("move", pos)
        if t in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEMOTION, pygame.MOUSEBUTTONUP):
            if getattr(event, "touch", False):
                return None  # SDL's copy of a finger event
            if t == pygame.MOUSEBUTTONDOWN and event.button == 1:
                # A real mouse click: whatever finger was "down" lost its "up".
                self._finger = None
                self._mouse_down, self._mouse_since = True, now
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
