"""Flashing: find the MICROBIT drive, copy the right hex, wait for the board to answer.

The drive is a folder with DAPLink's DETAILS.TXT; the board is the fake serial
board on a real pseudo-terminal (tests/microbit/fake_serial_board.py), which
"programs itself" when a complete hex lands on the drive: it disappears,
comes back on a new port and answers with the kiosk's program.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.firmware import drives, flasher, hexbuild, report
from kiosk.firmware.hexbuild import FirmwareError
from kiosk.microbit.serial_protocol import BoardProgram
from tests.microbit.fake_serial_board import FakeSerialBoard

pytestmark = pytest.mark.timeout(120)

V1_DETAILS = (
    "# DAPLink Firmware - see https://mbed.com/daplink\n"
    "Unique ID: 9900000037024e450034200b0000004e0000000097969901\n"
    "HIC ID: 9700a000\nInterface Version: 0253\n"
)
V2_DETAILS = (
    "# DAPLink Firmware\n"
    "Unique ID: 9904360259994e45003c00160000003a000000009796990b\n"
    "Interface Version: 0255\n"
)


def make_drive(tmp_path: Path, details: str = V2_DETAILS, name: str = "MICROBIT") -> Path:
    drive = tmp_path / name
    drive.mkdir()
    (drive / "DETAILS.TXT").write_text(details)
    (drive / "MICROBIT.HTM").write_text("<html></html>")
    return drive


@pytest.fixture(scope="module")
def hex_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hex")
    hexbuild.build_all(out)
    return out


def test_details_tell_v1_from_v2(tmp_path: Path) -> None:
    v1 = drives.read_drive(make_drive(tmp_path, V1_DETAILS, "A"))
    v2 = drives.read_drive(make_drive(tmp_path, V2_DETAILS, "B"))
    assert v1 is not None and v1.board_version == 1 and v1.interface_version == "0253"
    assert v2 is not None and v2.board_version == 2
    assert drives.read_drive(tmp_path) is None  # a folder without DETAILS.TXT


def test_drives_are_found_in_the_mount_table(tmp_path: Path) -> None:
    drive = make_drive(tmp_path, name="MICRO BIT")
    other = tmp_path / "usbstick"
    other.mkdir()
    mounts = tmp_path / "mounts"
    escaped = str(drive).replace(" ", "\\040")
    mounts.write_text(
        f"/dev/sda1 {escaped} vfat rw 0 0\n/dev/sdb1 {other} vfat rw 0 0\nproc /proc proc rw 0 0\n"
    )
    found = drives.find_drives(mounts_file=mounts)
    assert [d.path for d in found] == [drive]


def test_no_drive_or_several_drives_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FirmwareError, match="No MICROBIT drive"):
        flasher.choose_drive(None, [])
    a = drives.read_drive(make_drive(tmp_path, name="A"))
    b = drives.read_drive(make_drive(tmp_path, name="B"))
    assert a is not None and b is not None
    with pytest.raises(FirmwareError, match="Several micro:bits"):
        flasher.choose_drive(None, [a, b])
    with pytest.raises(FirmwareError, match="not a micro:bit"):
        flasher.choose_drive(tmp_path, None)


class ReflashingBoard:
    """Watches the drive: a complete hex there makes the fake board restart with that program."""

    def __init__(self, board: FakeSerialBoard, drive: Path, works: bool = True) -> None:
        self.board, self.drive, self.works = board, drive, works
        self.flashed: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            for hex_file in self.drive.glob("*.hex"):
                text = hex_file.read_text()
                if not text.endswith(":00000001FF\n"):
                    continue  # still being written
                hex_file.unlink()  # DAPLink never keeps the file
                self.flashed.append(hex_file.name)
                self.board.unplug()
                time.sleep(0.3)  # the board programs itself
                if self.works:
                    role = hex_file.stem.removeprefix("kiosk-")
                    self.board.swver = f"kiosk-1.0-{role}"
                self.board.replug()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.mark.parametrize("role", hexbuild.ROLES)
def test_flash_copies_the_right_hex_and_checks_the_board(tmp_path, hex_dir, role) -> None:
    drive = make_drive(tmp_path)
    with FakeSerialBoard(swver="0.3.0") as board:
        watcher = ReflashingBoard(board, drive)
        try:
            said: list[str] = []
            result = flasher.flash(
                role,
                drive=drive,
                hex_dir=hex_dir,
                timeout_s=30,
                ports=board.ports,
                progress=said.append,
            )
        finally:
            watcher.stop()
    assert watcher.flashed == [f"kiosk-{role}.hex"]
    assert result.board_version == 2 and result.hex_path.name == f"kiosk-{role}-v2.hex"
    assert result.program == BoardProgram("kiosk", "1.0", role)
    assert result.board_id == "305419896"  # the remote's id, to give the bridge
    assert any("Copying" in s for s in said)
    assert not board.panicked


def test_a_board_that_keeps_its_old_program_is_a_failure_with_what_it_said(
    tmp_path, hex_dir
) -> None:
    drive = make_drive(tmp_path, V1_DETAILS)
    with FakeSerialBoard(swver="0.3.0") as board:
        watcher = ReflashingBoard(board, drive, works=False)
        try:
            with pytest.raises(FirmwareError, match=r"the Foundation's program 0\.3\.0"):
                flasher.flash("usb", drive=drive, hex_dir=hex_dir, timeout_s=3, ports=board.ports)
        finally:
            watcher.stop()


def test_fail_txt_on_the_drive_is_reported(tmp_path, hex_dir) -> None:
    drive = make_drive(tmp_path)
    (drive / "FAIL.TXT").write_text("The hex file cannot be decoded.\n")
    with pytest.raises(FirmwareError, match="cannot be decoded"):
        flasher.flash("usb", drive=drive, hex_dir=hex_dir, timeout_s=5, ports=lambda: [])


def test_cli_flash_without_a_drive_exits_2(tmp_path, capsys) -> None:
    assert main(["flash", "usb", "--drive", str(tmp_path)]) == 2
    assert "not a micro:bit" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("program", "role", "status", "words"),
    [
        (BoardProgram("kiosk", "1.0", "usb"), "usb", report.OK, ""),
        (BoardProgram("kiosk", "1.0", "usb"), "bridge", report.WARN, "kiosk flash bridge"),
        (BoardProgram("kiosk", "1.0", "remote"), "usb", report.WARN, "radio_remote_id = 42"),
        (BoardProgram("foundation", "0.3.0", ""), "usb", report.WARN, "for icons"),
        (None, "usb", report.WARN, "kiosk flash usb"),
    ],
)
def test_board_reports_say_what_to_do(program, role, status, words) -> None:
    verdict = report.judge("/dev/ttyACM0", program, "42" if program else None, role)
    assert verdict.status == status
    assert words in verdict.fix


def test_attached_boards_probe_each_port() -> None:
    answers = {"/dev/ttyACM0": (BoardProgram("kiosk", "1.0", "bridge"), "7"), "/dev/ttyACM1": None}
    reports = report.attached_boards(
        "12345", ports=lambda: sorted(answers), probe=lambda port: answers[port]
    )
    assert [(r.port, r.status) for r in reports] == [
        ("/dev/ttyACM0", report.OK),
        ("/dev/ttyACM1", report.WARN),
    ]
    assert "kiosk's program 1.0 (bridge), id 7" in reports[0].detail
