"""kiosk doctor: each check against a fake /proc, /sys, /dev and /etc, then the real command here.

This machine has no display and no Bluetooth: the command must say so
clearly and exit 1, not crash.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from kiosk.cli import doctor as doctor_cli
from kiosk.system import checks
from kiosk.system.checks import FAIL, OK, WARN, Host
from kiosk.system.config import load_config
from kiosk.system.pin import verify_pin

REPO = Path(__file__).resolve().parents[2]
KIOSK = Path(sys.executable).with_name("kiosk")
needs_64bit = pytest.mark.skipif(struct.calcsize("l") != 8, reason="bitmaps below are 64-bit")

# Real /proc/bus/input/devices blocks (64-bit kernel): an FT5406-style
# multi-touch panel, a single-touch resistive panel and a keyboard.
MULTI_TOUCH = """I: Bus=0000 Vendor=0000 Product=0000 Version=0000
N: Name="generic ft5x06 (79)"
H: Handlers=mouse0 event0
B: PROP=2
B: EV=b
B: KEY=400 0 0 0 0 0
B: ABS=260800000000003
"""
SINGLE_TOUCH = """I: Bus=0003 Vendor=0eef Product=0001 Version=0100
N: Name="eGalax Touch"
H: Handlers=mouse1 event2
B: EV=b
B: KEY=400 0 0 0 0 0
B: ABS=3
"""
KEYBOARD = """I: Bus=0003 Vendor=046d Product=c31c Version=0110
N: Name="Logitech USB Keyboard"
H: Handlers=sysrq kbd event1 leds
B: EV=120013
B: KEY=1000000000007 ff9f207ac14057ff febeffdfffefffff fffffffffffffffe
"""


def _host(tmp_path: Path, *, pi: bool = False, **environ: str) -> Host:
    if pi:
        model = tmp_path / "proc/device-tree/model"
        model.parent.mkdir(parents=True, exist_ok=True)
        model.write_text("Raspberry Pi 4 Model B Rev 1.5\0")
    return Host(root=tmp_path, environ=environ)


def _put(tmp_path: Path, path: str, text: str = "") -> Path:
    target = tmp_path / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


# --- touch ---------------------------------------------------------------


@needs_64bit
def test_multi_touch_panel_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _put(tmp_path, "/proc/bus/input/devices", KEYBOARD + "\n" + MULTI_TOUCH)
    _put(tmp_path, "/dev/input/event0").chmod(0o660)
    # The fake node's group plays the part of "input" (this machine may have none).
    monkeypatch.setattr(checks.grp, "getgrgid", lambda gid: SimpleNamespace(gr_name="input"))
    result = checks.check_touch(_host(tmp_path))
    assert result.status == OK and "ft5x06" in result.detail and "event0" in result.detail


@needs_64bit
def test_single_touch_panel_found_but_node_not_readable_by_input(tmp_path: Path) -> None:
    _put(tmp_path, "/proc/bus/input/devices", SINGLE_TOUCH)
    _put(tmp_path, "/dev/input/event2").chmod(0o600)
    result = checks.check_touch(_host(tmp_path))
    assert result.status == WARN and "eGalax" in result.detail
    assert "/dev/input/event2" in result.detail


@needs_64bit
def test_keyboard_is_not_a_touchscreen(tmp_path: Path) -> None:
    _put(tmp_path, "/proc/bus/input/devices", KEYBOARD)
    result = checks.check_touch(_host(tmp_path))
    assert result.status == FAIL and "1 input device" in result.detail and result.fix


def test_no_input_devices_file(tmp_path: Path) -> None:
    assert checks.check_touch(_host(tmp_path)).status == FAIL


# --- display -------------------------------------------------------------


def test_pi_with_the_pypi_pygame_wheel(tmp_path: Path) -> None:
    result = checks.check_display(_host(tmp_path, pi=True), ["x11", "wayland", "dummy"])
    assert result.status == FAIL and "kmsdrm" in result.detail and "pip uninstall" in result.fix


def test_pi_with_bookworms_sdl_which_names_the_driver_in_capitals(tmp_path: Path) -> None:
    # Debian bookworm's SDL 2.26 lists "KMSDRM" (seen on arm64 by deploy/check-arm64.sh).
    host = _host(tmp_path, pi=True)
    _put(tmp_path, "/dev/dri/card1")
    _put(tmp_path, "/sys/class/drm/card1-DSI-1/status", "connected\n")
    result = checks.check_display(host, ["x11", "wayland", "KMSDRM", "offscreen", "dummy"])
    assert result.status == OK, result.detail


def test_pi_without_drm_device_then_without_screen_then_fine(tmp_path: Path) -> None:
    host = _host(tmp_path, pi=True)
    drivers = ["kmsdrm", "dummy"]
    assert "/dev/dri/card" in checks.check_display(host, drivers).detail
    _put(tmp_path, "/dev/dri/card1")
    status = _put(tmp_path, "/sys/class/drm/card1-HDMI-A-1/status", "disconnected\n")
    result = checks.check_display(host, drivers)
    assert result.status == FAIL and "no screen is connected" in result.detail
    status.write_text("connected\n")
    result = checks.check_display(host, drivers)
    assert result.status == OK and "card1-HDMI-A-1" in result.detail


def test_desktop_session_is_fine_off_the_pi(tmp_path: Path) -> None:
    result = checks.check_display(_host(tmp_path, DISPLAY=":0"), ["x11", "dummy"])
    assert result.status == OK


def test_sdl_drivers_are_listed_from_pygames_sdl() -> None:
    drivers = checks.sdl_video_drivers()
    assert drivers is not None and "dummy" in drivers


# --- Bluetooth and capabilities --------------------------------------------


def test_bluetooth_adapter_states(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    host = _host(tmp_path)
    assert checks.check_bluetooth(host, "auto").status == FAIL
    assert checks.check_bluetooth(host, "serial").status == WARN  # not needed for USB
    (tmp_path / "sys/class/bluetooth/hci0").mkdir(parents=True)
    monkeypatch.setattr(checks, "_bluepy_helper", lambda: Path("/bin/true"))
    assert checks.check_bluetooth(host, "ble").status == OK
    _put(tmp_path, "/sys/class/rfkill/rfkill0/type", "bluetooth\n")
    _put(tmp_path, "/sys/class/rfkill/rfkill0/soft", "1\n")
    _put(tmp_path, "/sys/class/rfkill/rfkill0/hard", "0\n")
    blocked = checks.check_bluetooth(host, "auto")
    assert blocked.status == FAIL and "rfkill unblock bluetooth" in blocked.fix
    (tmp_path / "sys/class/rfkill/rfkill0/soft").write_text("0\n")
    monkeypatch.setattr(checks, "_bluepy_helper", lambda: None)
    assert "helper" in checks.check_bluetooth(host, "auto").detail


def test_capabilities_from_the_installed_unit_and_drop_ins(tmp_path: Path) -> None:
    host = _host(tmp_path)
    assert checks.check_capabilities(host, "auto").status == WARN  # not installed
    unit = "/etc/systemd/system/microbit-kiosk.service"
    _put(tmp_path, unit, (REPO / "services/microbit-kiosk.service").read_text())
    assert checks.unit_capabilities(host) == {"CAP_NET_RAW", "CAP_NET_ADMIN"}
    assert checks.check_capabilities(host, "auto").status == OK
    _put(tmp_path, unit + ".d/serial-only.conf", "[Service]\nAmbientCapabilities=\n")
    assert checks.unit_capabilities(host) == set()
    result = checks.check_capabilities(host, "ble")
    assert result.status == FAIL and "CAP_NET_ADMIN" in result.detail
    assert checks.check_capabilities(host, "serial").status == OK


# --- storage ------------------------------------------------------------------


def test_database_checks(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.sqlite3"
    assert checks.check_database(path).status == OK  # created at first start
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x)")
        db.execute("INSERT INTO t VALUES (1)")
    db.close()
    result = checks.check_database(path)
    assert result.status == OK and "integrity ok" in result.detail
    path.write_bytes(b"this is not a database" * 100)
    broken = checks.check_database(path)
    assert broken.status == FAIL and "moves a damaged file aside" in broken.fix


def test_data_partition_listed_but_not_mounted(tmp_path: Path) -> None:
    host = _host(tmp_path)
    assert checks.check_data_mount(host) is None
    _put(tmp_path, "/etc/fstab", "UUID=abcd /var/lib/microbit-kiosk ext4 defaults,nofail 0 2\n")
    result = checks.check_data_mount(host)
    assert result is not None and result.status == FAIL


def test_disk_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mb = 1024 * 1024

    def usage(free_mb: int) -> None:
        monkeypatch.setattr(
            shutil,
            "disk_usage",
            lambda _p: shutil._ntuple_diskusage(  # type: ignore[attr-defined]
                1000 * mb, 1000 * mb - free_mb * mb, free_mb * mb
            ),
        )

    usage(50)
    assert checks.check_disk(tmp_path / "missing" / "db").status == FAIL
    usage(300)
    assert checks.check_disk(tmp_path).status == WARN
    usage(5000)
    assert checks.check_disk(tmp_path).status == OK


def test_config_problems_and_default_pin(tmp_path: Path) -> None:
    path = _put(tmp_path, "/kiosk.toml", "[sound]\nvolume = 3\n")
    config, problems = load_config(path)
    results = checks.check_config(path, problems)
    assert [r.status for r in results] == [WARN] and "volume" in results[0].detail
    pin = checks.check_admin_pin(config, path)
    assert pin.status == WARN and "set-pin" in pin.fix


# --- the commands ----------------------------------------------------------------


def test_kiosk_doctor_here_reports_missing_hardware(tmp_path: Path) -> None:
    config = _put(tmp_path, "/kiosk.toml", '[microbit]\nlink = "wifi"\n')
    env = {**os.environ, "KIOSK_CONFIG": str(config), "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    result = subprocess.run(
        [str(KIOSK), "doctor", "--json"], capture_output=True, text=True, env=env, timeout=120
    )
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    by_name = {c["name"]: c for c in report["checks"]}
    expected_fail = {"display"} | ({"touch"} if not Path("/dev/input/by-path").exists() else set())
    if not list(Path("/sys/class/bluetooth").glob("hci*")):
        expected_fail.add("bluetooth")
    for name in expected_fail:
        assert by_name[name]["status"] == "fail" and by_name[name]["fix"], name
    assert any("link" in c["detail"] for c in report["checks"] if c["name"] == "config")
    assert report["ok"] is False and result.returncode == 1
    human = subprocess.run(
        [str(KIOSK), "doctor"], capture_output=True, text=True, env=env, timeout=120
    )
    assert human.returncode == 1 and "FAIL  display" in human.stdout and "fix:" in human.stdout


def test_doctor_exit_code_follows_failures(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fine = [checks.Check("a", OK, "fine"), checks.Check("b", WARN, "look", "do x")]
    monkeypatch.setattr(doctor_cli, "run_checks", lambda *a: fine)
    args = argparse.Namespace(json=False, config=None)
    assert doctor_cli.run_doctor(args) == 0
    assert "1 warning" in capsys.readouterr().out
    monkeypatch.setattr(doctor_cli, "run_checks", lambda *a: [*fine, checks.Check("c", FAIL, "x")])
    assert doctor_cli.run_doctor(args) == 1


def _set_pin(monkeypatch: pytest.MonkeyPatch, typed: str, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    doctor_cli.register(parser.add_subparsers())
    args = parser.parse_args(["set-pin", *argv])
    monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
    return args.func(args)


def test_set_pin_prints_a_line_to_paste(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _set_pin(monkeypatch, "86420\n86420\n") == 0
    line = capsys.readouterr().out.splitlines()[-1]
    assert line.startswith('pin_hash = "scrypt$')
    assert verify_pin("86420", line.split('"')[1])


def test_set_pin_writes_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text((REPO / "deploy/kiosk.toml").read_text())
    assert _set_pin(monkeypatch, "7391\n7391\n", "--write", "--config", str(path)) == 0
    config, problems = load_config(path)
    assert problems == [] and verify_pin("7391", config.pin_hash)
    assert not verify_pin("1234", config.pin_hash)


@pytest.mark.parametrize(
    ("typed", "message"), [("1234\n4321\n", "differ"), ("12\n12\n", "4 to 8 digits")]
)
def test_set_pin_refuses_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, typed: str, message: str
) -> None:
    from kiosk.errors import KioskError

    path = tmp_path / "kiosk.toml"
    path.write_text("[sound]\nvolume = 0.5\n")
    with pytest.raises(KioskError, match=message):
        _set_pin(monkeypatch, typed, "--write", "--config", str(path))
    assert path.read_text() == "[sound]\nvolume = 0.5\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand a file to another user")
def test_root_checks_a_service_database_as_its_owner() -> None:
    import tempfile

    nobody = 65534
    folder = Path(tempfile.mkdtemp(prefix="kiosk-doctor-", dir="/tmp"))
    try:
        folder.chmod(0o755)
        os.chown(folder, nobody, nobody)
        path = folder / "kiosk.sqlite3"
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("CREATE TABLE t (x)")
        db.close()
        for file in folder.iterdir():
            os.chown(file, nobody, nobody)
        result = checks.check_database(path)
        assert result.status == OK, result
        # Nothing the check left behind belongs to root.
        assert all(f.stat().st_uid == nobody for f in folder.iterdir())
    finally:
        shutil.rmtree(folder)
