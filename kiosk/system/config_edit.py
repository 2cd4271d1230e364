"""Change one setting in kiosk.toml without disturbing the technician's comments.

tomllib only reads, and rewriting the file from data would drop every
comment the example config carries, so ``kiosk set-pin --write`` edits the
text: it replaces the key's line inside its section (a commented-out
``# key = ...`` line counts too), or adds the key (and section) when absent.
The result is parsed again before it is written, atomically.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import tomllib
from pathlib import Path

_HEADER_RE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(#.*)?$")


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def with_setting(text: str, section: str, key: str, value_toml: str) -> str:
    """``text`` with ``[section] key = value_toml`` set (ValueError if that breaks the TOML)."""
    lines = text.splitlines()
    key_re = re.compile(rf"^\s*#?\s*{re.escape(key)}\s*=")
    start = end = None
    for number, line in enumerate(lines):
        match = _HEADER_RE.match(line)
        if match and start is None and match.group(1) == section:
            start = number
        elif match and start is not None:
            end = number
            break
    new_line = f"{key} = {value_toml}"
    if start is None:
        tail = ["", f"[{section}]", new_line]
        lines = [*lines, *tail] if lines else tail[1:]
    else:
        end = len(lines) if end is None else end
        hits = [n for n in range(start + 1, end) if key_re.match(lines[n])]
        # Prefer a live line over a commented one when both exist.
        live = [n for n in hits if not lines[n].lstrip().startswith("#")]
        if hits:
            lines[(live or hits)[0]] = new_line
        else:
            lines.insert(start + 1, new_line)
    result = "\n".join(lines) + "\n"
    tomllib.loads(result)  # raises tomllib.TOMLDecodeError (a ValueError) if we broke it
    return result


def write_setting(path: Path, section: str, key: str, value_toml: str) -> None:
    """Set one key in the file at ``path`` (created if missing), atomically, keeping its mode."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    updated = with_setting(text, section, key, value_toml)
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(updated)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
