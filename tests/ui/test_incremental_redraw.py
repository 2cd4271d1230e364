"""The test screen skips restoring its static layer each frame; the pixels must not notice.

``KioskApp._draw`` blits the static layer only when something besides the
scene's self-clearing live parts touched the canvas, and the test screen
repaints a live part only when what it shows changed. Each frame drawn that
way must equal, pixel for pixel, the same state drawn from scratch, through
live data, frames with no new sample, "Why?", a message coming and going, and
a pressed button.
"""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from kiosk.session.screens import Screen


def _matches_a_full_redraw(driver) -> None:
    app = driver.app
    incremental = pygame.surfarray.array3d(app.canvas).copy()
    app.redraw.static_changed = True  # force the full path for the very same state
    app._draw(driver.session.now)
    full = pygame.surfarray.array3d(app.canvas)
    differing = np.argwhere((incremental != full).any(axis=2))
    assert len(differing) == 0, f"{len(differing)} stale pixels, first at {differing[0]}"


def _testing(driver, *moves: str):
    """The driver's session trained on ``moves`` (3 recordings each) and on the test screen."""
    s, j = driver.session, driver.journey
    j.connect_pretend()
    j.pick(*moves)
    for index in range(len(moves)):
        j.record(index, 3)
    s.train()
    s.learning.training.wait(900)
    driver.frames(3)
    s.test()
    assert s.screen is Screen.TEST
    return s


@pytest.mark.parametrize("size", [(800, 480), (1280, 720)])
def test_test_screen_frames_equal_full_redraws(make_driver, size) -> None:
    d = make_driver(size)
    s = _testing(d, "Still", "Shake", "Circle")
    for gesture in ("shake", "circle", "still"):
        s.set_pretend_gesture(gesture)
        for _ in range(6):
            d.frames(4)
            _matches_a_full_redraw(d)
            d.app.step()  # a frame with no new sample: the live parts are left as they are
            _matches_a_full_redraw(d)
    s._say("A message for a few seconds", "info")
    d.frames(2)
    _matches_a_full_redraw(d)
    s.messages.message = None  # the message goes: its pixels must go with it
    d.frames(2)
    _matches_a_full_redraw(d)
    s.toggle_why()
    for view in ("squares", "map", "squares"):
        s.show_why_view(view)
        for gesture in ("shake", "circle", "still"):
            s.set_pretend_gesture(gesture)
            for _ in range(5):  # "Why?" repaints only what changed: the mark, the squares
                d.frames(3)
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


def test_live_parts_are_repainted_only_when_a_sample_arrives(make_driver) -> None:
    """Frames without a new sample leave the graph and fingerprint alone; a sample repaints them."""
    d = make_driver((800, 480))
    s = _testing(d, "Still", "Shake")
    s.set_pretend_gesture("shake")
    d.frames(10)
    scene = d.app.scene
    marker = (255, 0, 255)
    spots = [scene.graph_rect.center, scene.fp_rect.center]
    for spot in spots:
        d.app.canvas.set_at(spot, marker)
    for _ in range(3):
        d.app.step()  # the board sent nothing: nothing live to repaint
    assert [tuple(d.app.canvas.get_at(spot))[:3] for spot in spots] == [marker, marker]
    # Step to the board's next Bluetooth burst (every 30-48 ms, so not every 20 ms frame
    # has one): the frame it arrives in paints a new graph and a new prediction.
    samples = s.link.samples
    before = samples.sequence
    for _ in range(10):
        d.frames(1)
        if samples.sequence > before:
            break
    assert samples.sequence > before, "the pretend board sent nothing for 10 frames"
    assert all(tuple(d.app.canvas.get_at(spot))[:3] != marker for spot in spots)


def test_a_rotated_display_always_shows_the_canvas_turned(make_driver) -> None:
    """The app turns the canvas only on frames that painted; the window must never lag behind."""
    d = make_driver((480, 800))  # a landscape screen mounted on its side
    s = _testing(d, "Still", "Shake")
    s.settings = s.settings.changed("rotation", 90)
    s.set_pretend_gesture("shake")
    d.frames(5)
    assert d.app.canvas.get_size() == (800, 480)
    for _ in range(6):
        d.frames(1)  # a new sample
        d.app.step()  # nothing new: the window keeps the last turned picture
        turned = pygame.transform.rotate(d.app.canvas, -90)
        window = pygame.surfarray.array3d(d.app.window)
        assert np.array_equal(window, pygame.surfarray.array3d(turned))
    s._say("A message for a few seconds", "info")
    d.app.step()
    s.messages.message = None
    d.app.step()  # the message goes: the window shows the canvas without it
    d.app.step()
    turned = pygame.transform.rotate(d.app.canvas, -90)
    assert np.array_equal(pygame.surfarray.array3d(d.app.window), pygame.surfarray.array3d(turned))
