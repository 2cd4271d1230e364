""" "Put my model on my micro:bit": the session's take-home job against pretend MICROBIT drives.

A drive is a folder with DAPLink's DETAILS.TXT (its "Unique ID" says V1 or V2),
as ``kiosk.firmware.drives`` reads it; the copy is the kiosk's real flashing
copy (``flasher.copy_hex``), and the hex is really built, so the file on the
"drive" is checked for the visitor's program.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import micropython_microbit_fs as mfs
import pytest

from kiosk.dataset import Dataset
from kiosk.firmware.drives import read_drive
from kiosk.ml.features import feature_matrix
from kiosk.ml.microbit_model import Move
from kiosk.ml.network import DenseNetwork
from kiosk.ml.training import train_model
from kiosk.ml.windows import CURRENT_WINDOW
from kiosk.session.presets import icon_cells
from kiosk.session.take_home import (
    COPY_NAME,
    REAL_PARTS,
    WORDS,
    Board,
    Parts,
    Step,
    TakeHome,
)

from .journey import Journey

V2_ID = "9904360250974e450031300b0000003c0000000097969901"
V1_ID = "9900000037024e450053600f0000001a0000000097969901"


def _drive(folder: Path, unique_id: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "DETAILS.TXT").write_text(
        f"# DAPLink Firmware - see https://mbed.com/daplink\nUnique ID: {unique_id}\n"
        "Interface Version: 0255\n"
    )
    return folder


def _parts(folders: Callable[[], list[Path]], **timing: float) -> Parts:
    def drives() -> list[Board]:
        found = [read_drive(folder) for folder in folders()]
        return [Board(d.path, d.board_version, d.unique_id) for d in found if d is not None]

    settings = {"plug_in_timeout_s": 60.0, "settle_s": 0.0, "poll_s": 0.01, **timing}
    return Parts(drives, REAL_PARTS.copy, REAL_PARTS.build, **settings)


def _until(condition: Callable[[], bool], limit_s: float = 60.0) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture(scope="module")
def model(load_real: Callable[[str], Dataset]) -> tuple[DenseNetwork, list[Move]]:
    """A network trained on real recordings, and its moves (trained once for the module)."""
    dataset = load_real("still-wave-clap-data-samples-legacy.json")
    X = feature_matrix(dataset.sample_arrays(), CURRENT_WINDOW)
    trained = train_model(X, dataset.labels(), dataset.class_names, CURRENT_WINDOW)
    assert trained.network is not None
    return trained.network, [Move(n, icon_cells("still"), 0.8) for n in dataset.class_names]


def _waiting_for_a_board(journey: Journey) -> tuple[list[Path], threading.Thread]:
    """On the test screen, "Put my model on my micro:bit" tapped: the job waits for a board
    (plugged in by appending a drive to the list); its worker thread."""
    s = journey.session
    journey.on_the_test_screen(("Still", "Shake"))
    plugged: list[Path] = []
    s.take_home.parts = _parts(lambda: plugged)
    s.put_model_on_microbit()
    assert _until(lambda: s.take_home.step is Step.PLUG_IN)
    worker = s.take_home._thread
    assert worker is not None
    return plugged, worker


def test_the_model_waits_for_the_board_then_is_copied_onto_it(
    journey: Journey, tmp_path: Path
) -> None:
    s = journey.session
    plugged, _worker = _waiting_for_a_board(journey)
    assert s.take_home.line == "Plug your micro:bit in by USB."
    drive = _drive(tmp_path / "MICROBIT", V2_ID)
    plugged.append(drive)
    assert _until(lambda: s.take_home.step is Step.DONE)
    assert s.take_home.line == "Done! Unplug it and press reset."
    written = drive / f"kiosk-{COPY_NAME}.hex"
    files = mfs.get_files(written.read_text())
    main = next(f for f in files if f.name == "main.py").get_text()
    assert 'MOVES = ["Still", "Shake"]' in main
    assert mfs.get_device_info(written.read_text()).device_version.name.endswith("V2")


def test_a_v1_board_is_told_and_left_alone(model, tmp_path: Path) -> None:
    drive = _drive(tmp_path / "MICROBIT", V1_ID)
    job = TakeHome(_parts(lambda: [drive]))
    job.start(*model, CURRENT_WINDOW)
    assert _until(lambda: job.step is Step.V1)
    assert "V1" in job.line and "V2" in job.line
    assert [p.name for p in drive.iterdir()] == ["DETAILS.TXT"]


def test_the_kiosks_own_usb_board_is_never_written_and_two_boards_ask_for_one(
    model, tmp_path: Path
) -> None:
    kiosk_board = _drive(tmp_path / "kiosk", V2_ID)
    theirs = _drive(tmp_path / "theirs", V2_ID.replace("9904", "9906"))
    other = _drive(tmp_path / "other", V2_ID.replace("9904", "9905"))
    plugged = [kiosk_board, theirs, other]
    job = TakeHome(_parts(lambda: list(plugged)))
    job.start(*model, CURRENT_WINDOW, keep_off=frozenset({V2_ID}))
    assert _until(lambda: job.step is Step.ONLY_ONE)
    assert job.line == "Plug in only your own micro:bit."
    plugged.remove(other)
    assert _until(lambda: job.step is Step.DONE)
    assert (theirs / f"kiosk-{COPY_NAME}.hex").is_file()
    assert not (kiosk_board / f"kiosk-{COPY_NAME}.hex").exists()


def test_a_failed_flash_says_so_in_one_line_and_keeps_the_detail(model, tmp_path: Path) -> None:
    drive = _drive(tmp_path / "MICROBIT", V2_ID)
    (drive / "FAIL.TXT").write_text("The hex file cannot be decoded.\n")
    job = TakeHome(_parts(lambda: [drive], settle_s=30.0))
    job.start(*model, CURRENT_WINDOW)
    assert _until(lambda: job.step is Step.FAILED)
    assert job.line == WORDS[Step.FAILED]
    assert "cannot be decoded" in job.detail


def test_no_board_in_time_ends_the_wait_and_a_tap_tries_again(model, tmp_path: Path) -> None:
    plugged: list[Path] = []
    job = TakeHome(_parts(lambda: plugged, plug_in_timeout_s=0.0))
    job.start(*model, CURRENT_WINDOW)
    assert _until(lambda: job.step is Step.NO_BOARD)
    assert not job.busy
    job.parts = _parts(lambda: plugged)
    plugged.append(_drive(tmp_path / "MICROBIT", V2_ID))
    job.start(*model, CURRENT_WINDOW)
    assert _until(lambda: job.step is Step.DONE)


def test_a_visitor_reset_stops_the_job_and_its_late_news_is_dropped(
    journey: Journey, tmp_path: Path
) -> None:
    s = journey.session
    plugged, worker = _waiting_for_a_board(journey)
    s.reset_visitor()
    assert s.take_home.step is Step.IDLE and s.take_home.line == ""
    plugged.append(_drive(tmp_path / "MICROBIT", V2_ID))
    worker.join(30)
    assert not worker.is_alive()  # it stopped at its next look for a board
    assert s.take_home.step is Step.IDLE
    assert not (plugged[0] / f"kiosk-{COPY_NAME}.hex").exists()


def test_a_model_that_is_not_a_network_is_refused_in_plain_words() -> None:
    job = TakeHome(_parts(lambda: []))
    job.start(None, [], CURRENT_WINDOW)
    assert job.step is Step.NOT_NETWORK and not job.busy
    assert job.line == "Only the neural network can go on a micro:bit."


def test_training_again_drops_a_job_still_waiting_with_the_old_model(
    journey: Journey, tmp_path: Path
) -> None:
    s = journey.session
    plugged, worker = _waiting_for_a_board(journey)
    s.add_more_recordings()
    journey.record(0, 1)
    s.train()
    plugged.append(_drive(tmp_path / "MICROBIT", V2_ID))
    worker.join(30)
    assert not worker.is_alive()
    assert s.take_home.step is Step.IDLE
    assert not (plugged[0] / f"kiosk-{COPY_NAME}.hex").exists()
