"""``kiosk doctor`` says which languages the screen can show and warns about uncompiled catalogs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk import i18n
from kiosk.settings import Settings
from kiosk.system.checks import OK, WARN, check_languages


def test_every_compiled_language_is_listed_with_the_default() -> None:
    check = check_languages(Settings(language="de"))
    assert check.status == OK, check
    assert check.detail == "English, Dansk, Deutsch; visitors start in Deutsch"


def test_an_uncompiled_catalog_is_a_warning_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locale = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale)
    (locale / "da" / "LC_MESSAGES" / "kiosk.mo").unlink()
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    check = check_languages(Settings())
    assert check.status == WARN and "not compiled: da" in check.detail
    assert "install.sh" in check.fix
    default = check_languages(Settings(language="da"))
    assert default.status == WARN and "visitors start in English" in default.detail
