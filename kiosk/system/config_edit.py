"""Change one setting in a TOML settings file without disturbing the technician's comments.

tomllib only reads, and rewriting the file from data would drop every comment
the example config carries, so edits go through tomlkit, which keeps the
document as written (comments, order, spacing) and changes only the value.
The result is parsed again before it is written, atomically, with the file's
mode kept and the folder synced (a power cut leaves the old or the new file).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import tomlkit
import tomlkit.exceptions

from kiosk.store.export import write_atomically

TomlValue = bool | int | float | str


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string."""
    return tomlkit.string(value).as_string()


def with_setting(text: str, section: str, key: str, value: TomlValue) -> str:
    """``text`` with ``[section] key = value`` set (ValueError for text that is not TOML)."""
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.TOMLKitError as error:
        raise ValueError(f"not valid TOML ({error})") from None
    table = document.get(section)
    if table is None:
        table = tomlkit.table()
        document[section] = table
    elif not isinstance(table, dict):
        raise ValueError(f"[{section}] is not a table")
    table[key] = value
    result = tomlkit.dumps(document)
    tomllib.loads(result)  # raises tomllib.TOMLDecodeError (a ValueError) if this broke it
    return result


def write_setting(path: Path, section: str, key: str, value: TomlValue) -> None:
    """Set one key in the file at ``path`` (created if missing), atomically, keeping its mode.

    Raises ValueError for a file that is not TOML (left as it was) and
    ``kiosk.errors.StorageError`` when it cannot be written.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    updated = with_setting(text, section, key, value)
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, updated.encode("utf-8"), mode=mode)
