"""``kiosk doctor`` tells staff what the kiosk did at its last start (issue 19)."""

from __future__ import annotations

from pathlib import Path

from kiosk.store.startup import open_for_kiosk
from kiosk.system import checks
from kiosk.system.checks import OK, WARN


def test_doctor_reports_a_recovered_database(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.sqlite3"
    path.write_text("not a database at all\n" * 50)
    store, report = open_for_kiosk(path)
    store.close()
    assert report.outcome == "fresh"
    found = checks.check_startup(path)
    assert found is not None and found.status == WARN
    assert "moved aside" in found.detail and report.moved_aside[0] in found.detail
    database = checks.check_database(path)
    assert database.status == OK and "at most" in database.detail  # the size cap is shown


def test_doctor_says_nothing_after_a_clean_start(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.sqlite3"
    store, report = open_for_kiosk(path)
    store.close()
    assert report.clean and checks.check_startup(path) is None


def test_doctor_flags_a_damaged_schema_without_a_traceback(tmp_path: Path) -> None:
    from tests.faults import build_database, schema_bad_byte

    path = tmp_path / "kiosk.sqlite3"
    build_database(path, actions=1, per_action=2)
    schema_bad_byte(path)
    result = checks.check_database(path)
    assert result.status == "fail" and "damaged" in result.detail
