"""Find the micro:bit's ``MICROBIT`` drive, where copying a .hex flashes the board.

A micro:bit on USB is also a small FAT drive (its interface chip, DAPLink)
labelled ``MICROBIT`` with a ``DETAILS.TXT`` that names the interface and the
board (its "Unique ID" starts with 9900/9901 on a V1 and 9903-9906 on a V2).
On the kiosk the drive is mounted at ``/media/microbit`` for the service's user
by ``deploy/microbit-drive.rules`` and ``deploy/media-microbit.mount`` (the
service gets no root and no raw block device); elsewhere wherever the desktop
put it. This module only reads mount tables and files: no privileges.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: Where the kiosk's mount unit puts the drive.
KIOSK_MOUNT = Path("/media/microbit")
DRIVE_LABEL = "MICROBIT"
DETAILS = "DETAILS.TXT"
_V1_IDS = ("9900", "9901")
_V2_IDS = ("9903", "9904", "9905", "9906")


@dataclass(frozen=True)
class MicrobitDrive:
    path: Path
    board_version: int | None  # 1 or 2, None if DETAILS.TXT does not say
    unique_id: str  # DAPLink's "Unique ID", "" if unknown
    interface_version: str  # DAPLink's "Interface Version", "" if unknown

    @property
    def failure(self) -> str | None:
        """What ``FAIL.TXT`` says after a flash that went wrong, or None."""
        try:
            return (self.path / "FAIL.TXT").read_text(errors="replace").strip() or "failed"
        except OSError:
            return None


def board_version_from_id(unique_id: str) -> int | None:
    if unique_id.startswith(_V1_IDS):
        return 1
    if unique_id.startswith(_V2_IDS):
        return 2
    return None


def read_drive(path: Path) -> MicrobitDrive | None:
    """The drive at ``path`` if it looks like a micro:bit's (a DETAILS.TXT from DAPLink)."""
    try:
        text = (path / DETAILS).read_text(errors="replace")
    except OSError:
        return None
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip()
    unique_id = fields.get("unique id", "")
    if not unique_id and "daplink" not in text.lower():
        return None
    return MicrobitDrive(
        path, board_version_from_id(unique_id), unique_id, fields.get("interface version", "")
    )


def _mount_points(mounts_file: Path) -> list[Path]:
    try:
        lines = mounts_file.read_text().splitlines()
    except OSError:
        return []
    points = []
    for line in lines:
        fields = line.split()
        if len(fields) > 2 and fields[2] in ("vfat", "msdos", "fat"):
            points.append(Path(fields[1].replace("\\040", " ")))
    return points


def find_drives(
    extra: list[Path] | None = None, mounts_file: Path = Path("/proc/self/mounts")
) -> list[MicrobitDrive]:
    """Every mounted micro:bit drive: the kiosk's mount point, FAT mounts, and ``extra``."""
    candidates = [KIOSK_MOUNT, *_mount_points(mounts_file), *(extra or [])]
    seen: set[Path] = set()
    drives = []
    for path in candidates:
        if path in seen:
            continue
        seen.add(path)
        drive = read_drive(path)
        if drive is not None:
            drives.append(drive)
    return drives
