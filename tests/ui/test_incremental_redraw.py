"""The test screen skips restoring its static layer each frame; the pixels must not notice.

``KioskApp._draw`` blits the static layer only when something besides the
scene's self-clearing live parts touched the canvas. Each frame drawn that way
must equal, pixel for pixel, the same state drawn from scratch, through live
data, "Why?", a message coming and going, and a pressed button.
"""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from kiosk.session.screens import Screen


def _matches_a_full_redraw(driver) -> None:
    app = driver.app
    incremental = pygame.surfarray.array3d(app.canvas).copy()
    app._static_changed = True  # force the full path for the very same state
    app._draw(driver.session.now)
    full = pygame.surfarray.array3d(app.canvas)
    differing = np.argwhere((incremental != full).any(axis=2))
    assert len(differing) == 0, f"{len(differing)} stale pixels, first at {differing[0]}"


@pytest.mark.parametrize("size", [(800, 480), (1280, 720)])
def test_test_screen_frames_equal_full_redraws(make_driver, size) -> None:
    d = make_driver(size)
    s = d.session
    j = d.journey
    j.connect_pretend()
    j.pick("Still", "Shake", "Circle")
    for index in range(3):
        j.record(index, 3)
    s.train()
    s.training.wait(120)
    d.frames(3)
    s.test()
    assert s.screen is Screen.TEST
    for gesture in ("shake", "circle", "still"):
        s.set_pretend_gesture(gesture)
        for _ in range(6):
            d.frames(4)
            _matches_a_full_redraw(d)
    s._say("A message for a few seconds", "info")
    d.frames(2)
    _matches_a_full_redraw(d)
    s.message = None  # the message goes: its pixels must go with it
    d.frames(2)
    _matches_a_full_redraw(d)
    s.toggle_why()
    for view in ("squares", "map"):
        s.show_why_view(view)
        for gesture in ("shake", "circle"):
            s.set_pretend_gesture(gesture)
            d.frames(15)
            _matches_a_full_redraw(d)
    s.toggle_why()
    d.frames(3)
    _matches_a_full_redraw(d)
    button = d.app.button("record_more")
    d.post_finger(pygame.FINGERDOWN, button.rect.center)  # drawn pressed
    d.frames(2)
    _matches_a_full_redraw(d)
    d.post_finger(pygame.FINGERMOTION, (2, d.app.metrics.height - 2))
    d.frames(1)
    d.app._pressed = None  # let go away from the button: nothing tapped
    d.frames(2)
    _matches_a_full_redraw(d)
