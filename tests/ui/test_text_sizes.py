"""Every word on every screen is readable: at least 18 px at 800x480, and larger on larger screens.

The app's ``TextCache`` records every text it draws (``drawn``); each state of
the journey (the same states ``test_layouts`` walks) is drawn at 800x480,
1280x720 and 720x1280, and the smallest size drawn is checked against the
screen's ``Metrics.min_px`` (18 at 800x480, 24 at 1280x720 and 720x1280).
``KIOSK_TEXT_REPORT=FILE`` writes the smallest size per state and size (the
figure the closing note of the readability work reports).
"""

from __future__ import annotations

import json
import os

import pytest

from kiosk.ui.app import AppOptions, KioskApp
from kiosk.ui.metrics import MIN_TEXT_PX, Metrics
from tests.ui.conftest import SIZES
from tests.ui.test_layouts import _states, trained  # noqa: F401  (the module's fixture)


def test_the_floor_scales_with_the_screen() -> None:
    small = Metrics.for_surface(800, 480)
    assert small.min_px == MIN_TEXT_PX
    for w, h in ((1280, 720), (720, 1280)):
        assert Metrics.for_surface(w, h).min_px > MIN_TEXT_PX


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_text_smaller_than_the_floor_on_any_screen(trained, size) -> None:  # noqa: F811
    app = KioskApp(trained.session, AppOptions(size=size, fullscreen=False))
    smallest: dict[str, tuple[int, str]] = {}
    try:
        floor = app.metrics.min_px
        for state, go in _states(trained):
            go()
            trained.advance(0.04)
            app.cache.drawn = []
            app._static_key = None  # draw the whole screen afresh, static layer too
            app.step()
            drawn, app.cache.drawn = app.cache.drawn, None
            assert drawn, f"{state}: no text drawn"
            size_px, words = min((s, w) for w, s in drawn)
            smallest[state] = (size_px, words)
        trained.session.close_admin()
        trained.advance(3.5)
    finally:
        app.close()
    report = os.environ.get("KIOSK_TEXT_REPORT")
    if report:
        with open(report, "a") as out:
            out.write(json.dumps({f"{size[0]}x{size[1]}": smallest}) + "\n")
    small = {s: v for s, v in smallest.items() if v[0] < floor}
    assert not small, f"text under {floor} px at {size}: {small}"
