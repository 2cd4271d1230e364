"""Writing a project out: CreateAI JSON, CSV and the current model as .tflite.

Exports usually go to a USB stick that a teacher may pull out at any moment,
so each file is written to a temporary name, flushed to the device and only
then renamed into place: a file with the final name is always complete.

The JSON is CreateAI's (``createai_json``): it names only icons CreateAI
knows and carries every ``createdAt`` CreateAI needs, whichever form is asked for.

CSV layout: a header, then one row per sample, ``action, recording, t, x, y,
z``. ``recording`` is the recording's id, ``x, y, z`` are in g written
exactly (shortest repr that reads back the same double), and ``t`` is the
time in seconds since the recording's first sample: ``index * period``, where
the period is the recording's own sample period when the kiosk knows it,
else ``1 / arrival rate``, else CreateAI's device period for the dataset's
data window (25 ms when the first recording has 80 or more samples, the
legacy window; 20 ms otherwise), since CreateAI files do not record it.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kiosk.dataset import Dataset, Recording
from kiosk.errors import StorageError, StorageFullError
from kiosk.store.createai_json import FileForm, dump_createai
from kiosk.store.database import Store

CSV_HEADER = ("action", "recording", "t", "x", "y", "z")
CURRENT_PERIOD_MS = 20.0  # CreateAI's device period (current data window)
LEGACY_PERIOD_MS = 25.0  # ... and for its legacy 1.8 s window
LEGACY_MIN_SAMPLES = 80  # CreateAI's rule: a first recording this long means legacy data

# Characters FAT and exFAT (what USB sticks use) refuse in names, plus controls.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


@dataclass(frozen=True)
class ExportResult:
    """The files one export wrote."""

    json_path: Path
    csv_path: Path
    model_path: Path | None  # None when the project has no trained model


def export_project(
    store: Store, project_name: str, out_dir: str | Path, form: FileForm | None = None
) -> ExportResult:
    """Write the project's live dataset (JSON, CSV) and its latest model into ``out_dir``.

    ``form`` defaults to the form the project was imported in ("current" for
    projects made on the kiosk), so an imported file goes back as it came.
    """
    project = store.project_id(project_name)
    if project is None:
        raise StorageError(f"there is no project called {project_name!r}")
    dataset = store.load_dataset(project)
    form = form or store.project_form(project)
    model = store.latest_model(project)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(exc, f"create the folder {out}") from None
    stem = safe_file_stem(project_name)
    json_path = out / f"{stem}.json"
    csv_path = out / f"{stem}.csv"
    write_atomically(json_path, dump_createai(dataset, form).encode("utf-8"))
    write_atomically(csv_path, dataset_csv(dataset).encode("utf-8"))
    model_path = None
    if model is not None:
        model_path = out / f"{stem}.tflite"
        write_atomically(model_path, model.tflite)
    return ExportResult(json_path, csv_path, model_path)


def dataset_csv(dataset: Dataset) -> str:
    """The dataset as CSV text, one row per sample (see the module docstring)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    default_period = default_period_ms(dataset)
    for action in dataset.actions:
        for recording in action.recordings:
            period_s = recording_period_ms(recording, default_period) / 1000.0
            for index, (x, y, z) in enumerate(recording.samples.tolist()):
                name, rec_id = spreadsheet_safe(action.name), spreadsheet_safe(recording.id or "")
                writer.writerow((name, rec_id, index * period_s, x, y, z))
    return buffer.getvalue()


# A spreadsheet runs a cell that starts with one of these as a formula
# (=HYPERLINK(...) sends data away, =cmd|... ran programs in old Excel).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """``text`` for a CSV text cell: a leading apostrophe keeps a formula-like name plain text."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def default_period_ms(dataset: Dataset) -> float:
    """CreateAI's device period for the dataset's data window (its files do not say)."""
    recordings = dataset.labelled_recordings()
    if recordings and recordings[0][2].length >= LEGACY_MIN_SAMPLES:
        return LEGACY_PERIOD_MS
    return CURRENT_PERIOD_MS


def recording_period_ms(recording: Recording, default: float) -> float:
    if recording.sample_period_ms and recording.sample_period_ms > 0:
        return float(recording.sample_period_ms)
    if recording.arrival_rate_hz and recording.arrival_rate_hz > 0:
        return 1000.0 / float(recording.arrival_rate_hz)
    return default


def safe_file_stem(name: str) -> str:
    """A file name any USB stick accepts, recognisably the project's name."""
    stem = _UNSAFE.sub("_", name).strip(" .")[:80]
    return stem or "project"


def write_atomically(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` so that ``path`` is either the old file or the whole new one.

    ``mode`` sets the new file's permissions before it takes the name (a settings file
    holding the PIN hash must never be readable by all, not even for a moment).
    """
    directory = path.parent
    try:
        fd, temporary = tempfile.mkstemp(prefix=".kiosk-", suffix=".part", dir=directory)
    except OSError as exc:
        raise _os_error(exc, f"write into {directory}") from None
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
        _fsync_directory(directory)
    except OSError as exc:
        with contextlib.suppress(OSError):  # already renamed: nothing to tidy
            os.unlink(temporary)
        raise _os_error(exc, f"write {path}") from None


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # some file systems (FAT over some drivers) cannot open a folder; the data is synced
    try:
        with contextlib.suppress(OSError):  # not supported for folders on some file systems
            os.fsync(fd)
    finally:
        os.close(fd)


def _os_error(exc: OSError, doing: str) -> StorageError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFullError(f"could not {doing}: the disk or USB stick is full")
    if exc.errno == errno.EROFS:
        return StorageError(
            f"could not {doing}: the USB stick is read-only (check its lock switch)"
        )
    return StorageError(f"could not {doing}: {exc.strerror or exc}")
