"""Keep the admin screen's changes across restarts, one setting at a time.

The admin screen changes the running session at once; this module also
writes each change to ``admin-settings.toml`` beside the database (the
service's state directory, on the data partition: /etc is read-only inside
the service's sandbox and under the read-only root overlay). Its keys override
the technician's kiosk.toml when the kiosk starts (see
``kiosk.system.config.load_config``). Which settings may be changed here, and
where each lives in the file, comes from the schema in ``kiosk.settings``.
Writing goes through ``kiosk.system.config_edit`` (atomic, keeps comments).
When the file cannot be written (a full or read-only disk, no file configured)
the change still applies to this run and the admin is told plainly that it
will not survive a restart.
"""

from __future__ import annotations

import errno
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.settings import Settings, field_spec
from kiosk.system.config_edit import write_setting

log = logging.getLogger(__name__)

# The exit code of "Exit to shell" on the admin screen. The systemd unit lists it in
# RestartPreventExitStatus=, so the service stays down and the console is free for
# maintenance (any other exit, or a crash, is restarted).
EXIT_TO_SHELL = 64


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

    def save(self, settings: Settings, name: str) -> SaveOutcome:
        """Write one admin setting's current value; never raises for a file problem."""
        meta = field_spec(name).meta
        if not meta.admin:
            raise ValueError(f"{name} is not a setting the admin screen may change")
        if self.path is None:
            return SaveOutcome(
                False, _("Changed for now (no settings file: not kept after restart).")
            )
        value = getattr(settings, name)
        try:
            write_setting(self.path, meta.section, meta.key, value)
        except (OSError, ValueError, KioskError) as error:
            log.warning("could not write %s.%s to %s: %s", meta.section, meta.key, self.path, error)
            return SaveOutcome(
                False,
                _(
                    "Changed for now, but {file} {reason}, so it is not kept after a restart."
                ).format(file=self.path, reason=_reason(error)),
            )
        log.info("admin: %s.%s = %s written to %s", meta.section, meta.key, value, self.path)
        return SaveOutcome(True, _("Saved in {file}.").format(file=self.path.name))


def _reason(error: Exception) -> str:
    text = str(error)
    if (isinstance(error, OSError) and error.errno == errno.EROFS) or "read-only" in text:
        return _("is on a read-only file system")
    if isinstance(error, PermissionError) or "Permission denied" in text:
        return _("cannot be written (no permission)")
    if isinstance(error, ValueError):
        return _("could not be updated (it is not valid TOML)")
    if isinstance(error, OSError):
        return _("could not be written ({error})").format(error=error.strerror or error)
    return _("could not be written ({error})").format(error=text)
