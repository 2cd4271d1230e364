"""The PIN pad's guard: what was typed, wrong guesses slowed down, and the first-boot choice.

The pad accepts exactly what ``kiosk set-pin`` accepts (4 to 8 digits,
then OK), so every PIN a technician can set can be typed. Wrong PINs are
slowed: after the n-th wrong PIN in a row the pad waits ``2**(n-1)`` seconds
(1, 2, 4, 8 s), and from the ``LOCKOUT_AFTER``-th on it locks for
``LOCKOUT_S`` after every wrong PIN, with a message for staff (and one line in
the journal). A right PIN clears the count. With these numbers a guesser gets
8 PINs in the first hour and 4 an hour after that (``guesses_per_hour``),
against 10,000 to 100,000,000 possible PINs.

On a box where no PIN was ever set (``checker.needs_choice``), the pad does
not accept a default PIN: it asks staff to choose one, typed twice.

No pygame and no wall clock: time comes from the injected clock, so tests
run the whole policy on a fake one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from kiosk.i18n import _

log = logging.getLogger(__name__)

MIN_DIGITS = 4  # the same bounds as kiosk.system.pin.PIN_RE (kiosk set-pin)
MAX_DIGITS = 8
LOCKOUT_AFTER = 5
LOCKOUT_S = 15 * 60.0


class PinChecker(Protocol):
    def check(self, pin: str) -> bool: ...

    @property
    def needs_choice(self) -> bool: ...

    def choose(self, pin: str) -> None: ...

    # Wrong guesses in a row, kept across restarts: pulling the plug must not
    # buy a guesser a fresh set of tries.
    def saved_failures(self) -> int: ...

    def save_failures(self, count: int) -> None: ...


class _CallableChecker:
    """A plain ``pin -> bool`` check (tests, the demo): never asks for a first PIN."""

    def __init__(self, check: Callable[[str], bool]) -> None:
        self._check = check

    def check(self, pin: str) -> bool:
        return self._check(pin)

    @property
    def needs_choice(self) -> bool:
        return False

    def choose(self, pin: str) -> None:
        raise OSError("this kiosk cannot keep a PIN")

    def saved_failures(self) -> int:
        return 0

    def save_failures(self, count: int) -> None:
        pass


class Outcome:
    UNLOCKED = "unlocked"
    WRONG = "wrong"
    WAIT = "wait"  # a delay or lockout is running: nothing was checked
    TOO_SHORT = "too_short"
    CONFIRM = "confirm"  # first boot: type the new PIN again
    MISMATCH = "mismatch"
    CHOSEN = "chosen"  # first boot: the PIN is kept, the pad is unlocked
    NOT_SAVED = "not_saved"


class StaffLock:
    """State of the admin PIN pad; see the module docstring."""

    def __init__(
        self,
        checker: PinChecker | Callable[[str], bool],
        clock: Callable[[], float],
        *,
        lockout_after: int = LOCKOUT_AFTER,
        lockout_s: float = LOCKOUT_S,
    ) -> None:
        self.checker: PinChecker = (
            _CallableChecker(checker) if callable(checker) else checker  # type: ignore[arg-type]
        )
        self._clock = clock
        self.lockout_after = lockout_after
        self.lockout_s = lockout_s
        self.entry = ""
        self.failures = 0  # wrong PINs in a row
        self.blocked_until = -1e18
        self.message = ""  # what the pad says now ("" = nothing)
        self._first_pin: str | None = None  # first boot: the PIN typed once, awaiting the repeat
        # A restart does not clear the count: the wait starts again in full.
        self.failures = max(0, self.checker.saved_failures())
        if self.failures:
            self._block()

    # ---- reading ---------------------------------------------------------------

    @property
    def choosing(self) -> bool:
        """True when the pad asks staff to choose the first PIN rather than type it."""
        return self.checker.needs_choice

    @property
    def prompt(self) -> str:
        if self.choosing:
            if self._first_pin is None:
                return _("Choose a staff PIN ({least}-{most} digits), then OK").format(
                    least=MIN_DIGITS, most=MAX_DIGITS
                )
            return _("Type the new PIN again, then OK")
        return _("Staff only: type the PIN, then OK")

    def wait_left(self) -> float:
        """Seconds until the pad takes another PIN (0 when it takes one now)."""
        return max(0.0, self.blocked_until - self._clock())

    @property
    def locked_out(self) -> bool:
        return self.failures >= self.lockout_after and self.wait_left() > 0

    # ---- typing ----------------------------------------------------------------

    def press(self, digit: str) -> None:
        if len(digit) == 1 and digit.isdigit() and digit.isascii() and len(self.entry) < MAX_DIGITS:
            self.entry += digit

    def backspace(self) -> None:
        self.entry = self.entry[:-1]

    def clear(self) -> None:
        """Forget what was typed (the pad closed or Clear); the guess count stays."""
        self.entry = ""
        self._first_pin = None

    def submit(self) -> str:
        """OK pressed: check (or, at first boot, choose) the PIN typed; returns an Outcome."""
        pin, self.entry = self.entry, ""
        left = self.wait_left()
        if left > 0:
            self.message = self._wait_message(left)
            return Outcome.WAIT
        if not (MIN_DIGITS <= len(pin) <= MAX_DIGITS):
            self.message = _("A PIN has {least} to {most} digits.").format(
                least=MIN_DIGITS, most=MAX_DIGITS
            )
            return Outcome.TOO_SHORT
        if self.choosing:
            return self._choose(pin)
        if self.checker.check(pin):
            if self.failures:
                self.checker.save_failures(0)
            self.failures, self.blocked_until, self.message = 0, -1e18, ""
            return Outcome.UNLOCKED
        self.failures += 1
        self.checker.save_failures(self.failures)
        self._block()
        if self.failures >= self.lockout_after:
            self.message = _(
                "Too many wrong PINs: the pad is locked for {minutes} minutes. "
                "Staff can set a new PIN with `kiosk set-pin`."
            ).format(minutes=f"{self.lockout_s / 60:.0f}")
            log.warning(
                "admin PIN pad locked for %.0f s after %d wrong PINs in a row",
                self.lockout_s,
                self.failures,
            )
        else:
            self.message = _("Wrong PIN.")
        return Outcome.WRONG

    def reset(self) -> None:
        """Back to a fresh pad: nothing typed, no wrong guesses counted (e.g. a new PIN set)."""
        self.clear()
        self.failures, self.blocked_until, self.message = 0, -1e18, ""
        self.checker.save_failures(0)

    # ---- internals -------------------------------------------------------------

    def _block(self) -> None:
        if self.failures >= self.lockout_after:
            self.blocked_until = self._clock() + self.lockout_s
        else:
            self.blocked_until = self._clock() + 2.0 ** (self.failures - 1)

    def _choose(self, pin: str) -> str:
        if self._first_pin is None:
            self._first_pin = pin
            self.message = _("Type the same PIN again.")
            return Outcome.CONFIRM
        first, self._first_pin = self._first_pin, None
        if pin != first:
            self.message = _("The two PINs differ. Choose a PIN again.")
            return Outcome.MISMATCH
        try:
            self.checker.choose(pin)
        except (OSError, ValueError) as error:
            log.error("could not keep the new admin PIN: %s", error)
            self.message = _("The PIN could not be saved; ask a technician to run `kiosk set-pin`.")
            return Outcome.NOT_SAVED
        log.warning("an admin PIN was chosen on the touchscreen (first start)")
        self.message = _("PIN saved.")
        return Outcome.CHOSEN

    def _wait_message(self, left: float) -> str:
        if self.failures >= self.lockout_after:
            return _("Locked after too many wrong PINs. Try again in {minutes} min.").format(
                minutes=f"{left / 60:.0f}"
            )
        return _("Wait {seconds} s before the next try.").format(seconds=f"{left:.0f}")


def guesses_per_hour(
    hours: float = 1.0,
    *,
    lockout_after: int = LOCKOUT_AFTER,
    lockout_s: float = LOCKOUT_S,
    typing_s: float = 2.0,
) -> int:
    """How many PINs a tireless guesser gets through the pad in ``hours`` (for the figures)."""
    now = 0.0
    lock = StaffLock(
        lambda _pin: False, lambda: now, lockout_after=lockout_after, lockout_s=lockout_s
    )
    guesses = 0
    end = hours * 3600.0
    while True:
        now += typing_s + lock.wait_left()
        if now > end:
            return guesses
        for digit in "0000":
            lock.press(digit)
        lock.submit()
        guesses += 1
