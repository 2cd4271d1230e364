"""The admin screen's "Prepare a micro:bit": put the kiosk's program on a board, in plain words.

Staff choose what the plugged-in board is for (USB, radio bridge, radio
remote); the flash runs on a worker thread (copying, the board's restart and
its check take up to a minute) while the screen shows each step. A radio
remote's id, read from the board after flashing, becomes the kiosk's
``radio_remote_id`` so nobody types hex. The same module turns what a link
learnt about a board into the words the pair and admin screens show when a
board has the wrong program.

Owns its state and its reset; no pygame. The session calls ``start`` (after
closing its own link: the flasher needs the board to itself) and the UI reads
``stage`` / ``outcome`` / ``error`` / ``busy`` (each read collects the worker's
news, so no tick is needed).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.errors import KioskError
from kiosk.i18n import N_, _
from kiosk.microbit.link import Link, LinkState

log = logging.getLogger(__name__)

#: The choices on the screen: (role, button words, what it is for).
CHOICES = (
    ("usb", N_("USB"), N_("The board plugged into the kiosk sends its own movement.")),
    (
        "bridge",
        N_("Radio bridge"),
        N_("Plugged into the kiosk; passes on a remote board's movement."),
    ),
    ("remote", N_("Radio remote"), N_("Runs on a battery and sends its movement by radio.")),
)

WRONG_PROGRAM_WORDS = N_(
    "This micro:bit has a different program on it. A member of staff can fix it: "
    "Settings, then \u201cPrepare a micro:bit\u201d."
)
NO_ICONS_WORDS = N_(
    "This micro:bit cannot show the picture of the move, but nothing is lost: "
    "the kiosk still recognises it."
)
#: The test screen's one line (its live area is narrow).
NO_ICONS_SHORT = N_("This micro:bit shows no pictures: nothing is lost.")


@dataclass(frozen=True)
class _News:
    stage: str | None = None
    outcome: str | None = None
    error: str | None = None
    remote_id: str | None = None


FlashCall = Callable[[str, Callable[[str], None]], "FlashOutcome"]


@dataclass(frozen=True)
class FlashOutcome:
    words: str  # what the board runs now, for the screen
    board_id: str | None


def _real_flash(role: str, progress: Callable[[str], None]) -> FlashOutcome:
    from kiosk.firmware.flasher import flash

    result = flash(role, progress=progress)
    return FlashOutcome(result.program.words, result.board_id)


class BoardPrep:
    """See the module docstring."""

    def __init__(
        self,
        keep_remote_id: Callable[[str], str],
        flash_call: FlashCall = _real_flash,
    ) -> None:
        # Makes a flashed remote's id the kiosk's setting; returns what to tell staff.
        self._keep_remote_id = keep_remote_id
        self.flash_call = flash_call  # tests and the demo swap it
        self._news: queue.SimpleQueue[_News] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._open = False
        self._role: str | None = None
        self._stage = ""
        self._outcome: str | None = None
        self._error: str | None = None
        self.version = 0  # changes whenever something shown changes (the UI's cache key)

    # ---- what the screen reads ---------------------------------------------------

    @property
    def open(self) -> bool:
        return self._open

    @property
    def busy(self) -> bool:
        self._collect()
        return self._thread is not None

    @property
    def role(self) -> str | None:
        return self._role

    @property
    def stage(self) -> str:
        self._collect()
        return self._stage

    @property
    def outcome(self) -> str | None:
        self._collect()
        return self._outcome

    @property
    def error(self) -> str | None:
        self._collect()
        return self._error

    # ---- intents ---------------------------------------------------------------------

    def show(self) -> None:
        self._open = True
        if self._thread is None:
            self._stage, self._outcome, self._error = (
                _("Plug the micro:bit into the kiosk, then choose what it is for."),
                None,
                None,
            )
        self.version += 1

    def close(self) -> None:
        """Leave the page; a flash under way finishes on its own and is reported if reopened."""
        self._open = False
        self.version += 1

    def start(self, role: str) -> None:
        if role not in {r for r, _, _ in CHOICES}:
            raise ValueError(f"unknown micro:bit role {role!r}")
        if self._thread is not None:
            return  # one board at a time
        self._role = role
        self._stage, self._outcome, self._error = _("Starting…"), None, None
        self._thread = threading.Thread(
            target=self._work, args=(role,), name="board-prep", daemon=True
        )
        self._thread.start()
        self.version += 1

    def reset(self) -> None:
        """Forget what was shown (visitor reset); a running flash is left to finish."""
        self._open = False
        if self._thread is None:
            self._role, self._stage, self._outcome, self._error = None, "", None, None
        self.version += 1

    def wait(self, timeout: float) -> bool:
        """For tests and shutdown: True once no flash is running."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self._collect()
        return self._thread is None

    # ---- the worker -----------------------------------------------------------------

    def _work(self, role: str) -> None:
        try:
            done = self.flash_call(role, lambda text: self._news.put(_News(stage=text)))
        except KioskError as exc:
            self._news.put(_News(error=str(exc)))
        except Exception as exc:  # a bug must not leave the page spinning
            log.exception("preparing a micro:bit failed")
            self._news.put(_News(error=_("Something went wrong ({error}).").format(error=exc)))
        else:
            words = _("Done: the micro:bit runs {program}.").format(program=done.words)
            if role == "remote" and done.board_id:
                words += " " + _(
                    "Its id is {id}. Unplug it, give it a battery, and plug the "
                    "radio bridge into the kiosk."
                ).format(id=done.board_id)
            remote_id = done.board_id if role == "remote" else None
            self._news.put(_News(outcome=words, remote_id=remote_id))
        finally:
            self._news.put(_News())  # marks the end

    def _collect(self) -> None:
        while True:
            try:
                news = self._news.get_nowait()
            except queue.Empty:
                return
            self.version += 1
            if news.stage is not None:
                self._stage = news.stage
            elif news.error is not None:
                self._error, self._stage = news.error, ""
            elif news.outcome is not None:
                self._outcome, self._stage = news.outcome, ""
                if news.remote_id:
                    # the bridge is told this id at every connection (RMBID)
                    self._outcome += f" {self._keep_remote_id(news.remote_id)}"
            else:
                thread, self._thread = self._thread, None
                if thread is not None:
                    thread.join(1.0)


def board_words(link: Link | None, short: bool = False) -> str | None:
    """What the pair / test screens should say about the board's program, or None when fine."""
    if link is None or link.simulated:
        return None
    program = getattr(link, "program", None)  # what a USB board said it runs
    if program is not None and program.program == "kiosk" and program.role == "remote":
        return _("A radio remote is plugged in: ask staff.") if short else _(WRONG_PROGRAM_WORDS)
    if link.state is not LinkState.CONNECTED:
        return None  # nothing is known about its LEDs yet
    if not link.can_show_icons:
        return _(NO_ICONS_SHORT) if short else _(NO_ICONS_WORDS)
    return None
