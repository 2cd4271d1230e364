"""``kiosk export-model DATASET.json --microbit OUT.hex``: the take-home hex, by command."""

from __future__ import annotations

import json
from pathlib import Path

import micropython_microbit_fs as mfs
import pytest

from kiosk.cli import main


def test_export_model_writes_a_v2_hex_holding_the_program(
    createai_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "my-model.hex"
    program = tmp_path / "main.py"
    dataset = createai_dir / "shake-still-circle-data-samples-legacy.json"
    code = main(
        ["export-model", str(dataset), "--microbit", str(out), "--main-py", str(program), "--json"]
    )
    figures = json.loads(capsys.readouterr().out)
    assert code == 0
    text = out.read_text()
    assert figures["bytes"] == len(text.encode()) and figures["board"] == "micro:bit V2"
    assert mfs.get_device_info(text).device_version.name.endswith("V2")
    files = {f.name: f.get_text() for f in mfs.get_files(text)}
    assert files == {"main.py": program.read_text()}
    assert 'MOVES = ["Shake", "Still", "Circle"]' in files["main.py"]
    print(f"\nhex {figures['bytes']} bytes, built in {figures['build_seconds']} s")


def test_a_bad_dataset_gets_one_line_and_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    out = tmp_path / "out.hex"
    assert main(["export-model", str(bad), "--microbit", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err
    assert not out.exists()


def test_export_model_of_a_project_in_the_database(
    createai_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "kiosk.db"
    assert (
        main(
            ["import", str(createai_dir / "dataset.json"), "--project", "visitor", "--db", str(db)]
        )
        == 0
    )
    out = tmp_path / "visitor.hex"
    capsys.readouterr()
    assert (
        main(["export-model", "--project", "visitor", "--db", str(db), "--microbit", str(out)]) == 0
    )
    main_py = next(f for f in mfs.get_files(out.read_text()) if f.name == "main.py").get_text()
    assert 'MOVES = ["active", "inactive"]' in main_py
    assert (
        main(["export-model", "--project", "nobody", "--db", str(db), "--microbit", str(out)]) == 2
    )
    assert "no project called 'nobody'" in capsys.readouterr().err
