"""set-pin --write edits one line of kiosk.toml and keeps every comment."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from kiosk.system.config_edit import toml_string, with_setting, write_setting

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "kiosk.toml"


def test_replaces_the_key_in_its_section_only() -> None:
    text = '[admin]\n# the hash\npin_hash = "old"\n[other]\npin_hash = "keep"\n'
    out = with_setting(text, "admin", "pin_hash", "new")
    assert out == '[admin]\n# the hash\npin_hash = "new"\n[other]\npin_hash = "keep"\n'


def test_a_commented_key_stays_a_comment_and_the_value_is_added() -> None:
    text = '[admin]\n# pin_hash = "x"\ncorner_hold_s = 2.0\n'
    out = with_setting(text, "admin", "pin_hash", "y")
    assert out.startswith('[admin]\n# pin_hash = "x"\n')
    assert tomllib.loads(out)["admin"] == {"pin_hash": "y", "corner_hold_s": 2.0}


def test_adds_the_key_or_the_section() -> None:
    assert tomllib.loads(with_setting("[admin]\n", "admin", "pin_hash", "a")) == {
        "admin": {"pin_hash": "a"}
    }
    out = with_setting("[display]\nrotation = 90\n", "admin", "pin_hash", "a")
    assert tomllib.loads(out) == {"display": {"rotation": 90}, "admin": {"pin_hash": "a"}}
    assert tomllib.loads(with_setting("", "admin", "pin_hash", "a")) == {"admin": {"pin_hash": "a"}}
    assert tomllib.loads(with_setting("", "session", "idle_timeout_s", 90.0)) == {
        "session": {"idle_timeout_s": 90.0}
    }


def test_the_example_keeps_its_comments(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(EXAMPLE.read_text())
    path.chmod(0o640)
    write_setting(path, "admin", "pin_hash", "scrypt$x")
    before, after = EXAMPLE.read_text().splitlines(), path.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(changed) == 1 and changed[0][1] == 'pin_hash = "scrypt$x"'
    assert path.stat().st_mode & 0o777 == 0o640


def test_broken_toml_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text("[admin\n")
    with pytest.raises(ValueError):
        write_setting(path, "admin", "pin_hash", "a")
    assert path.read_text() == "[admin\n"
    assert [p.name for p in tmp_path.iterdir()] == ["kiosk.toml"]


def test_toml_string_escapes() -> None:
    assert tomllib.loads("v = " + toml_string('a"b\\c'))["v"] == 'a"b\\c'
