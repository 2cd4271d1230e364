"""The words on screen in the visitor's language: one gettext catalog per language.

Every visitor- and staff-facing string goes through ``_`` (or ``ngettext``) at
the moment it is shown, so a language picked on the attract screen changes
every later screen. Strings defined at import time (preset names, fixed
sentences) are marked with ``N_`` so the extractor finds them, and are passed
through ``_`` where they are drawn. English is the source language: with no
catalog, ``_`` returns its argument.

The catalogs are ``locale/<code>/LC_MESSAGES/kiosk.po``; set-up compiles them
to ``.mo`` files (``scripts/setup.sh``, ``deploy/install.sh``), which the
standard library's ``gettext`` loads, so the running kiosk needs no Babel.
``scripts/catalogs.sh`` re-extracts the strings and updates every catalog.
"""

from __future__ import annotations

import gettext
from pathlib import Path

DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE_LANGUAGE = "en"

# Every language the kiosk is translated into, by its code, with its name in
# itself: a visitor looks for their own language's name, not a code or English.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "da": "Dansk",
    "de": "Deutsch",
}

_translations: gettext.NullTranslations = gettext.NullTranslations()
_language = SOURCE_LANGUAGE


def set_language(code: str) -> bool:
    """Show every later string in ``code``; False (and English) when no catalog exists."""
    global _translations, _language
    if code == SOURCE_LANGUAGE:
        _translations, _language = gettext.NullTranslations(), SOURCE_LANGUAGE
        return True
    try:
        found = gettext.translation(DOMAIN, LOCALE_DIR, languages=[code])
    except OSError:
        _translations, _language = gettext.NullTranslations(), SOURCE_LANGUAGE
        return False
    _translations, _language = found, code
    return True


def catalog_path(code: str) -> Path:
    """Where the compiled catalog of ``code`` lives (built at set-up, never committed)."""
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.mo"


def available() -> list[str]:
    """The languages that can be shown now: English and each one with a compiled catalog."""
    return [c for c in LANGUAGES if c == SOURCE_LANGUAGE or catalog_path(c).is_file()]


def language_name(code: str) -> str:
    """A language's name in that language ("Deutsch"); the code itself when unknown."""
    return LANGUAGES.get(code, code)


def language() -> str:
    """The language now shown (a code such as ``en`` or ``de``)."""
    return _language


def _(message: str) -> str:
    """``message`` in the current language (an empty one stays empty: gettext would answer
    with the catalog's header)."""
    return _translations.gettext(message) if message else message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the current language."""
    return _translations.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a string for translation without translating it yet (for import-time constants)."""
    return message
