"""The message catalogs are complete and current: every string on screen, in every language.

The strings are extracted afresh from the source (``babel.cfg``, as
``scripts/catalogs.sh`` does) and held against the committed template and each
language's catalog: a string with no translation (an empty or fuzzy msgstr)
fails, and so does an entry whose English is no longer in the source (an
obsolete or unused one). A translation keeps the English's ``{placeholders}``,
every one and no other, or ``str.format`` would fail or drop a number on screen.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from kiosk import i18n
from tests.conftest import REPO_ROOT

TRANSLATED = [code for code in i18n.LANGUAGES if code != i18n.SOURCE_LANGUAGE]


def _key(message: Message) -> str:
    return message.id[0] if isinstance(message.id, tuple | list) else message.id


def _read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The strings marked in the source now (what ``pybabel extract`` finds)."""
    out = tmp_path_factory.mktemp("catalogs") / "kiosk.pot"
    argv = ["pybabel", "-q", "extract", "-F", str(REPO_ROOT / "babel.cfg"), "-o", str(out)]
    CommandLineInterface().run([*argv, "--no-location", str(REPO_ROOT)])
    catalog = _read(out)
    assert len([m for m in catalog if m.id]) > 100, "extraction found almost nothing"
    return catalog


def _ids(catalog: Catalog) -> set[str]:
    return {_key(m) for m in catalog if m.id}


def test_the_template_is_the_source_s_strings(extracted: Catalog) -> None:
    template = _read(i18n.LOCALE_DIR / "kiosk.pot")
    assert _ids(template) == _ids(extracted), "run scripts/catalogs.sh"


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_string_is_translated_and_none_is_unused(extracted: Catalog, code: str) -> None:
    catalog = _read(i18n.LOCALE_DIR / code / "LC_MESSAGES" / "kiosk.po")
    source, have = _ids(extracted), _ids(catalog)
    assert not sorted(source - have), f"{code}: not in the catalog (run scripts/catalogs.sh)"
    assert not sorted(have - source), f"{code}: unused entries (run scripts/catalogs.sh)"
    assert not list(catalog.obsolete), f"{code}: obsolete entries: {list(catalog.obsolete)}"
    untranslated = []
    for message in catalog:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple | list) else [message.string]
        if message.fuzzy or not forms or not all(form and form.strip() for form in forms):
            untranslated.append(_key(message))
    assert not untranslated, f"{code}: untranslated or fuzzy: {untranslated}"


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def _placeholder_problems(catalog: Catalog) -> list[tuple[str, str]]:
    """(English, translation) of every translation whose placeholders differ from the English."""
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = list(message.id) if isinstance(message.id, tuple | list) else [message.id]
        forms = message.string if isinstance(message.string, tuple | list) else [message.string]
        want = set().union(*(_fields(text) for text in ids))
        wrong += [(_key(message), form) for form in forms if _fields(form) != want]
    return wrong


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_the_placeholders(code: str) -> None:
    catalog = _read(i18n.LOCALE_DIR / code / "LC_MESSAGES" / "kiosk.po")
    assert not _placeholder_problems(catalog), code


def test_a_translation_losing_or_renaming_a_placeholder_is_caught() -> None:
    catalog = Catalog(locale="de")
    catalog.add("Pick at least {count} moves.", "Wähle mindestens Bewegungen.")
    catalog.add("{move} now!", "{bewegung} jetzt!")
    catalog.add(("{count} move", "{count} moves"), ("{count} Bewegung", "{count} Bewegungen"))
    assert [english for english, _form in _placeholder_problems(catalog)] == [
        "Pick at least {count} moves.",
        "{move} now!",
    ]


@pytest.mark.parametrize("code", TRANSLATED)
def test_a_translation_is_shown_and_english_comes_back(code: str) -> None:
    assert i18n.set_language(code)
    assert i18n.language() == code
    assert i18n._("Touch to start") != "Touch to start"
    words = i18n.ngettext("{count} recording", "{count} recordings", 2).format(count=2)
    assert "2" in words and words != "2 recordings"
    assert i18n.set_language("en") and i18n._("Touch to start") == "Touch to start"
    assert not i18n.set_language("xx") and i18n.language() == "en"


def test_an_empty_text_stays_empty_in_every_language() -> None:
    for code in TRANSLATED:
        assert i18n.set_language(code)
        assert i18n._("") == ""
