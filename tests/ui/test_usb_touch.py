"""The admin screen's USB stick page, by touch, with a real folder standing in for the stick.

The kiosk finds sticks as it does on the box: in the kernel's mount table
(here a mount-table file that lists the folder as a mounted USB partition,
the way ``/proc/self/mounts`` lists ``/media/usb-stick`` once
``deploy/usb-stick.rules`` has mounted it). Putting the stick in and taking
it out is editing that table; the page notices by itself.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.dataset import Dataset
from kiosk.ml.runtime import TFLiteClassifier
from kiosk.session.screens import Screen
from kiosk.session.usb_desk import UsbDesk
from kiosk.store.createai_json import MAX_FILE_BYTES, dump_createai, load_createai
from tests.conftest import CREATEAI_DIR, MISSING_REASON
from tests.ui.conftest import Driver, assert_not_blank

REAL = CREATEAI_DIR / "shake-still-circle-data-samples-legacy.json"
WALL_CLOCK = 1_785_000_000.0  # the kiosk's clock when exporting: names the files


class Stick:
    """A folder, and a mount table that lists it (or not) as a mounted USB stick."""

    def __init__(self, root: Path) -> None:
        self.media = root / "media"
        self.path = self.media / "usb-stick"
        self.path.mkdir(parents=True)
        self.table = root / "mounts"
        self.out()

    def put_in(self) -> None:
        self.table.write_text(
            "/dev/mmcblk0p2 / ext4 rw,noatime 0 0\n"
            f"/dev/sda1 {self.path} vfat rw,nosuid,nodev,noexec,relatime,uid=999 0 0\n"
        )

    def out(self) -> None:
        self.table.write_text("/dev/mmcblk0p2 / ext4 rw,noatime 0 0\n")


def _hostile_files(stick: Path, outside: Path) -> dict[str, str]:
    """Broken and hostile dataset files; name -> what staff must be told."""
    (stick / "broken.json").write_text('[{"name": "Shake", "recordings": [')
    (stick / "types.json").write_text(json.dumps([{"name": 5, "recordings": "lots"}]))
    with open(stick / "huge.json", "wb") as big:  # sparse: huge on paper, nothing on disk
        big.truncate(MAX_FILE_BYTES + 1)
    real, _form = load_createai(REAL)
    seven = Dataset(
        tuple(replace(real.actions[i % 3], name=f"Move {i}", id=f"{i + 1}") for i in range(7))
    )
    (stick / "seven moves.json").write_text(dump_createai(seven))
    (outside / "secret.json").write_text("[]")
    os.symlink(outside / "secret.json", stick / "link.json")  # never listed, never read
    return {
        "broken.json": "not valid JSON",
        "types.json": "name",
        "huge.json": "MB",
        "seven moves.json": "7 moves",
    }


def _stored(d: Driver) -> str:
    """The visitor's moves and recordings as the store holds them, comparable."""
    return dump_createai(d.journey.store.load_dataset(d.session.data.project_id))


def _unlock_by_touch(d: Driver) -> None:
    s = d.session
    s.open_admin()
    d.frames(2)
    for digit in "1234":
        d.tap(f"pin_{digit}")
    d.tap("pin_ok")
    assert s.screen is Screen.ADMIN and s.staff.unlocked


@contextmanager
def _writer_held(d: Driver) -> Iterator[None]:
    """The store's writer busy with an earlier change (a slow disk) until the block ends;
    then every change handed over meanwhile is done and shown."""
    gate = threading.Event()
    d.session.writer.submit(lambda _store: gate.wait(120))
    try:
        yield
    finally:
        gate.set()
        assert d.session.writer.flush()
        d.frames(2)


def _written(d: Driver) -> None:
    """Wait for the writer (a stick's or the store's disk), not for the fake clock."""
    assert d.session.writer.flush()
    d.frames(2)


def _tap_file(d: Driver, name: str) -> None:
    shown = [p.name for p in d.session.usb.shown_files]
    assert name in shown, f"{name} not on the page: {shown}"
    d.tap(f"usb_file_{shown.index(name)}")


@pytest.fixture
def stick(tmp_path: Path) -> Stick:
    return Stick(tmp_path / "box")


def test_staff_import_and_export_by_touch_and_hostile_files_change_nothing(
    make_driver, stick: Stick, tmp_path: Path
) -> None:
    if not REAL.is_file():
        pytest.fail(MISSING_REASON)  # the real recordings are part of the repository's data
    d = make_driver((800, 480))
    s = d.session
    s.usb = UsbDesk(
        mounts_file=stick.table,
        roots=(stick.media,),
        wall_clock=lambda: WALL_CLOCK,
        clock=d.journey.clock,
    )
    d.journey.connect_pretend()
    d.journey.pick("Still", "Shake")
    d.journey.record(0, 3)
    d.journey.record(1, 3)
    before = _stored(d)

    _unlock_by_touch(d)
    d.tap("usb")
    assert s.usb.open and s.usb.stick is None
    assert d.app.button("usb_export") is not None and not d.app.button("usb_export").enabled
    assert_not_blank(d.pixels())

    # The stick goes in: the page finds it in the mount table by itself.
    shutil.copyfile(REAL, stick.path / "ssc.json")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    problems = _hostile_files(stick.path, outside)
    stick.put_in()
    d.seconds(1.2)
    assert s.usb.stick == stick.path
    names = {p.name for p in s.usb.files}
    assert names == {"ssc.json", *problems}  # the symbolic link is not offered

    # Each hostile file: one line naming the file and the problem; nothing changes.
    for name, words in problems.items():
        _tap_file(d, name)
        outcome = s.usb.outcome
        assert outcome is not None and not outcome.good, name
        assert name in outcome.text and words in outcome.text, outcome.text
        assert "\n" not in outcome.text and "Traceback" not in outcome.text
        assert _stored(d) == before
        assert [a.name for a in s.data.actions] == ["Still", "Shake"]
    # Path tricks by the intent itself: a link, a path out of the stick.
    for trick in (stick.path / "link.json", stick.path / ".." / ".." / "elsewhere" / "secret.json"):
        s.admin_usb_import(trick)
        assert s.usb.outcome is not None and not s.usb.outcome.good
        assert "not a file on the USB stick" in s.usb.outcome.text
    assert _stored(d) == before

    # The real file: the first tap asks (6 recordings would go), the second imports.
    _tap_file(d, "ssc.json")
    assert d.app.button("usb_file_" + str([p.name for p in s.usb.shown_files].index("ssc.json")))
    assert s.confirm.pending is not None and "6 recordings" in s.confirm.pending.words
    assert [a.name for a in s.data.actions] == ["Still", "Shake"]
    # The import is the store writer's: while it waits for the disk the page says what
    # it is doing, takes no other tap, and the old moves are still the current ones.
    with _writer_held(d):
        _tap_file(d, "ssc.json")
        d.frames(2)
        assert s.usb.working == "Importing ssc.json…" and s.usb.outcome is None
        assert not d.app.button("usb_export").enabled
        assert not d.app.button("usb_file_0").enabled
        assert [a.name for a in s.data.actions] == ["Still", "Shake"]
        assert_not_blank(d.pixels())
    assert s.usb.working is None
    assert s.usb.outcome is not None and s.usb.outcome.good, s.usb.outcome
    expected, _form = load_createai(REAL)
    assert [a.name for a in s.data.actions] == [a.name for a in expected.actions]
    assert s.data.n_recordings == sum(len(a.recordings) for a in expected.actions)
    assert s.learning.trained is None  # no model of the old moves survives

    # Export without a model: JSON and CSV, and the page says there is no model file.
    with _writer_held(d):
        d.tap("usb_export")
        assert s.usb.working == "Writing to the stick…"
        assert not list(stick.path.glob("kiosk-*"))
    assert s.usb.outcome is not None and s.usb.outcome.good, s.usb.outcome
    exported = sorted(p.name for p in stick.path.glob("kiosk-*"))
    assert [Path(n).suffix for n in exported] == [".csv", ".json"]
    back, _ = load_createai(stick.path / exported[1])
    assert [a.name for a in back.actions] == [a.name for a in expected.actions]
    assert stick.path / exported[1] in s.usb.files  # the page lists the new file
    header = (stick.path / exported[0]).read_text().splitlines()[0]
    assert header == "action,recording,t,x,y,z"

    # Train the imported moves, come back and export again: the network goes too.
    d.tap("usb_back")
    d.tap("close_admin")
    s.train()
    s.learning.training.wait(120)
    d.frames(3)
    assert s.learning.trained is not None, s.learning.training_error
    for name in list(stick.path.glob("kiosk-*")):
        name.unlink()
    _unlock_by_touch(d)
    d.tap("usb")
    d.tap("usb_export")
    _written(d)
    model = next(stick.path.glob("kiosk-*.tflite"))
    classifier = TFLiteClassifier.from_path(model)
    assert classifier.info.classes == tuple(a.name for a in expected.actions)

    # A write that fails (a folder already has the name): one line, nothing half-written.
    for name in list(stick.path.glob("kiosk-*")):
        name.unlink()
    (stick.path / exported[1]).mkdir()
    d.tap("usb_export")
    _written(d)
    assert s.usb.outcome is not None and not s.usb.outcome.good
    assert s.usb.outcome.text.startswith("Could not write to the stick")
    assert not list(stick.path.glob(".kiosk-*"))  # no temporary file left behind

    # The stick comes out: the page says so; staff leaving forgets the page.
    stick.out()
    d.seconds(1.2)
    assert s.usb.stick is None and s.usb.files == []
    assert_not_blank(d.pixels())
    d.tap("usb_back")
    d.tap("close_admin")
    assert not s.usb.open


def test_the_usb_page_is_staff_only_and_forgotten_at_the_reset(make_driver, stick) -> None:
    d = make_driver((800, 480))
    s = d.session
    s.usb = UsbDesk(mounts_file=stick.table, roots=(stick.media,), clock=d.journey.clock)
    stick.put_in()
    s.admin_usb_open()  # not unlocked: nothing opens
    assert not s.usb.open
    s.open_admin()
    s.admin_usb_open()  # the PIN pad is showing: still nothing
    assert not s.usb.open
    _unlock_by_touch(d)
    d.tap("usb")
    assert s.usb.open and s.usb.stick == stick.path
    s.reset_visitor()
    assert not s.usb.open and s.usb.stick is None and s.usb.outcome is None


def test_a_micro_bit_drive_is_not_a_stick(stick: Stick) -> None:
    board = stick.media / "microbit"
    board.mkdir()
    (board / "DETAILS.TXT").write_text("Interface Version: 0258\n")
    stick.table.write_text(f"/dev/sdb {board} vfat rw 0 0\n")
    usb = UsbDesk(mounts_file=stick.table, roots=(stick.media,))
    usb.show()
    assert usb.stick is None
    stick.put_in()
    usb.close()
    usb.show()
    assert usb.stick == stick.path
    usb.close()
