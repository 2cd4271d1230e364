"""The one record of what must be painted again (kiosk.ui.redraw)."""

from __future__ import annotations

from kiosk.ui.redraw import Redraw


def test_a_part_is_painted_once_per_change_and_again_after_a_whole_restore() -> None:
    redraw = Redraw()
    assert not redraw.shows("bar0", (1, 2))  # nothing painted yet
    redraw.canvas_changed = False
    redraw.painted("bar0", (1, 2))
    assert redraw.canvas_changed and redraw.shows("bar0", (1, 2))
    assert not redraw.shows("bar0", (1, 3))
    redraw.restored()
    assert not redraw.shows("bar0", (1, 2))


def test_none_painted_is_remembered_and_identity_can_be_asked_for() -> None:
    redraw = Redraw()
    assert not redraw.shows("fingerprint", None, same_object=True)
    redraw.painted("fingerprint", None)
    assert redraw.shows("fingerprint", None, same_object=True)
    a, b = [1], [1]
    redraw.painted("fingerprint", a)
    assert redraw.shows("fingerprint", b) and not redraw.shows("fingerprint", b, same_object=True)
