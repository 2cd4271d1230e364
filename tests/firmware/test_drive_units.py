"""The udev rule and mount unit that give the kiosk a plugged-in micro:bit's drive, and no more."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RULE = REPO / "deploy" / "microbit-drive.rules"
MOUNT = REPO / "deploy" / "media-microbit.mount"
SERVICE = REPO / "services" / "microbit-kiosk.service"


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser


def test_the_rule_matches_only_a_microbit_drive_and_starts_the_mount() -> None:
    rules = [line for line in RULE.read_text().splitlines() if line.strip() and line[0] != "#"]
    assert len(rules) == 1
    rule = rules[0]
    for match in (
        'SUBSYSTEM=="block"',
        'ENV{ID_FS_LABEL}=="MICROBIT"',
        'ENV{ID_VENDOR_ID}=="0d28"',
        'ENV{ID_MODEL_ID}=="0204"',
    ):
        assert match in rule
    assert 'ENV{SYSTEMD_WANTS}+="media-microbit.mount"' in rule
    assert "RUN" not in rule  # nothing runs as root on plug-in


def test_the_mount_is_the_service_users_and_runs_nothing() -> None:
    mount = _unit(MOUNT)["Mount"]
    assert mount["Where"] == "/media/microbit"  # the unit's name must match: media-microbit
    options = mount["Options"].split(",")
    for option in ("uid=microbit-kiosk", "gid=microbit-kiosk", "umask=0077", "noexec", "nosuid"):
        assert option in options
    # (configparser keeps only the last of repeated keys; the unit has one per mount point)
    writable = re.findall(r"^ReadWritePaths=(.*)$", SERVICE.read_text(), re.MULTILINE)
    assert "-/media/microbit" in writable


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_the_mount_unit_verifies(tmp_path: Path) -> None:
    copy = tmp_path / MOUNT.name
    copy.write_text(MOUNT.read_text())
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
