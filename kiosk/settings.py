"""Every setting of the exhibit, declared once: its section, default, check and who may change it.

The technician's ``kiosk.toml``, the admin screen's ``admin-settings.toml``,
the session's view of the settings and the documented example file
(``deploy/kiosk.toml``) are all derived from the one ``Settings`` dataclass
below. Adding a setting is one field here (plus the code that uses it):
loading, validation, the admin file and the example file follow.

Each field is declared with ``setting(...)``, which stores a ``Meta`` in the
dataclass field's metadata. ``Settings`` is frozen: the admin screen makes a
changed copy with ``Settings.changed`` and the session keeps the newest.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from kiosk.i18n import LANGUAGES, SOURCE_LANGUAGE

# A check returns None when a value is fine, or the end of a sentence saying what is
# expected ("must be one of ...").
Check = Callable[[Any], str | None]

# The PIN a fresh box accepts until the technician runs `kiosk set-pin`. The hash is
# precomputed (scrypt is slow on purpose); tests/system/test_pin.py checks the two agree.
DEFAULT_PIN = "1234"
DEFAULT_PIN_HASH = (
    "scrypt$n=16384,r=8,p=1$goiRyFSpwB5z516/od0jmQ==$monUMy6VNUxd+BkK9fLXYaGN2Z16IAYcnInjyToHO5c="
)

# CreateAI's recognition threshold: a move is recognised when its confidence is above it.
DEFAULT_THRESHOLD = 0.8

IDLE_TIMEOUT_CHOICES = (30.0, 60.0, 120.0, 300.0)  # what the admin screen's button cycles through
ROTATIONS = (0, 90, 180, 270)
LINK_KINDS = ("auto", "ble", "serial", "simulated")

_PATTERN_RE = re.compile(r"[1-5]{5}")


@dataclass(frozen=True)
class Meta:
    """How one field appears in the files: ``[section] key``, its comment and its check."""

    section: str
    key: str
    doc: str
    check: Check | None
    admin: bool  # the admin screen may change it (kept in admin-settings.toml)


T = TypeVar("T")


def setting(
    default: T,
    *,
    section: str,
    doc: str,
    key: str = "",
    check: Check | None = None,
    admin: bool = False,
) -> T:
    """A ``Settings`` field; ``key`` defaults to the field's own name."""
    meta = {"setting": Meta(section, key, doc, check, admin)}
    return cast(T, dataclasses.field(default=default, metadata=meta))


# --- checks -------------------------------------------------------------------


def one_of(*choices: Any) -> Check:
    def check(value: Any) -> str | None:
        if value in choices:
            return None
        return "must be one of " + ", ".join(repr(c) for c in choices)

    return check


def between(low: float, high: float, *, low_open: bool = False) -> Check:
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


# --- the schema ---------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """The exhibit's settings; see the module docstring. Section order is the file's order."""

    rotation: int = setting(
        0,
        section="display",
        check=one_of(*ROTATIONS),
        admin=True,
        doc="Degrees clockwise: 0, 90, 180 or 270. Portrait-mounted panels use 90 or 270;\n"
        "the app turns both the picture and the touches.",
    )
    fullscreen: bool = setting(
        True,
        section="display",
        doc="true: take the whole screen (always on the exhibit). false: a window, for\n"
        "development on a desktop.",
    )
    width: int = setting(
        0,
        section="display",
        check=between(0, 16384),
        doc="Size in pixels; 0 and 0 = the panel's native size. Set both or neither.",
    )
    height: int = setting(0, section="display", check=between(0, 16384), doc="")
    diagonal_inches: float = setting(
        7.0,
        section="display",
        check=between(1.0, 200.0),
        doc="The panel's diagonal in inches, used to make buttons at least 15 mm wide.",
    )
    language: str = setting(
        SOURCE_LANGUAGE,
        section="display",
        check=one_of(*LANGUAGES),
        admin=True,
        doc='The language each visitor starts in: "en" (English), "da" (Dansk) or "de"\n'
        "(Deutsch). A visitor may pick another on the first screen; the next visitor\n"
        "starts in this one again.",
    )

    idle_timeout_s: float = setting(
        60.0,
        section="session",
        check=between(5.0, 86400.0),
        admin=True,
        doc='Seconds without a touch or micro:bit motion before "Are you still there?".',
    )
    idle_countdown_s: float = setting(
        10.0,
        section="session",
        check=between(0.0, 600.0),
        doc="Seconds that question counts down before the exhibit resets for the next\n"
        "visitor. Must be shorter than idle_timeout_s.",
    )
    keep_data_between_visitors: bool = setting(
        False,
        section="session",
        admin=True,
        doc="false: each visitor starts from a clean slate (their recordings and model\n"
        "are deleted at the reset). true: keep them for the next visitor.",
    )
    own_moves: bool = setting(
        True,
        section="session",
        admin=True,
        doc="true: a visitor can also make a move of their own (a name typed on the\n"
        "screen and a MakeCode picture), as in CreateAI. false: only the preset moves\n"
        "and the names staff add.",
    )
    teacher_mode: bool = setting(
        False,
        section="session",
        admin=True,
        doc='true: the train screen lets the class choose the model, "Network" (a small\n'
        'neural network) or "Nearest neighbours", each with its honest score.\n'
        "false: always the network.",
    )
    resume_window_s: float = setting(
        300.0,
        section="session",
        check=between(0.0, 3600.0),
        doc="After a crash or a restart within this many seconds of the visitor's last\n"
        "touch, the kiosk comes back to their moves, recordings and model. 0 = never.",
    )

    countdown_s: float = setting(
        3.0,
        section="recording",
        check=between(0.0, 10.0),
        doc="Seconds of 3-2-1 countdown before each recording.",
    )
    record_s: float = setting(
        1.0,
        section="recording",
        check=between(1.0, 1.0),
        doc="Length of one recording in seconds. CreateAI's features need 1 s.",
    )
    gap_s: float = setting(
        1.0,
        section="recording",
        check=between(0.0, 10.0),
        doc='Pause in seconds between the recordings of "Record 5 in a row".',
    )
    min_recordings_per_action: int = setting(
        3,
        section="recording",
        check=between(1, 20),
        doc="Recordings each move needs before the Train button works.",
    )

    sound_enabled: bool = setting(True, section="sound", key="enabled", admin=True, doc="")
    sound_volume: float = setting(
        0.7,
        section="sound",
        key="volume",
        check=between(0.0, 1.0),
        doc="0.0 (silent) to 1.0 (loudest).",
    )

    pin_hash: str = setting(
        DEFAULT_PIN_HASH,
        section="admin",
        check=_pin_hash,
        doc="The admin menu opens after holding the top-left corner for corner_hold_s\n"
        "seconds and typing the PIN. The PIN is stored only as a hash. The default\n"
        "below is the hash of the PIN 1234: change it on every box with\n"
        "    sudo /opt/microbit-kiosk/.venv/bin/kiosk set-pin --write",
    )
    corner_hold_s: float = setting(3.0, section="admin", check=between(0.5, 30.0), doc="")

    link_kind: str = setting(
        "auto",
        section="microbit",
        key="link",
        check=one_of(*LINK_KINDS),
        doc='How to reach the micro:bit: "auto" (USB if one is plugged in, else\n'
        'Bluetooth), "ble", "serial" (USB cable), or "simulated" (no board: a demo).',
    )
    fixed_pattern: str = setting(
        "",
        section="microbit",
        check=_pattern,
        admin=True,
        doc="Pair always with one board: its 5-digit pattern (the LED column heights,\n"
        'each 1-5, e.g. "31524"). "" = ask each visitor to copy the pattern.',
    )
    serial_port: str = setting(
        "auto",
        section="microbit",
        check=_serial_port,
        doc='USB serial device: "auto" finds the micro:bit, or e.g. "/dev/ttyACM0".',
    )
    radio_remote_id: str = setting(
        "",
        section="microbit",
        check=_radio_id,
        admin=True,
        doc="Radio-bridge firmware only: the id of the remote board the USB board relays.\n"
        'The admin screen\'s "Prepare a micro:bit" sets it when it flashes a radio remote.',
    )

    database: str = setting(
        "",
        section="storage",
        check=_database,
        doc='The SQLite database file. "" = the default: /var/lib/microbit-kiosk/kiosk.sqlite3\n'
        "on the box (a separate data partition when the root is read-only).",
    )

    def changed(self, name: str, value: Any) -> Settings:
        """A copy with one field changed (ValueError when the value fails its check)."""
        spec = field_spec(name)
        ok, value = coerce(value, spec.kind)
        problem = None if ok else f"must be {TYPE_NAMES[spec.kind]}"
        problem = problem or (spec.meta.check(value) if spec.meta.check else None)
        if problem:
            raise ValueError(f"{spec.meta.section}.{spec.meta.key} = {value!r} {problem}")
        return dataclasses.replace(self, **{name: value})


@dataclass(frozen=True)
class FieldSpec:
    name: str  # the attribute on Settings
    kind: type  # bool, int, float or str
    default: Any
    meta: Meta


_KINDS: dict[str, type] = {"bool": bool, "int": int, "float": float, "str": str}
TYPE_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}


def _specs() -> tuple[FieldSpec, ...]:
    specs = []
    for f in dataclasses.fields(Settings):
        meta: Meta = f.metadata["setting"]
        if not meta.key:
            meta = dataclasses.replace(meta, key=f.name)
        specs.append(FieldSpec(f.name, _KINDS[str(f.type)], f.default, meta))
    return tuple(specs)


SCHEMA: tuple[FieldSpec, ...] = _specs()
_BY_NAME = {spec.name: spec for spec in SCHEMA}
_BY_KEY = {(spec.meta.section, spec.meta.key): spec for spec in SCHEMA}


def field_spec(name: str) -> FieldSpec:
    return _BY_NAME[name]


def spec_for(section: str, key: str) -> FieldSpec | None:
    return _BY_KEY.get((section, key))


def sections() -> list[str]:
    """The sections in file order."""
    return list(dict.fromkeys(spec.meta.section for spec in SCHEMA))


def section_specs(section: str) -> Iterator[FieldSpec]:
    return (spec for spec in SCHEMA if spec.meta.section == section)


ADMIN_FIELDS = tuple(spec.name for spec in SCHEMA if spec.meta.admin)


def coerce(value: Any, kind: type) -> tuple[bool, Any]:
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


def cross_check(settings: Settings, problems: list[str], where: str) -> Settings:
    """Rules that involve two keys; a broken pair falls back to defaults, with a sentence."""
    defaults = Settings()
    if (settings.width == 0) != (settings.height == 0):
        problems.append(
            f"{where}: [display] width and height must both be set or both be 0 (native); "
            "using the native size."
        )
        settings = dataclasses.replace(settings, width=0, height=0)
    if settings.idle_countdown_s >= settings.idle_timeout_s:
        problems.append(
            f"{where}: [session] idle_countdown_s ({settings.idle_countdown_s:g}) must be "
            f"shorter than idle_timeout_s ({settings.idle_timeout_s:g}); using the defaults "
            "for both."
        )
        settings = dataclasses.replace(
            settings,
            idle_timeout_s=defaults.idle_timeout_s,
            idle_countdown_s=defaults.idle_countdown_s,
        )
    return settings
