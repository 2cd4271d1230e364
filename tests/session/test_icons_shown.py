"""The moves a visitor sees carry MakeCode's icons, whatever the data came from."""

from __future__ import annotations

from pathlib import Path

from kiosk.microbit.icons import icon_cells
from kiosk.session.session import PROJECT_NAME
from kiosk.store.database import Store
from tests.session.journey import Journey
from tests.store.helpers import recording


def test_a_createai_file_shows_its_own_icons(tmp_path: Path, createai_dir: Path) -> None:
    j = Journey(tmp_path, keep_data_between_visitors=True)
    try:
        source = createai_dir / "still-wave-clap-data-samples-legacy.json"
        j.store.import_createai(source, PROJECT_NAME, replace=True)
        j.session.data.load()
        shown = [(a.name, a.icon) for a in j.session.data.actions]
        assert shown == [("still", "Asleep"), ("wave", "Rabbit"), ("clap", "EighthNote")]
        # CreateAI's icons in the file, not the kiosk's presets of the same name
        assert ("Wave", "Rabbit") in j.session.available_choices()
    finally:
        j.store.close()


def test_an_old_kiosk_database_shows_makecode_icons(tmp_path: Path) -> None:
    """Before MakeCode's icons the kiosk stored its own names ("still", "shake", ...)."""
    with Store.open(tmp_path / "kiosk.sqlite3") as store:
        project = store.ensure_project(PROJECT_NAME)
        for name, old in (("Still", "still"), ("Shake", "shake"), ("Mine", "?")):
            store.add_recording(store.add_action(project, name, old), recording(len(name)))
    j = Journey(tmp_path, keep_data_between_visitors=True)
    try:
        s = j.session
        assert [a.icon for a in s.data.actions] == ["Asleep", "Surprised", "House"]
        j.connect_pretend()
        s._announce(2)  # the board shows the recognised move's icon: the fallback, not "?"
        assert s.link is not None and s.link._next_icon() == icon_cells("House")
    finally:
        j.store.close()
