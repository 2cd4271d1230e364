"""A fault meant for staff reaches staff; the visitor reads one short sentence and a way forward."""

from __future__ import annotations

import os

import numpy as np

from kiosk.errors import LinkError
from kiosk.session.screens import Screen


def _copy_pattern(d) -> None:
    for column, height in enumerate((3, 1, 5, 2, 4)):
        d.tap(f"cell_{column}_{height}")


def _shot(d, name: str) -> None:
    keep = os.environ.get("KIOSK_UI_SHOTS")
    if keep:
        d.app.screenshot(os.path.join(keep, f"{name}.png"))


def test_a_board_that_is_not_found_asks_the_visitor_to_check_its_lights(make_driver) -> None:
    d = make_driver((800, 480))
    s = d.session
    d.journey.boards.bluetooth_works = False
    s.start()
    d.frames(2)
    _copy_pattern(d)
    d.tap("connect")
    d.frames(3)
    words = d.app.scene  # the pair scene
    assert s.connection.status == "failed"
    assert d.app.button("connect").label == "Try again"
    assert not s.faults.faults and not s.faults.unseen  # the visitor's to fix, not staff's
    _shot(d, "pair_not_found")
    assert words is not None


def test_no_bluetooth_goes_to_staff_and_the_visitor_gets_the_pretend_board(make_driver) -> None:
    d = make_driver((800, 480))
    s = d.session
    detail = (
        "Bluetooth support is not installed on this kiosk (bluepy); "
        "use a USB micro:bit or ask a member of staff."
    )

    def no_bluetooth(columns: str):
        raise LinkError(detail)

    d.journey.boards.open_bluetooth = no_bluetooth
    s.start()
    d.frames(2)
    before = d.pixels()
    _copy_pattern(d)
    d.tap("connect")
    d.frames(3)
    assert s.faults.faults == [detail] and s.faults.unseen  # the detail is staff's
    forward = d.app.button("connect")
    assert forward.label == "Use the pretend\nmicro:bit"
    corner = d.pixels()[0:12, 0:12]
    assert np.abs(corner.astype(int) - before[0:12, 0:12]).mean() > 5  # the staff mark
    _shot(d, "pair_no_bluetooth")
    d.tap("connect")
    d.frames(5)
    assert s.screen is Screen.ACTIONS and s.simulated  # the visitor carries on
    s.open_admin()
    for digit in "1234":
        d.tap(f"pin_{digit}")
    d.tap("pin_ok")
    assert not s.faults.unseen  # staff have the admin screen, which lists it
    _shot(d, "admin_fault")
