"""A move of the visitor's own: a name typed on the on-screen keyboard, then a picture.

CreateAI lets anyone name a move and pick one of MakeCode's icons for it; the
kiosk does the same in two steps on the make-move screen: the name (the
child-sized keyboard), then the picture (a grid of the icons, a page at a
time). ``OwnMove`` holds that half-made move and nothing else; ``reset`` (the
visitor reset, a cancel, the finished move) forgets it. Whether a name may be
used is decided here too, so the screen and the tests share one rule.
"""

from __future__ import annotations

import enum

from kiosk.i18n import _
from kiosk.microbit.icons import ICON_NAMES, known_icon
from kiosk.session.keyboard import Keyboard

# CreateAI allows 18 characters; 14 keep a name on one line of a card at 800x480.
NAME_MAX = 14
ICONS_PER_PAGE = 20


class Step(enum.Enum):
    NAME = "name"
    PICTURE = "picture"


class OwnMove:
    """The move being made (see the module docstring)."""

    def __init__(self) -> None:
        self.keyboard = Keyboard(NAME_MAX)
        self.step = Step.NAME
        self.icon = ""  # a MakeCode icon name once the move is begun
        self.page = 0  # which page of icons the picture step shows

    def begin(self, icon: str) -> None:
        """Start a new move; ``icon`` is the picture it has unless the visitor picks another."""
        self.reset()
        self.icon = icon
        self.page = self.page_of(icon)

    def reset(self) -> None:
        self.keyboard.clear()
        self.step = Step.NAME
        self.icon = ""
        self.page = 0

    @property
    def name(self) -> str:
        return self.keyboard.name

    def name_problem(self, taken: list[str]) -> str | None:
        """Why the typed name cannot be a new move (one short sentence), or None."""
        name = self.name
        if not name:
            return _("Type a name for your move first.")
        if name.lower() in (t.lower() for t in taken):
            return _("{name} is already a move: pick it on the list, or type another name.").format(
                name=name
            )
        return None

    def pick_icon(self, icon: str) -> bool:
        known = known_icon(icon)
        if known is None:
            return False
        self.icon = known
        return True

    # ---- pages of icons ----------------------------------------------------------

    @staticmethod
    def page_count() -> int:
        return -(-len(ICON_NAMES) // ICONS_PER_PAGE)

    @staticmethod
    def page_of(icon: str) -> int:
        known = known_icon(icon)
        return ICON_NAMES.index(known) // ICONS_PER_PAGE if known else 0

    def page_icons(self) -> tuple[str, ...]:
        start = self.page * ICONS_PER_PAGE
        return ICON_NAMES[start : start + ICONS_PER_PAGE]

    def next_page(self) -> None:
        self.page = (self.page + 1) % self.page_count()
