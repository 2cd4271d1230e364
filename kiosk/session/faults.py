"""Faults for staff, words for visitors: one short sentence and a way forward.

A micro:bit that cannot be found is the visitor's to fix ("check its lights
match"); no Bluetooth adapter, a missing runtime or a full disk are not, and a
child must not be handed them. ``visitor_words`` turns a link's detailed
failure into the sentence a visitor reads and says whether it is a staff
fault (then the way forward is the pretend micro:bit, not "Try again").
``StaffFaults`` keeps the detail for staff (the log, the admin screen and a
small indicator) and, being the kiosk's and not the visitor's, survives a
visitor reset on purpose.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from kiosk.i18n import _

log = logging.getLogger(__name__)

KEEP = 5  # the newest distinct faults shown to staff

# Words in a link's detailed failure that mean the kiosk, not the visitor, has a problem.
_STAFF_SIGNS = (
    "not installed",
    "not available on this kiosk",
    "adapter",
    "permission",
    "kiosk's program",
    "does not send movement data",
)


@dataclass(frozen=True)
class VisitorWords:
    sentence: str  # one short sentence
    staff_fault: bool  # True: "Try again" cannot help; offer the pretend micro:bit


def visitor_words(detail: str) -> VisitorWords:
    """What a visitor reads about a failed connection (``detail`` goes to staff)."""
    lowered = detail.lower()
    if "movement data" in lowered or "kiosk's program" in lowered:
        return VisitorWords(_("That micro:bit can't talk to this kiosk."), True)
    if any(sign in lowered for sign in _STAFF_SIGNS):
        return VisitorWords(_("Bluetooth isn't working here today."), True)
    # The detail may be the board words already in the visitor's language.
    if "plugged in" in lowered or _("No micro:bit is plugged in.").lower() in lowered:
        return VisitorWords(_("No micro:bit is plugged in."), False)
    return VisitorWords(_("We can't find it: check the lights match."), False)


@dataclass
class StaffFaults:
    """The newest distinct faults meant for staff, and whether staff have seen them."""

    faults: list[str] = field(default_factory=list)
    unseen: bool = False

    def note(self, detail: str) -> None:
        log.warning("for staff: %s", detail)
        if detail in self.faults:
            self.faults.remove(detail)
        self.faults.insert(0, detail)
        del self.faults[KEEP:]
        self.unseen = True

    def seen(self) -> None:
        self.unseen = False
