"""The admin PIN pad: what set-pin accepts can be typed, guesses are slowed, no silent default."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kiosk.session.session import Session
from kiosk.session.staff_lock import (
    LOCKOUT_AFTER,
    LOCKOUT_S,
    MAX_DIGITS,
    Outcome,
    StaffLock,
    guesses_per_hour,
)
from kiosk.settings import Settings
from kiosk.store.database import Store
from kiosk.system.config import DEFAULT_PIN, DEFAULT_PIN_HASH
from kiosk.system.pin import (
    GUARD_FILENAME,
    PIN_FILENAME,
    PinKeeper,
    hash_pin,
    pin_problem,
    restrict_secret_file,
    secret_file_problem,
)
from tests.session.journey import Boards, Clock

# scrypt is slow on purpose: hash each PIN once for the whole module.
EIGHT = "31415926"
EIGHT_HASH = hash_pin(EIGHT)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def typed(lock: StaffLock, pin: str) -> str:
    for digit in pin:
        lock.press(digit)
    return lock.submit()


@pytest.mark.parametrize("pin", ["1234", "12345", "123456", "1234567", "12345678"])
def test_the_pad_takes_every_pin_set_pin_takes(pin: str) -> None:
    assert pin_problem(pin) is None  # kiosk set-pin accepts it ...
    lock = StaffLock(lambda p: p == pin, FakeClock())
    for digit in pin[:-1]:
        lock.press(digit)
        assert lock.entry != pin  # nothing is checked before OK
    assert typed(lock, pin[-1]) == Outcome.UNLOCKED  # ... and so does the pad


def test_an_eight_digit_pin_unlocks_the_real_hash() -> None:
    keeper = PinKeeper(EIGHT_HASH, None, DEFAULT_PIN_HASH)
    lock = StaffLock(keeper, FakeClock())
    assert typed(lock, EIGHT) == Outcome.UNLOCKED


def test_the_pad_refuses_what_set_pin_refuses() -> None:
    lock = StaffLock(lambda p: True, FakeClock())
    assert typed(lock, "123") == Outcome.TOO_SHORT
    for digit in "123456789":
        lock.press(digit)
    assert lock.entry == "12345678" and len(lock.entry) == MAX_DIGITS
    lock.press("x")
    lock.press("٣")  # an Arabic-Indic digit: isdigit() but not a key on the pad
    assert lock.entry == "12345678"
    lock.backspace()
    assert lock.entry == "1234567"


def test_wrong_pins_wait_longer_each_time_then_lock_out() -> None:
    clock = FakeClock()
    lock = StaffLock(lambda p: p == "2468", clock)
    waits = []
    for _ in range(LOCKOUT_AFTER - 1):
        assert typed(lock, "0000") == Outcome.WRONG
        waits.append(lock.wait_left())
        assert typed(lock, "2468") == Outcome.WAIT  # even the right PIN waits
        clock.t += lock.wait_left()
    assert waits == [1.0, 2.0, 4.0, 8.0]
    assert typed(lock, "0000") == Outcome.WRONG
    assert lock.locked_out and lock.wait_left() == LOCKOUT_S
    assert "Too many wrong PINs" in lock.message and "set-pin" in lock.message
    clock.t += LOCKOUT_S - 1
    assert typed(lock, "2468") == Outcome.WAIT and "Locked" in lock.message
    clock.t += 1
    assert typed(lock, "2468") == Outcome.UNLOCKED
    assert lock.failures == 0 and lock.wait_left() == 0


def test_guesses_per_hour() -> None:
    assert guesses_per_hour(1) == 8
    assert guesses_per_hour(2) - guesses_per_hour(1) == 4  # every hour after the first
    # Typing faster buys nothing: the waits dominate (before: all 10,000 in under an hour).
    assert guesses_per_hour(1, typing_s=0.1) == 8


def test_a_restart_does_not_give_a_guesser_fresh_tries(tmp_path: Path) -> None:
    clock = FakeClock()
    keeper = PinKeeper(EIGHT_HASH, tmp_path / PIN_FILENAME, DEFAULT_PIN_HASH)
    lock = StaffLock(keeper, clock)
    for _ in range(LOCKOUT_AFTER):
        typed(lock, "0000")
        clock.t += lock.wait_left()
    guard = tmp_path / GUARD_FILENAME
    assert guard.read_text().strip() == str(LOCKOUT_AFTER)
    assert stat.S_IMODE(guard.stat().st_mode) == 0o600
    # The plug is pulled and the kiosk starts again.
    again = StaffLock(PinKeeper(EIGHT_HASH, tmp_path / PIN_FILENAME, DEFAULT_PIN_HASH), clock)
    assert again.locked_out and again.wait_left() == LOCKOUT_S
    clock.t += LOCKOUT_S
    assert typed(again, EIGHT) == Outcome.UNLOCKED
    assert not guard.exists()


def test_the_default_pin_is_never_accepted_silently(tmp_path: Path) -> None:
    keeper = PinKeeper(DEFAULT_PIN_HASH, tmp_path / PIN_FILENAME, DEFAULT_PIN_HASH)
    lock = StaffLock(keeper, FakeClock())
    assert lock.choosing and "Choose a staff PIN" in lock.prompt
    assert not keeper.check(DEFAULT_PIN)
    # First boot: staff choose a PIN on the pad, typed twice.
    assert typed(lock, "97531") == Outcome.CONFIRM
    assert typed(lock, "97532") == Outcome.MISMATCH
    assert typed(lock, "97531") == Outcome.CONFIRM
    assert typed(lock, "97531") == Outcome.CHOSEN
    saved = tmp_path / PIN_FILENAME
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600 and "97531" not in saved.read_text()
    # The next start checks it, and 1234 stays refused.
    later = StaffLock(PinKeeper(DEFAULT_PIN_HASH, saved, DEFAULT_PIN_HASH), FakeClock())
    assert not later.choosing
    assert typed(later, DEFAULT_PIN) == Outcome.WRONG
    later.blocked_until = 0
    assert typed(later, "97531") == Outcome.UNLOCKED


def test_a_technicians_pin_wins_over_the_first_boot_choice(tmp_path: Path) -> None:
    (tmp_path / PIN_FILENAME).write_text(hash_pin("5555") + "\n")
    keeper = PinKeeper(EIGHT_HASH, tmp_path / PIN_FILENAME, DEFAULT_PIN_HASH)
    assert not keeper.needs_choice and keeper.check(EIGHT) and not keeper.check("5555")


def test_the_session_pad_needs_ok_and_slows_guesses(tmp_path: Path) -> None:
    clock = Clock()
    with Store.open(tmp_path / "kiosk.sqlite3") as store:
        keeper = PinKeeper(EIGHT_HASH, tmp_path / PIN_FILENAME, DEFAULT_PIN_HASH)
        session = Session(store, Boards(clock), Settings(), clock=clock, pin_check=keeper)
        session.open_admin()
        for digit in EIGHT:
            session.enter_pin_digit(digit)
        assert session.staff.pin_entry == EIGHT and not session.staff.unlocked
        session.submit_pin()
        assert session.staff.unlocked
        session.close_admin()
        session.open_admin()
        for digit in "1111":
            session.enter_pin_digit(digit)
        session.submit_pin()
        assert not session.staff.unlocked and session.messages.message.text == "Wrong PIN."


def test_the_settings_file_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text('[admin]\npin_hash = "x"\n')
    os.chmod(path, 0o644)
    assert "readable by every user" in (secret_file_problem(path) or "")
    assert restrict_secret_file(path, group="no-such-group-here") is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_file_problem(path) is None


def test_set_pin_write_leaves_the_file_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from kiosk.cli import build_parser

    path = tmp_path / "kiosk.toml"
    path.write_text("[sound]\nvolume = 0.5\n")
    os.chmod(path, 0o644)
    monkeypatch.setattr("sys.stdin", io.StringIO("24680\n24680\n"))
    args = build_parser().parse_args(["set-pin", "--write", "--config", str(path)])
    assert args.func(args) == 0
    assert secret_file_problem(path) is None
    assert stat.S_IMODE(path.stat().st_mode) & 0o007 == 0
