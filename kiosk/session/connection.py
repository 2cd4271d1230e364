"""The visitor's micro:bit: pairing by pattern, the open link, and what became of it.

``Connection`` owns the link and everything about reaching a board: the
pattern grid the visitor copies, the pairing status and its words, whether a
USB board is plugged in, the problem shown after a working link was lost, the
pretend board's current gesture, and the staff-only "pair the kiosk's fixed
board" request. It turns the link's ``StateChange`` and ``ButtonEvent``
messages into ``LinkNews`` for the session, which decides what the screen
and the other owners do about them. Its ``reset`` is the visitor reset.

The link says what went wrong as a typed fault; the words on the screen come
from ``board_words``, never from the link's ``reason`` (a detail for staff).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.microbit.link import BoardFault, ButtonEvent, Fault, Link, LinkState, StateChange
from kiosk.microbit.simulated import PretendBoard
from kiosk.session.board_words import LOOKING, lost_words, pair_failed_words, waiting_words
from kiosk.session.idle import is_moving
from kiosk.session.pairing import PairGrid

USB_CHECK_S = 2.0  # how often the pair screen looks for a plugged-in board
MOVEMENT_CHECK_S = 0.25  # how often a board in a hand counts as the visitor being here


class PairStatus(enum.StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    FAILED = "failed"


class News(enum.Enum):
    """What happened to the link, for the session to act on."""

    PAIRED = "paired"  # connected while pairing
    BACK = "back"  # connected again after being lost
    LOST = "lost"  # a working link went away (it may come back by itself)
    GAVE_UP = "gave up"  # a working link went away for good
    PAIR_FAILED = "pair failed"  # never connected
    BUTTON = "button"
    MOVING = "moving"  # the board is being handled


@dataclass(frozen=True)
class LinkNews:
    news: News
    button: ButtonEvent | None = None


class Connection:
    """See the module docstring."""

    def __init__(self) -> None:
        self.grid = PairGrid()
        self.link: Link | None = None
        self.status = PairStatus.IDLE
        self.message = ""  # words under the pairing grid
        self.problem: str | None = None  # shown while a lost link is away
        self.usb_present = False
        self.pretend_gesture = "still"
        self.pairing_fixed_board = False  # staff: the next pairing becomes the kiosk's board
        self._usb_checked = -1e9
        self._movement_checked = -1e9
        self._was_connected = False
        self._fault: Fault | None = None  # the latest fault since the link was opened

    @property
    def connected(self) -> bool:
        return self.link is not None and self.link.state is LinkState.CONNECTED

    @property
    def simulated(self) -> bool:
        return bool(self.link is not None and self.link.simulated)

    def open(self, opener: Callable[[], Link]) -> bool:
        """Close any link, then open and connect a new one; False when it could not start."""
        self.close()
        self.status = PairStatus.CONNECTING
        self.message = _(LOOKING)
        try:
            link = opener()
            link.connect()
        except BoardFault as error:
            self.status = PairStatus.FAILED
            self.message = pair_failed_words(error.fault, "").sentence
            return False
        except KioskError as error:  # a setting the kiosk cannot use: says what to change
            self.status, self.message = PairStatus.FAILED, str(error)
            return False
        self.link = link
        self._was_connected = False
        self._fault = None
        return True

    def close(self) -> None:
        if self.link is not None:
            link, self.link = self.link, None
            link.close()
        self.problem = None
        self.status = PairStatus.IDLE
        self._was_connected = False
        self._fault = None

    def forget_pairing(self) -> None:
        """Start the pairing screen afresh (the grid and its words)."""
        self.grid.clear()
        self.status, self.message = PairStatus.IDLE, ""

    def set_pretend_gesture(self, gesture: str) -> bool:
        """Make the pretend board do ``gesture``; False when the board is not the pretend one."""
        link = self.link
        if not isinstance(link, PretendBoard):
            return False
        self.pretend_gesture = gesture
        link.set_gesture(gesture)
        return True

    def check_usb(self, now: float, present: Callable[[], bool]) -> None:
        """Look for a plugged-in board every USB_CHECK_S (the pair screen offers it)."""
        if now - self._usb_checked < USB_CHECK_S:
            return
        self._usb_checked = now
        try:
            self.usb_present = present()
        except KioskError:
            self.usb_present = False

    def poll(self, now: float) -> list[LinkNews]:
        """Drain the link's messages into news; updates the pairing words and the problem."""
        if self.link is None:
            return []
        news: list[LinkNews] = []
        for event in self.link.poll_events():
            if isinstance(event, StateChange):
                item = self._state(event)
                if item is not None:
                    news.append(item)
            elif isinstance(event, ButtonEvent):
                news.append(LinkNews(News.BUTTON, event))
        if now - self._movement_checked >= MOVEMENT_CHECK_S and self.connected:
            self._movement_checked = now
            link = self.link
            if link is not None and not link.simulated and is_moving(link.samples.latest(12).xyz):
                news.append(LinkNews(News.MOVING))
        return news

    def _state(self, event: StateChange) -> LinkNews | None:
        if event.state is LinkState.CONNECTED:
            self.problem = None
            self._fault = None
            was_connected, self._was_connected = self._was_connected, True
            if self.status is PairStatus.CONNECTING:
                self.status, self.message = PairStatus.CONNECTED, _("Connected!")
                return LinkNews(News.PAIRED)
            return LinkNews(News.BACK) if was_connected else None
        # Progress within an attempt carries no fault: keep the words about the last one.
        self._fault = event.fault or self._fault
        kind = self.link.kind if self.link is not None else ""
        gave_up = event.state is LinkState.FAILED
        if self._was_connected:
            self.problem = lost_words(self._fault, kind, gave_up=gave_up).sentence
            return LinkNews(News.GAVE_UP if gave_up else News.LOST)
        if gave_up:
            self.status = PairStatus.FAILED
            self.message = pair_failed_words(self._fault, kind).sentence
            return LinkNews(News.PAIR_FAILED)
        self.message = waiting_words(self._fault, kind)
        return None

    def reset(self, *, keep_link: bool) -> None:
        """The visitor reset: pairing afresh, the staff request dropped, the link closed unless
        ``keep_link`` (the kiosk's fixed board stays connected for the next visitor)."""
        if not keep_link:
            self.close()
        self.problem = None
        self.pairing_fixed_board = False
        self._usb_checked = self._movement_checked = -1e9
        if not self.set_pretend_gesture("still"):
            self.pretend_gesture = "still"
        self.forget_pairing()
