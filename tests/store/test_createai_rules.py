"""Every file the kiosk exports is one micro:bit CreateAI loads and shows without failing.

CreateAI's rules, as its source states them (microbit-foundation/ml-trainer,
read at commit d59c186764c173f7ec3f91b5bcfa8da03418c208):

- ``src/model.ts``, ``isDatasetUserFileFormat`` (the check run on a dropped or
  picked .json file, ``src/hooks/project-hooks.tsx``): the file is an array;
  each action is an object with ``name``, ``ID`` or ``id``, and an array
  ``recordings``; each recording is an object with ``ID`` or ``id`` and a
  ``data`` that is not an array and holds arrays ``x``, ``y`` and ``z``.
- ``src/model.ts``, ``Action``, ``ActionData`` and ``RecordingData`` (the
  current form): an action's ``name`` is a string, ``id`` a string, ``icon`` a
  ``MakeCodeIcon``, ``requiredConfidence`` an optional number and
  ``createdAt`` a number; a recording's ``id`` is a string, ``data`` holds x, y
  and z arrays of numbers and ``createdAt`` is a number. CreateAI's app store
  orders the actions it keeps by ``createdAt`` (``src/storage.ts``).
- ``src/model.ts``, ``OldActionData`` / ``OldRecordingData`` and
  ``migrateLegacyActionDataAndAssignNewIds`` in ``src/project-utils.ts`` (the
  legacy form, with ``ID``): an item with ``ID`` is upgraded by taking that
  ``ID`` as its ``createdAt`` (for actions and recordings alike), so a legacy
  ``ID`` must be a number; ``icon`` is kept as it is.
- ``src/utils/icons.ts``, ``makecodeIcons``: the ``MakeCodeIcon`` names and
  their 5x5 patterns (``MAKECODE_ICONS`` below, copied as data: 25 LEDs row by
  row, 1 lit). ``src/components/LedIcon.tsx`` looks an action's icon up in
  that table, so a name outside it breaks the Data Samples page; an action
  with no icon at all is given one on loading (``loadDataset``, ``src/store.ts``).

``createai_problems`` below checks a parsed file against exactly these rules;
the tests hold it to a few wrong files first, so that it can fail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kiosk.cli import main
from kiosk.dataset import Action, Dataset
from kiosk.microbit import icons
from kiosk.store.createai_json import dump_createai, load_createai
from kiosk.store.database import Store
from kiosk.store.export import export_project
from tests.store.helpers import action_doc, recording, write_json
from tests.store.test_createai_json import REAL_FILES

# ml-trainer src/utils/icons.ts, makecodeIcons: name -> 25 LEDs, row by row.
MAKECODE_ICONS = {
    "Heart": "0101011111111110111000100",
    "SmallHeart": "0000001010011100010000000",
    "Happy": "0000001010000001000101110",
    "Sad": "0000001010000000111010001",
    "Confused": "0000001010000000101010101",
    "Angry": "1000101010000001111110101",
    "Asleep": "0000011011000000111000000",
    "Surprised": "0101000000001000101000100",
    "Silly": "1000100000111110001100011",
    "Fabulous": "1111111011000000101001110",
    "Meh": "1101100000000100010001000",
    "Yes": "0000000001000101010001000",
    "No": "1000101010001000101010001",
    "Triangle": "0000000100010101111100000",
    "LeftTriangle": "1000011000101001001011111",
    "Chessboard": "0101010101010101010101010",
    "Diamond": "0010001010100010101000100",
    "SmallDiamond": "0000000100010100010000000",
    "Square": "1111110001100011000111111",
    "SmallSquare": "0000001110010100111000000",
    "Scissors": "1100111010001001101011001",
    "TShirt": "1101111111011100111001110",
    "Rollerskate": "0001100011111111111101010",
    "Duck": "0110011100011110111000000",
    "House": "0010001110111110111001010",
    "Tortoise": "0000001110111110101000000",
    "Butterfly": "1101111111001001111111011",
    "StickFigure": "0010011111001000101010001",
    "Ghost": "0111010101111111111110101",
    "Sword": "0010000100001000111000100",
    "Giraffe": "1100001000010000111001010",
    "Skull": "0111010101111110111001110",
    "Umbrella": "0111011111001001010011100",
    "Snake": "1100011011010100111000000",
    "Rabbit": "1010010100111101101011110",
    "Cow": "1000110001111110111000100",
    "QuarterNote": "0010000100001001110011100",
    "EighthNote": "0010000110001011110011100",
    "Pitchfork": "1010110101111110010000100",
    "Target": "0010001110110110111000100",
}
# ml-trainer src/utils/icons.ts, defaultIcons.
CREATEAI_DEFAULT_ICONS = (
    "House",
    "Duck",
    "Tortoise",
    "StickFigure",
    "Ghost",
    "Giraffe",
    "Umbrella",
    "Cow",
    "EighthNote",
    "Pitchfork",
)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def createai_problems(document: Any) -> list[str]:
    """Every way ``document`` (a parsed .json file) breaks CreateAI's rules (see the docstring)."""
    if not isinstance(document, list):
        return ["the file is not an array"]
    problems: list[str] = []
    for a, action in enumerate(document):
        where = f"action {a + 1}"
        if not isinstance(action, dict):
            problems.append(f"{where} is not an object")
            continue
        legacy = "ID" in action
        if "name" not in action or not isinstance(action["name"], str):
            problems.append(f"{where}: no name string")
        if legacy and not _is_number(action["ID"]):
            problems.append(f"{where}: a legacy ID that is not a number")
        if not legacy and not isinstance(action.get("id"), str):
            problems.append(f"{where}: no id string")
        if action.get("icon") not in MAKECODE_ICONS:
            problems.append(f"{where}: icon {action.get('icon')!r} is not a MakeCode icon")
        if not _is_number(action.get("createdAt")):
            problems.append(f"{where}: no createdAt number")
        if "requiredConfidence" in action and not _is_number(action["requiredConfidence"]):
            problems.append(f"{where}: requiredConfidence is not a number")
        recordings = action.get("recordings")
        if not isinstance(recordings, list):
            problems.append(f"{where}: no recordings array")
            continue
        for r, rec in enumerate(recordings):
            at = f"{where}, recording {r + 1}"
            if not isinstance(rec, dict):
                problems.append(f"{at} is not an object")
                continue
            if "ID" in rec and not _is_number(rec["ID"]):
                problems.append(f"{at}: a legacy ID that is not a number")
            if "ID" not in rec and not isinstance(rec.get("id"), str):
                problems.append(f"{at}: no id string")
            if not _is_number(rec.get("createdAt")):
                problems.append(f"{at}: no createdAt number")
            data = rec.get("data")
            if not isinstance(data, dict):
                problems.append(f"{at}: data is not an object")
                continue
            for axis in "xyz":
                values = data.get(axis)
                if not isinstance(values, list) or not all(_is_number(v) for v in values):
                    problems.append(f"{at}: {axis} is not an array of numbers")
    return problems


# ---- the checker itself can fail -------------------------------------------------


def _good_action() -> dict[str, Any]:
    return {
        "id": "a",
        "name": "wave",
        "icon": "Heart",
        "createdAt": 1,
        "recordings": [{"id": "r", "createdAt": 2, "data": {"x": [0], "y": [0], "z": [1.0]}}],
    }


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda a: a.update(icon="still"), "'still' is not a MakeCode icon"),
        (lambda a: a.update(icon="EigthNote"), "'EigthNote' is not a MakeCode icon"),
        (lambda a: a.pop("icon"), "None is not a MakeCode icon"),
        (lambda a: a.pop("createdAt"), "action 1: no createdAt"),
        (lambda a: a["recordings"][0].pop("createdAt"), "recording 1: no createdAt"),
        (lambda a: a.update(id=5), "no id string"),
        (lambda a: a.update(requiredConfidence="high"), "requiredConfidence"),
        (lambda a: a["recordings"][0]["data"].update(z=["1"]), "z is not an array of numbers"),
        (lambda a: a["recordings"][0].update(data=[1, 2, 3]), "data is not an object"),
    ],
)
def test_the_rules_refuse_what_createai_refuses(change, expected: str) -> None:
    assert createai_problems([_good_action()]) == []
    action = _good_action()
    change(action)
    problems = createai_problems([action])
    assert any(expected in p for p in problems), problems


# ---- the kiosk's icons are CreateAI's -------------------------------------------


def test_the_kiosks_icons_are_createais_names_and_pictures() -> None:
    assert sorted(icons.ICON_NAMES) == sorted(MAKECODE_ICONS)
    assert icons.DEFAULT_ICONS == CREATEAI_DEFAULT_ICONS
    for name, bits in MAKECODE_ICONS.items():
        cells = icons.icon_cells(name)
        assert "".join("1" if lit else "0" for row in cells for lit in row) == bits, name


# ---- every export passes ----------------------------------------------------------


def _checked(text: str) -> list[dict[str, Any]]:
    document = json.loads(text)
    assert createai_problems(document) == []
    return document


@pytest.mark.parametrize("form", ["legacy", "current"])
@pytest.mark.parametrize("name", REAL_FILES)
def test_every_real_file_exports_as_createai_wants_in_both_forms(
    createai_dir: Path, name: str, form: str
) -> None:
    dataset, _ = load_createai(createai_dir / name)
    document = _checked(dump_createai(dataset, form))  # type: ignore[arg-type]
    original = json.loads((createai_dir / name).read_text())
    for written, read in zip(document, original, strict=True):
        if read.get("icon") in MAKECODE_ICONS:
            assert written["icon"] == read["icon"]  # a good icon is kept as it was


def test_a_kiosk_made_project_exports_as_createai_wants(tmp_path: Path) -> None:
    with Store.open(tmp_path / "k.db") as store:
        project = store.ensure_project("visitor")
        for name, icon in (("Still", "Asleep"), ("Hop", "Rabbit"), ("Mine", "Scissors")):
            action = store.add_action(project, name, icon)
            store.add_recording(action, recording(len(name)))
        for form in (None, "legacy", "current"):
            out = tmp_path / f"out-{form}"
            result = export_project(store, "visitor", out, form)  # type: ignore[arg-type]
            document = _checked(result.json_path.read_text())
            assert [a["icon"] for a in document] == ["Asleep", "Rabbit", "Scissors"]
            created = [a["createdAt"] for a in document]
            assert created == sorted(created)  # CreateAI keeps actions in this order


def test_old_kiosk_icon_names_load_and_export_as_createai_icons(tmp_path: Path) -> None:
    """A database from before MakeCode's icons holds "still", "shake", "heart"..."""
    with Store.open(tmp_path / "old.db") as store:
        project = store.ensure_project("visitor")
        for name, old in (("Still", "still"), ("Shake", "shake"), ("Mine", "smile")):
            action = store.add_action(project, name, old)
            store.add_recording(action, recording(len(name)))
        result = export_project(store, "visitor", tmp_path / "out")
        document = _checked(result.json_path.read_text())
    assert [a["icon"] for a in document] == ["Asleep", "Surprised", "Happy"]
    # ... and the old kiosk's own export files read in as CreateAI's icons too
    old_file = write_json(
        tmp_path / "old-export.json",
        [{**action_doc("Still"), "icon": "still"}, {**action_doc("Spin"), "icon": "spin"}],
    )
    dataset, _ = load_createai(old_file)
    assert [a.icon for a in dataset.actions] == ["Asleep", "Umbrella"]


def test_unknown_and_missing_icons_get_createais_choice_not_a_question_mark(
    tmp_path: Path,
) -> None:
    doc = [
        {**action_doc("a"), "icon": "NoSuchIcon"},
        {**action_doc("b"), "icon": "house"},  # another case: still CreateAI's House
        action_doc("c"),  # no icon at all
        {**action_doc("d"), "icon": "EigthNote"},  # MakeCode's spelling
    ]
    dataset, _ = load_createai(write_json(tmp_path / "odd.json", doc))
    # Unknown and missing: CreateAI's default icons not yet in use (House is taken).
    assert [a.icon for a in dataset.actions] == ["Duck", "House", "Tortoise", "EighthNote"]
    _checked(dump_createai(dataset))
    # The kiosk itself never writes an unknown name, whatever an action holds.
    odd = Dataset((Action("x", (recording(1),), icon="?"), Action("y", (recording(2),))))
    assert [a["icon"] for a in _checked(dump_createai(odd, "legacy"))] == ["House", "Duck"]


def test_kiosk_export_on_the_command_line_in_every_form(
    tmp_path: Path, createai_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "k.db")
    source = createai_dir / "shake-still-circle-data-samples-legacy.json"  # no icons, no createdAt
    assert main(["import", str(source), "--project", "p", "--db", db]) == 0
    for form in ("legacy", "current"):
        out = tmp_path / form
        args = ["export", "--project", "p", "--out", str(out), "--form", form, "--db", db]
        assert main(args) == 0
        _checked((out / "p.json").read_text())
    capsys.readouterr()
