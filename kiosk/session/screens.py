"""The screens of the visitor's journey, and which screen may follow which.

``TRANSITIONS`` is the one table of the journey's moves: the session changes
screen only through it, so a screen change that the table does not list is a
bug caught at once (and a test reads the journey from here).
"""

from __future__ import annotations

import enum


class Screen(enum.Enum):
    ATTRACT = "attract"
    PAIR = "pair"
    ACTIONS = "actions"
    MAKE_MOVE = "make_move"  # a move of the visitor's own: its name, then its picture
    RECORD = "record"
    TRAIN = "train"
    TEST = "test"
    ADMIN = "admin"


# From every visitor screen: back to the start (reset), to pairing (the board was
# lost, or staff pair the kiosk's board) and to the admin screen (the hidden corner).
_ALWAYS = frozenset({Screen.ATTRACT, Screen.PAIR, Screen.ADMIN})

TRANSITIONS: dict[Screen, frozenset[Screen]] = {
    # A board already connected; a visit resumed after a restart retrains its model.
    Screen.ATTRACT: _ALWAYS | {Screen.ACTIONS, Screen.RECORD, Screen.TRAIN},
    Screen.PAIR: _ALWAYS | {Screen.ACTIONS, Screen.RECORD},  # connected
    Screen.ACTIONS: _ALWAYS | {Screen.RECORD, Screen.MAKE_MOVE},
    Screen.MAKE_MOVE: _ALWAYS | {Screen.ACTIONS},  # made, or given up
    Screen.RECORD: _ALWAYS | {Screen.ACTIONS, Screen.TRAIN, Screen.TEST},  # a model is ready
    Screen.TRAIN: _ALWAYS | {Screen.TEST, Screen.RECORD},
    Screen.TEST: _ALWAYS | {Screen.RECORD, Screen.TRAIN},
    # Closing the admin screen returns to whichever screen it was opened over.
    Screen.ADMIN: frozenset(Screen),
}


class TransitionError(RuntimeError):
    """A screen change the journey does not allow (a bug, not a visitor's mistake)."""


def check_transition(source: Screen, target: Screen) -> None:
    if target is not source and target not in TRANSITIONS[source]:
        raise TransitionError(f"no way from the {source.value} screen to {target.value}")
