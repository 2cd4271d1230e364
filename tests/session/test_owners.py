"""One owner per piece of state: a visitor reset and an admin lock leave nothing behind.

Each owner's state after a whole visit (and a staff visit) and a reset is
compared with a session that has never had a visitor. The comparison walks the
owners' attributes generically, so a field added to an owner later is covered
without touching this test.
"""

from __future__ import annotations

import enum
import functools
import inspect
import itertools
from typing import Any

import numpy as np
import pytest

from kiosk.session.connection import PairStatus
from kiosk.session.screens import TRANSITIONS, Screen, TransitionError, check_transition

from .journey import Journey

OWNERS = (
    "connection",
    "collecting",
    "learning",
    "staff",
    "messages",
    "board_prep",
    "confirm",
    "own_move",
    "usb",
    "take_home",
    "language",
)
# Shared resources an owner is handed, not state it keeps for a visitor.
_RESOURCES = {"store", "window", "_store", "_clock", "writer"}


def _state(value: Any, depth: int = 0) -> Any:
    """A comparable picture of an owner's state: plain values, containers, nested owners."""
    if value is None or isinstance(value, bool | int | float | str | enum.Enum):
        return value
    if isinstance(value, np.ndarray):
        return ("array", value.shape)
    if isinstance(value, list | tuple):
        return [_state(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: _state(v, depth + 1) for k, v in value.items()}
    if inspect.isroutine(value) or isinstance(value, functools.partial):
        return "callable"
    if depth >= 3 or not hasattr(value, "__dict__"):
        return type(value).__name__
    return {
        name: _state(v, depth + 1)
        for name, v in vars(value).items()
        # "version" counters only ever grow, so that the screen knows when to redraw.
        if name not in _RESOURCES and name != "version" and not name.endswith("_times")
    }


def _differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Leaf-level differences between two ``_state`` pictures, as "path: a != b" lines."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            out += _differences(a.get(key, "<absent>"), b.get(key, "<absent>"), f"{where}.{key}")
        return out
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]


def _owners(journey: Journey) -> dict[str, Any]:
    s = journey.session
    return {name: _state(getattr(s, name)) for name in OWNERS}


def _a_whole_visit(journey: Journey) -> None:
    s = journey.session
    journey.connect_pretend()
    journey.pick("Still", "Shake")
    s.edit_actions()
    journey.make_own_move("Hop", "Rabbit")  # a move of their own too
    assert s.data.names == ("Still", "Shake", "Hop")
    s.actions_done()
    journey.record(2, 3)
    journey.record(0, 3)
    journey.record(1, 3)
    s.view_recording(s.data.actions[0].recordings[0].id)
    s.train()
    assert s.learning.training is not None
    s.learning.training.wait(120)
    journey.advance(0.1)
    if s.settings.teacher_mode:  # the class tries the other model too
        s.choose_model("knn")
        assert s.learning.training is not None
        s.learning.training.wait(120)
        journey.advance(0.1)
        s.choose_model("nn")  # and back: the network, kept, is the one that goes home
        assert s.learning.training is None
    s.test()
    s.toggle_why()
    journey.advance(1.0)
    assert s.learning.tester is not None and s.learning.trained is not None
    s.put_model_on_microbit()  # no board comes: the job is still waiting at the reset
    assert s.take_home.busy
    s.choose_language("de")  # the visitor's language, which the next visitor must not inherit


def test_a_visitor_reset_leaves_no_visitor_state_in_any_owner(make_journey) -> None:
    fresh = make_journey(teacher_mode=True)
    used = make_journey(teacher_mode=True)
    _a_whole_visit(used)
    used.session.set_pair_column(0, 3)  # something half-typed on the grid too
    used.session.reset_visitor()
    fresh.session.reset_visitor()  # the same single call, on a session nobody used
    assert used.session.screen is Screen.ATTRACT
    assert used.session.data.actions == []
    assert _differences(_owners(used), _owners(fresh)) == []


def test_the_store_writer_has_one_owner_that_joins_it(make_journey) -> None:
    """The session owns the one writer thread: every change goes through it, close joins it."""
    j = make_journey()
    s = j.session
    _a_whole_visit(j)
    assert s.data.writer is s.writer and s.writer.alive
    assert s.writer.committed > 0  # the visit's recordings, thresholds, model
    s.reset_visitor()
    assert s.writer.flush() and s.writer.pending == 0  # the wipe committed, nothing left over
    assert j.store.load_dataset(s.data.project_id).actions == ()
    s.close()
    assert not s.writer.alive  # joined


def test_staff_pairing_the_kiosks_board_does_not_survive_the_visitor_reset(journey) -> None:
    """The staff-only "pair a fixed board" request once bound the next visitor's board."""
    s = journey.session
    journey.unlock_admin()
    s.admin_pair_fixed_board()
    assert s.screen is Screen.PAIR and s.connection.pairing_fixed_board
    s.start_again()  # staff walk away without pairing
    assert not s.connection.pairing_fixed_board
    # The next visitor pairs their own board: it must not become the kiosk's board.
    s.start()
    for column in range(5):
        s.set_pair_column(column, 2)
    s.pair()
    journey.advance(0.1)
    assert s.connected and s.settings.fixed_pattern == ""


def test_an_admin_lock_leaves_nothing_typed_or_open(make_journey) -> None:
    fresh = make_journey()
    j = make_journey()
    s = j.session
    j.unlock_admin()
    s.admin_open_keyboard()
    s.admin_type("a")
    s.admin_open_compare()
    s.admin_usb_open()
    assert s.usb.open
    s.close_admin()
    fresh.session.open_admin()
    fresh.session.close_admin()
    assert not s.staff.unlocked and not s.staff.compare.open and not s.usb.open
    assert _differences(_state(s.staff), _state(fresh.session.staff)) == []
    assert _differences(_state(s.usb), _state(fresh.session.usb)) == []


def test_the_admin_screen_locks_itself_after_the_idle_time(make_journey) -> None:
    j = make_journey(idle_timeout_s=30.0, idle_countdown_s=5.0)
    s = j.session
    j.unlock_admin()
    j.advance(20.0, step=0.5)
    assert s.screen is Screen.ADMIN and s.staff.unlocked  # staff still have time
    j.advance(20.0, step=0.5)
    assert s.screen is Screen.ATTRACT and not s.staff.unlocked


def test_every_screen_change_of_a_journey_is_in_the_table(journey) -> None:
    _a_whole_visit(journey)
    visited = journey.session.screens_visited
    for source, target in itertools.pairwise(visited):
        assert target in TRANSITIONS[source], (source, target)


def test_a_screen_change_outside_the_table_is_refused() -> None:
    with pytest.raises(TransitionError, match="attract screen to test"):
        check_transition(Screen.ATTRACT, Screen.TEST)
    check_transition(Screen.ADMIN, Screen.TEST)  # closing admin returns anywhere


def test_a_failed_pairing_is_forgotten_by_the_reset(journey) -> None:
    s = journey.session
    s.start()
    for column in range(5):
        s.set_pair_column(column, 2)
    journey.boards.bluetooth_works = False
    s.pair()
    journey.advance(0.1)
    assert s.connection.status is PairStatus.FAILED
    s.reset_visitor()
    assert s.connection.status is PairStatus.IDLE and s.connection.message == ""
    assert s.connection.grid.heights == [0] * 5
