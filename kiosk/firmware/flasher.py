"""Put the kiosk's program on a micro:bit: copy the hex, wait for the board, check it answers.

Flashing a micro:bit is copying a .hex onto its ``MICROBIT`` drive; the board
then programs itself, resets, and comes back as a serial port (and a drive).
Done only when the board answers the handshake with the kiosk program's
version and the role that was asked for: a copy that "worked" but left the
old program running is reported as a failure, with what the board said.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import LinkError
from kiosk.firmware.drives import MicrobitDrive, find_drives
from kiosk.firmware.hexbuild import FirmwareError, find_hex
from kiosk.i18n import _
from kiosk.microbit.serial_link import SerialLink, SerialTimings, find_serial_boards
from kiosk.microbit.serial_protocol import BoardProgram

log = logging.getLogger(__name__)

#: A board takes a few seconds to program itself and re-appear; MicroPython then boots.
FLASH_TIMEOUT_S = 60.0
PROBE_TIMINGS = SerialTimings(handshake_timeout_s=2.0, command_timeout_s=1.0)


@dataclass(frozen=True)
class FlashResult:
    role: str
    board_version: int
    hex_path: Path
    drive: Path
    port: str
    program: BoardProgram
    board_id: str | None  # for a radio remote: the id the bridge must be given
    seconds: float


Progress = Callable[[str], None]
#: (program, board id) of the board on a port, or None when it does not answer.
Prober = Callable[[str], tuple[BoardProgram, str | None] | None]


def choose_drive(drive: Path | None, drives: list[MicrobitDrive] | None = None) -> MicrobitDrive:
    """The one micro:bit drive to flash, or a FirmwareError saying what to do."""
    from kiosk.firmware.drives import read_drive

    if drive is not None:
        found = read_drive(drive)
        if found is None:
            raise FirmwareError(f"{drive} is not a micro:bit's MICROBIT drive (no DETAILS.TXT).")
        return found
    drives = find_drives() if drives is None else drives
    if not drives:
        raise FirmwareError(
            "No MICROBIT drive found: plug the micro:bit in with a USB cable that carries "
            "data. If it is plugged in, its drive is not mounted: on the kiosk "
            "deploy/install.sh sets that up (/media/microbit); elsewhere pass --drive."
        )
    if len(drives) > 1:
        where = ", ".join(str(d.path) for d in drives)
        raise FirmwareError(
            f"Several micro:bits are plugged in ({where}): unplug all but the one to flash, "
            "or pass --drive."
        )
    return drives[0]


def copy_hex(hex_path: Path, drive: Path, role: str) -> Path:
    """Write the hex onto the drive and make sure it reached the device."""
    target = drive / f"kiosk-{role}.hex"
    data = hex_path.read_bytes()
    try:
        with open(target, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except PermissionError:
        raise FirmwareError(
            f"The kiosk may not write to {drive}: the drive must be mounted for the kiosk's "
            "user (deploy/microbit-drive.rules and media-microbit.mount do this)."
        ) from None
    except OSError as exc:
        # DAPLink may detach the drive as soon as the last block is written.
        if exc.errno not in (5,):  # EIO after the whole file went out is the board resetting
            raise FirmwareError(f"Copying to {drive} failed: {exc.strerror or exc}.") from None
    return target


def wait_for_program(
    role: str,
    timeout_s: float,
    *,
    ports: Callable[[], list[str]] = find_serial_boards,
    probe: Prober | None = None,
    drive: MicrobitDrive | None = None,
    progress: Progress = lambda _text: None,
) -> tuple[str, BoardProgram, str | None]:
    """(port, program, board id) once a board answers with the kiosk's program for ``role``."""
    probe = probe or probe_board
    deadline = time.monotonic() + timeout_s
    last: BoardProgram | None = None
    while time.monotonic() < deadline:
        for port in ports():
            answer = probe(port)
            if answer is None:
                continue
            program, board_id = answer
            if program.program == "kiosk" and program.role == role:
                return port, program, board_id
            if program != last:
                progress(
                    _("The board answers with {program}; waiting…").format(program=program.words)
                )
                last = program
        failure = drive.failure if drive is not None else None
        if failure:
            raise FirmwareError(f"The micro:bit could not program itself: {failure}")
        time.sleep(0.5)
    said = f"it answered with {last.words}" if last is not None else "it did not answer"
    raise FirmwareError(
        f"The micro:bit did not come back with the kiosk's {role} program within "
        f"{timeout_s:.0f} s ({said}). Unplug it, plug it back in and try again."
    )


def probe_board(port: str) -> tuple[BoardProgram, str | None] | None:
    """What the board on ``port`` runs and its id, or None when it does not answer (yet)."""
    link = SerialLink(port, timings=PROBE_TIMINGS)
    try:
        program = link.probe()
    except LinkError as exc:
        log.debug("probe of %s: %s", port, exc)
        return None
    return program, link.board_id


def flash(
    role: str,
    *,
    drive: Path | None = None,
    board_version: int | None = None,
    hex_dir: Path | None = None,
    timeout_s: float = FLASH_TIMEOUT_S,
    ports: Callable[[], list[str]] = find_serial_boards,
    probe: Prober | None = None,
    progress: Progress = lambda _text: None,
) -> FlashResult:
    """Flash ``role`` ("usb", "bridge", "remote") onto the plugged-in micro:bit; see the module."""
    started = time.monotonic()
    target = choose_drive(drive)
    version = board_version or target.board_version
    if version is None:
        raise FirmwareError(
            f"Cannot tell whether the micro:bit on {target.path} is a V1 or a V2 "
            "(DETAILS.TXT has no Unique ID): pass --board-version."
        )
    hex_path = find_hex(role, version, hex_dir)
    progress(
        _("Copying {file} to the micro:bit (V{version}) on {path}…").format(
            file=hex_path.name, version=version, path=target.path
        )
    )
    copy_hex(hex_path, target.path, role)
    progress(_("Waiting for the micro:bit to restart with its new program…"))
    port, program, board_id = wait_for_program(
        role, timeout_s, ports=ports, probe=probe, drive=target, progress=progress
    )
    return FlashResult(
        role, version, hex_path, target.path, port, program, board_id, time.monotonic() - started
    )
