"""The hex builder: deterministic bytes, one role's code per hex, clear errors."""

from __future__ import annotations

from pathlib import Path

import micropython_microbit_fs as mfs
import pytest

from kiosk.cli import main
from kiosk.firmware import hexbuild
from kiosk.firmware.hexbuild import FirmwareError


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    return hexbuild.read_source()


def test_build_twice_gives_identical_bytes(tmp_path: Path) -> None:
    first = hexbuild.build_all(tmp_path / "a")
    second = hexbuild.build_all(tmp_path / "b")
    assert [(b.role, b.board_version) for b in first] == [
        (role, version) for role in hexbuild.ROLES for version in hexbuild.BOARD_VERSIONS
    ]
    for one, two in zip(first, second, strict=True):
        assert one.path.read_bytes() == two.path.read_bytes()
        assert one.sha256 == two.sha256 and one.size == two.size
    assert len({b.sha256 for b in first}) == 6  # every role and board differs


@pytest.mark.parametrize("role", hexbuild.ROLES)
def test_each_hex_holds_the_roles_program_and_runs_on_its_board(role, sources) -> None:
    for version in hexbuild.BOARD_VERSIONS:
        text = hexbuild.build_hex(role, version, sources)
        assert mfs.get_device_info(text).device_version.value == f"V{version}"
        files = {f.name: f.get_text() for f in mfs.get_files(text)}
        assert set(files) == {"main.py", "kiosk_serial.py"}
        main_py = files["main.py"]
        assert f'ROLE = "{role}"' in main_py
        assert not any(line.strip().startswith("#: ") for line in main_py.splitlines())
        assert ("import radio" in main_py) == (role != "usb")  # QEMU/V1: radio only if used
        assert ("RMBID" in main_py) == (role == "bridge")
        compile(main_py, "main.py", "exec")  # still valid Python after the blocks went
        compile(files["kiosk_serial.py"], "kiosk_serial.py", "exec")


def test_role_blocks_are_checked() -> None:
    with pytest.raises(FirmwareError, match="no '#: end'"):
        hexbuild.strip_blocks("usb", "#: bridge\nx = 1\n", "t.py")
    with pytest.raises(FirmwareError, match="bad block marker"):
        hexbuild.strip_blocks("usb", "#: sideways\nx = 1\n#: end\n", "t.py")
    with pytest.raises(FirmwareError, match="with no block"):
        hexbuild.strip_blocks("usb", "#: end\n", "t.py")
    text = "a = 1\n#: bridge remote\nb = 2\n#: end\nc = 3\n"
    assert hexbuild.strip_blocks("usb", text, "t.py") == "a = 1\nc = 3\n"
    assert hexbuild.strip_blocks("remote", text, "t.py") == "a = 1\nb = 2\nc = 3\n"


def test_unknown_role_and_missing_source_are_clear(tmp_path: Path, sources) -> None:
    with pytest.raises(FirmwareError, match="Unknown micro:bit role"):
        hexbuild.build_hex("toaster", 1, sources)
    with pytest.raises(FirmwareError, match="Cannot read the micro:bit program"):
        hexbuild.build_all(tmp_path / "out", tmp_path)


def test_version_comes_from_the_program(sources) -> None:
    version = hexbuild.program_version(sources[hexbuild.PROGRAM_NAME])
    assert version and all(part.isdigit() for part in version.split("."))


def test_find_hex_builds_when_missing(tmp_path: Path) -> None:
    path = hexbuild.find_hex("remote", 2, tmp_path)
    assert path == tmp_path / "kiosk-remote-v2.hex" and path.is_file()


def test_cli_build_writes_six_files(tmp_path: Path, capsys) -> None:
    assert main(["firmware", "build", "--out", str(tmp_path), "--json"]) == 0
    out = capsys.readouterr().out
    assert '"hex_files"' in out
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        hexbuild.hex_name(r, v) for r in hexbuild.ROLES for v in hexbuild.BOARD_VERSIONS
    )


def test_cli_build_with_a_bad_source_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["firmware", "build", "--out", str(tmp_path / "o"), "--source", str(tmp_path)]) == 2
    assert "Cannot read the micro:bit program" in capsys.readouterr().err


def test_a_build_in_a_child_process_gives_the_same_bytes() -> None:
    files = {"main.py": "from microbit import *\ndisplay.scroll('hi')\n"}
    assert hexbuild.build_files_hex_apart(2, files) == hexbuild.build_files_hex(2, files)


def test_a_build_in_a_child_process_that_fails_says_why_in_one_line() -> None:
    # Far more than a V2's file system holds, and not compressible into it.
    big = {"main.py": "".join(f"x{i} = {i * 7919 % 100003}\n" for i in range(120_000))}
    with pytest.raises(FirmwareError) as caught:
        hexbuild.build_files_hex_apart(2, big, what="model")
    assert str(caught.value) == "The model is too big for the V2's file system."
