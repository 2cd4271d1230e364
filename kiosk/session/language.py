"""The language on screen: the visitor's pick, and the staff's default at every reset.

The words themselves come from ``kiosk.i18n``, whose current language is one
for the whole process (a kiosk shows one screen to one visitor). This owner is
the only code that changes it: a visitor's pick on the attract screen, and the
visitor reset, which puts back the default staff chose (``Settings.language``).
"""

from __future__ import annotations

from kiosk import i18n


class LanguageChoice:
    """Which language the screen speaks now (``code``), and the one way to change it."""

    def __init__(self, default: str) -> None:
        self.code = i18n.SOURCE_LANGUAGE
        self.reset(default)

    def pick(self, code: str) -> bool:
        """Show every later word in ``code``; False (English shown) when it has no catalog."""
        shown = i18n.set_language(code)
        self.code = i18n.language()
        return shown

    def reset(self, default: str) -> None:
        """The visitor reset: back to the staff's default language."""
        self.pick(default)

    @staticmethod
    def choices() -> list[tuple[str, str]]:
        """(code, name in its own language) of every language that can be shown."""
        return [(code, i18n.language_name(code)) for code in i18n.available()]
