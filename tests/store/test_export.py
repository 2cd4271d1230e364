"""Export: every real file comes back out of the database exactly; CSV and .tflite."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from kiosk.dataset import Action, Dataset, Recording
from kiosk.errors import StorageError, StorageFullError
from kiosk.store import export
from kiosk.store.database import Store
from kiosk.store.export import dataset_csv, export_project, safe_file_stem, write_atomically
from tests.store.helpers import as_exported
from tests.store.test_createai_json import REAL_FILES


@pytest.mark.parametrize("name", REAL_FILES)
def test_import_then_export_gives_the_file_back(
    store: Store, createai_dir: Path, tmp_path: Path, name: str
) -> None:
    source = createai_dir / name
    store.import_createai(source, "p")
    # the database is closed and reopened in between: nothing lives only in memory
    path = store.path
    store.close()
    with Store.open(path) as reopened:
        result = export_project(reopened, "p", tmp_path / "out")
    assert result.json_path.name == "p.json"
    original = as_exported(json.loads(source.read_text()))  # plus what CreateAI needs
    assert json.loads(result.json_path.read_text()) == original
    # whitespace and key order aside, even the text of every number is the same
    assert sorted(_numbers(result.json_path.read_text())) == sorted(_numbers(json.dumps(original)))


def _numbers(text: str) -> list[str]:
    return re.findall(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", text)


def test_export_in_the_other_form(store: Store, createai_dir: Path, tmp_path: Path) -> None:
    store.import_createai(createai_dir / "dataset.json", "p")
    result = export_project(store, "p", tmp_path, form="current")
    document = json.loads(result.json_path.read_text())
    assert isinstance(document[0]["id"], str) and "ID" not in document[0]
    assert isinstance(document[0]["recordings"][0]["id"], str)


def test_csv_has_one_row_per_sample_with_exact_numbers(store: Store, tmp_path: Path) -> None:
    project = store.ensure_project("p")
    action = store.add_action(project, "wave, big", None)
    samples = np.array([[0.1, -0.2, 1 / 3], [2.04, -0.0, 1e-17], [1.0, 2.0, 3.0]])
    rec_id = store.add_recording(action, Recording(samples, sample_period_ms=20.0))
    other = store.add_recording(action, Recording(samples[:2], arrival_rate_hz=40.0))
    result = export_project(store, "p", tmp_path)
    rows = list(csv.reader(io.StringIO(result.csv_path.read_text())))
    assert rows[0] == ["action", "recording", "t", "x", "y", "z"]
    assert len(rows) == 1 + 3 + 2
    assert [row[1] for row in rows[1:]] == [rec_id] * 3 + [other] * 2
    assert all(row[0] == "wave, big" for row in rows[1:])  # quoted, not split
    assert [float(row[2]) for row in rows[1:]] == [0.0, 0.02, 0.04, 0.0, 0.025]
    values = np.array([[float(v) for v in row[3:]] for row in rows[1:4]])
    assert values.tobytes() == samples.tobytes()


def test_csv_period_falls_back_to_createai_windows() -> None:
    def dataset(n: int) -> Dataset:
        return Dataset((Action("a", (Recording(np.zeros((n, 3)), id="r"),)),))

    legacy = list(csv.reader(io.StringIO(dataset_csv(dataset(80)))))
    current = list(csv.reader(io.StringIO(dataset_csv(dataset(50)))))
    assert float(legacy[2][2]) == 0.025
    assert float(current[2][2]) == 0.02


def test_model_is_exported_when_there_is_one(store: Store, tmp_path: Path) -> None:
    project = store.ensure_project("p")
    store.add_action(project, "a", None)
    assert export_project(store, "p", tmp_path / "a").model_path is None
    store.save_model(project, b"old model", {})
    store.save_model(project, b"TFL3 newest", {"accuracy": 1.0})
    snapshot = store.create_snapshot(project, "s")
    store.save_model(project, b"snapshot model", {}, snapshot_id=snapshot)
    result = export_project(store, "p", tmp_path / "b")
    assert result.model_path is not None
    assert result.model_path.read_bytes() == b"TFL3 newest"


def test_unknown_project_is_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no project called 'nope'"):
        export_project(store, "nope", tmp_path)


@pytest.mark.parametrize(
    ("name", "stem"),
    [("class 4B", "class 4B"), ('a/b\\c:d*e?"f<g>h|', "a_b_c_d_e__f_g_h_"), ("...", "project")],
)
def test_file_names_are_safe_on_usb_sticks(name: str, stem: str) -> None:
    assert safe_file_stem(name) == stem


def test_atomic_write_leaves_no_partial_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "x.json"
    target.write_bytes(b"old")

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export.os, "fsync", no_space)
    with pytest.raises(StorageFullError, match="full"):
        write_atomically(target, b"new contents")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["x.json"]


def test_read_only_stick_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(export.tempfile, "mkstemp", read_only)
    with pytest.raises(StorageError, match="read-only \\(check its lock switch\\)"):
        write_atomically(tmp_path / "x.json", b"data")
