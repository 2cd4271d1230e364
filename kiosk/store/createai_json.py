"""Reading and writing micro:bit CreateAI dataset files, refusing anything hostile.

CreateAI saves a JSON array of actions, each with its recordings' x, y, z
values in g. Two forms exist: the legacy one with numeric ``ID`` fields and the
current one with string ``id`` fields (plus ``createdAt``). Files come from USB
sticks handed in by strangers, so the reader checks the file type and size
before reading, limits nesting before parsing, and validates every shape,
number and text; any problem becomes one ``DatasetFormatError`` sentence
naming it, and no other exception escapes (a fuzz test holds it to that).
Writing gives back every number exactly (Python's float repr round-trips
doubles) and every action field the kiosk does not use.

The recognition threshold is CreateAI's ``requiredConfidence``: top-level in
the current form, inside ``confidence`` in the legacy one.

Icons are MakeCode icon names (``kiosk.microbit.icons``), in both directions:
CreateAI looks every action's ``icon`` up in its table and fails on a name it
does not know, so reading maps any name to one it knows (old kiosk names,
another case; an unknown or missing one gets CreateAI's own choice for an
action without an icon) and writing does the same for whatever the store
holds. Every written action and recording carries ``createdAt`` (CreateAI's
app store requires it and orders actions by it), in both forms: a value the
kiosk does not know is what CreateAI itself would take (a legacy numeric
``ID``, which CreateAI's own upgrade uses as the time), else the export's time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
import time
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from kiosk.dataset import Action, Dataset, Recording
from kiosk.errors import DatasetFormatError
from kiosk.microbit.icons import resolve_icons

FileForm = Literal["legacy", "current"]

# A big classroom dataset (20 actions x 50 recordings x 90 samples) is about
# 3 MB. 16 MB of JSON numbers becomes ~100 MB of Python objects while parsing,
# which a 1 GB Pi can still afford; anything larger is refused before reading.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_ACTIONS = 64
MAX_RECORDINGS = 20_000
MAX_SAMPLES_PER_RECORDING = 4_096
MAX_NAME_CHARS = 100
MAX_ABS_G = 1_000.0  # real accelerometers read within +-8 g; more is not a recording
MAX_NESTING = 16
# JSON values (numbers, strings, lists, objects) a file may hold, counted on the
# raw bytes before parsing: each becomes a Python object of 30-60 bytes, so
# this bounds what parsing can take (under 150 MB), not the file size alone,
# which lets 16 MB of "0," become 8 million objects. The big classroom
# dataset above holds about 300,000.
MAX_JSON_VALUES = 1_000_000
MAX_CREATED_AT = 2**53  # ms since the epoch; JavaScript's largest exact integer
DEFAULT_THRESHOLD = 0.8

_ACTION_KEYS = {"ID", "id", "name", "icon", "createdAt", "recordings", "requiredConfidence"}
# A JSON string literal with its escapes (the "unrolled loop" form runs in linear time).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,100}")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


def load_createai(path: str | Path) -> tuple[Dataset, FileForm]:
    """Read a CreateAI dataset file; raises DatasetFormatError naming the problem."""
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO someone named "dataset.json" must not hang the kiosk.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise DatasetFormatError(f"cannot open {path}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DatasetFormatError(f"{path.name} is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise DatasetFormatError(
                f"{path.name} is {info.st_size / 1e6:.0f} MB; a dataset file can be at most "
                f"{MAX_FILE_BYTES // 1_000_000} MB"
            )
        with os.fdopen(os.dup(fd), "rb") as file:
            # Never more than the limit, even if the file grows while we read.
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DatasetFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    return parse_createai(raw, source=path.name)


def parse_createai(raw: bytes, source: str = "dataset") -> tuple[Dataset, FileForm]:
    """Parse the bytes of a CreateAI dataset file."""
    if len(raw) > MAX_FILE_BYTES:
        raise DatasetFormatError(
            f"{source} is larger than {MAX_FILE_BYTES // 1_000_000} MB, too large to be a "
            "dataset file"
        )
    raw = bytes(raw)
    _check_shape(raw, source)  # before the text copy: a refused file costs little memory
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetFormatError(
            f"{source} is not UTF-8 text (byte {exc.start}); is it really a CreateAI dataset?"
        ) from None
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except _NonFiniteNumber as exc:
        raise DatasetFormatError(f"{source} contains {exc.args[0]}, not a number") from None
    except json.JSONDecodeError as exc:
        raise DatasetFormatError(
            f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except (RecursionError, ValueError) as exc:
        # e.g. an integer with more digits than Python converts
        raise DatasetFormatError(f"{source} cannot be read as JSON: {exc}") from None
    return _dataset_from_document(document, source)


def dump_createai(dataset: Dataset, form: FileForm = "current", now_ms: int | None = None) -> str:
    """The dataset as CreateAI JSON text, in the legacy or current form.

    ``now_ms`` is the export's time (ms since the epoch; the clock's by default),
    the ``createdAt`` of what has none and no numeric ID to take it from.
    """
    now = int(time.time() * 1000) if now_ms is None else now_ms
    icons = resolve_icons([action.icon for action in dataset.actions])
    documents = []
    for a, (action, icon) in enumerate(zip(dataset.actions, icons, strict=True)):
        created = _time_for(action.created_at, action.id, now + a)
        recordings = tuple(
            dataclasses.replace(rec, created_at=_time_for(rec.created_at, rec.id, created + r))
            for r, rec in enumerate(action.recordings)
        )
        written = dataclasses.replace(action, icon=icon, created_at=created, recordings=recordings)
        documents.append(_action_document(written, form))
    return json.dumps(documents, indent=1)


def save_createai(dataset: Dataset, path: str | Path, form: FileForm = "current") -> None:
    Path(path).write_text(dump_createai(dataset, form), encoding="utf-8")


def _time_for(created_at: int | None, identifier: str, otherwise: int) -> int:
    """The ``createdAt`` to write.

    The known one; else a numeric ID (as CreateAI's upgrade takes it); else ``otherwise``.
    """
    if created_at is not None:
        return created_at
    if _WHOLE_NUMBER.fullmatch(identifier):
        number = int(identifier)
        if 0 <= number < MAX_CREATED_AT:
            return number
    return otherwise


class _NonFiniteNumber(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NonFiniteNumber(name)


def _check_shape(raw: bytes, source: str) -> None:
    """Refuse JSON too deeply nested or with too many values, before the parser sees it.

    Strings are cut out first (their brackets and commas do not count). Each
    comma separates two values, so commas + 1 bounds the values in a
    container, and the sum bounds the objects parsing would build. The depth is
    a running sum over the brackets, done by numpy so that a 16 MB file takes
    milliseconds, not a Python loop per character.
    """
    bare = _JSON_STRING.sub(b"0", raw)
    brackets = bare.translate(None, _NOT_BRACKETS)
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1).astype(np.int32)
    if steps.size and int(np.cumsum(steps, dtype=np.int32).max()) > MAX_NESTING:
        raise DatasetFormatError(f"{source} is nested too deeply to be a dataset file")
    values = bare.count(b",") + len(brackets) // 2 + 1
    if values > MAX_JSON_VALUES:
        raise DatasetFormatError(
            f"{source} holds about {values:,} values; a dataset file can hold at most "
            f"{MAX_JSON_VALUES:,} (it would need too much memory to read)"
        )


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
    total = sum(
        len(item["recordings"])
        for item in document
        if isinstance(item, dict) and isinstance(item.get("recordings"), list)
    )
    if total > MAX_RECORDINGS:
        raise DatasetFormatError(
            f"{source} has {total} recordings; at most {MAX_RECORDINGS} are supported"
        )
    forms: set[FileForm] = set()
    actions = []
    names: set[str] = set()
    for a, item in enumerate(document):
        where = f"{source}: action {a + 1}"
        action, form = _parse_action(item, where)
        if action.name in names:
            raise DatasetFormatError(f"{source} has two actions called {action.name!r}")
        names.add(action.name)
        forms.add(form)
        actions.append(action)
    file_form: FileForm = "legacy" if forms == {"legacy"} else "current"
    icons = resolve_icons([action.icon for action in actions])
    actions = [
        dataclasses.replace(action, icon=icon) for action, icon in zip(actions, icons, strict=True)
    ]
    return Dataset(tuple(actions)), file_form


def _parse_action(item: Any, where: str) -> tuple[Action, FileForm]:
    if not isinstance(item, dict):
        raise DatasetFormatError(f"{where} should be an object, not {_kind(item)}")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DatasetFormatError(f"{where} has no name")
    _check_text(name, f"{where} name")
    where = f"{where} ({name!r})"
    identifier, form = _identifier(item, where)
    icon = item.get("icon")
    if icon is not None:
        if not isinstance(icon, str):
            raise DatasetFormatError(f"{where} has an icon that is not a short text")
        _check_text(icon, f"{where} icon")
    recordings_doc = item.get("recordings")
    if not isinstance(recordings_doc, list):
        raise DatasetFormatError(f"{where} has no list of recordings")
    recordings = tuple(
        _parse_recording(rec, f"{where}, recording {r + 1}") for r, rec in enumerate(recordings_doc)
    )
    extra = {key: value for key, value in item.items() if key not in _ACTION_KEYS}
    if "requiredConfidence" in item:
        # Kept in extra too, so that an unchanged threshold is written back as it was.
        extra["requiredConfidence"] = item["requiredConfidence"]
    _check_extra(extra, where)
    action = Action(
        name=name,
        recordings=recordings,
        icon=icon,
        id=identifier,
        created_at=_created_at(item, where),
        threshold=_threshold(item, where),
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
    if not axes[0]:
        raise DatasetFormatError(f"{where} has no samples")
    try:
        samples = np.array(axes, dtype=np.float64).T.reshape(-1, 3)
    except OverflowError:  # an integer too large for a double
        raise DatasetFormatError(f"{where} has values no accelerometer can give") from None
    if not np.isfinite(samples).all() or (np.abs(samples) > MAX_ABS_G).any():
        raise DatasetFormatError(f"{where} has values no accelerometer can give")
    return Recording(samples=samples, id=identifier, created_at=_created_at(item, where))


def _identifier(item: Mapping[str, Any], where: str) -> tuple[str, FileForm]:
    form: FileForm
    if "ID" in item:
        value, form = item["ID"], "legacy"
    elif "id" in item:
        value, form = item["id"], "current"
    else:
        raise DatasetFormatError(f"{where} has no ID")
    if type(value) is float and value.is_integer() and abs(value) < MAX_CREATED_AT:
        value = int(value)
    if type(value) is int and abs(value) < 10**MAX_NAME_CHARS:
        return str(value), form
    if isinstance(value, str) and value:
        _check_text(value, f"{where} ID")
        return value, form
    raise DatasetFormatError(f"{where} has an ID that is neither a whole number nor a short text")


def _created_at(item: Mapping[str, Any], where: str) -> int | None:
    value = item.get("createdAt")
    if value is None:
        return None
    # Comparisons, not float(): an integer of 300 digits must not overflow; NaN fails them.
    if type(value) in (int, float) and 0 <= value < MAX_CREATED_AT:
        return int(value)
    raise DatasetFormatError(f"{where} has a createdAt that is not a time")


def _threshold(item: Mapping[str, Any], where: str) -> float:
    """Top-level ``requiredConfidence`` (current form), else ``confidence``'s (legacy)."""
    if "requiredConfidence" in item:
        value: Any = item["requiredConfidence"]
    elif isinstance(item.get("confidence"), dict) and "requiredConfidence" in item["confidence"]:
        value = item["confidence"]["requiredConfidence"]
    else:
        return DEFAULT_THRESHOLD
    if type(value) in (int, float) and 0.0 <= value <= 1.0:
        return float(value)
    raise DatasetFormatError(f"{where} has a requiredConfidence that is not between 0 and 1")


def _check_text(value: str, where: str) -> None:
    if len(value) > MAX_NAME_CHARS:
        raise DatasetFormatError(f"{where} is longer than {MAX_NAME_CHARS} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate escape such as "\ud800"
        raise DatasetFormatError(f"{where} is not valid text") from None
    problem = control_character_problem(value)
    if problem:
        raise DatasetFormatError(f"{where} {problem}")


# Bidirectional overrides and isolates reorder what follows them on screen and
# in a spreadsheet: a name must read as it is stored.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def control_character_problem(value: str) -> str | None:
    """Why ``value`` cannot be a name (a NUL, a newline, another control character), or None."""
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI_CONTROLS:
            shown = "NUL" if ch == "\0" else f"U+{ord(ch):04X}"
            return f"contains a control character ({shown}); names are plain text on one line"
    return None


def _check_extra(extra: Mapping[str, Any], where: str) -> None:
    """Unused fields are kept and written back, so they must survive json.dumps."""
    try:
        json.dumps(extra, allow_nan=False)
    except (ValueError, OverflowError):
        raise DatasetFormatError(f"{where} has a field that cannot be kept") from None


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a text", bool: "true/false"}.get(
        type(value), "a number" if isinstance(value, int | float) else "nothing"
    )


def _id_value(identifier: str, form: FileForm, created_at: int | None) -> int | str:
    """Legacy files number their IDs; write a number back only if it reads back the same.

    A legacy ID that is not a number (an id from a current-form file) becomes
    the item's ``createdAt``: CreateAI takes a legacy ID as the time it was made.
    """
    if form == "legacy" and _WHOLE_NUMBER.fullmatch(identifier):
        number = int(identifier)
        if str(number) == identifier:
            return number
    if form == "legacy" and created_at is not None:
        return created_at
    return identifier


def _action_document(action: Action, form: FileForm) -> dict[str, Any]:
    key = "ID" if form == "legacy" else "id"
    document: dict[str, Any] = {
        key: _id_value(action.id, form, action.created_at),
        "name": action.name,
    }
    if action.icon is not None:
        document["icon"] = action.icon
    if action.created_at is not None:
        document["createdAt"] = action.created_at
    document.update(action.extra)
    _write_threshold(document, action.threshold, form)
    document["recordings"] = [_recording_document(rec, form) for rec in action.recordings]
    return document


def _write_threshold(document: dict[str, Any], threshold: float, form: FileForm) -> None:
    """Write the threshold back where it was read from; leave an untouched default out.

    An unchanged value is left exactly as the file had it (1 stays 1, not 1.0).
    """
    confidence = document.get("confidence")
    if "requiredConfidence" in document:
        if document["requiredConfidence"] != threshold:
            document["requiredConfidence"] = threshold
    elif isinstance(confidence, dict) and "requiredConfidence" in confidence:
        if confidence["requiredConfidence"] != threshold:
            document["confidence"] = {**confidence, "requiredConfidence": threshold}
    elif threshold != DEFAULT_THRESHOLD:
        if form == "legacy":
            base = confidence if isinstance(confidence, dict) else {}
            document["confidence"] = {**base, "requiredConfidence": threshold}
        else:
            document["requiredConfidence"] = threshold


def _recording_document(recording: Recording, form: FileForm) -> dict[str, Any]:
    key = "ID" if form == "legacy" else "id"
    document: dict[str, Any] = {key: _id_value(recording.id, form, recording.created_at)}
    if recording.created_at is not None:
        document["createdAt"] = recording.created_at
    columns = recording.samples.T
    document["data"] = {axis: _js_numbers(columns[i]) for i, axis in enumerate("xyz")}
    return document


def _js_numbers(values: np.ndarray) -> list[int | float]:
    """Whole numbers as integers, as JavaScript writes them ("0", not "0.0").

    The value is the same either way; this keeps an exported file textually
    like CreateAI's. -0.0 stays a float so its sign survives.
    """
    negative_zero = (values == 0) & np.signbit(values)
    whole = (values == np.trunc(values)) & (np.abs(values) < 2**53) & ~negative_zero
    return [int(v) if w else v for v, w in zip(values.tolist(), whole.tolist(), strict=True)]
