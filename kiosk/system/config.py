"""The exhibit's settings, read from ``/etc/microbit-kiosk/kiosk.toml``.

A museum technician edits this file by hand, so a mistake in it must never
stop the exhibit: every bad key, value or type is reported in a sentence that
names the file, the key and the fix, and the documented default is used
instead. ``load_config`` therefore never raises for anything in the file;
callers log the problems and ``kiosk doctor`` prints them.

What the keys are, their defaults and checks live in one place,
``kiosk.settings``; this module only reads files against it, and
``example_toml`` writes the documented example (``deploy/kiosk.toml``, which a
test holds against it).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path
from typing import Any

from kiosk.settings import (
    DEFAULT_PIN,
    DEFAULT_PIN_HASH,
    SCHEMA,
    TYPE_NAMES,
    Settings,
    coerce,
    cross_check,
    section_specs,
    sections,
    spec_for,
)

__all__ = [
    "ADMIN_SETTINGS_FILENAME",
    "DATABASE_FILENAME",
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_PIN",
    "DEFAULT_PIN_HASH",
    "Settings",
    "admin_settings_path",
    "config_path_from_env",
    "database_path",
    "default_database_path",
    "example_toml",
    "load_config",
    "running_under_systemd",
]

APP_NAME = "microbit-kiosk"
DEFAULT_CONFIG_PATH = Path("/etc/microbit-kiosk/kiosk.toml")
CONFIG_ENV = "KIOSK_CONFIG"
SERVICE_STATE_DIR = Path("/var/lib/microbit-kiosk")
DATABASE_FILENAME = "kiosk.sqlite3"
ADMIN_SETTINGS_FILENAME = "admin-settings.toml"


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


def database_path(
    settings: Settings, override: Path | None = None, *, for_service: bool | None = None
) -> Path:
    """The one answer to "which database file": ``--db``, else ``[storage] database``, else
    the default location (see ``default_database_path``)."""
    if override is not None:
        return Path(override)
    if settings.database:
        return Path(settings.database).expanduser()
    return default_database_path(for_service=for_service)


def admin_settings_path(settings: Settings, database: Path | None = None) -> Path:
    """Where the admin screen keeps its changes: beside the database."""
    return database_path(settings, database).parent / ADMIN_SETTINGS_FILENAME


def load_config(
    path: Path | None = None,
    *,
    admin_settings: Path | bool | None = None,
    database: Path | None = None,
) -> tuple[Settings, list[str]]:
    """The settings in ``path`` (default: ``$KIOSK_CONFIG`` or /etc/...) and their problems.

    The admin screen's changes live in a second file, ``admin-settings.toml``
    beside the database (the service's state directory): /etc is read-only
    under the unit's sandbox and is thrown away at reboot under the read-only
    root overlay, while the state directory sits on the data partition. Its
    keys override the technician's file; deleting it returns to that file.
    ``admin_settings=None`` finds it beside the database (``database``, else
    the one the settings name), a path uses that file, ``False`` ignores it.
    Only settings the admin screen may change are taken from that file.

    Never raises for anything in the files. A missing file gives the defaults
    and no problem (a fresh box); an unreadable or invalid file gives the
    defaults and one problem.
    """
    path = Path(path) if path is not None else config_path_from_env()
    data, problems = _read_tables(path)
    base = _settings_from_tables(data, str(path), problems)
    if admin_settings is False:
        return base, problems
    overrides_path = (
        admin_settings_path(base, database)
        if admin_settings in (None, True)
        else Path(admin_settings)  # type: ignore[arg-type]
    )
    overrides, override_problems = _read_tables(overrides_path)
    problems.extend(override_problems)
    if not overrides:
        return base, problems
    merged = {key: dict(table) if isinstance(table, dict) else table for key, table in data.items()}
    where = f"{path} + {overrides_path}"
    for section, table in overrides.items():
        if not isinstance(table, dict):
            problems.append(f"{overrides_path}: [{section}] must be a table; ignored.")
            continue
        for key, value in table.items():
            spec = spec_for(section, key)
            if spec is not None and not spec.meta.admin:
                problems.append(
                    f"{overrides_path}: [{section}] {key} is not an admin-screen setting; "
                    "set it in kiosk.toml instead. Ignored."
                )
                continue
            target = merged.setdefault(section, {})
            if isinstance(target, dict):
                target[key] = value
    return _settings_from_tables(merged, where, problems), problems


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


def _settings_from_tables(data: dict[str, Any], where: str, problems: list[str]) -> Settings:
    known_sections = sections()
    values: dict[str, Any] = {}
    for name, table in data.items():
        if name not in known_sections:
            problems.append(
                f"{where}: unknown section or key '{name}' (known sections: "
                f"{', '.join(known_sections)}); ignored."
            )
            continue
        if not isinstance(table, dict):
            problems.append(
                f"{where}: [{name}] must be a table (a '[{name}]' header followed by keys); "
                "using its defaults."
            )
            continue
        for key, raw in table.items():
            spec = spec_for(name, key)
            if spec is None:
                known = ", ".join(s.meta.key for s in section_specs(name))
                problems.append(
                    f"{where}: unknown key '{key}' in [{name}] (known keys: {known}); ignored."
                )
                continue
            ok, value = coerce(raw, spec.kind)
            if not ok:
                problems.append(
                    f"{where}: [{name}] {key} = {raw!r} must be {TYPE_NAMES[spec.kind]}; "
                    f"using the default {spec.default!r}."
                )
                continue
            reason = spec.meta.check(value) if spec.meta.check else None
            if reason:
                problems.append(
                    f"{where}: [{name}] {key} = {raw!r} {reason}; "
                    f"using the default {spec.default!r}."
                )
                continue
            values[spec.name] = value
    return cross_check(dataclasses.replace(Settings(), **values), problems, where)


_EXAMPLE_HEADER = """\
# micro:bit machine-learning kiosk: settings.
#
# Installed as /etc/microbit-kiosk/kiosk.toml (only when that file does not
# exist yet, so updates never overwrite your changes). Every key is shown with
# its default value; delete a line or a whole section to get the default.
# A mistake here never stops the exhibit: the bad value is reported and the
# default used. See what was reported with:
#     sudo /opt/microbit-kiosk/.venv/bin/kiosk doctor
# After editing: sudo systemctl restart microbit-kiosk
#
# Changes made on the admin screen are kept in
# /var/lib/microbit-kiosk/admin-settings.toml, beside the database on the
# data partition, and override this file. Delete that file (then restart) to
# return to the values here. The admin screen can change:
{admin}
#
# This file is generated from kiosk/settings.py by `kiosk config --example`.
"""


def example_toml() -> str:
    """The documented example file: every key with its default and its comment."""
    import tomlkit

    admin = "\n".join(
        f"#     [{spec.meta.section}] {spec.meta.key}" for spec in SCHEMA if spec.meta.admin
    )
    lines = [_EXAMPLE_HEADER.format(admin=admin).rstrip("\n")]
    for section in sections():
        lines += ["", f"[{section}]"]
        for spec in section_specs(section):
            lines += [f"# {line}".rstrip() for line in spec.meta.doc.splitlines()]
            value = tomlkit.item(spec.default).as_string()
            lines.append(f"{spec.meta.key} = {value}")
    return "\n".join(lines) + "\n"
