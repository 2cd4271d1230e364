"""A piece of session work that runs on its own thread while the screen keeps drawing.

Building the explanations and training a comparison take from a fraction of a
second to several seconds; the touchscreen must keep animating meanwhile. A
job runs ``_work`` once on a daemon thread, and the UI thread polls ``done``
(never waits). Expected failures (``KioskError``) become ``error`` as they are
worded; anything else is a bug: logged with its traceback, and ``error`` says
plainly that something went wrong, so a screen never hangs on "Working…".
"""

from __future__ import annotations

import logging
import threading
from typing import Self

from kiosk.errors import KioskError
from kiosk.i18n import N_, _

log = logging.getLogger(__name__)


class BackgroundJob:
    """Subclasses set ``name`` and ``failure`` and implement ``_work``."""

    name = "job"
    #: What a person reads when ``_work`` hits a bug; ``{error}`` is the exception.
    failure = N_("Something went wrong ({error}).")

    def __init__(self) -> None:
        self.error: str | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def _work(self) -> None:
        raise NotImplementedError

    def _main(self) -> None:
        try:
            self._work()
        except KioskError as error:
            self.error = str(error)
        except Exception as error:
            log.exception("%s failed", self.name)
            self.error = _(self.failure).format(error=error)
        finally:
            self._done.set()
