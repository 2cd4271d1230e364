"""A USB stick under the service's sandbox: mounted where the unit lets the kiosk write, and found.

Two kinds of check:

- the pieces agree: the udev rule mounts at the one path the kiosk looks at
  first (``kiosk.session.usb_desk.KIOSK_STICK``), the unit lets it write there
  and nowhere new, install.sh installs the rule and makes the mount point, and
  this systemd's ``systemd-mount`` knows every option the rule passes;
- a rig: the service's mount namespace as systemd builds it (the host's tree
  shared, the service's a slave of it, everything read-only but its
  ``ReadWritePaths=``), inside a scratch folder. The kiosk's own code runs in
  that namespace, then the "host" mounts a stick at the mount point (a tmpfs
  named like a USB partition stands in for the FAT stick), and the kiosk must
  find it in its own ``/proc/self/mounts`` and export onto it, while the rest
  of the tree stays unwritable. It needs root and ``unshare``; without them it
  fails, saying so.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kiosk.session.usb_desk import KIOSK_STICK

ROOT = Path(__file__).resolve().parents[2]
RULE = ROOT / "deploy" / "usb-stick.rules"
UNIT = ROOT / "services" / "microbit-kiosk.service"
INSTALL = ROOT / "deploy" / "install.sh"


def _rule_lines() -> list[str]:
    return [
        line
        for line in RULE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _mount_command() -> list[str]:
    run = next(line for line in _rule_lines() if "RUN{program}" in line)
    return run.split('+="', 1)[1].rstrip('"').split()


def test_the_rule_mounts_a_stick_where_the_kiosk_looks_and_the_unit_allows_writing() -> None:
    command = _mount_command()
    assert command[0] == "/usr/bin/systemd-mount"
    assert command[-1] == str(KIOSK_STICK) and command[-2] == "$devnode"
    options = next(c for c in command if c.startswith("--options="))
    assert {"noexec", "nosuid", "nodev"} <= set(options.split("=", 1)[1].split(","))
    assert "--owner=microbit-kiosk" in command
    writable = re.findall(r"^ReadWritePaths=(.*)$", UNIT.read_text(), re.MULTILINE)
    assert sorted(writable) == ["-/media/microbit", f"-{KIOSK_STICK}"]
    text = "\n".join(_rule_lines())
    # Only sticks' file systems; never the micro:bit's drive or the ext4 data partition.
    assert 'ENV{ID_FS_TYPE}!="vfat|exfat"' in text
    assert 'ENV{ID_FS_LABEL}=="MICROBIT|MAINTENANCE"' in text
    assert 'ENV{ID_BUS}!="usb"' in text
    install = INSTALL.read_text()
    assert 'deploy/usb-stick.rules" /etc/udev/rules.d/' in install
    assert f"run mkdir -p {KIOSK_STICK}" in install


def test_systemd_mount_knows_every_option_the_rule_passes() -> None:
    tool = shutil.which("systemd-mount")
    assert tool is not None, "systemd-mount is missing (package systemd)"
    usage = subprocess.run([tool, "--help"], capture_output=True, text=True, check=False).stdout
    for option in _mount_command()[1:-2]:
        assert option.split("=", 1)[0] in usage, f"{option} is not a systemd-mount option"


_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    from kiosk.dataset import Action, Dataset, Recording
    from kiosk.session.usb_desk import UsbDesk, write_files

    media = Path(sys.argv[2])
    print("ready", flush=True)
    sys.stdin.readline()  # the host has mounted the stick
    usb = UsbDesk(roots=(media,))  # the real /proc/self/mounts of this namespace
    usb.show()
    print("stick", usb.stick, flush=True)
    still = Recording(np.zeros((50, 3)), id="1", created_at=1)
    data = Dataset((Action("Still", (still,), id="1", created_at=1),))
    stick, files = usb.export_files(data, "current", b"model")
    print("wrote", " ".join(write_files(stick, files)), flush=True)  # as the writer thread does
    try:
        (media / "outside.txt").write_text("no")
        print("outside writable", flush=True)
    except OSError as error:
        print("outside refused", error.errno, flush=True)
    """
)


def test_under_the_sandboxs_mounts_the_kiosk_finds_the_stick_and_writes_to_it(
    tmp_path: Path,
) -> None:
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        pytest.fail("the sandbox rig needs root and unshare (util-linux) to build mount namespaces")
    tree = tmp_path / "host"
    media = tree / "media"
    stick = media / KIOSK_STICK.name
    stick.mkdir(parents=True)
    # The host: systemd makes the root shared, so mounts made later propagate.
    subprocess.run(["mount", "--bind", str(tree), str(tree)], check=True)
    try:
        subprocess.run(["mount", "--make-shared", str(tree)], check=True)
        # The service: a slave namespace; ProtectSystem=strict makes the tree read-only,
        # ReadWritePaths=-/media/usb-stick binds that one path read-write.
        sandbox = (
            f"mount --bind {tree} {tree} && mount -o remount,bind,ro {tree} && "
            f"mount --bind {stick} {stick} && mount -o remount,bind,rw {stick} && "
            f'exec {sys.executable} -c "$0" {ROOT} {media}'
        )
        child = subprocess.Popen(
            [unshare, "-m", "--propagation", "slave", "sh", "-c", sandbox, _CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stderr is not None
        first = child.stdout.readline().strip()
        if first != "ready":
            child.kill()
            pytest.fail(f"the sandbox rig could not start: {first!r} {child.stderr.read()}")
        # udev + systemd-mount on the host; a tmpfs named like the stick's partition.
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4m", "/dev/sdz1", str(stick)], check=True
        )
        try:
            out, err = child.communicate("go\n", timeout=120)
            assert child.returncode == 0, err
            assert f"stick {stick}" in out, out
            written = out.split("wrote ", 1)[1].splitlines()[0].split()
            assert [Path(n).suffix for n in written] == [".json", ".csv", ".tflite"]
            assert "outside refused 30" in out, out  # EROFS: the rest stays read-only
            # The files are on the stick (the host's view of its mount), nowhere else.
            assert sorted(p.name for p in stick.iterdir()) == sorted(written)
        finally:
            subprocess.run(["umount", str(stick)], check=True)
        assert list(stick.iterdir()) == []  # nothing landed under the mount point itself
    finally:
        subprocess.run(["umount", str(tree)], check=False)
