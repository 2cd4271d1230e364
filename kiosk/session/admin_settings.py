"""Keep the admin screen's changes across restarts, one line at a time.

The admin screen changes the running session at once; this module also
writes each change to ``admin-settings.toml`` beside the database (the
service's state directory, on the data partition: /etc is read-only inside
the service's sandbox and under the read-only root overlay). Its keys override
the technician's kiosk.toml when the kiosk starts (see
``kiosk.system.config.load_config``). Writing goes through
``kiosk.system.config_edit`` (atomic, keeps comments). When the file cannot be
written (a full or read-only disk, no file configured) the change still
applies to this run and the admin is told plainly that it will not survive a
restart.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from kiosk.system.config_edit import toml_string, write_setting

log = logging.getLogger(__name__)

# The exit code of "Exit to shell" on the admin screen. The systemd unit lists it in
# RestartPreventExitStatus=, so the service stays down and the console is free for
# maintenance (any other exit, or a crash, is restarted).
EXIT_TO_SHELL = 64

# Session setting -> (section, key) in kiosk.toml.
CONFIG_KEYS: dict[str, tuple[str, str]] = {
    "keep_data_between_visitors": ("session", "keep_data_between_visitors"),
    "idle_timeout_s": ("session", "idle_timeout_s"),
    "sound_enabled": ("sound", "enabled"),
    "rotation": ("display", "rotation"),
    "fixed_pattern": ("microbit", "fixed_pattern"),
    "radio_remote_id": ("microbit", "radio_remote_id"),  # set by "Prepare a micro:bit"
}


def toml_value(value: bool | int | float | str) -> str:
    """A Python value as TOML text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, float):
        return repr(float(value))
    return str(int(value))


@dataclass(frozen=True)
class SaveOutcome:
    saved: bool
    text: str  # what to tell the admin


class SettingsFile:
    """Writes admin changes to one settings file; ``path=None`` means "this run only"."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def writable(self) -> bool:
        """Whether a change could be written now (the file, or its folder when it is new)."""
        if self.path is None:
            return False
        target = self.path if self.path.exists() else self.path.parent
        return os.access(target, os.W_OK) and os.access(self.path.parent, os.W_OK)

    def save(self, setting: str, value: bool | int | float | str) -> SaveOutcome:
        """Write one session setting; never raises for a file problem."""
        section, key = CONFIG_KEYS[setting]
        if self.path is None:
            return SaveOutcome(False, "Changed for now (no settings file: not kept after restart).")
        try:
            write_setting(self.path, section, key, toml_value(value))
        except (OSError, ValueError) as error:
            log.warning("could not write %s.%s to %s: %s", section, key, self.path, error)
            reason = _reason(error)
            return SaveOutcome(
                False,
                f"Changed for now, but {self.path} {reason}, so it is not kept after a restart.",
            )
        log.info("admin: %s.%s = %s written to %s", section, key, value, self.path)
        return SaveOutcome(True, f"Saved in {self.path.name}.")


def _reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.errno in (30,):  # EROFS
        return "is on a read-only file system"
    if isinstance(error, PermissionError):
        return "cannot be written (no permission)"
    if isinstance(error, ValueError):
        return "could not be updated (it is not valid TOML)"
    return f"could not be written ({error.strerror or error})"  # type: ignore[union-attr]
