"""What has been typed on an on-screen keyboard: one small owner for every keyboard.

Staff type move names on the admin screen and visitors type the name of a
move of their own; both keyboards send the same keys ("a".."z", "-",
"space", "back") and keep at most ``max_chars`` characters, so a name always
fits the cards and LEDs that show it.
"""

from __future__ import annotations


class Keyboard:
    """The text typed so far, capped at ``max_chars``."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.text = ""

    def type_key(self, key: str) -> None:
        """A key: one character, "space" or "back" (anything else is ignored)."""
        if key == "back":
            self.text = self.text[:-1]
        elif key == "space":
            if self.text and not self.text.endswith(" "):  # no leading or double spaces
                self.text = (self.text + " ")[: self.max_chars]
        elif len(key) == 1 and key.isprintable():
            self.text = (self.text + key)[: self.max_chars]

    def clear(self) -> None:
        self.text = ""

    @property
    def name(self) -> str:
        """The typed text as a move name: trimmed, with a capital first letter."""
        return self.text.strip().capitalize()
