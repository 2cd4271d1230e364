"""With the pretend micro:bit, the test screen says what its "act it out" buttons do,
where the bars leave room for it (few moves, a large screen), and never squeezed in."""

from __future__ import annotations

import pytest

from tests.session.journey import Journey
from tests.ui.conftest import SIZES, Driver

HINT = "No micro:bit? Tap \u201cact it out\u201d and the pretend one does that move."


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    """The test screen with the pretend board, three moves and a model."""
    journey = Journey(tmp_path_factory.mktemp("three")).on_the_test_screen(
        ("Still", "Shake", "Circle")
    )
    yield journey
    journey.session.link.close()
    journey.session.close()
    journey.store.close()


@pytest.fixture(scope="module")
def five(tmp_path_factory):
    journey = Journey(tmp_path_factory.mktemp("five")).on_the_test_screen(
        ("Still", "Shake", "Circle", "Clap", "Jump")
    )
    yield journey
    journey.session.link.close()
    journey.session.close()
    journey.store.close()


def _words_drawn(journey: Journey, size: tuple[int, int]) -> str:
    driver = Driver(journey, size)
    try:
        driver.app.cache.drawn = []
        driver.app._static_key = None  # the whole screen afresh
        driver.frames(1)
        drawn, driver.app.cache.drawn = driver.app.cache.drawn, None
    finally:
        driver.close()
    return " ".join(words for words, _px in drawn)


@pytest.mark.parametrize("size", [(800, 480), (1280, 720)], ids=["800x480", "1280x720"])
def test_the_hint_is_shown_whole_where_the_bars_leave_room(three, size) -> None:
    assert three.session.simulated
    assert HINT in _words_drawn(three, size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_room_no_hint(five, size) -> None:
    # Five bars fill the column (and portrait gives the live view the rest): the
    # buttons' own words must do, rather than a hint squeezed or cut.
    assert "No micro:bit?" not in _words_drawn(five, size)
