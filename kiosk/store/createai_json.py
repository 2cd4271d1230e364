"""Reading and writing micro:bit CreateAI dataset files, refusing anything hostile.

CreateAI saves a JSON array of actions, each with its recordings' x, y, z
values in g. Two forms exist: the legacy one with numeric ``ID`` fields and the
current one with string ``id`` fields (plus ``createdAt``). Files come from USB
sticks handed in by strangers, so the reader checks sizes before parsing,
limits nesting, and validates every shape and number; any problem becomes one
``DatasetFormatError`` sentence naming it. Writing gives back every number
exactly (Python's float repr round-trips doubles).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from kiosk.dataset import Action, Dataset, Recording
from kiosk.errors import DatasetFormatError

FileForm = Literal["legacy", "current"]

# Far beyond any real classroom dataset, far below what hurts a Pi.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_ACTIONS = 64
MAX_RECORDINGS = 20_000
MAX_SAMPLES_PER_RECORDING = 4_096
MAX_NAME_CHARS = 100
MAX_ABS_G = 1_000.0  # real accelerometers read within +-8 g; more is not a recording
MAX_NESTING = 16

_ACTION_KEYS = {"ID", "id", "name", "icon", "createdAt", "recordings"}
_RECORDING_KEYS = {"ID", "id", "createdAt", "data"}


def load_createai(path: str | Path) -> tuple[Dataset, FileForm]:
    """Read a CreateAI dataset file; raises DatasetFormatError naming the problem."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DatasetFormatError(f"cannot open {path}: {exc.strerror or exc}") from None
    if size > MAX_FILE_BYTES:
        raise DatasetFormatError(
            f"{path.name} is {size / 1e6:.0f} MB; a dataset file can be at most "
            f"{MAX_FILE_BYTES // 1_000_000} MB"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_createai(raw, source=path.name)


def parse_createai(raw: bytes, source: str = "dataset") -> tuple[Dataset, FileForm]:
    """Parse the bytes of a CreateAI dataset file."""
    if len(raw) > MAX_FILE_BYTES:
        raise DatasetFormatError(f"{source} is too large to be a dataset file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetFormatError(
            f"{source} is not UTF-8 text (byte {exc.start}); is it really a CreateAI dataset?"
        ) from None
    _check_nesting(text, source)
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except _NonFiniteNumber as exc:
        raise DatasetFormatError(f"{source} contains {exc.args[0]}, not a number") from None
    except json.JSONDecodeError as exc:
        raise DatasetFormatError(
            f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except (RecursionError, ValueError) as exc:
        raise DatasetFormatError(f"{source} cannot be read as JSON: {exc}") from None
    return _dataset_from_document(document, source)


def dump_createai(dataset: Dataset, form: FileForm = "current") -> str:
    """The dataset as CreateAI JSON text, in the legacy or current form."""
    return json.dumps([_action_document(action, form) for action in dataset.actions], indent=1)


def save_createai(dataset: Dataset, path: str | Path, form: FileForm = "current") -> None:
    Path(path).write_text(dump_createai(dataset, form), encoding="utf-8")


class _NonFiniteNumber(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NonFiniteNumber(name)


def _check_nesting(text: str, source: str) -> None:
    """Refuse deeply nested JSON before the parser recurses into it."""
    depth = 0
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise DatasetFormatError(f"{source} is nested too deeply to be a dataset file")
        elif char in "]}":
            depth -= 1


def _dataset_from_document(document: Any, source: str) -> tuple[Dataset, FileForm]:
    if not isinstance(document, list):
        raise DatasetFormatError(
            f"{source} should hold a list of actions, but holds {_kind(document)}"
        )
    if not document:
        raise DatasetFormatError(f"{source} holds no actions")
    if len(document) > MAX_ACTIONS:
        raise DatasetFormatError(
            f"{source} has {len(document)} actions; at most {MAX_ACTIONS} are supported"
        )
    forms: set[FileForm] = set()
    actions = []
    total = 0
    for a, item in enumerate(document):
        where = f"{source}: action {a + 1}"
        action, form = _parse_action(item, where)
        forms.add(form)
        total += len(action.recordings)
        if total > MAX_RECORDINGS:
            raise DatasetFormatError(
                f"{source} has more than {MAX_RECORDINGS} recordings; that is not a real dataset"
            )
        actions.append(action)
    form: FileForm = "legacy" if forms == {"legacy"} else "current"
    return Dataset(tuple(actions)), form


def _parse_action(item: Any, where: str) -> tuple[Action, FileForm]:
    if not isinstance(item, dict):
        raise DatasetFormatError(f"{where} should be an object, not {_kind(item)}")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DatasetFormatError(f"{where} has no name")
    if len(name) > MAX_NAME_CHARS:
        raise DatasetFormatError(f"{where} has a name longer than {MAX_NAME_CHARS} characters")
    where = f"{where} ({name!r})"
    identifier, form = _identifier(item, where)
    icon = item.get("icon")
    if icon is not None and not (isinstance(icon, str) and len(icon) <= MAX_NAME_CHARS):
        raise DatasetFormatError(f"{where} has an icon that is not a short text")
    recordings_doc = item.get("recordings")
    if not isinstance(recordings_doc, list):
        raise DatasetFormatError(f"{where} has no list of recordings")
    if len(recordings_doc) > MAX_RECORDINGS:
        raise DatasetFormatError(f"{where} has more than {MAX_RECORDINGS} recordings")
    recordings = tuple(
        _parse_recording(rec, f"{where}, recording {r + 1}")
        for r, rec in enumerate(recordings_doc)
    )
    extra = {key: value for key, value in item.items() if key not in _ACTION_KEYS}
    action = Action(
        name=name,
        recordings=recordings,
        icon=icon,
        id=identifier,
        created_at=_created_at(item, where),
        extra=MappingProxyType(extra),
    )
    return action, form


def _parse_recording(item: Any, where: str) -> Recording:
    if not isinstance(item, dict):
        raise DatasetFormatError(f"{where} should be an object, not {_kind(item)}")
    identifier, _ = _identifier(item, where)
    data = item.get("data")
    if not isinstance(data, dict):
        raise DatasetFormatError(f"{where} has no data with x, y and z")
    axes = []
    for axis in ("x", "y", "z"):
        values = data.get(axis)
        if not isinstance(values, list):
            raise DatasetFormatError(f"{where} has no list of {axis} values")
        if len(values) > MAX_SAMPLES_PER_RECORDING:
            raise DatasetFormatError(
                f"{where} has {len(values)} {axis} values; at most "
                f"{MAX_SAMPLES_PER_RECORDING} are supported"
            )
        if not all(type(v) in (int, float) for v in values):
            raise DatasetFormatError(f"{where} has an {axis} value that is not a number")
        axes.append(values)
    if not len(axes[0]) == len(axes[1]) == len(axes[2]):
        raise DatasetFormatError(
            f"{where} has {len(axes[0])} x, {len(axes[1])} y and {len(axes[2])} z values; "
            "they must be equal"
        )
    samples = np.array(axes, dtype=np.float64).T.reshape(-1, 3)
    if not np.isfinite(samples).all() or (np.abs(samples) > MAX_ABS_G).any():
        raise DatasetFormatError(f"{where} has values no accelerometer can give")
    return Recording(samples=samples, id=identifier, created_at=_created_at(item, where))


def _identifier(item: Mapping[str, Any], where: str) -> tuple[str, FileForm]:
    if "ID" in item:
        value, form = item["ID"], "legacy"
    elif "id" in item:
        value, form = item["id"], "current"
    else:
        raise DatasetFormatError(f"{where} has no ID")
    if type(value) is int or (type(value) is float and value.is_integer()):
        return str(int(value)), form
    if isinstance(value, str) and 0 < len(value) <= MAX_NAME_CHARS:
        return value, form
    raise DatasetFormatError(f"{where} has an ID that is neither a number nor a short text")


def _created_at(item: Mapping[str, Any], where: str) -> int | None:
    value = item.get("createdAt")
    if value is None:
        return None
    if type(value) in (int, float) and math.isfinite(value):
        return int(value)
    raise DatasetFormatError(f"{where} has a createdAt that is not a time")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a text", bool: "true/false"}.get(
        type(value), "a number" if isinstance(value, int | float) else "nothing"
    )


def _id_value(identifier: str, form: FileForm) -> int | str:
    if form == "legacy" and identifier.isdigit():
        return int(identifier)
    return identifier


def _action_document(action: Action, form: FileForm) -> dict[str, Any]:
    key = "ID" if form == "legacy" else "id"
    document: dict[str, Any] = {key: _id_value(action.id, form), "name": action.name}
    if action.icon is not None:
        document["icon"] = action.icon
    if action.created_at is not None:
        document["createdAt"] = action.created_at
    document.update(action.extra)
    document["recordings"] = [_recording_document(rec, form) for rec in action.recordings]
    return document


def _recording_document(recording: Recording, form: FileForm) -> dict[str, Any]:
    key = "ID" if form == "legacy" else "id"
    document: dict[str, Any] = {key: _id_value(recording.id, form)}
    if recording.created_at is not None:
        document["createdAt"] = recording.created_at
    columns = recording.samples.T
    document["data"] = {axis: columns[i].tolist() for i, axis in enumerate("xyz")}
    return document
