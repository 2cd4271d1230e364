"""A move of the visitor's own, made by touch on the real app at every screen size."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.microbit.icons import icon_cells
from kiosk.session.own_move import Step
from kiosk.session.screens import Screen
from tests.ui.conftest import SIZES, assert_not_blank


def _lit_leds(d, rect) -> int:
    """How many bright red LED dots a region of the screen shows."""
    pixels = d.pixels(rect).reshape(-1, 3).astype(int)
    return int(((pixels[:, 0] > 200) & (pixels[:, 1] < 90) & (pixels[:, 2] < 90)).sum())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_visitor_makes_a_move_by_touch(make_driver, size) -> None:
    d = make_driver(size)
    s = d.session
    d.frames(2)
    d.tap_at((size[0] // 2, size[1] // 2))  # touch to start
    d.tap("pretend")
    d.until(lambda: s.screen is Screen.ACTIONS, 5)
    d.tap("choose_still")
    d.tap("make_own")
    assert s.screen is Screen.MAKE_MOVE
    keys = d.app.button("key_a").rect
    assert min(keys.size) >= d.app.metrics.unit - 1  # keys a child's finger hits

    d.tap("key_next")  # nothing typed yet: the kiosk says what to do
    assert s.own_move.step is Step.NAME and "Type a name" in s.messages.message.text
    empty_field = d.pixels(d.app.scene.keyboard.field)
    for key in ("z", "i", "p", "delete", "g"):
        d.tap(f"key_{key}")
    assert s.own_move.name == "Zig"
    d.seconds(6.0)  # the message goes; the field shows what was typed
    assert np.abs(d.pixels(d.app.scene.keyboard.field).astype(int) - empty_field).mean() > 1
    d.tap("key_next")
    assert s.own_move.step is Step.PICTURE

    # The pictures: the chosen one is big beside the grid; a tap chooses another.
    preview = d.app.scene.preview
    house = d.pixels(preview)
    assert_not_blank(d.pixels())
    d.tap("more_icons")
    d.tap("icon_Scissors")
    assert s.own_move.icon == "Scissors"
    assert np.abs(d.pixels(preview).astype(int) - house).mean() > 3
    lit = sum(sum(row) for row in icon_cells("Scissors"))
    assert _lit_leds(d, preview) > lit * 4  # each lit LED is a red dot of many pixels

    d.tap("back")  # to the name, and on again
    assert s.own_move.step is Step.NAME and s.own_move.name == "Zig"
    d.tap("key_next")
    d.tap("add_move")
    assert s.screen is Screen.ACTIONS
    assert [(a.name, a.icon) for a in s.data.actions] == [("Still", "Asleep"), ("Zig", "Scissors")]
    assert d.app.button("choose_zig").icon == "Scissors"  # its own card, picked
    d.tap("next")
    assert s.screen is Screen.RECORD


def test_staff_turn_own_moves_off_beside_the_keyboard(make_driver) -> None:
    d = make_driver((800, 480), idle_timeout_s=600.0)
    s = d.session
    d.journey.unlock_admin()
    s.admin_open_keyboard()
    d.frames(2)
    d.tap("own_moves")
    assert not s.settings.own_moves
    s.close_admin()
    s.screen = Screen.ACTIONS
    d.frames(2)
    assert d.app.button("make_own") is None  # no way in for visitors
