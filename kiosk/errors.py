"""Errors a person can act on.

Every error the kiosk expects (bad files, a vanished micro:bit, a full disk)
is a ``KioskError`` whose message says what happened and what to do next, in
plain words. The command line prints it as one line and exits with code 2; the
touchscreen shows it in a banner. Anything else is a bug and is logged with
its traceback.
"""

from __future__ import annotations


class KioskError(Exception):
    """An expected failure with a message meant for a person."""


class DatasetFormatError(KioskError):
    """A dataset or model file that cannot be read: wrong JSON, wrong shapes, hostile content."""


class WindowTooShortError(KioskError):
    """A recording or live window has too few samples to compute features from."""


class StorageError(KioskError):
    """The database could not save or load something."""


class StorageFullError(StorageError):
    """The disk (or the database's file system) is full; nothing stored was damaged."""


class LinkError(KioskError):
    """A micro:bit link could not be set up or was lost."""
