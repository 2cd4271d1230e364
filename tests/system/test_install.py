"""deploy/install.sh: shellcheck-clean, --dry-run prints every step while changing nothing,
and everything it installs with pip is pinned by deploy/requirements.lock.

The dry run is executed with every command that could change the machine
(apt-get, systemctl, useradd, install, mount, mkdir, mv, ...) replaced by a
stub that records its call: the test fails if any stub was called.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

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


@pytest.mark.parametrize(
    "script", [SCRIPT, REPO / "deploy" / "check-arm64.sh"], ids=lambda p: p.name
)
def test_shellcheck_passes(script: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (scripts/setup.sh installs it with apt)")
    result = subprocess.run(
        [shellcheck, "-x", str(script)], capture_output=True, text=True, timeout=120
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
        "libegl1",
        "libgl1-mesa-dri",
    ):
        assert package in apt.split(), package
    if not Path("/opt/microbit-kiosk/.venv/bin/python").exists():
        assert "+ python3 -m venv --system-site-packages /opt/microbit-kiosk/.venv" in out
    lock = REPO / "deploy" / "requirements.lock"
    assert f"+ env PIP_CONSTRAINT={lock} /opt/microbit-kiosk/.venv/bin/pip install -q {REPO}" in out
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


# --- The lock (deploy/requirements.lock) -------------------------------------

LOCK = REPO / "deploy" / "requirements.lock"
# Debian's python3-pygame is the one the Pi uses (its SDL has kmsdrm): apt pins it.
FROM_DEBIAN = {"pygame"}


def _deploy_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "deploy" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("python", ["3.11", "3.13"])
def test_lock_pins_every_dependency_the_pi_installs(python: str) -> None:
    lock_check = _deploy_module("lock_check")
    pins = lock_check.read_lock(LOCK, python)  # raises on a line that is not name==version
    env = {"python_version": python, "sys_platform": "linux", "platform_machine": "aarch64"}
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    for line in project["project"]["dependencies"]:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate(env):
            continue
        name = canonicalize_name(requirement.name)
        if name in FROM_DEBIAN:
            assert name not in pins, f"{name} comes from Debian; a pin would replace it from PyPI"
            continue
        assert name in pins, f"{name} (pyproject.toml) is not pinned for Python {python}"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} vs {line}"
    runtime = "tflite-runtime" if python == "3.11" else "ai-edge-litert"
    assert runtime in pins
    assert (Version(pins["numpy"]) < Version("2")) == (python == "3.11")


def test_the_test_venv_runs_the_locked_versions() -> None:
    """scripts/setup.sh installs with -c deploy/requirements.lock: tests run what the Pi runs."""
    lock_check = _deploy_module("lock_check")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    pins = lock_check.read_lock(LOCK, python)
    wrong = []
    for name, version in pins.items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # a build tool (wheel) or the other Python's runtime
        if name not in {"setuptools", "wheel"} and installed != version:
            wrong.append(f"{name} {installed} (lock: {version})")
    assert not wrong, "run scripts/setup.sh: " + ", ".join(wrong)
    assert importlib.metadata.version("numpy") == pins["numpy"]


def test_lock_check_names_unpinned_and_moved_packages(tmp_path: Path) -> None:
    lock_check = _deploy_module("lock_check")
    lock = tmp_path / "lock"
    lock.write_text(
        'numpy==1.26.4; python_version < "3.12"\nnumpy==2.4.6; python_version >= "3.12"\n'
    )
    freeze = tmp_path / "freeze"
    freeze.write_text("numpy==1.26.4\npip==23.0.1\nrequests==2.0\n")
    assert lock_check.main(["--python", "3.11", str(lock), str(freeze)]) == 1
    found = lock_check.problems(lock_check.read_lock(lock, "3.13"), {"numpy": "1.26.4"})
    assert found == ["numpy==1.26.4 is installed but the lock pins 2.4.6"]
    freeze.write_text("numpy==1.26.4\npip==23.0.1\n")
    assert lock_check.main(["--python", "3.11", str(lock), str(freeze)]) == 0
    lock.write_text("numpy>=1.26\n")
    with pytest.raises(ValueError, match="not an exact pin"):
        lock_check.read_lock(lock, "3.11")


def test_compare_predictions_catches_a_changed_class_and_drift(tmp_path: Path) -> None:
    compare = _deploy_module("compare_predictions")

    def doc(*rows: list[float]) -> dict[str, object]:
        return {
            "classes": ["a", "b"],
            "rows": [
                {"action": "a", "recording": i, "probabilities": p} for i, p in enumerate(rows)
            ],
        }

    reference = doc([0.9, 0.1], [0.4, 0.6])
    assert compare.compare(reference, doc([0.900004, 0.099996], [0.4, 0.6]), 1e-5) == []
    drift = compare.compare(reference, doc([0.9, 0.1], [0.40002, 0.59998]), 1e-5)
    assert drift == ["a/1: a probability differs by 2.00e-05 > 1e-05"]
    flipped = compare.compare(reference, doc([0.9, 0.1], [0.6, 0.4]), 1.0)
    assert flipped == ["a/1: predicted class differs"]
    (tmp_path / "r.json").write_text(json.dumps(reference))
    (tmp_path / "o.json").write_text(json.dumps(doc([0.9, 0.1], [0.6, 0.4])))
    assert compare.main([str(tmp_path / "r.json"), str(tmp_path / "o.json")]) == 1


def test_check_arm64_refuses_an_unknown_suite() -> None:
    result = subprocess.run(
        ["bash", str(REPO / "deploy" / "check-arm64.sh"), "buster"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown argument 'buster'" in result.stderr
