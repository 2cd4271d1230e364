"""The admin screen's "Prepare a micro:bit" page, by touch, with the flash stood in for."""

from __future__ import annotations

from kiosk.session.board_prep import FlashOutcome
from kiosk.session.screens import Screen
from tests.ui.conftest import assert_not_blank


def test_staff_prepare_a_usb_board_by_touch(make_driver) -> None:
    d = make_driver((800, 480))
    s = d.session
    d.journey.connect_pretend()
    flashed: list[str] = []

    def fake_flash(role, progress):
        progress("Copying kiosk-usb-v2.hex to the micro:bit…")
        flashed.append(role)
        return FlashOutcome(f"the kiosk's program 1.0 ({role})", "42")

    s.board_prep.flash_call = fake_flash
    s.open_admin()
    for digit in "1234":
        s.enter_pin_digit(digit)
    s.submit_pin()
    d.frames(2)
    assert s.screen is Screen.ADMIN
    d.tap("prepare_board")
    assert s.board_prep.open
    assert_not_blank(d.pixels())
    d.tap("prepare_usb")
    assert s.link is None  # the flasher has the board to itself
    assert s.board_prep.wait(10)
    d.frames(2)
    assert flashed == ["usb"]
    assert s.board_prep.outcome is not None and "(usb)" in s.board_prep.outcome
    assert_not_blank(d.pixels())
    d.tap("prepare_back")
    assert not s.board_prep.open
    assert d.app.button("prepare_board") is not None
