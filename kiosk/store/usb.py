"""Noticing USB sticks, and the dataset files on them, without blocking the UI.

A stick plugged into the Pi is mounted by the system (udisks, systemd-mount
or an udev rule) under /media, /run/media or /mnt; the kiosk only reads the
kernel's mount table. ``UsbStickPoller.poll()`` is cheap enough to call every
frame: it re-reads the table only when the kernel signals that it changed
(``/proc/self/mounts`` raises POLLPRI on every mount and unmount) or, where
that signal is missing, at most once per interval.
"""

from __future__ import annotations

import os
import re
import select
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from kiosk.dataset import Dataset
from kiosk.errors import DatasetFormatError
from kiosk.store.createai_json import FileForm, load_createai

MOUNTS_FILE = Path("/proc/self/mounts")
MEDIA_ROOTS: tuple[Path, ...] = (Path("/media"), Path("/run/media"), Path("/mnt"))
MAX_DATASET_FILES = 200  # a stick full of JSON is not a menu anyone can use
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")  # the mount table writes a space as \040


def find_usb_sticks(
    mounts_file: Path = MOUNTS_FILE, roots: Sequence[Path] = MEDIA_ROOTS
) -> list[Path]:
    """Mount points of removable media: block devices mounted under the media folders."""
    try:
        table = mounts_file.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return []
    return parse_mount_table(table, roots)


def parse_mount_table(table: str, roots: Sequence[Path] = MEDIA_ROOTS) -> list[Path]:
    sticks: list[Path] = []
    for line in table.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        device, mount_point = fields[0], Path(_unescape(fields[1]))
        if not device.startswith("/dev/") or device.startswith("/dev/loop"):
            continue  # tmpfs, network shares, snap images: not a stick
        under_media = any(
            mount_point != root and mount_point.is_relative_to(root) for root in roots
        )
        if under_media and mount_point not in sticks:
            sticks.append(mount_point)
    return sorted(sticks)


def list_datasets(stick: Path, max_files: int = MAX_DATASET_FILES) -> list[Path]:
    """The ``*.json`` files at the top of a stick, then one folder down, by name.

    Hidden files are skipped (macOS leaves ``._name.json`` companions that are
    not JSON); unreadable folders are skipped rather than reported.
    """
    found = _json_files(stick)
    for folder in _folders(stick):
        if len(found) >= max_files:
            break
        found.extend(_json_files(folder))
    return found[:max_files]


def on_stick(stick: Path, path: Path) -> bool:
    """True when ``path`` is a regular file on ``stick`` reached without any symbolic link."""
    try:
        relative = Path(os.path.abspath(path)).relative_to(os.path.abspath(stick))
    except ValueError:
        return False
    if ".." in relative.parts or not relative.parts:
        return False
    current = Path(os.path.abspath(stick))
    try:
        for part in relative.parts:
            current = current / part
            if current.is_symlink():
                return False
        real = Path(os.path.realpath(path))
        return real.is_relative_to(os.path.realpath(stick)) and real.is_file()
    except OSError:
        return False


def read_dataset(stick: Path, path: Path) -> tuple[Dataset, FileForm]:
    """Read a dataset file from ``stick``, refusing anything that leaves the stick."""
    if not on_stick(stick, path):
        raise DatasetFormatError(f"{path.name} is not a file on the USB stick")
    return load_createai(path)


def _visible_entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    return sorted(
        (entry for entry in entries if not entry.name.startswith(".")),
        key=lambda entry: entry.name.lower(),
    )


def _json_files(folder: Path) -> list[Path]:
    found = []
    for entry in _visible_entries(folder):
        try:
            # Not follow_symlinks: a link on a stranger's stick may point anywhere
            # on the kiosk (its database, /etc); only files on the stick count.
            if entry.name.lower().endswith(".json") and entry.is_file(follow_symlinks=False):
                found.append(Path(entry.path))
        except OSError:
            continue
    return found


def _folders(folder: Path) -> list[Path]:
    found = []
    for entry in _visible_entries(folder):
        try:
            if entry.is_dir(follow_symlinks=False):
                found.append(Path(entry.path))
        except OSError:
            continue
    return found


class UsbStickPoller:
    """The mounted USB sticks, kept current cheaply; ``version`` goes up when they change."""

    def __init__(
        self,
        interval_s: float = 1.0,
        mounts_file: Path = MOUNTS_FILE,
        roots: Sequence[Path] = MEDIA_ROOTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval_s = interval_s
        self._mounts_file = mounts_file
        self._roots = tuple(roots)
        self._clock = clock
        self._sticks: list[Path] = []
        self._checked_at: float | None = None
        self.version = 0
        self._fd: int | None = None
        self._poller: select.poll | None = None
        try:
            self._fd = os.open(mounts_file, os.O_RDONLY | os.O_NONBLOCK)
            self._poller = select.poll()
            self._poller.register(self._fd, select.POLLPRI | select.POLLERR)
        except OSError:
            self.close()

    @property
    def sticks(self) -> list[Path]:
        """The sticks found at the last poll."""
        return list(self._sticks)

    def poll(self) -> list[Path]:
        """Rescan if the mount table changed or the interval passed; returns the sticks."""
        now = self._clock()
        due = self._checked_at is None or now - self._checked_at >= self._interval_s
        if due or self._mount_table_signalled():
            self._checked_at = now
            sticks = find_usb_sticks(self._mounts_file, self._roots)
            if sticks != self._sticks:
                self._sticks = sticks
                self.version += 1
        return list(self._sticks)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd = None
        self._poller = None

    def _mount_table_signalled(self) -> bool:
        if self._poller is None or self._fd is None:
            return False
        events = self._poller.poll(0)
        if not any(mask & (select.POLLPRI | select.POLLERR) for _, mask in events):
            return False
        # Reading the table to its end is what clears the kernel's signal.
        os.lseek(self._fd, 0, os.SEEK_SET)
        while os.read(self._fd, 65536):
            pass
        return True


def _unescape(field: str) -> str:
    return _OCTAL_ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), field)
