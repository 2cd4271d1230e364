"""The journey driven by touch events on the real app; checks the session and the pixels."""

from __future__ import annotations

import numpy as np
import pygame

from kiosk.session.screens import Screen
from tests.ui.conftest import assert_not_blank


def test_touches_walk_the_journey_and_the_screen_follows(make_driver) -> None:
    d = make_driver((800, 480))
    s = d.session
    d.frames(3)
    attract = d.pixels()
    assert_not_blank(attract)
    d.tap_at((400, 240))
    assert s.screen is Screen.PAIR
    pair = d.pixels()
    assert_not_blank(pair)
    assert np.abs(pair.astype(int) - attract).mean() > 10

    # Tapping a cell sets its column's height, and the grid lights up to match.
    scene = d.app.scene
    before = d.pixels(scene.grid_rect)
    for column, height in enumerate((3, 1, 5, 2, 4)):
        d.tap(f"cell_{column}_{height}")
    assert s.connection.grid.columns_text == "31524"
    after = d.pixels(scene.grid_rect)
    assert np.abs(after.astype(int) - before).mean() > 3
    top_cell = scene.cells[2]  # row 0, column 2: lit only for a height of 5
    red = d.pixels(top_cell).reshape(-1, 3)
    assert (red[:, 0] > 200).mean() > 0.1 and (red[:, 1] < 80).mean() > 0.1

    d.tap("pretend")
    d.until(lambda: s.screen is Screen.ACTIONS, 5)
    card = d.app.button("choose_shake").rect
    plain = d.pixels(card)
    d.tap("choose_still", mouse=True)  # a mouse works as well as a finger
    d.tap("choose_shake")
    assert s.data.names == ("Still", "Shake")
    assert np.abs(d.pixels(card).astype(int) - plain).mean() > 10  # picked cards look picked
    d.tap("next")
    assert s.screen is Screen.RECORD

    # Record: the new recording's fingerprint tile appears in the move's row.
    d.tap("action_1")
    slot = d.app.scene.row_parts(d.app.scene.row_rects(2)[1])[1][0]
    empty = d.pixels(slot)
    d.tap("record")
    d.until(lambda: s.collecting.recorder.busy and s.collecting.recorder.progress(s.now) > 0.3, 5)
    recording = d.pixels()
    d.until(lambda: not s.collecting.recorder.busy, 5)
    d.frames(2)
    assert len(s.data.actions[1].recordings) == 1
    tile = d.pixels(slot)
    assert np.abs(tile.astype(int) - empty).mean() > 10
    assert np.abs(d.pixels().astype(int) - recording).mean() > 3  # the countdown overlay is gone

    # Tap the tile: it is shown larger, then deleted.
    rid = s.data.actions[1].recordings[0].id
    d.tap(f"tile_{rid}")
    assert s.collecting.viewing_recording == rid
    assert_not_blank(d.pixels())
    d.tap("delete_recording")
    assert s.data.actions[1].recordings == [] and s.collecting.viewing_recording is None
    # "Undo" puts it back, for a few seconds.
    d.tap("undo")
    assert [e.id for e in s.data.actions[1].recordings] != []
    assert d.app.button("undo") is None

    # "Start again" is always there; the first tap asks (the button says what it will do),
    # the second resets everything.
    d.tap("start_again")
    assert s.screen is Screen.RECORD and "start over" in d.app.button("start_again").label
    d.tap("start_again")
    assert s.screen is Screen.ATTRACT and s.data.actions == []


def test_keys_and_window_close_cannot_leave_a_locked_kiosk(make_driver) -> None:
    d = make_driver((800, 480))
    d.tap_at((400, 240))
    for event in (
        pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, unicode="\x1b", scancode=41),
        pygame.event.Event(
            pygame.KEYDOWN, key=pygame.K_F4, mod=pygame.KMOD_ALT, unicode="", scancode=61
        ),
        pygame.event.Event(pygame.QUIT),
    ):
        pygame.event.post(event)
    d.frames(3)
    assert d.app.running and d.session.screen is Screen.PAIR


def test_holding_the_corner_opens_the_pin_pad(make_driver) -> None:
    d = make_driver((800, 480))
    d.tap_at((400, 240))
    d.post_finger(pygame.FINGERDOWN, (5, 5))
    d.seconds(0.5)
    assert d.session.screen is Screen.PAIR  # not yet
    d.seconds(0.7)
    d.post_finger(pygame.FINGERUP, (5, 5))
    d.frames(2)
    assert d.session.screen is Screen.ADMIN and not d.session.staff.unlocked
    for digit in "1234":
        d.tap(f"pin_{digit}")
    assert not d.session.staff.unlocked  # 4 of up to 8 digits: the pad waits for OK
    d.tap("pin_ok")
    assert d.session.staff.unlocked
    d.tap("close_admin")
    assert d.session.screen is Screen.PAIR


def test_idle_countdown_is_shown_and_a_touch_only_cancels_it(make_driver) -> None:
    d = make_driver((800, 480), idle_timeout_s=2.0, idle_countdown_s=3.0)
    s = d.session
    d.tap_at((400, 240))
    d.frames(2)
    calm = d.pixels()
    d.seconds(2.2)
    assert s.idle_countdown() is not None
    counting = d.pixels()
    assert np.abs(counting.astype(int) - calm).mean() > 10  # the whole screen is dimmed
    # The touch lands on "Pretend micro:bit" but only says "still here".
    d.tap("pretend")
    assert s.idle_countdown() is None and s.link is None
    d.seconds(5.5)
    assert s.screen is Screen.ATTRACT and s.reset_count == 1


def test_rotated_display_maps_touches_to_the_turned_drawing(make_driver) -> None:
    d = make_driver((800, 480))
    d.session.settings = d.session.settings.changed("rotation", 90)
    d.frames(2)
    assert d.app.canvas.get_size() == (480, 800) and d.app.metrics.portrait
    d.tap_at((240, 400))  # the middle: "touch to start"
    assert d.session.screen is Screen.PAIR
    d.tap("cell_4_2")
    assert d.session.connection.grid.heights[4] == 2
    assert_not_blank(d.pixels())
