"""The admin PIN, stored only as a salted, deliberately slow hash.

The hash string describes itself (``scrypt$n=..,r=..,p=..$<salt>$<digest>``,
base64), so the cost can be raised later without breaking boxes in the field.
A PIN has few possible values, so the hash mainly keeps the PIN out of plain
sight in the config file and backups; the real defence is that the admin menu
is only reachable on the touchscreen, one slowed guess at a time (see
``kiosk.session.staff_lock``), and that the files holding the hash are
readable only by root and the service user (``restrict_secret_file``).
"""

from __future__ import annotations

import base64
import binascii
import grp
import hashlib
import hmac
import os
import re
import stat
from pathlib import Path

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


# --- the PIN the kiosk checks, and the first-boot choice ---------------------------------

PIN_FILENAME = "admin-pin"  # beside the database: the PIN chosen on screen at first boot
GUARD_FILENAME = "admin-pin-guard"  # beside it: wrong PINs in a row, kept across restarts
SECRET_MODE = 0o640  # owner root (or the service user) read-write, its group read, nobody else


class PinKeeper:
    """Which PIN unlocks the admin screen, and the first-boot choice of one.

    The technician's PIN (``kiosk set-pin``, a hash in kiosk.toml) wins. A box
    whose kiosk.toml still carries the shipped default hash does not accept
    the default PIN: the PIN pad asks staff to choose a PIN the first time it
    opens, and that choice is kept as a hash in ``pin_file`` (the service's
    state directory; /etc is read-only to the service).
    """

    def __init__(self, configured_hash: str, pin_file: Path | None, default_hash: str = "") -> None:
        self._pin_file = pin_file
        self._guard_file = None if pin_file is None else pin_file.with_name(GUARD_FILENAME)
        # The shipped default hash counts as no PIN at all.
        self._configured = (
            "" if not configured_hash or configured_hash == default_hash else (configured_hash)
        )
        self._chosen = self._read_chosen()

    def _read_chosen(self) -> str:
        if self._pin_file is None:
            return ""
        try:
            text = self._pin_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return ""
        return text if describe_hash_problem(text) is None else ""

    @property
    def needs_choice(self) -> bool:
        """True while no PIN was ever set: the pad asks for one instead of checking."""
        return not self._configured and not self._chosen

    @property
    def can_choose(self) -> bool:
        return self._pin_file is not None

    def check(self, pin: str) -> bool:
        stored = self._configured or self._chosen
        return bool(stored) and verify_pin(pin, stored)

    def choose(self, pin: str) -> None:
        """Keep ``pin`` as the admin PIN (ValueError: not 4-8 digits; OSError: cannot write)."""
        if self._pin_file is None:
            raise OSError("there is no place to keep a PIN on this box")
        stored = hash_pin(pin)
        write_secret(self._pin_file, stored + "\n")
        self._chosen = stored

    def saved_failures(self) -> int:
        if self._guard_file is None:
            return 0
        try:
            return max(0, min(1_000_000, int(self._guard_file.read_text(encoding="ascii"))))
        except FileNotFoundError:
            return 0
        except (OSError, ValueError):
            return 1_000  # unreadable: assume the worst, a lockout (staff can delete the file)

    def save_failures(self, count: int) -> None:
        if self._guard_file is None:
            return
        try:
            if count:
                write_secret(self._guard_file, f"{count}\n")
            else:
                self._guard_file.unlink(missing_ok=True)
        except OSError:
            pass  # a full disk must not open the pad: the count in memory still holds


def write_secret(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by its owner only (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def restrict_secret_file(path: Path, group: str = "microbit-kiosk") -> str | None:
    """Make a file holding the PIN hash readable only by root and the service user.

    Mode 0640 with ``group`` as its group when that group exists and we may
    change it (root at install or set-pin time); 0600 otherwise. Returns a
    problem sentence, or None when the file is now private.
    """
    try:
        st = path.stat()
    except OSError as error:
        return f"cannot read {path}: {error.strerror or error}"
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        gid = None
    try:
        if gid is not None and (os.geteuid() == 0 or st.st_gid == gid):
            if st.st_gid != gid:
                os.chown(path, -1, gid)
            os.chmod(path, SECRET_MODE)
        else:
            os.chmod(path, 0o600)
    except OSError as error:
        return f"cannot make {path} private: {error.strerror or error}"
    return None


def secret_file_problem(path: Path) -> str | None:
    """Why ``path`` (holding a PIN hash) is readable by too many, or None."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"cannot read {path}: {error.strerror or error}"
    if mode & stat.S_IROTH or mode & stat.S_IWOTH or mode & stat.S_IWGRP:
        return (
            f"{path} (it holds the PIN hash) is readable by every user "
            f"(mode {stat.S_IMODE(mode):04o}); the hash of a 4-8 digit PIN cracks in minutes"
        )
    return None
