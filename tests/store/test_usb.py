"""USB sticks: found from the mount table, polled cheaply, their datasets listed."""

from __future__ import annotations

from pathlib import Path

from kiosk.store.usb import UsbStickPoller, find_usb_sticks, list_datasets, parse_mount_table

MOUNTS = """\
/dev/mmcblk0p2 / ext4 rw,noatime 0 0
/dev/mmcblk0p1 /boot/firmware vfat rw,relatime 0 0
tmpfs /run tmpfs rw,nosuid,nodev 0 0
tmpfs /media/ram tmpfs rw 0 0
/dev/sda1 /media/kiosk/TEACHER\\040STICK vfat rw,nosuid,nodev 0 0
/dev/sdb1 /run/media/pi/DATA exfat ro 0 0
/dev/loop3 /mnt/image squashfs ro 0 0
/dev/sdc1 /mnt/usb ext4 rw 0 0
/dev/sdd1 /mnt ext4 rw 0 0
server:/share /media/nfs nfs rw 0 0
"""


def test_mount_table_gives_removable_media_only() -> None:
    assert parse_mount_table(MOUNTS) == [
        Path("/media/kiosk/TEACHER STICK"),
        Path("/mnt/usb"),
        Path("/run/media/pi/DATA"),
    ]


def test_find_usb_sticks_reads_the_given_table(tmp_path: Path) -> None:
    table = tmp_path / "mounts"
    table.write_text(MOUNTS)
    assert len(find_usb_sticks(table)) == 3
    assert find_usb_sticks(tmp_path / "missing") == []
    assert isinstance(find_usb_sticks(), list)  # the real table of this machine


def test_poller_rescans_at_most_once_per_interval(tmp_path: Path) -> None:
    table = tmp_path / "mounts"
    table.write_text("/dev/mmcblk0p2 / ext4 rw 0 0\n")
    now = [100.0]
    poller = UsbStickPoller(interval_s=1.0, mounts_file=table, clock=lambda: now[0])
    try:
        assert poller.poll() == [] and poller.version == 0
        table.write_text(MOUNTS)
        now[0] += 0.5
        assert poller.poll() == []  # not yet due
        now[0] += 0.6
        assert len(poller.poll()) == 3 and poller.version == 1
        now[0] += 5
        assert len(poller.poll()) == 3 and poller.version == 1  # unchanged: same version
        table.write_text("/dev/mmcblk0p2 / ext4 rw 0 0\n")
        now[0] += 5
        assert poller.poll() == [] and poller.version == 2
        assert poller.sticks == []
    finally:
        poller.close()


def test_datasets_on_a_stick_are_listed_by_name(tmp_path: Path) -> None:
    (tmp_path / "b.JSON").write_text("[]")
    (tmp_path / "a.json").write_text("[]")
    (tmp_path / "._a.json").write_text("mac resource fork")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "folder.json").mkdir()
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "c.json").write_text("[]")
    (tmp_path / "class" / "deeper").mkdir()
    (tmp_path / "class" / "deeper" / "d.json").write_text("[]")
    (tmp_path / ".Trash").mkdir()
    (tmp_path / ".Trash" / "e.json").write_text("[]")
    found = list_datasets(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a.json",
        "b.JSON",
        "class/c.json",
    ]
    assert len(list_datasets(tmp_path, max_files=2)) == 2
    assert list_datasets(tmp_path / "gone") == []
