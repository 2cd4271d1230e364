"""The kiosk's Bluetooth link on a real BlueZ stack, against an emulated micro:bit.

One virtual machine (virtme-ng, QEMU without KVM) boots this machine's own
root under Debian's kernel; inside it two virtual controllers share a virtual
radio (hci_vhci + btvirt), bluetoothd serves the emulated board on hci1
(``tests/rigs/ble_board``) and the kiosk's own ``BleLink``, through bluepy,
runs the checks on hci0 as the unprivileged kiosk user with exactly the
capabilities ``services/microbit-kiosk.service`` grants
(``tests/rigs/ble_checks.py``). The machine starts once for the module; each
test reads one check's evidence. If the machine cannot start, every test
fails with the reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "services" / "microbit-kiosk.service"
VM_DEADLINE_S = 720  # boot plus checks take about 3 minutes on a busy 2-core machine
CAP_BITS = {"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13}


def unit_capabilities() -> list[str]:
    """The unit's ambient capabilities, checked to equal its bounding set."""
    text = UNIT.read_text()
    ambient = re.search(r"^AmbientCapabilities=(.*)$", text, re.M)
    bounding = re.search(r"^CapabilityBoundingSet=(.*)$", text, re.M)
    assert ambient and bounding, f"{UNIT} grants no capabilities"
    caps = sorted(ambient.group(1).split())
    assert caps == sorted(bounding.group(1).split()), "ambient and bounding sets differ"
    return caps


def find_kernel() -> Path:
    kernels = sorted(Path("/boot").glob("vmlinuz-*"))
    if not kernels:
        pytest.fail(
            "no kernel in /boot to boot the virtual machine: scripts/setup.sh installs "
            "linux-image-amd64",
            pytrace=False,
        )
    return kernels[-1]


def find_vng() -> Path:
    vng = Path(sys.executable).parent / "vng"
    if not vng.exists():
        pytest.fail("virtme-ng (vng) is not installed in .venv: run scripts/setup.sh", False)
    for tool in ("qemu-system-x86_64", "btvirt", "bluetoothd", "busybox"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: scripts/setup.sh installs it", pytrace=False)
    return vng


def report(request: pytest.FixtureRequest, out: Path, line: str) -> None:
    """Show the figures in the run's output (past pytest's capture) and keep them in ``out``."""
    (out / "figures.txt").write_text(line + "\n")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():
        print(line, flush=True)


@pytest.fixture(scope="module")
def vm(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Boot the machine once, run the guest script, return what it left behind."""
    kernel, vng = find_kernel(), find_vng()
    caps = unit_capabilities()
    # Not pytest's tmp_path: other pytest runs on the machine prune those, and
    # the logs here are the evidence a failure is read from.
    out = Path(tempfile.mkdtemp(prefix="kiosk-ble-vm-"))
    out.chmod(0o777)  # the checks write here as the kiosk user
    env = dict(os.environ, PATH=f"{vng.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    guest = f"bash tests/rigs/ble_guest.sh {out} {','.join(c.lower()[4:] for c in caps)}"
    command = [
        str(vng), "--disable-kvm",  # KVM hangs on these machines; QEMU's TCG works
        "--run", str(kernel), "--cpus", "2", "--memory", "2G",
        "--rwdir", str(out), "--exec", guest,
    ]  # fmt: skip
    started = time.monotonic()
    guest_log = out / "guest.log"
    with open(out / "vng.log", "wb") as vng_log:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=vng_log, stderr=vng_log)
        vm_start_s = None
        try:
            while proc.poll() is None and time.monotonic() - started < VM_DEADLINE_S:
                if vm_start_s is None and "guest-start" in _read(guest_log):
                    vm_start_s = time.monotonic() - started
                time.sleep(0.5)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    total_s = time.monotonic() - started
    log = _read(guest_log)
    if vm_start_s is None:
        vng_text = _read(out / "vng.log")[-3000:]
        pytest.fail(
            f"the virtual machine did not start (exit {proc.returncode}): {vng_text}", False
        )
    failed = re.search(r"^GUEST-FAIL: (.*)$", log, re.M)
    if failed:
        pytest.fail(f"the Bluetooth stack in the machine did not come up: {failed.group(1)}", False)
    checks_path = out / "checks.json"
    if not checks_path.exists():
        tail = _read(out / "checks.log")[-3000:]
        pytest.fail(f"the checks wrote no results (log: {out}): {tail}", pytrace=False)
    results = json.loads(checks_path.read_text())
    figures = dict(
        results["figures"], vm_start_s=round(vm_start_s, 1), vm_total_s=round(total_s, 1)
    )
    report(request, out, f"\nBlueZ rig ({out}): {json.dumps(figures)}")
    return {"out": out, "log": log, "checks": results["checks"], "figures": figures}


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def check(vm: dict[str, Any], name: str) -> dict[str, Any]:
    result = vm["checks"].get(name)
    if result is None:
        pytest.fail(f"check {name} did not run (an earlier one failed; see {vm['out']})", False)
    if not result["ok"]:
        pytest.fail(f"{name}: {result['error']}", pytrace=False)
    return result["detail"]  # type: ignore[no-any-return]


def test_the_checks_ran_as_the_kiosk_user_with_only_the_units_capabilities(
    vm: dict[str, Any],
) -> None:
    status = dict(
        line.split(":", 1)
        for line in _read(vm["out"] / "kiosk-caps.txt").splitlines()
        if ":" in line
    )
    want = sum(1 << CAP_BITS[c] for c in unit_capabilities())
    assert status["Uid"].split()[0] != "0"
    assert status["NoNewPrivs"].strip() == "1"
    for field in ("CapAmb", "CapEff", "CapBnd"):
        assert int(status[field], 16) == want, (field, status[field])


def test_an_adapter_that_is_off_is_named(vm: dict[str, Any]) -> None:
    assert "Bluetooth is not available" in check(vm, "adapter_down")["final_reason"]


def test_a_wrong_name_finds_nothing_and_says_so(vm: dict[str, Any]) -> None:
    assert "Can't see micro:bit tutut" in check(vm, "wrong_name")["final_reason"]


def test_no_board_on_the_air_is_said_clearly(vm: dict[str, Any]) -> None:
    assert "Can't see micro:bit gutop" in check(vm, "no_board")["final_reason"]


def test_pattern_scan_connect_and_30_s_of_samples(vm: dict[str, Any]) -> None:
    detail = check(vm, "stream")
    figures = vm["figures"]
    assert detail["period_writes"] == [20] and detail["period_ms"] == 20
    assert "BBC micro:bit V2" in detail["description"]
    assert 45 <= figures["samples_per_s"] <= 55
    assert detail["bad_payloads"] == 0 and detail["received_at_sent_index"] >= 0


def test_button_presses_arrive(vm: dict[str, Any]) -> None:
    assert len(check(vm, "buttons")["events"]) == 5


def test_icons_reach_the_board_byte_for_byte(vm: dict[str, Any]) -> None:
    detail = check(vm, "icons")
    assert detail["written"] == ["1008040201", "04041f0404", "1f1f1f1f1f"]
    assert detail["dropped_commands"] == 0


@pytest.mark.xfail(
    strict=True,
    reason="on this rig the board comes back at a new (private) address: bluetoothd "
    "serves GATT only on btvirt's public identity, so the board cannot keep a static "
    "one, and bluepy's connect to the old address blocks for ~40 s (it has no timeout) "
    "before the link scans again",
)
def test_the_board_vanishes_and_comes_back(vm: dict[str, Any]) -> None:
    detail = check(vm, "vanish")
    assert detail["reconnect_s"] <= 5.0
    assert detail["still_there"] == detail["kept_samples"]
