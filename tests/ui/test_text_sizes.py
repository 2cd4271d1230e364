"""Every word on every screen is readable and fits, in every language: at least 18 px at
800x480, larger on larger screens, and never cut off.

The app's ``TextCache`` records every text it draws (``drawn``) and every text
that does not fit its room even at the floor (``overflow``); each state of the
journey (the same states ``test_layouts`` walks) is drawn at 800x480, 1280x720
and 720x1280 in English, Danish and German, and the smallest size drawn is
checked against the screen's ``Metrics.min_px`` (18 at 800x480, 24 at 1280x720
and 720x1280). Copy that overflows is cut in that language's catalog, never
shrunk below the floor. ``KIOSK_TEXT_REPORT=FILE`` writes the smallest size per
state and size (the figure the closing note of the readability work reports).
"""

from __future__ import annotations

import json
import os

import pytest

from kiosk import i18n
from kiosk.ui.app import AppOptions, KioskApp
from kiosk.ui.metrics import MIN_TEXT_PX, Metrics
from tests.ui.conftest import SIZES
from tests.ui.test_layouts import _states, trained  # noqa: F401  (the module's fixture)


def test_the_floor_scales_with_the_screen() -> None:
    small = Metrics.for_surface(800, 480)
    assert small.min_px == MIN_TEXT_PX
    for w, h in ((1280, 720), (720, 1280)):
        assert Metrics.for_surface(w, h).min_px > MIN_TEXT_PX


def test_every_language_has_a_compiled_catalog() -> None:
    """Set-up compiles the catalogs: a missing one would quietly show English instead."""
    assert i18n.available() == list(i18n.LANGUAGES), "run scripts/setup.sh (it compiles them)"
    for code in i18n.LANGUAGES:
        assert i18n.set_language(code), code


# What overflows in English on each screen: (state, room) pairs, filled by the English run.
# A few English labels overhang on purpose (the big fingerprint's staggered column
# names); a translation may overhang where English does, never anywhere else.
_STEADY_CHECKED: set[tuple[int, int]] = set()
_ENGLISH_OVERFLOW: dict[tuple[int, int], set[tuple[str, int]]] = {}


def _walk(trained, size, language):  # noqa: F811
    """Every state drawn afresh in ``language``: (floor, smallest text, overflowing text)."""
    app = KioskApp(trained.session, AppOptions(size=size, fullscreen=False))
    smallest: dict[str, tuple[int, str]] = {}
    overflow: dict[str, list[tuple[str, int, int]]] = {}
    try:
        assert i18n.set_language(language), f"no catalog for {language}"
        floor = app.metrics.min_px
        for state, go in _states(trained):
            go()
            trained.advance(0.04)
            app.cache.drawn, app.cache.overflow = [], []
            app._static_key = None  # draw the whole screen afresh, static layer too
            app.step()
            drawn, app.cache.drawn = app.cache.drawn, None
            cut, app.cache.overflow = app.cache.overflow, None
            assert drawn, f"{state}: no text drawn"
            size_px, words = min((s, w) for w, s in drawn)
            smallest[state] = (size_px, words)
            if cut:
                overflow[state] = sorted(set(cut))
        trained.session.close_admin()
        trained.advance(3.5)
    finally:
        app.close()
        i18n.set_language(i18n.SOURCE_LANGUAGE)
    return floor, smallest, overflow


def _english_overflow(trained, size) -> set[tuple[str, int]]:  # noqa: F811
    """What overflows in English, from the first walk of the states at this size and from
    a walk in the state the others leave behind (a few states draw differently the second
    time, e.g. "Why?" still open), so a translation is compared with English as it is drawn."""
    if size not in _ENGLISH_OVERFLOW:
        overflow = _walk(trained, size, i18n.SOURCE_LANGUAGE)[2]
        _ENGLISH_OVERFLOW[size] = {(st, room) for st, cut in overflow.items() for *_w, room in cut}
    if size not in _STEADY_CHECKED:
        _STEADY_CHECKED.add(size)
        overflow = _walk(trained, size, i18n.SOURCE_LANGUAGE)[2]
        _ENGLISH_OVERFLOW[size] |= {(st, room) for st, cut in overflow.items() for *_w, room in cut}
    return _ENGLISH_OVERFLOW[size]


@pytest.mark.parametrize("language", list(i18n.LANGUAGES))
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_text_smaller_than_the_floor_on_any_screen(trained, size, language) -> None:  # noqa: F811
    floor, smallest, overflow = _walk(trained, size, language)
    report = os.environ.get("KIOSK_TEXT_REPORT")
    if report:
        with open(report, "a") as out:
            out.write(json.dumps({f"{language} {size[0]}x{size[1]}": smallest}) + "\n")
    small = {s: v for s, v in smallest.items() if v[0] < floor}
    assert not small, f"text under {floor} px at {size} in {language}: {small}"
    if language == i18n.SOURCE_LANGUAGE:
        _ENGLISH_OVERFLOW[size] = {(st, room) for st, cut in overflow.items() for *_w, room in cut}
        return
    english = _english_overflow(trained, size)
    worse = {
        state: [c for c in cut if (state, c[2]) not in english] for state, cut in overflow.items()
    }
    worse = {state: cut for state, cut in worse.items() if cut}
    assert not worse, f"text too long for its room at {size} in {language}: {worse}"
