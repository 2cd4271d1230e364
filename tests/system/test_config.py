"""kiosk.toml: bad content is reported in a sentence and the default used; never an exception."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.settings import SCHEMA, sections, spec_for
from kiosk.system.config import (
    DATABASE_FILENAME,
    DEFAULT_CONFIG_PATH,
    Settings,
    admin_settings_path,
    database_path,
    default_database_path,
    example_toml,
    load_config,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "kiosk.toml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text)
    return path


def test_missing_file_gives_defaults_and_no_problem(tmp_path: Path) -> None:
    assert load_config(tmp_path / "absent.toml") == (Settings(), [])


def test_the_documented_example_is_exactly_the_defaults() -> None:
    config, problems = load_config(EXAMPLE)
    assert problems == []
    assert config == Settings()


def test_the_example_is_generated_from_the_schema() -> None:
    """deploy/kiosk.toml is `kiosk config --example`: every key, its default and its comment."""
    assert EXAMPLE.read_text() == example_toml()
    data = tomllib.loads(EXAMPLE.read_text())
    assert set(data) == set(sections())
    for spec in SCHEMA:
        assert data[spec.meta.section][spec.meta.key] == spec.default, spec.name


def test_every_setting_has_a_comment_and_a_known_type() -> None:
    for spec in SCHEMA:
        assert spec.kind in (bool, int, float, str)
        documented = spec.meta.doc or spec.name in ("height", "sound_enabled", "corner_hold_s")
        assert documented, f"{spec.name} needs a comment for the technician"


def test_good_values_are_used(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
[display]
rotation = 270
width = 800
height = 480
diagonal_inches = 10
[session]
idle_timeout_s = 90
keep_data_between_visitors = true
[sound]
volume = 0
[microbit]
link = "serial"
fixed_pattern = "31524"
serial_port = "/dev/ttyACM1"
[storage]
database = "/srv/kiosk/data.sqlite3"
""",
    )
    config, problems = load_config(path)
    assert problems == []
    assert config.rotation == 270 and (config.width, config.height) == (
        800,
        480,
    )
    assert config.diagonal_inches == 10.0 and isinstance(config.diagonal_inches, float)
    assert config.idle_timeout_s == 90.0 and config.keep_data_between_visitors
    assert config.sound_volume == 0.0
    assert config.link_kind == "serial" and config.fixed_pattern == "31524"
    assert database_path(config) == Path("/srv/kiosk/data.sqlite3")


BAD_VALUES = [
    ("display", "rotation", "45", "0, 90, 180, 270"),
    ("display", "rotation", '"90"', "whole number"),
    ("display", "fullscreen", '"yes"', "true or false"),
    ("display", "fullscreen", "1", "true or false"),
    ("display", "width", "-5", "at least"),
    ("display", "diagonal_inches", "0", "at least"),
    ("display", "diagonal_inches", "nan", "at least"),
    ("session", "idle_timeout_s", "true", "a number"),
    ("session", "idle_timeout_s", "1", "at least"),
    ("sound", "volume", "1.5", "at most"),
    ("sound", "volume", "[0.5]", "a number"),
    ("admin", "pin_hash", '"1234"', "kiosk set-pin"),
    ("admin", "corner_hold_s", "0", "at least"),
    ("microbit", "link", '"wifi"', "'auto', 'ble', 'serial', 'simulated'"),
    ("microbit", "fixed_pattern", '"12345x"', "5 digits"),
    ("microbit", "fixed_pattern", '"12346"', "5 digits"),
    ("microbit", "serial_port", '"COM3"', "device path"),
    ("microbit", "radio_remote_id", '"a b"', "letters and digits"),
    ("storage", "database", '"relative/kiosk.db"', "absolute path"),
]


@pytest.mark.parametrize(("section", "key", "value", "expected"), BAD_VALUES)
def test_a_bad_value_is_reported_and_the_default_used(
    tmp_path: Path, section: str, key: str, value: str, expected: str
) -> None:
    # One good neighbour key proves the rest of the section still loads.
    good = "enabled = false" if section == "sound" else ""
    path = _write(tmp_path, f"[{section}]\n{key} = {value}\n{good}\n")
    config, problems = load_config(path)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert str(path) in problem and key in problem and f"[{section}]" in problem
    assert expected in problem and "using the default" in problem
    spec = spec_for(section, key)
    assert spec is not None
    assert getattr(config, spec.name) == spec.default
    if good:
        assert config.sound_enabled is False


def test_unknown_keys_and_sections_are_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, 'title = "x"\n[display]\nrotate = 90\n[colours]\nbg = "red"\n')
    config, problems = load_config(path)
    assert config == Settings()
    assert len(problems) == 3
    assert "'title'" in problems[0]
    assert "unknown key 'rotate' in [display]" in problems[1] and "rotation" in problems[1]
    assert "'colours'" in problems[2]


def test_a_section_that_is_not_a_table(tmp_path: Path) -> None:
    config, problems = load_config(_write(tmp_path, 'display = "big"\n'))
    assert config == Settings()
    assert len(problems) == 1 and "[display] must be a table" in problems[0]


def test_half_a_resolution_falls_back_to_native(tmp_path: Path) -> None:
    config, problems = load_config(_write(tmp_path, "[display]\nwidth = 800\nrotation = 90\n"))
    assert (config.width, config.height) == (0, 0)
    assert config.rotation == 90
    assert len(problems) == 1 and "both" in problems[0]


def test_countdown_longer_than_timeout(tmp_path: Path) -> None:
    text = "[session]\nidle_timeout_s = 20\nidle_countdown_s = 30\n"
    config, problems = load_config(_write(tmp_path, text))
    assert (config.idle_timeout_s, config.idle_countdown_s) == (60.0, 10.0)
    assert len(problems) == 1 and "shorter" in problems[0]


def test_invalid_toml_gives_all_defaults_and_one_problem(tmp_path: Path) -> None:
    config, problems = load_config(_write(tmp_path, "[display\nrotation = 90\n"))
    assert config == Settings()
    assert len(problems) == 1 and "not valid TOML" in problems[0] and "line 1" in problems[0]


def test_unreadable_file(tmp_path: Path) -> None:
    directory = tmp_path / "kiosk.toml"
    directory.mkdir()  # reading a directory fails even for root
    config, problems = load_config(directory)
    assert config == Settings() and len(problems) == 1 and "cannot read" in problems[0]


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_bytes(b"[display]\nrotation = 90 # \xff\xfe\n")
    config, problems = load_config(path)
    assert config == Settings() and len(problems) == 1


def test_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "[display]\nrotation = 180\n")
    monkeypatch.setenv("KIOSK_CONFIG", str(path))
    assert load_config()[0].rotation == 180
    monkeypatch.delenv("KIOSK_CONFIG")
    assert load_config()[0] == Settings() or Path("/etc/microbit-kiosk/kiosk.toml").exists()
    assert str(DEFAULT_CONFIG_PATH) == "/etc/microbit-kiosk/kiosk.toml"


def test_default_database_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("STATE_DIRECTORY", "INVOCATION_ID", "JOURNAL_STREAM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_database_path() == tmp_path / "xdg" / "microbit-kiosk" / DATABASE_FILENAME
    assert default_database_path(for_service=True) == Path(
        "/var/lib/microbit-kiosk", DATABASE_FILENAME
    )
    monkeypatch.setenv("INVOCATION_ID", "abc")
    assert default_database_path() == Path("/var/lib/microbit-kiosk", DATABASE_FILENAME)
    monkeypatch.setenv("STATE_DIRECTORY", f"{tmp_path}/state:/var/lib/other")
    assert default_database_path() == tmp_path / "state" / DATABASE_FILENAME


toml_scalars = st.one_of(
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, width=32),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
)
SECTION_NAMES = ["display", "session", "sound", "admin", "microbit", "storage", "other"]
KEY_NAMES = [
    "rotation",
    "width",
    "height",
    "fullscreen",
    "idle_timeout_s",
    "idle_countdown_s",
    "volume",
    "enabled",
    "pin_hash",
    "link",
    "fixed_pattern",
    "database",
    "x",
]


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode().replace('"', '\\"') + '"'
    if isinstance(value, float):
        return repr(value).replace("inf", "inf")
    return repr(value)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(SECTION_NAMES),
        st.dictionaries(st.sampled_from(KEY_NAMES), toml_scalars, max_size=4),
        max_size=4,
    )
)
def test_never_raises_and_always_returns_valid_values(
    tmp_path_factory: pytest.TempPathFactory, doc: dict
) -> None:
    path = tmp_path_factory.mktemp("cfg") / "kiosk.toml"
    lines = []
    for section, values in doc.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n")
    config, problems = load_config(path)
    assert isinstance(problems, list)
    assert config.rotation in (0, 90, 180, 270)
    assert 0.0 <= config.sound_volume <= 1.0
    assert config.link_kind in ("auto", "ble", "serial", "simulated")
    assert config.idle_countdown_s < config.idle_timeout_s
    assert (config.width == 0) == (config.height == 0)
    assert os.path.isabs(config.database) or config.database == ""


def test_admin_screen_changes_override_the_technicians_file(tmp_path: Path) -> None:
    """Admin changes live beside the database (writable, on the data partition), not in /etc."""
    database = tmp_path / "state" / "kiosk.sqlite3"
    etc = tmp_path / "kiosk.toml"
    etc.write_text(
        f'[storage]\ndatabase = "{database}"\n'
        "[session]\nidle_timeout_s = 90\nkeep_data_between_visitors = false\n"
        "[sound]\nvolume = 0.3\n"
    )
    config, problems = load_config(etc)
    assert problems == []
    overrides = admin_settings_path(config)
    assert overrides == database.parent / "admin-settings.toml"

    overrides.parent.mkdir()
    overrides.write_text("[session]\nkeep_data_between_visitors = true\n[sound]\nenabled = false\n")
    config, problems = load_config(etc)
    assert problems == []
    assert config.keep_data_between_visitors is True  # from the admin screen
    assert config.sound_enabled is False  # from the admin screen
    assert config.idle_timeout_s == 90  # still the technician's
    assert config.sound_volume == 0.3  # still the technician's

    # Ignoring the overrides gives the technician's file alone.
    alone, _ = load_config(etc, admin_settings=False)
    assert alone.keep_data_between_visitors is False


def test_the_admin_file_cannot_change_what_only_the_technician_may(tmp_path: Path) -> None:
    etc = tmp_path / "kiosk.toml"
    etc.write_text("")
    admin = tmp_path / "admin-settings.toml"
    admin.write_text('[admin]\npin_hash = "scrypt$x"\n[display]\nrotation = 180\n')
    config, problems = load_config(etc, admin_settings=admin)
    assert config.pin_hash == Settings().pin_hash and config.rotation == 180
    assert len(problems) == 1 and "not an admin-screen setting" in problems[0]


def test_a_broken_admin_settings_file_is_reported_not_fatal(tmp_path: Path) -> None:
    etc = tmp_path / "kiosk.toml"
    etc.write_text("[session]\nidle_timeout_s = 90\n")
    broken = tmp_path / "admin-settings.toml"
    broken.write_text("[session\nnot toml")
    config, problems = load_config(etc, admin_settings=broken)
    assert config.idle_timeout_s == 90
    assert len(problems) == 1 and "admin-settings.toml" in problems[0]

    broken.write_text('[session]\nidle_timeout_s = "soon"\n')
    config, problems = load_config(etc, admin_settings=broken)
    assert len(problems) == 1 and "idle_timeout_s" in problems[0]
