"""The words on screen in the visitor's language: one gettext catalog per language.

Every visitor- and staff-facing string goes through ``_`` (or ``ngettext``) at
the moment it is shown, so a language picked on the attract screen changes
every later screen. Strings defined at import time (preset names, fixed
sentences) are marked with ``N_`` so the extractor finds them, and are passed
through ``_`` where they are drawn. English is the source language: with no
catalog, ``_`` returns its argument.
"""

from __future__ import annotations

import gettext
from pathlib import Path

DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE_LANGUAGE = "en"

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


def language() -> str:
    """The language now shown (a code such as ``en`` or ``de``)."""
    return _language


def _(message: str) -> str:
    """``message`` in the current language."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the current language."""
    return _translations.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a string for translation without translating it yet (for import-time constants)."""
    return message
