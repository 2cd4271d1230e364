"""The fingerprint's introduction stays on the record screen with the most moves, at every size."""

from __future__ import annotations

import pytest

from kiosk.session.fingerprint_words import INTRO
from kiosk.ui.app import AppOptions, KioskApp
from tests.session.journey import Journey
from tests.ui.conftest import SIZES

FIVE = ("Still", "Shake", "Circle", "Wave", "Tilt")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_five_moves_leave_room_for_the_fingerprint_introduction(tmp_path, size) -> None:
    j = Journey(tmp_path)
    j.connect_pretend()
    j.pick(*FIVE)
    for index in range(len(FIVE)):
        j.record(index, 1)
    app = KioskApp(j.session, AppOptions(size=size, fullscreen=False))
    try:
        app.cache.drawn = []
        app._static_key = None
        app.step()
        words = [w for w, _ in app.cache.drawn]
        rows = app.scene.row_rects(len(FIVE))
    finally:
        app.close()
        j.session.link.close()
        j.store.close()
    assert INTRO in " ".join(words), words
    assert "a little" in words and "a lot" in words  # the colour scale's ends
    # The rows stay big enough to touch.
    assert min(r.height for r in rows) >= app.metrics.unit * 0.8 - 1
