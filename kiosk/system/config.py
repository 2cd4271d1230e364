"""The exhibit's settings, read from ``/etc/microbit-kiosk/kiosk.toml``.

A museum technician edits this file by hand, so a mistake in it must never
stop the exhibit: every bad key, value or type is reported in a sentence that
names the file, the key and the fix, and the documented default is used
instead. ``load_config`` therefore never raises for anything in the file;
callers log the problems and ``kiosk doctor`` prints them.

``deploy/kiosk.toml`` documents every key with its default; a test checks
that it and the dataclasses below say the same thing.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APP_NAME = "microbit-kiosk"
DEFAULT_CONFIG_PATH = Path("/etc/microbit-kiosk/kiosk.toml")
CONFIG_ENV = "KIOSK_CONFIG"
SERVICE_STATE_DIR = Path("/var/lib/microbit-kiosk")
DATABASE_FILENAME = "kiosk.sqlite3"

# The PIN a fresh box accepts until the technician runs `kiosk set-pin`. The
# hash is precomputed (scrypt is slow on purpose) from DEFAULT_PIN;
# tests/system/test_pin.py checks the two agree. `kiosk doctor` warns while
# it is still in use.
DEFAULT_PIN = "1234"
DEFAULT_PIN_HASH = (
    "scrypt$n=16384,r=8,p=1$goiRyFSpwB5z516/od0jmQ==$monUMy6VNUxd+BkK9fLXYaGN2Z16IAYcnInjyToHO5c="
)

_PATTERN_RE = re.compile(r"[1-5]{5}")


@dataclass(frozen=True)
class DisplayConfig:
    """How the picture is put on the panel."""

    rotation: int = 0  # degrees clockwise: 0, 90, 180 or 270 (portrait panels: 90 or 270)
    fullscreen: bool = True
    width: int = 0  # pixels; 0 = the panel's native size
    height: int = 0
    diagonal_inches: float = 7.0  # used to size touch targets to 15 mm


@dataclass(frozen=True)
class SessionConfig:
    """When a visitor's session ends."""

    idle_timeout_s: float = 60.0  # no touch and no motion for this long -> "still there?"
    idle_countdown_s: float = 10.0  # the countdown shown before the reset
    keep_data_between_visitors: bool = False


@dataclass(frozen=True)
class SoundConfig:
    enabled: bool = True
    volume: float = 0.7  # 0.0 .. 1.0


@dataclass(frozen=True)
class AdminConfig:
    """The hidden admin menu: hold a corner, then type the PIN."""

    pin_hash: str = DEFAULT_PIN_HASH  # from `kiosk set-pin`
    corner_hold_s: float = 3.0


@dataclass(frozen=True)
class MicrobitConfig:
    link: str = "auto"  # "auto" | "ble" | "serial" | "simulated"
    fixed_pattern: str = ""  # 5 digits 1-5: always pair with this board, skip the pattern screen
    serial_port: str = "auto"  # "auto" or a device such as /dev/ttyACM0
    radio_remote_id: str = ""  # radio-bridge firmware: the remote board's id


@dataclass(frozen=True)
class StorageConfig:
    database: str = ""  # "" = the default location (see default_database_path)

    def database_path(self) -> Path:
        """The database file to use: the configured one, else the default location."""
        return Path(self.database).expanduser() if self.database else default_database_path()


@dataclass(frozen=True)
class KioskConfig:
    display: DisplayConfig = field(default_factory=DisplayConfig)
    session: SessionConfig = field(default_factory=SessionConfig)
    sound: SoundConfig = field(default_factory=SoundConfig)
    admin: AdminConfig = field(default_factory=AdminConfig)
    microbit: MicrobitConfig = field(default_factory=MicrobitConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)


def config_path_from_env() -> Path:
    """``$KIOSK_CONFIG`` when set, else ``DEFAULT_CONFIG_PATH``."""
    value = os.environ.get(CONFIG_ENV, "").strip()
    return Path(value) if value else DEFAULT_CONFIG_PATH


def running_under_systemd() -> bool:
    """True when started by systemd (it sets INVOCATION_ID and, for journald, JOURNAL_STREAM)."""
    return bool(os.environ.get("INVOCATION_ID") or os.environ.get("JOURNAL_STREAM"))


def default_database_path(*, for_service: bool | None = None) -> Path:
    """Where the SQLite database lives when ``[storage] database`` is empty.

    Under systemd: the unit's ``StateDirectory`` (``$STATE_DIRECTORY``, which
    may list several paths separated by ':'; the first is ours), falling back
    to /var/lib/microbit-kiosk. Elsewhere: the user's data directory, so a
    developer's runs never touch the box's data. ``for_service=True`` asks for
    the service's location from outside it (``kiosk doctor`` run over SSH).
    """
    state = os.environ.get("STATE_DIRECTORY", "").split(":")[0].strip()
    service = running_under_systemd() if for_service is None else for_service
    if state and for_service is not False:
        return Path(state) / DATABASE_FILENAME
    if service:
        return SERVICE_STATE_DIR / DATABASE_FILENAME
    import platformdirs  # only needed off the box

    return platformdirs.user_data_path(APP_NAME, appauthor=False) / DATABASE_FILENAME


# --- validation -------------------------------------------------------------

# A validator returns None when the value is fine, or the end of a sentence
# saying what is expected ("must be one of ...").
Validator = Callable[[Any], str | None]


def _one_of(*choices: Any) -> Validator:
    def check(value: Any) -> str | None:
        if value in choices:
            return None
        return "must be one of " + ", ".join(repr(c) for c in choices)

    return check


def _between(low: float, high: float, *, low_open: bool = False) -> Validator:
    def check(value: Any) -> str | None:
        too_low = value <= low if low_open else value < low
        if too_low or value > high or (isinstance(value, float) and math.isnan(value)):
            bound = "more than" if low_open else "at least"
            return f"must be {bound} {low:g} and at most {high:g}"
        return None

    return check


def _pattern(value: str) -> str | None:
    if value == "" or _PATTERN_RE.fullmatch(value):
        return None
    return 'must be "" or 5 digits from 1 to 5 (the LED column heights), like "31524"'


def _database(value: str) -> str | None:
    if value == "" or Path(value).expanduser().is_absolute():
        return None
    return 'must be "" (the default location) or an absolute path'


def _pin_hash(value: str) -> str | None:
    from kiosk.system.pin import describe_hash_problem

    return describe_hash_problem(value)


def _serial_port(value: str) -> str | None:
    if value == "auto" or value.startswith("/dev/"):
        return None
    return 'must be "auto" or a device path such as "/dev/ttyACM0"'


def _radio_id(value: str) -> str | None:
    if value == "" or re.fullmatch(r"[0-9A-Za-z]{1,16}", value):
        return None
    return 'must be "" or the remote board\'s id (letters and digits)'


_VALIDATORS: dict[tuple[str, str], Validator] = {
    ("display", "rotation"): _one_of(0, 90, 180, 270),
    ("display", "width"): _between(0, 16384),
    ("display", "height"): _between(0, 16384),
    ("display", "diagonal_inches"): _between(1.0, 200.0),
    ("session", "idle_timeout_s"): _between(5.0, 86400.0),
    ("session", "idle_countdown_s"): _between(0.0, 600.0),
    ("sound", "volume"): _between(0.0, 1.0),
    ("admin", "pin_hash"): _pin_hash,
    ("admin", "corner_hold_s"): _between(0.5, 30.0),
    ("microbit", "link"): _one_of("auto", "ble", "serial", "simulated"),
    ("microbit", "fixed_pattern"): _pattern,
    ("microbit", "serial_port"): _serial_port,
    ("microbit", "radio_remote_id"): _radio_id,
    ("storage", "database"): _database,
}

_TYPE_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}


def _coerce(value: Any, kind: type) -> tuple[bool, Any]:
    """(ok, value) for a TOML value against a field type; TOML integers count as floats."""
    if kind is bool:
        return isinstance(value, bool), value
    if isinstance(value, bool):  # bool is an int subclass: `volume = true` is a mistake
        return False, value
    if kind is float and isinstance(value, int | float):
        return True, float(value)
    if kind is int and isinstance(value, int):
        return True, value
    if kind is str and isinstance(value, str):
        return True, value.strip()
    return False, value


def _load_section(name: str, cls: type, table: Any, where: str, problems: list[str]) -> Any:
    default = cls()
    if not isinstance(table, dict):
        problems.append(
            f"{where}: [{name}] must be a table (a '[{name}]' header followed by keys); "
            "using its defaults."
        )
        return default
    types = {f.name: f.type for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key not in types:
            known = ", ".join(types)
            problems.append(
                f"{where}: unknown key '{key}' in [{name}] (known keys: {known}); ignored."
            )
            continue
        kind = {"bool": bool, "int": int, "float": float, "str": str}[str(types[key])]
        fallback = getattr(default, key)
        ok, value = _coerce(raw, kind)
        if not ok:
            problems.append(
                f"{where}: [{name}] {key} = {raw!r} must be {_TYPE_NAMES[kind]}; "
                f"using the default {fallback!r}."
            )
            continue
        validator = _VALIDATORS.get((name, key))
        reason = validator(value) if validator else None
        if reason:
            problems.append(
                f"{where}: [{name}] {key} = {raw!r} {reason}; using the default {fallback!r}."
            )
            continue
        values[key] = value
    section = dataclasses.replace(default, **values)
    return _cross_check(name, section, default, where, problems)


def _cross_check(name: str, section: Any, default: Any, where: str, problems: list[str]) -> Any:
    """Rules that involve two keys of one section."""
    if name == "display" and (section.width == 0) != (section.height == 0):
        problems.append(
            f"{where}: [display] width and height must both be set or both be 0 (native); "
            "using the native size."
        )
        return dataclasses.replace(section, width=0, height=0)
    if name == "session" and section.idle_countdown_s >= section.idle_timeout_s:
        problems.append(
            f"{where}: [session] idle_countdown_s ({section.idle_countdown_s:g}) must be shorter "
            f"than idle_timeout_s ({section.idle_timeout_s:g}); using the defaults for both."
        )
        return dataclasses.replace(
            section,
            idle_timeout_s=default.idle_timeout_s,
            idle_countdown_s=default.idle_countdown_s,
        )
    return section


def load_config(
    path: Path | None = None, *, admin_settings: Path | bool | None = None
) -> tuple[KioskConfig, list[str]]:
    """The configuration in ``path`` (default: ``$KIOSK_CONFIG`` or /etc/...) and its problems.

    The admin screen's changes live in a second file, ``admin-settings.toml``
    beside the database (the service's state directory): /etc is read-only
    under the unit's sandbox and is thrown away at reboot under the read-only
    root overlay, while the state directory sits on the data partition. Its
    keys override the technician's file; deleting it returns to that file.
    ``admin_settings=None`` finds it from the loaded storage settings, a path
    uses that file, ``False`` ignores it.

    Never raises for anything in the files. A missing file gives the defaults
    and no problem (a fresh box); an unreadable or invalid file gives the
    defaults and one problem.
    """
    path = Path(path) if path is not None else config_path_from_env()
    data, problems = _read_tables(path)
    base = _config_from_tables(data, str(path), problems)
    if admin_settings is False:
        return base, problems
    overrides_path = (
        admin_settings_path(base) if admin_settings in (None, True) else Path(admin_settings)
    )
    overrides, override_problems = _read_tables(overrides_path)
    problems.extend(override_problems)
    if not overrides:
        return base, problems
    merged = {key: dict(table) if isinstance(table, dict) else table for key, table in data.items()}
    for key, table in overrides.items():
        if isinstance(table, dict) and isinstance(merged.get(key), dict):
            merged[key].update(table)
        else:
            merged[key] = table
    return _config_from_tables(merged, f"{path} + {overrides_path}", problems), problems


ADMIN_SETTINGS_FILENAME = "admin-settings.toml"


def admin_settings_path(config: KioskConfig) -> Path:
    """Where the admin screen keeps its changes: beside the database."""
    return config.storage.database_path().parent / ADMIN_SETTINGS_FILENAME


def _read_tables(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The TOML tables in ``path`` ({} when missing) and at most one problem."""
    where = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return {}, [f"{where}: cannot read the file ({reason}); using all defaults."]
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as exc:
        return {}, [
            f"{where}: not valid TOML ({exc}); using all defaults. "
            "Compare it with /opt/microbit-kiosk/deploy/kiosk.toml."
        ]


def _config_from_tables(data: dict[str, Any], where: str, problems: list[str]) -> KioskConfig:
    sections = {f.name: f.default_factory for f in dataclasses.fields(KioskConfig)}
    loaded: dict[str, Any] = {}
    for key, table in data.items():
        if key not in sections:
            problems.append(
                f"{where}: unknown section or key '{key}' (known sections: "
                f"{', '.join(sections)}); ignored."
            )
            continue
        loaded[key] = _load_section(key, sections[key], table, where, problems)  # type: ignore[arg-type]
    return KioskConfig(**loaded)
