"""The USB page's session side: what is exported with which model, pages of files, odd sticks."""

from __future__ import annotations

from pathlib import Path

from kiosk.ml.runtime import TFLiteClassifier
from kiosk.session.usb_desk import FILES_PER_PAGE, UsbDesk

from .journey import Journey


def _stick(tmp_path: Path, journey: Journey) -> Path:
    media = tmp_path / "media"
    stick = media / "usb-stick"
    stick.mkdir(parents=True)
    table = tmp_path / "mounts"
    table.write_text(f"/dev/sda1 {stick} vfat rw 0 0\n")
    journey.session.usb = UsbDesk(
        mounts_file=table, roots=(media,), wall_clock=lambda: 1.0e9, clock=journey.clock
    )
    return stick


def test_with_neighbours_chosen_the_kept_network_is_what_goes_on_the_stick(
    make_journey, tmp_path: Path
) -> None:
    journey = make_journey(teacher_mode=True)
    s = journey.session
    stick = _stick(tmp_path, journey)
    journey.trained(("Still", "Shake"))
    network = s.learning.trained
    s.choose_model("knn")
    s.learning.training.wait(120)
    journey.advance(0.05)
    assert s.learning.trained.model.kind == "knn"
    journey.unlock_admin()
    s.admin_usb_open()
    s.admin_usb_export()
    assert s.writer.flush()  # the files are written by the store's writer thread
    assert s.usb.outcome is not None and s.usb.outcome.good, s.usb.outcome
    model = next(stick.glob("kiosk-*.tflite"))
    assert model.read_bytes() == network.tflite
    assert TFLiteClassifier.from_path(model).info.classes == ("Still", "Shake")


def test_without_a_network_for_these_recordings_no_model_file_and_it_says_so(
    make_journey, tmp_path: Path
) -> None:
    journey = make_journey()
    s = journey.session
    stick = _stick(tmp_path, journey)
    journey.trained(("Still", "Shake"))
    s.add_more_recordings()
    journey.record(0, 1)  # the model no longer matches the recordings
    journey.unlock_admin()
    s.admin_usb_open()
    s.admin_usb_export()
    assert s.writer.flush()  # the files are written by the store's writer thread
    assert s.usb.outcome is not None and s.usb.outcome.good
    assert "no .tflite" in s.usb.outcome.text
    assert sorted(p.suffix for p in stick.glob("kiosk-*")) == [".csv", ".json"]


def test_nothing_to_export_and_no_stick_are_said_plainly(make_journey, tmp_path: Path) -> None:
    journey = make_journey()
    s = journey.session
    stick = _stick(tmp_path, journey)
    journey.unlock_admin()
    s.admin_usb_open()
    s.admin_usb_export()
    assert s.writer.flush()  # the files are written by the store's writer thread
    assert s.usb.outcome is not None and not s.usb.outcome.good
    assert "no moves" in s.usb.outcome.text
    assert list(stick.iterdir()) == []


def test_many_files_come_in_pages_and_long_names_are_shortened(
    make_journey, tmp_path: Path
) -> None:
    journey = make_journey()
    s = journey.session
    stick = _stick(tmp_path, journey)
    names = [f"lesson-{i:02d}.json" for i in range(FILES_PER_PAGE + 2)]
    for name in names:
        (stick / name).write_text("[]")
    (stick / "class").mkdir()
    long = "a very long name for a CreateAI dataset file.json"
    (stick / "class" / long).write_text("[]")
    journey.unlock_admin()
    s.admin_usb_open()
    assert len(s.usb.files) == len(names) + 1
    first = list(s.usb.shown_files)
    assert len(first) == FILES_PER_PAGE
    s.admin_usb_next_page()
    second = s.usb.shown_files
    assert len(second) == 3 and not set(first) & set(second)
    s.admin_usb_next_page()
    assert s.usb.shown_files == first  # back to the first page
    label = s.usb.file_label(stick / "class" / long)
    assert len(label) <= 24 and label.startswith("class/") and label.endswith("file.json")


def test_a_stick_pulled_out_before_the_tap_changes_nothing(make_journey, tmp_path: Path) -> None:
    journey = make_journey()
    s = journey.session
    stick = _stick(tmp_path, journey)
    (stick / "gone.json").write_text("[]")
    journey.unlock_admin()
    s.admin_usb_open()
    (tmp_path / "mounts").write_text("")
    journey.advance(1.1)
    assert s.usb.stick is None
    s.admin_usb_import(stick / "gone.json")
    assert s.usb.outcome is not None and not s.usb.outcome.good
    assert "taken out" in s.usb.outcome.text
