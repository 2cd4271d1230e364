"""deploy/install.sh: shellcheck-clean, and --dry-run prints every step while changing nothing.

The dry run is executed with every command that could change the machine
(apt-get, systemctl, useradd, install, mount, mkdir, mv, ...) replaced by a
stub that records its call: the test fails if any stub was called.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "install.sh"
MUTATING = [
    "apt-get",
    "apt",
    "dpkg",
    "systemctl",
    "useradd",
    "usermod",
    "groupadd",
    "install",
    "cp",
    "mv",
    "rm",
    "mkdir",
    "chmod",
    "chown",
    "ln",
    "mktemp",
    "mount",
    "mkfs.ext4",
    "raspi-config",
    "rfkill",
    "loadkeys",
    "sysctl",
    "pip",
    "pip3",
    "tee",
    "reboot",
]
CMDLINE = "console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 rootwait"


Result = tuple[subprocess.CompletedProcess[str], list[str]]


def _run(tmp_path: Path, *args: str, boot: Path | None = None) -> Result:
    stubs = tmp_path / "stubs"
    stubs.mkdir(exist_ok=True)
    log = tmp_path / "calls.log"
    log.touch()
    for name in MUTATING:
        stub = stubs / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\nexit 0\n')
        stub.chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}"}
    if boot is not None:
        env["KIOSK_BOOT_DIR"] = str(boot)
    result = subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120
    )
    return result, log.read_text().splitlines()


def _boot_dir(tmp_path: Path, cmdline: str) -> Path:
    boot = tmp_path / "boot"
    boot.mkdir()
    (boot / "cmdline.txt").write_text(cmdline + "\n")
    (boot / "config.txt").write_text("[all]\ndtoverlay=vc4-kms-v3d\n")
    return boot


def test_shellcheck_passes() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (scripts/setup.sh installs it with apt)")
    result = subprocess.run(
        [shellcheck, "-x", str(SCRIPT)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dry_run_prints_every_step_and_changes_nothing(tmp_path: Path) -> None:
    boot = _boot_dir(tmp_path, CMDLINE)
    result, calls = _run(
        tmp_path, "--dry-run", "--rotate", "90", "--read-only", "--allow-volatile-data", boot=boot
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert calls == [], f"--dry-run ran: {calls}"
    out = result.stdout
    apt = next(line for line in out.splitlines() if "apt-get install" in line)
    for package in (
        "python3-pygame",
        "python3-systemd",
        "bluez",
        "libglib2.0-dev",
        "python3-venv",
        "kbd",
    ):
        assert package in apt.split(), package
    if not Path("/opt/microbit-kiosk/.venv/bin/python").exists():
        assert "+ python3 -m venv --system-site-packages /opt/microbit-kiosk/.venv" in out
    assert f"/opt/microbit-kiosk/.venv/bin/pip install -q {REPO}" in out
    assert "--groups video,render,input,bluetooth,audio,dialout microbit-kiosk" in out
    assert "+ systemctl enable microbit-kiosk.service microbit-kiosk-console.service" in out
    assert "+ systemctl mask getty@tty1.service" in out
    assert "+ systemctl mask ctrl-alt-del.target" in out
    assert "kernel.sysrq = 0" in out
    assert "+ raspi-config nonint enable_overlayfs" in out
    assert "rotation = 90" in out  # written into kiosk.toml
    # cmdline.txt: the change is shown as a diff, and the file is untouched.
    assert f"+ change {boot}/cmdline.txt" in out
    assert "fbcon=rotate:1" in out and "vt.global_cursor_default=0" in out
    assert (boot / "cmdline.txt").read_text() == CMDLINE + "\n"
    assert "dry run: nothing was changed" in out


def test_kernel_arguments_already_present_are_left_alone(tmp_path: Path) -> None:
    done = (
        CMDLINE + " consoleblank=0 vt.global_cursor_default=0 logo.nologo quiet loglevel=3"
        " fbcon=rotate:3"
    )
    boot = _boot_dir(tmp_path, done)
    (boot / "config.txt").write_text("[all]\ndisable_splash=1\n")
    result, calls = _run(tmp_path, "--dry-run", "--rotate", "270", boot=boot)
    assert result.returncode == 0 and calls == []
    assert f"unchanged: {boot}/cmdline.txt" in result.stdout
    assert "already in" in result.stdout and "disable_splash=1" in result.stdout
    # Rotating back to 0 removes the console rotation.
    result, _ = _run(tmp_path, "--dry-run", "--rotate", "0", boot=boot)
    assert "-" + done in result.stdout
    assert "+" + done.replace(" fbcon=rotate:3", "") in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--dry-run", "--rotate", "45"], 1, "--rotate must be 0, 90, 180 or 270"),
        (["--dry-run", "--read-only"], 1, "--data-device"),
        (["--dry-run", "--bogus"], 2, "unknown option '--bogus'"),
    ],
)
def test_bad_options_stop_before_any_change(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    result, calls = _run(tmp_path, *args)
    assert result.returncode == code
    assert message in result.stderr
    assert calls == [] and "apt-get" not in result.stdout
