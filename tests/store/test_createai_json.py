"""The CreateAI reader/writer: real files round-trip exactly, hostile files are refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from kiosk.errors import DatasetFormatError
from kiosk.store import createai_json as createai
from kiosk.store.createai_json import dump_createai, load_createai, parse_createai
from tests.store.helpers import action_doc, as_exported, write_json

REAL_FILES = [
    "dataset.json",
    "shake-still-circle-data-samples-legacy.json",
    "shake-still-circle-legacy-bad-labels.json",
    "shake-still-circle-legacy-test-data.json",
    "still-wave-clap-data-samples-legacy.json",
]


def test_every_real_file_is_listed(createai_dir: Path) -> None:
    on_disk = {p.name for p in createai_dir.glob("*.json")} - {"folds.json"}
    assert on_disk == set(REAL_FILES)


@pytest.mark.parametrize("name", REAL_FILES)
def test_real_file_round_trips_every_number(createai_dir: Path, name: str) -> None:
    original = json.loads((createai_dir / name).read_text())
    dataset, form = load_createai(createai_dir / name)
    assert form == "legacy"
    written = json.loads(dump_createai(dataset, form))
    assert written == as_exported(original)  # plus the createdAt and icons CreateAI needs
    # == on floats is exact, but also compare the text of every sample
    for action_in, action_out in zip(original, written, strict=True):
        for rec_in, rec_out in zip(action_in["recordings"], action_out["recordings"], strict=True):
            for axis in "xyz":
                assert list(map(repr, rec_in["data"][axis])) == list(
                    map(repr, rec_out["data"][axis])
                )


def test_current_form_keeps_string_ids_created_at_and_threshold(tmp_path: Path) -> None:
    document = [
        {
            "id": "1718000000000",
            "name": "wave",
            "icon": "Heart",
            "createdAt": 1718000000000,
            "requiredConfidence": 0.65,
            "recordings": [
                {"id": "r1", "createdAt": 1718000000001, "data": {"x": [1], "y": [2], "z": [3.5]}}
            ],
        }
    ]
    dataset, form = load_createai(write_json(tmp_path / "current.json", document))
    assert form == "current"
    action = dataset.actions[0]
    assert (action.id, action.icon, action.created_at, action.threshold) == (
        "1718000000000",
        "Heart",
        1718000000000,
        0.65,
    )
    assert action.recordings[0].id == "r1"
    assert json.loads(dump_createai(dataset, "current")) == document


def test_legacy_threshold_is_read_from_confidence_and_written_back_there() -> None:
    document = [action_doc("still", legacy=True)]
    document[0]["confidence"] = {"currentConfidence": 0, "requiredConfidence": 0.7}
    dataset, form = parse_createai(json.dumps(document).encode())
    assert dataset.actions[0].threshold == 0.7
    changed = dataset.actions[0].__class__(**{**dataset.actions[0].__dict__, "threshold": 0.9})
    out = json.loads(dump_createai(dataset.__class__((changed,)), form))
    assert out[0]["confidence"] == {"currentConfidence": 0, "requiredConfidence": 0.9}
    assert "requiredConfidence" not in out[0]


def test_default_threshold_is_not_added_to_a_file_without_one() -> None:
    dataset, form = parse_createai(json.dumps([action_doc("a")]).encode())
    out = json.loads(dump_createai(dataset, form))
    assert "requiredConfidence" not in out[0] and "confidence" not in out[0]


def test_changed_threshold_is_written_in_current_form() -> None:
    dataset, _ = parse_createai(json.dumps([action_doc("a")]).encode())
    action = dataset.actions[0]
    changed = action.__class__(**{**action.__dict__, "threshold": 0.5})
    out = json.loads(dump_createai(dataset.__class__((changed,)), "current"))
    assert out[0]["requiredConfidence"] == 0.5


def test_legacy_string_id_is_written_as_the_number_createai_takes_as_its_time() -> None:
    """CreateAI turns a legacy ID into ``createdAt``, which must be a number."""
    document = [action_doc("a", legacy=True), action_doc("bb", legacy=True)]
    document[0]["ID"] = "007"
    document[1]["ID"] = "not-a-number"
    document[1]["createdAt"] = 1700000000123
    dataset, form = parse_createai(json.dumps(document).encode())
    assert dataset.actions[0].id == "007"  # read as it is
    written = json.loads(dump_createai(dataset, form))
    assert (written[0]["ID"], written[0]["createdAt"]) == (7, 7)
    assert (written[1]["ID"], written[1]["createdAt"]) == (1700000000123, 1700000000123)


def test_utf8_bom_is_accepted() -> None:
    dataset, _ = parse_createai(b"\xef\xbb\xbf" + json.dumps([action_doc("a")]).encode())
    assert dataset.class_names == ["a"]


def _refused(raw: bytes, *words: str) -> str:
    with pytest.raises(DatasetFormatError) as caught:
        parse_createai(raw, source="f.json")
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message
    return message


def _doc(document: object) -> bytes:
    return json.dumps(document).encode()


def test_wrong_json_is_refused() -> None:
    _refused(b'[{"name": "a",', "not valid JSON", "line 1")
    _refused(b"", "not valid JSON")
    _refused(b"\x00\x00", "not valid JSON")


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"name": "a"}, ("list of actions", "an object")),
        ([], ("no actions",)),
        ([1], ("action 1", "object")),
        ([{"id": "x", "recordings": []}], ("no name",)),
        ([{"name": "a", "recordings": []}], ("no ID",)),
        ([{"name": "a", "id": "x"}], ("no list of recordings",)),
        ([{"name": "a", "id": "x", "recordings": 5}], ("no list of recordings",)),
        ([{"name": "a", "id": "x", "recordings": [{"id": "r"}]}], ("no data",)),
        (
            [{"name": "a", "id": "x", "recordings": [{"id": "r", "data": {"x": [1], "y": [1]}}]}],
            ("no list of z",),
        ),
        (
            [
                {
                    "name": "a",
                    "id": "x",
                    "recordings": [{"id": "r", "data": {"x": [1, 2], "y": [1], "z": [1]}}],
                }
            ],
            ("must be equal",),
        ),
        (
            [
                {
                    "name": "a",
                    "id": "x",
                    "recordings": [{"id": "r", "data": {"x": ["1"], "y": [1], "z": [1]}}],
                }
            ],
            ("not a number",),
        ),
        (
            [
                {
                    "name": "a",
                    "id": "x",
                    "recordings": [{"id": "r", "data": {"x": [True], "y": [1], "z": [1]}}],
                }
            ],
            ("not a number",),
        ),
        (
            [
                {
                    "name": "a",
                    "id": "x",
                    "recordings": [{"id": "r", "data": {"x": [], "y": [], "z": []}}],
                }
            ],
            ("no samples",),
        ),
        ([action_doc("a"), action_doc("a")], ("two actions called 'a'",)),
        ([{**action_doc("a"), "id": 1.5}], ("ID",)),
        ([{**action_doc("a"), "id": ""}], ("ID",)),
        ([{**action_doc("a"), "createdAt": -5}], ("createdAt",)),
        ([{**action_doc("a"), "createdAt": 1e300}], ("createdAt",)),
        ([{**action_doc("a"), "requiredConfidence": 3}], ("requiredConfidence",)),
        ([{**action_doc("a"), "name": "n" * 101}], ("longer than 100",)),
        ([{**action_doc("a"), "icon": 5}], ("icon",)),
    ],
)
def test_wrong_shapes_are_refused(document: object, words: tuple[str, ...]) -> None:
    _refused(_doc(document), *words)


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_literals_are_refused(literal: bytes) -> None:
    raw = b'[{"name":"a","id":"x","recordings":[{"id":"r","data":{"x":[%s],"y":[1],"z":[1]}}]}]'
    _refused(raw % literal, literal.decode().lstrip("-"))


def test_overflowing_numbers_are_refused() -> None:
    template = '[{"name":"a","id":"x","recordings":[{"id":"r","data":{"x":[%s],"y":[1],"z":[1]}}]}]'
    _refused((template % "1e400").encode(), "no accelerometer")
    _refused((template % ("9" * 400)).encode(), "no accelerometer")
    _refused((template % "1001").encode(), "no accelerometer")
    _refused((template % ("9" * 5000)).encode(), "cannot be read as JSON")


def test_extra_field_with_infinite_number_is_refused() -> None:
    raw = json.dumps([action_doc("a")]).encode()
    raw = raw.replace(b'"name"', b'"output": 1e999, "name"', 1)
    _refused(raw, "cannot be kept")


def test_lone_surrogate_in_a_name_is_refused() -> None:
    raw = _doc([action_doc("a")]).replace(b'"name": "a"', b'"name": "a\\ud800"')
    _refused(raw, "not valid text")


def test_non_utf8_is_refused() -> None:
    _refused(_doc([action_doc("caf")]).replace(b"caf", b"caf\xe9"), "not UTF-8")
    _refused("[]".encode("utf-16"), "not UTF-8")


def test_deeply_nested_json_is_refused_without_recursion() -> None:
    _refused(b"[" * 1_000_000 + b"]" * 1_000_000, "nested too deeply")
    _refused(b'[{"name": "a", "x": ' + b"{" * 20 + b"}" * 20 + b"}]", "nested too deeply")


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    document = [action_doc('[[[[[[[[[[[[[[[[[[[[[[ \\" {{{{{{{{{{{{{{{{{{{{{')]
    dataset, _ = parse_createai(_doc(document))
    assert dataset.actions[0].name.startswith("[[[[")


def test_too_many_actions_and_recordings_are_refused() -> None:
    _refused(_doc([action_doc(f"a{i}", 0) for i in range(createai.MAX_ACTIONS + 1)]), "actions")
    tiny = {"id": "r", "data": {"x": [0], "y": [0], "z": [0]}}
    document = [{"id": "a", "name": "a", "recordings": [tiny] * (createai.MAX_RECORDINGS + 1)}]
    _refused(_doc(document), str(createai.MAX_RECORDINGS + 1), "recordings")


def test_too_many_samples_are_refused() -> None:
    n = createai.MAX_SAMPLES_PER_RECORDING + 1
    data = {axis: [0.0] * n for axis in "xyz"}
    _refused(_doc([{"id": "a", "name": "a", "recordings": [{"id": "r", "data": data}]}]), str(n))


def test_a_two_gigabyte_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as file:
        file.truncate(2 * 1024**3)  # sparse: takes no disk space
    with pytest.raises(DatasetFormatError, match="2147 MB; a dataset file can be at most"):
        load_createai(path)


def test_a_million_recordings_file_is_refused(tmp_path: Path) -> None:
    tiny = b'{"id":"r","data":{"x":[0],"y":[0],"z":[0]}}'
    raw = b'[{"id":"a","name":"a","recordings":[' + b",".join([tiny] * 1_000_000) + b"]}]"
    path = tmp_path / "million.json"
    path.write_bytes(raw)
    with pytest.raises(DatasetFormatError, match="at most 16 MB"):
        load_createai(path)
    with pytest.raises(DatasetFormatError, match="too large"):
        parse_createai(raw)


def test_fifo_and_folders_are_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(DatasetFormatError, match="not a regular file"):
        load_createai(fifo)
    with pytest.raises(DatasetFormatError, match="not a regular file"):
        load_createai(tmp_path)
    with pytest.raises(DatasetFormatError, match="cannot open"):
        load_createai(tmp_path / "missing.json")


def test_integer_samples_are_read_as_floats() -> None:
    dataset, _ = parse_createai(_doc([action_doc("a")]).replace(b"0.01,", b"1,", 1))
    assert dataset.actions[0].recordings[0].samples.dtype == np.float64
