"""``kiosk import``, ``kiosk export`` and ``kiosk projects`` through the real dispatcher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.store.database import Store
from tests.store.helpers import action_doc, as_exported, write_json


def test_import_then_projects_then_export(
    tmp_path: Path, createai_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "k.db")
    source = createai_dir / "still-wave-clap-data-samples-legacy.json"
    assert main(["import", str(source), "--project", "swc", "--db", db]) == 0
    assert "3 actions, 18 recordings" in capsys.readouterr().out

    assert main(["projects", "--json", "--db", db]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "projects": [{"name": "swc", "actions": 3, "recordings": 18}]
    }
    assert main(["projects", "--db", db]) == 0
    assert "swc" in capsys.readouterr().out

    with Store.open(db) as store:
        store.save_model(store.project_id("swc") or 0, b"TFL3", {"accuracy": 1.0})
    out = tmp_path / "stick"
    assert main(["export", "--project", "swc", "--out", str(out), "--db", db]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["swc.csv", "swc.json", "swc.tflite"]
    assert json.loads((out / "swc.json").read_text()) == as_exported(json.loads(source.read_text()))


def test_refused_file_exits_2_with_one_line_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "k.db")
    good = write_json(tmp_path / "good.json", [action_doc("a")])
    assert main(["import", str(good), "--db", db]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'[{"id": "x", "name": "a", "recordings": [{"id": "r", "data": {"x": [NaN]')
    for args in (["import", str(bad)], ["import", str(bad), "--project", "good", "--replace"]):
        assert main([*args, "--db", db]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("kiosk import: bad.json")
    assert main(["import", str(good), "--db", db]) == 2
    assert "--replace" in capsys.readouterr().err
    assert main(["projects", "--json", "--db", db]) == 0
    assert json.loads(capsys.readouterr().out)["projects"] == [
        {"name": "good", "actions": 1, "recordings": 2}
    ]


def test_export_of_unknown_project_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "k.db")
    assert main(["export", "--project", "nope", "--out", str(tmp_path), "--db", db]) == 2
    assert "no project called 'nope'" in capsys.readouterr().err


def test_default_database_follows_the_configuration(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[storage]\ndatabase = "{tmp_path / "configured.db"}"\n')
    monkeypatch.setenv("KIOSK_CONFIG", str(config))
    assert main(["projects"]) == 0
    assert (tmp_path / "configured.db").exists()
