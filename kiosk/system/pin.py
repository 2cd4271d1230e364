"""The admin PIN, stored only as a salted, deliberately slow hash.

The hash string describes itself (``scrypt$n=..,r=..,p=..$<salt>$<digest>``,
base64), so the cost can be raised later without breaking boxes in the field.
A PIN has few possible values, so the hash mainly keeps the PIN out of plain
sight in the config file and backups; the real defence is that the admin menu
is only reachable on the touchscreen, one slow guess at a time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re

SCHEME = "scrypt"
# n=2**14, r=8 needs 16 MiB and about 0.1 s on a Raspberry Pi 4: slow for a
# guesser, unnoticeable for a technician.
_N, _R, _P = 16384, 8, 1
_SALT_BYTES = 16
_DIGEST_BYTES = 32
# Refuse costs a crafted config could use to stall the box.
_MAX_N, _MAX_R, _MAX_P = 1 << 20, 32, 16

_HASH_RE = re.compile(
    r"scrypt\$n=(?P<n>\d+),r=(?P<r>\d+),p=(?P<p>\d+)\$(?P<salt>[A-Za-z0-9+/=]+)\$(?P<digest>[A-Za-z0-9+/=]+)"
)
PIN_RE = re.compile(r"[0-9]{4,8}")


def pin_problem(pin: str) -> str | None:
    """Why ``pin`` cannot be used (4 to 8 digits, what the on-screen keypad can type), or None."""
    if PIN_RE.fullmatch(pin):
        return None
    return "the PIN must be 4 to 8 digits (0-9), the keys of the on-screen keypad"


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=256 * r * n + (1 << 20)
    )


def hash_pin(pin: str) -> str:
    """A new salted scrypt hash of ``pin`` (raises ValueError for a PIN that is not 4-8 digits)."""
    problem = pin_problem(pin)
    if problem:
        raise ValueError(problem)
    salt = os.urandom(_SALT_BYTES)
    digest = _scrypt(pin, salt, _N, _R, _P, _DIGEST_BYTES)
    b64 = base64.b64encode
    return f"{SCHEME}$n={_N},r={_R},p={_P}${b64(salt).decode()}${b64(digest).decode()}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    match = _HASH_RE.fullmatch(stored.strip())
    if not match:
        return None
    n, r, p = int(match["n"]), int(match["r"]), int(match["p"])
    if not (2 <= n <= _MAX_N and n & (n - 1) == 0 and 1 <= r <= _MAX_R and 1 <= p <= _MAX_P):
        return None
    try:
        salt = base64.b64decode(match["salt"], validate=True)
        digest = base64.b64decode(match["digest"], validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(salt) < 8 or len(digest) < 16:
        return None
    return n, r, p, salt, digest


def describe_hash_problem(stored: str) -> str | None:
    """Why ``stored`` is not a PIN hash this module can check, or None when it is."""
    if _parse(stored) is None:
        return (
            "is not a PIN hash made by `kiosk set-pin` "
            "(expected scrypt$n=...,r=...,p=...$salt$digest)"
        )
    return None


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` matches ``stored``; False for a wrong PIN or a bad hash. Never raises."""
    parsed = _parse(stored)
    if parsed is None or not isinstance(pin, str):
        return False
    n, r, p, salt, digest = parsed
    candidate = _scrypt(pin, salt, n, r, p, len(digest))
    return hmac.compare_digest(candidate, digest)
