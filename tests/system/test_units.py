"""The systemd units: `systemd-analyze verify` is silent and the exposure is 2.0 or less.

verify insists that ExecStart's binary exists, and the real one
(/opt/microbit-kiosk/.venv/bin/kiosk) only exists on an installed box, so the
units are copied to a temporary directory with only the executable's path
pointed at a stub; every other line is checked as shipped.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVICES = REPO / "services"
UNITS = sorted(p.name for p in SERVICES.glob("*.service"))
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is not installed (apt-get install systemd)"
)
MAX_EXPOSURE = 2.0


def _stubbed_copy(unit: str, tmp_path: Path) -> Path:
    """The unit with each ExecStart* binary replaced by an executable stub in tmp_path."""
    text = (SERVICES / unit).read_text()

    def stub(match: re.Match[str]) -> str:
        binary = tmp_path / "bin" / Path(match.group(2)).name
        binary.parent.mkdir(exist_ok=True)
        binary.write_text("#!/bin/sh\nexit 0\n")
        binary.chmod(0o755)
        return f"{match.group(1)}{binary}"

    stubbed = re.sub(r"^(Exec\w*=[-@:+!]*)(/\S+)", stub, text, flags=re.MULTILINE)
    assert stubbed != text, f"{unit} has no ExecStart with an absolute path"
    out = tmp_path / unit
    out.write_text(stubbed)
    return out


def _parse(unit: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(SERVICES / unit)
    return parser


def test_units_exist() -> None:
    assert "microbit-kiosk.service" in UNITS
    assert "microbit-kiosk-console.service" in UNITS


@needs_analyze
@pytest.mark.parametrize("unit", UNITS)
def test_verify_prints_nothing(unit: str, tmp_path: Path) -> None:
    path = _stubbed_copy(unit, tmp_path)
    result = subprocess.run(
        [ANALYZE, "verify", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.stdout == "" and result.stderr == "", result.stdout + result.stderr
    assert result.returncode == 0


@needs_analyze
@pytest.mark.parametrize("unit", UNITS)
def test_security_exposure_at_most_2(unit: str, tmp_path: Path) -> None:
    path = _stubbed_copy(unit, tmp_path)
    result = subprocess.run(
        [ANALYZE, "security", "--offline=yes", "--no-pager", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    exposure = float(match.group(1))
    print(f"{unit}: exposure {exposure}")
    assert exposure <= MAX_EXPOSURE, result.stdout


def test_main_unit_is_a_watched_notify_service() -> None:
    service = _parse("microbit-kiosk.service")["Service"]
    assert service["Type"] == "notify"
    assert service["Restart"] == "always"
    assert service["WatchdogSec"].rstrip("s").isdigit()
    assert service["ExecStart"].split()[0] == "/opt/microbit-kiosk/.venv/bin/kiosk"
    assert "SDL_VIDEODRIVER=kmsdrm" in (SERVICES / "microbit-kiosk.service").read_text()
    assert service["User"] == "microbit-kiosk"
    assert {"video", "render", "input", "bluetooth"} <= set(service["SupplementaryGroups"].split())
    assert service["StateDirectory"] == "microbit-kiosk"
    # Bluetooth sockets only exist in the host network namespace.
    assert service.get("PrivateNetwork", "no") == "no"
    assert "AF_BLUETOOTH" in service["RestrictAddressFamilies"].split()
    caps = set(service["AmbientCapabilities"].split())
    assert caps == {"CAP_NET_RAW", "CAP_NET_ADMIN"}
    assert set(service["CapabilityBoundingSet"].split()) == caps
    unit = _parse("microbit-kiosk.service")["Unit"]
    # A software fault never reboots the box (issue 19): no start limit, no action.
    assert unit["StartLimitAction"] == "none" and int(unit["StartLimitIntervalSec"]) == 0


def test_console_unit_loads_the_shipped_keymap() -> None:
    service = _parse("microbit-kiosk-console.service")["Service"]
    assert service["ExecStart"].endswith("/etc/microbit-kiosk/console-lockdown.kmap")
    keymap = (REPO / "deploy" / "console-lockdown.kmap").read_text()
    # Ctrl+Alt+F1 (keycode 59) and Ctrl+Alt+Del (111) are unbound.
    assert "control alt keycode 59 = VoidSymbol" in keymap
    assert "control alt keycode 111 = VoidSymbol" in keymap


def test_console_keymap_parses() -> None:
    loadkeys = shutil.which("loadkeys")
    if loadkeys is None:
        pytest.skip("loadkeys is not installed (apt-get install kbd)")
    result = subprocess.run(
        [loadkeys, "--parse", str(REPO / "deploy" / "console-lockdown.kmap")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
