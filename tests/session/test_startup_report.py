"""What start-up found reaches whom it is for: staff on the admin screen, visitors in one line."""

from __future__ import annotations

from pathlib import Path

from kiosk.session.session import Session
from kiosk.settings import Settings
from kiosk.store.database import Store
from kiosk.store.startup import StartupReport

from .journey import Boards, Clock


def _session(tmp_path: Path, report: StartupReport) -> tuple[Session, Clock]:
    clock = Clock()
    store = Store.open(tmp_path / "kiosk.sqlite3")
    settings = Settings(countdown_s=0.3, gap_s=0.2)
    return Session(store, Boards(clock), settings, clock=clock, startup=report), clock


def test_a_full_disk_at_start_up_turns_recording_off_and_says_so(tmp_path: Path) -> None:
    report = StartupReport(str(tmp_path / "kiosk.sqlite3"), "memory", recording_enabled=False)
    s, _ = _session(tmp_path, report)
    s.start()
    s.use_simulated_board()
    s.tick()
    s.choose_action("Still")
    s.choose_action("Shake")
    s.actions_done()
    s.record_many(0, 3)
    assert not s.collecting.recorder.busy
    message = s.messages.message
    assert message is not None and message.text == report.visitor_line
    assert "staff" in message.text and "\n" not in message.text


def test_a_clean_start_changes_nothing(tmp_path: Path) -> None:
    s, _ = _session(tmp_path, StartupReport(str(tmp_path / "kiosk.sqlite3")))
    s.start()
    s.use_simulated_board()
    s.tick()
    s.choose_action("Still")
    s.choose_action("Shake")
    s.actions_done()
    s.record_many(0, 1)
    assert s.collecting.recorder.busy
