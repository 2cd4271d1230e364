"""Staff's USB stick page: see the CreateAI files on a stick, import one, export the kiosk's work.

On the box a stick is mounted by ``deploy/usb-stick.rules`` (udev asks
``systemd-mount`` to mount it at ``/media/usb-stick`` for the kiosk's user),
the one place the service's sandbox lets the kiosk write besides its state
directory and the micro:bit drive. The kiosk finds it as any stick is found,
in the kernel's mount table (``kiosk.store.usb``); a micro:bit's own
``MICROBIT`` drive is not a stick.

``UsbDesk`` owns what the page shows: whether it is open, the stick and its
dataset files, the page of files and the last outcome, in one line. Reading
a file is small and bounded (a dataset file is at most 16 MB and is refused
before parsing when it is larger), so it runs on the UI thread. Writing waits
for a disk (the kiosk's store, or the stick's own flush, slow on a cheap
stick), so the session hands the import's store change and the export's
files to the store's writer thread; meanwhile the page says what it is doing
(``working``) and takes no other tap. ``close`` (an admin lock, a visitor
reset) forgets all of it and stops watching the mount table.

A file on the stick is a stranger's: ``read`` refuses anything reached by a
symbolic link or outside the stick, and every problem (too big, not JSON,
wrong types, too many moves) becomes one line for staff and changes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kiosk.dataset import Dataset
from kiosk.errors import DatasetFormatError, KioskError
from kiosk.i18n import _, ngettext
from kiosk.store.createai_json import FileForm, dump_createai
from kiosk.store.export import dataset_csv, write_atomically
from kiosk.store.usb import (
    MEDIA_ROOTS,
    MOUNTS_FILE,
    UsbStickPoller,
    list_datasets,
    read_dataset,
)

log = logging.getLogger(__name__)

# Where deploy/usb-stick.rules mounts a stick (and the unit lets the kiosk write).
KIOSK_STICK = Path("/media/usb-stick")
FILES_PER_PAGE = 6
# Mount points that are micro:bits, not sticks (deploy's /media/microbit, or a desktop's
# /media/<user>/MICROBIT; MAINTENANCE is a board in its bootloader).
_BOARD_DRIVES = {"microbit", "maintenance"}


@dataclass(frozen=True)
class Outcome:
    """The page's one line: what happened, and whether it went well."""

    text: str
    good: bool


class UsbDesk:
    """The USB stick page's state; see the module docstring."""

    def __init__(
        self,
        mounts_file: Path = MOUNTS_FILE,
        roots: Sequence[Path] = MEDIA_ROOTS,
        wall_clock: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._mounts_file = mounts_file
        self._clock = clock  # when to look at the mount table again
        self._roots = tuple(roots)
        self._wall_clock = wall_clock
        self._poller: UsbStickPoller | None = None
        self._seen = -1  # the poller's version the file list was made for
        self.open = False
        self.stick: Path | None = None
        self.files: list[Path] = []
        self.page = 0
        self.outcome: Outcome | None = None
        self.working: str | None = None  # what is being written, until its outcome
        self.version = 0  # bumped on every change the page draws

    # ---- the page --------------------------------------------------------------------

    def show(self) -> None:
        self.close()
        self.open = True
        self._poller = UsbStickPoller(
            mounts_file=self._mounts_file, roots=self._roots, clock=self._clock
        )
        self.poll()

    def close(self) -> None:
        """Forget the page (an admin lock, a visitor reset); stop watching the mount table."""
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.close()
        self._seen = -1
        self.open = False
        self.stick = None
        self.files = []
        self.page = 0
        self.outcome = None
        self.working = None
        self.version += 1

    def poll(self) -> None:
        """A stick put in or taken out: look again (cheap; called every tick while open)."""
        poller = self._poller
        if poller is None:
            return
        sticks = poller.poll()
        if poller.version != self._seen:
            self._seen = poller.version
            self._look(sticks)

    def next_page(self) -> None:
        pages = max(1, -(-len(self.files) // FILES_PER_PAGE))
        self.page = (self.page + 1) % pages
        self.version += 1

    @property
    def shown_files(self) -> list[Path]:
        start = self.page * FILES_PER_PAGE
        return self.files[start : start + FILES_PER_PAGE]

    def file_label(self, path: Path) -> str:
        """The file as staff see it: its place on the stick, shortened to fit a button."""
        name = str(path.relative_to(self.stick)) if self.stick is not None else path.name
        return name if len(name) <= 24 else name[:11] + "…" + name[-12:]

    def begin(self, text: str) -> None:
        """A write has been handed over: say what is happening until ``say`` tells how it went."""
        self.working = text
        self.outcome = None
        self.version += 1

    def say(self, text: str, good: bool) -> None:
        self.outcome = Outcome(text, good)
        self.working = None
        self.version += 1
        (log.info if good else log.warning)("USB stick: %s", text)

    # ---- reading and writing ---------------------------------------------------------

    def read(self, path: Path) -> tuple[Dataset, FileForm]:
        """A dataset file from the stick; DatasetFormatError (one line) when it is not one."""
        if self.stick is None:
            raise DatasetFormatError(_("The USB stick was taken out."))
        return read_dataset(self.stick, path)

    def export_files(
        self, dataset: Dataset, form: FileForm, model: bytes | None
    ) -> tuple[Path, list[tuple[str, bytes]]]:
        """The stick and the files an export writes there: the data (JSON, CSV) and, if
        given, the model (.tflite), named by the time. Raises KioskError without a stick."""
        if self.stick is None:
            raise DatasetFormatError(_("Put in a USB stick first."))
        stem = "kiosk-" + time.strftime("%Y-%m-%d-%H%M%S", time.localtime(self._wall_clock()))
        files = [
            (f"{stem}.json", dump_createai(dataset, form).encode("utf-8")),
            (f"{stem}.csv", dataset_csv(dataset).encode("utf-8")),
        ]
        if model:
            files.append((f"{stem}.tflite", model))
        return self.stick, files

    def look_again(self) -> None:
        """The stick's files changed (an export): list them again."""
        if self.stick is not None:
            self._look([self.stick])

    def _look(self, sticks: Sequence[Path]) -> None:
        sticks = [s for s in sticks if s.name.lower() not in _BOARD_DRIVES]
        # The kiosk's own mount point first: the one the sandbox lets it write to.
        sticks.sort(key=lambda s: (s != KIOSK_STICK, str(s)))
        stick = sticks[0] if sticks else None
        if stick != self.stick:
            self.page = 0
            self.outcome = None
        self.stick = stick
        self.files = list_datasets(stick) if stick is not None else []
        self.page = min(self.page, max(0, (len(self.files) - 1) // FILES_PER_PAGE))
        self.version += 1


def write_files(stick: Path, files: list[tuple[str, bytes]]) -> list[str]:
    """Write ``files`` onto the stick, each complete or absent (``write_atomically``);
    the names written. Raises KioskError (StorageError) with the reason. Any thread."""
    for name, data in files:
        write_atomically(stick / name, data)
    return [name for name, _data in files]


def import_problem(dataset: Dataset, min_moves: int, max_moves: int) -> str | None:
    """Why this dataset cannot become the current moves (None: it can)."""
    n = len(dataset.actions)
    if not min_moves <= n <= max_moves:
        return ngettext(
            "It has {n} move; the kiosk works with {low} to {high}.",
            "It has {n} moves; the kiosk works with {low} to {high}.",
            n,
        ).format(n=n, low=min_moves, high=max_moves)
    return None


def problem_line(name: str, error: KioskError) -> str:
    """One line for staff naming the file and what is wrong with it."""
    problem = str(error)
    if Path(name).name in problem:  # the reader's words name the file already
        return problem
    return _("{file}: {problem}").format(file=name, problem=problem)
