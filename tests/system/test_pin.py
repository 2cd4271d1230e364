"""Admin PIN hashes: salted, self-describing, checked in constant time, never raising."""

from __future__ import annotations

import pytest

from kiosk.system.config import DEFAULT_PIN, DEFAULT_PIN_HASH
from kiosk.system.pin import describe_hash_problem, hash_pin, pin_problem, verify_pin


def test_round_trip_and_wrong_pins() -> None:
    stored = hash_pin("2580")
    assert stored.startswith("scrypt$n=16384,r=8,p=1$")
    assert verify_pin("2580", stored)
    assert not verify_pin("2581", stored)
    assert not verify_pin("", stored)
    assert not verify_pin("25800", stored)


def test_salted_two_hashes_of_one_pin_differ() -> None:
    first, second = hash_pin("1111"), hash_pin("1111")
    assert first != second
    assert verify_pin("1111", first) and verify_pin("1111", second)


def test_the_documented_default_hash_is_the_default_pin() -> None:
    assert verify_pin(DEFAULT_PIN, DEFAULT_PIN_HASH)
    assert describe_hash_problem(DEFAULT_PIN_HASH) is None


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", " 1234", "", "١٢٣٤"])
def test_bad_pins_are_refused(pin: str) -> None:
    assert pin_problem(pin)
    with pytest.raises(ValueError, match="4 to 8 digits"):
        hash_pin(pin)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "1234",
        "pbkdf2$whatever",
        "scrypt$n=16384,r=8,p=1$!!notbase64$abc=",
        "scrypt$n=16383,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        # A cost that would stall the box for minutes is refused, not computed.
        "scrypt$n=1073741824,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$n=16384,r=8,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ],
)
def test_malformed_hashes_never_verify_and_never_raise(stored: str) -> None:
    assert verify_pin("1234", stored) is False
    assert describe_hash_problem(stored)


def test_a_tampered_digest_fails() -> None:
    stored = hash_pin("4321")
    head, digest = stored.rsplit("$", 1)
    flipped = ("B" if digest[0] == "A" else "A") + digest[1:]
    assert not verify_pin("4321", f"{head}${flipped}")
