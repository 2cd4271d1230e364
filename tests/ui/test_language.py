"""A visitor picks their language on the attract screen; staff set the one each visitor starts in.

Driven by touch on the real app: the language buttons (each language by its
own name) are finger-sized and on screen at every size, a tap changes every
word from then on (the catalogs are the compiled ones set-up built), and the
visitor reset puts back staff's default.
"""

from __future__ import annotations

import itertools

import numpy as np
import pygame
import pytest

from kiosk import i18n
from kiosk.session.screens import Screen
from kiosk.settings import Settings
from tests.session.journey import Journey
from tests.ui.conftest import SIZES


def _texts(d) -> list[str]:
    """Every text the next full frame draws."""
    d.app.cache.drawn = []
    d.app._static_key = None
    d.frames(1)
    drawn, d.app.cache.drawn = d.app.cache.drawn, None
    return [words for words, _size in drawn]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_language_buttons_are_named_in_their_own_language_and_finger_sized(
    make_driver, size
) -> None:
    d = make_driver(size)
    d.frames(3)
    m = d.app.metrics
    buttons = [d.app.button(f"language_{code}") for code in i18n.LANGUAGES]
    assert all(b is not None for b in buttons)
    assert [b.label for b in buttons] == ["English", "Dansk", "Deutsch"]
    screen = pygame.Rect(0, 0, m.width, m.height)
    for b in buttons:
        assert screen.contains(b.rect) and min(b.rect.size) >= m.unit - 1, (b.name, b.rect)
    for a, b in itertools.combinations(buttons, 2):
        assert not a.rect.colliderect(b.rect)
    assert d.app.button("language_en").style == "selected"


def test_a_visitor_s_language_lasts_their_visit_and_the_next_starts_in_staff_s(
    make_driver,
) -> None:
    d = make_driver((800, 480))
    s = d.session
    d.frames(3)
    english = d.pixels()
    assert "Touch to start" in _texts(d)
    d.tap("language_de")
    assert s.screen is Screen.ATTRACT and s.language.code == "de" == i18n.language()
    assert d.app.button("language_de").style == "selected"
    words = _texts(d)
    assert "Tippen zum Starten" in words and "Touch to start" not in words
    assert np.abs(d.pixels().astype(int) - english).mean() > 1.0
    d.tap_at((d.app.metrics.width // 3, d.app.metrics.height // 3))  # touch to start
    assert s.screen is Screen.PAIR
    assert "Verbinde deinen micro:bit" in _texts(d)
    d.tap("pretend")
    d.until(lambda: s.screen is Screen.ACTIONS, 5)
    d.tap("choose_schütteln")  # the preset moves are offered in the visitor's language
    assert s.data.names == ("Schütteln",)
    # Start again (asked, then confirmed): the next visitor starts in staff's default.
    d.tap("start_again")
    d.tap("start_again")
    assert s.screen is Screen.ATTRACT
    assert s.language.code == "en" == i18n.language()
    assert "Touch to start" in _texts(d)


def test_staff_choose_the_language_each_visitor_starts_in(tmp_path) -> None:
    j = Journey(tmp_path, language="da")
    s = j.session
    assert s.language.code == "da" == i18n.language()
    s.choose_language("en")
    j.unlock_admin()
    s.admin_cycle_language()  # da -> de, shown now so staff see it
    assert s.settings.language == "de" and i18n.language() == "de"
    s.reset_visitor()
    assert s.language.code == "de" == i18n.language()
    with pytest.raises(ValueError, match="xx"):
        s.choose_language("xx")
    j.store.close()


def test_the_language_setting_accepts_only_the_kiosk_s_languages() -> None:
    assert Settings(language="de").language == "de"
    with pytest.raises(ValueError, match="must be one of"):
        Settings().changed("language", "fr")


def test_staff_change_the_default_on_the_admin_screen_by_touch(make_driver) -> None:
    d = make_driver((800, 480))
    s = d.session
    d.journey.unlock_admin()
    d.frames(2)
    assert d.app.button("language_default").label == "Language:\nEnglish"
    d.tap("language_default")
    assert s.settings.language == "da" and i18n.language() == "da"
    assert d.app.button("language_default").label == "Sprog:\nDansk"  # shown in it at once
