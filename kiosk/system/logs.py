"""Logging set-up: journald with real priorities on the box, plain stderr elsewhere.

Under systemd, stderr already ends up in the journal, but as one priority for
every line. The journal handler keeps each record's level (so
``journalctl -u microbit-kiosk -p warning`` works) and adds the logger name
and source location as fields. Without systemd-python it falls back to
stderr lines prefixed ``<N>``, which journald also turns into priorities.
"""

from __future__ import annotations

import logging
import sys

from kiosk.system.config import APP_NAME, running_under_systemd

_MARK = "_kiosk_configured"
_SYSLOG_PRIORITY = {  # logging level -> syslog priority, for the <N> prefix fallback
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


class _PriorityPrefixFormatter(logging.Formatter):
    """``<4>name: message``: journald reads the ``<N>`` prefix as the line's priority."""

    def format(self, record: logging.LogRecord) -> str:
        priority = next(
            (
                p
                for lvl, p in sorted(_SYSLOG_PRIORITY.items(), reverse=True)
                if record.levelno >= lvl
            ),
            7,
        )
        return "\n".join(f"<{priority}>{line}" for line in super().format(record).splitlines())


def _parse_level(level: str | int) -> tuple[int, str | None]:
    if isinstance(level, int):
        return level, None
    value = logging.getLevelName(str(level).upper())
    if isinstance(value, int):
        return value, None
    return logging.INFO, f"unknown log level {level!r}; using 'info'"


def _journal_handler() -> logging.Handler | None:
    try:
        from systemd.journal import JournalHandler
    except ImportError:
        return None
    return JournalHandler(SYSLOG_IDENTIFIER=APP_NAME)


def configure_logging(level: str | int = "info") -> logging.Handler:
    """Install one root handler for the kiosk's process and return it.

    Replaces handlers a previous call (or ``logging.basicConfig`` in the
    CLI) installed, so nothing is logged twice.
    """
    levelno, level_problem = _parse_level(level)
    handler: logging.Handler | None = _journal_handler() if running_under_systemd() else None
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        if running_under_systemd():
            handler.setFormatter(_PriorityPrefixFormatter("%(name)s: %(message)s"))
        else:
            handler.setFormatter(
                logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
            )
    setattr(handler, _MARK, True)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        if getattr(old, _MARK, False):
            old.close()
    root.addHandler(handler)
    root.setLevel(levelno)
    if level_problem:
        logging.getLogger(__name__).warning(level_problem)
    return handler
