"""What a visitor is told about their micro:bit's connection.

The links report what went wrong as a typed ``Fault`` (with a detail for
staff); this module is the one place that turns a fault into words for the
screen: one short sentence saying what happened and one saying what to do,
chosen for the kind of link (a USB cable and a Bluetooth radio go wrong in
different ways). Nothing here names ports, programs or capabilities: those
belong in the detail that ``kiosk doctor``, ``kiosk monitor`` and the log show.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.i18n import N_, _
from kiosk.microbit.link import Fault

SAFE = N_("Your recordings are safe.")
ASK_STAFF = N_("Ask a member of staff.")
CONNECT_AGAIN = N_("Tap “Connect again” when it is ready.")
LOOKING = N_("Looking for your micro:bit…")

#: Faults a visitor cannot fix: the kiosk, its settings or the board's program.
_STAFF_FAULTS = frozenset(
    {Fault.PERMISSION_MISSING, Fault.PORT_BUSY, Fault.BAD_SETTING, Fault.INTERNAL}
)
_ADAPTER_FAULTS = frozenset({Fault.ADAPTER_MISSING, Fault.ADAPTER_DOWN})


@dataclass(frozen=True)
class BoardWords:
    """One short sentence about what happened and one about the way forward."""

    what: str
    next: str

    @property
    def sentence(self) -> str:
        return f"{self.what} {self.next}"


def is_usb(kind: str) -> bool:
    """Whether a link of this ``Link.kind`` has a cable (the rest are radio links)."""
    return kind == "USB"


def waiting_words(fault: Fault | None, kind: str) -> str:
    """The pairing screen's line while the kiosk is still trying to reach the board."""
    usb = is_usb(kind)
    if fault is None:
        return _("Connecting to your micro:bit…") if usb else _(LOOKING)
    if fault in (Fault.BOARD_NOT_FOUND, Fault.UNPLUGGED):
        if usb:
            return _("Plug the micro:bit into the kiosk with its USB cable.")
        return _("Can't see your micro:bit yet. Keep it close: trying again…")
    if fault in (Fault.NO_ANSWER, Fault.CONNECTION_LOST):
        return _("Your micro:bit isn't answering yet. Trying again…")
    return _("{what} Trying again…").format(what=pair_failed_words(fault, kind).what)


def pair_failed_words(fault: Fault | None, kind: str) -> BoardWords:
    """Why pairing did not work (the screen puts "We couldn't connect." before it)."""
    usb = is_usb(kind)
    if fault in _ADAPTER_FAULTS:
        return BoardWords(
            _("Bluetooth isn't working on this kiosk."),
            _("Ask a member of staff, or use a USB micro:bit."),
        )
    if fault in _STAFF_FAULTS:
        return BoardWords(_("The kiosk can't use this micro:bit right now."), _(ASK_STAFF))
    if fault is Fault.WRONG_PROGRAM:
        return BoardWords(
            _("This micro:bit has a different program on it."),
            _("Ask a member of staff to prepare it."),
        )
    if fault is Fault.NO_DATA and usb:  # a radio bridge whose remote board is silent
        return BoardWords(
            _("The second micro:bit isn't sending."),
            _("Check it is switched on and close by, then tap Try again."),
        )
    if fault is Fault.NO_DATA:
        return BoardWords(
            _("The micro:bit connected but isn't sending."),
            _("Switch it off and on again, then tap Try again."),
        )
    if usb:
        if fault in (None, Fault.BOARD_NOT_FOUND, Fault.UNPLUGGED):
            return BoardWords(
                _("No micro:bit is plugged in."),
                _("Plug it in with its USB cable, then tap Try again."),
            )
        return BoardWords(
            _("The micro:bit isn't answering."),
            _("Unplug it, plug it back in, then tap Try again."),
        )
    if fault in (Fault.NO_ANSWER, Fault.CONNECTION_LOST):
        return BoardWords(
            _("The micro:bit isn't answering."),
            _("Check it is switched on and close by, then tap Try again."),
        )
    return BoardWords(
        _("We can't see a micro:bit with those lights."),
        _(
            "Check the lights on the grid match your micro:bit and that it is switched on, "
            "then tap Try again."
        ),
    )


def lost_words(fault: Fault | None, kind: str, *, gave_up: bool) -> BoardWords:
    """The banner while a board that worked is away; ``gave_up``: it will not come back alone."""
    usb = is_usb(kind)
    if fault in _ADAPTER_FAULTS:
        words = BoardWords(_("Bluetooth stopped working on this kiosk."), _(ASK_STAFF))
    elif fault in _STAFF_FAULTS or fault is Fault.WRONG_PROGRAM:
        words = BoardWords(_("The kiosk lost the micro:bit."), _(ASK_STAFF))
    elif usb and fault in (Fault.UNPLUGGED, Fault.BOARD_NOT_FOUND):
        words = BoardWords(_("The micro:bit was unplugged."), _("Plug it back in to carry on."))
    elif usb and fault is Fault.NO_DATA:
        words = BoardWords(
            _("The second micro:bit stopped sending."), _("Check it is switched on and close by.")
        )
    elif usb:
        words = BoardWords(_("The micro:bit stopped answering."), _("Check its USB cable."))
    else:
        words = BoardWords(
            _("The micro:bit lost its connection."),
            _("Check its battery is plugged in and keep it close."),
        )
    tail = f"{_(SAFE)} {_(CONNECT_AGAIN)}" if gave_up else _(SAFE)
    return BoardWords(words.what, f"{words.next} {tail}")
