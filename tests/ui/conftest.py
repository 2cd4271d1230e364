"""Headless pygame for the UI tests, and a driver that touches the app through real events."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import numpy as np
import pygame
import pytest

from kiosk.ui.app import AppOptions, KioskApp
from tests.session.journey import Journey, SteppedLink

SIZES = ((800, 480), (1280, 720), (720, 1280))


class Driver:
    """Steps the app on the journey's fake clock and posts touch events like a panel would."""

    def __init__(self, journey: Journey, size: tuple[int, int]) -> None:
        self.journey = journey
        self.session = journey.session
        self.app = KioskApp(
            journey.session, AppOptions(size=size, fullscreen=False, corner_hold_s=1.0)
        )

    def frames(self, n: int = 1, dt: float = 0.02) -> None:
        for _ in range(n):
            self.journey.clock.t += dt
            link = self.session.link
            if isinstance(link, SteppedLink):
                link.run_for(dt)
            self.app.step()

    def seconds(self, s: float) -> None:
        self.frames(max(1, round(s / 0.02)))

    def until(self, condition, limit_s: float = 30.0) -> None:
        waited = 0.0
        while not condition():
            assert waited < limit_s, "condition not reached in time"
            self.frames()
            waited += 0.02

    def post_finger(self, kind: int, pos: tuple[int, int]) -> None:
        w, h = self.app.window.get_size()
        x, y = self.app.canvas_to_window(pos)
        pygame.event.post(
            pygame.event.Event(
                kind, x=x / w, y=y / h, dx=0.0, dy=0.0, finger_id=0, touch_id=0, pressure=1.0
            )
        )

    def tap_at(self, pos: tuple[int, int], mouse: bool = False) -> None:
        if mouse:
            win = self.app.canvas_to_window(pos)
            pygame.event.post(
                pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=win, button=1, touch=False)
            )
            self.frames(2)
            pygame.event.post(
                pygame.event.Event(pygame.MOUSEBUTTONUP, pos=win, button=1, touch=False)
            )
        else:
            self.post_finger(pygame.FINGERDOWN, pos)
            self.frames(2)
            self.post_finger(pygame.FINGERUP, pos)
        self.frames(2)

    def tap(self, name: str, mouse: bool = False) -> None:
        button = self.app.button(name)
        assert button is not None and button.enabled, (
            f"no enabled {name!r} on {self.session.screen}"
        )
        self.tap_at(button.rect.center, mouse)

    def pixels(self, rect: pygame.Rect | None = None) -> np.ndarray:
        """A copy of the window's pixels (W, H, 3), or of one region of it."""
        array = pygame.surfarray.array3d(self.app.window)
        if rect is None:
            return array
        return array[rect.left : rect.right, rect.top : rect.bottom]

    def close(self) -> None:
        self.app.close()


def assert_not_blank(pixels: np.ndarray) -> None:
    colours = np.unique(pixels.reshape(-1, 3)[::7], axis=0)
    assert len(colours) > 20, "the screen looks blank"
    assert pixels.std() > 10


@pytest.fixture
def make_driver(tmp_path):
    made: list[Driver] = []

    def make(size=(800, 480), **settings) -> Driver:
        journey = Journey(tmp_path / f"d{len(made)}", **settings)
        driver = Driver(journey, size)
        made.append(driver)
        return driver

    yield make
    for d in made:
        if d.session.link is not None:
            d.session.link.close()
        d.close()
        d.session.learning.close()  # no training process outlives its test
        d.journey.store.close()
