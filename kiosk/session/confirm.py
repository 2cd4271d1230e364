"""Second chances: a destructive tap asks again first, or can be undone for a few seconds.

``Confirmations`` owns the one action waiting for its second tap (which
button, what it will do in words, until when) and the one change that can
still be undone (what to say, what to put back, until when). The session's
intents ask it before destroying anything; the UI only reads it to draw the
button's "Tap again to ..." face or the "Undo" button. Time comes from the
session's injected clock, so a test steps through a deadline without waiting.

Both are forgotten by ``reset``, which the visitor reset calls: a question
asked of one visitor is never answered by the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

CONFIRM_S = 4.0  # how long a "Tap again to ..." face waits for the second tap
UNDO_S = 6.0  # how long an "Undo" stays offered

T = TypeVar("T")


@dataclass(frozen=True)
class Pending:
    """An action waiting for its second tap."""

    key: str  # which action ("start_again", "untick:Shake", "delete_all", ...)
    words: str  # the consequence, shown on the button: "Tap again to delete 12 recordings"
    until: float


@dataclass(frozen=True)
class Undoable(Generic[T]):
    """A change already made that can be put back."""

    words: str  # "Recording deleted."
    restore: T  # what the session needs to put it back
    until: float


class Confirmations:
    def __init__(self) -> None:
        self.pending: Pending | None = None
        self.undoable: Undoable[object] | None = None

    def ask(self, key: str, words: str, now: float) -> bool:
        """True when this tap confirms ``key`` (its second tap in time); else ask and say no."""
        pending = self.pending
        if pending is not None and pending.key == key and now < pending.until:
            self.pending = None
            return True
        self.pending = Pending(key, words, now + CONFIRM_S)
        return False

    def asking(self, key: str) -> Pending | None:
        """The pending question for ``key`` (the UI draws that button's second face)."""
        pending = self.pending
        return pending if pending is not None and pending.key == key else None

    def offer_undo(self, words: str, restore: object, now: float) -> None:
        self.undoable = Undoable(words, restore, now + UNDO_S)

    def take_undo(self, now: float) -> object | None:
        """What to put back, once (None when nothing can be undone any more)."""
        undoable, self.undoable = self.undoable, None
        if undoable is None or now >= undoable.until:
            return None
        return undoable.restore

    def cancel(self) -> None:
        """Another tap: the question is dropped (the undo offer stays until it runs out)."""
        self.pending = None

    def expire(self, now: float) -> None:
        if self.pending is not None and now >= self.pending.until:
            self.pending = None
        if self.undoable is not None and now >= self.undoable.until:
            self.undoable = None

    def reset(self) -> None:
        self.pending = None
        self.undoable = None
