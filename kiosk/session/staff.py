"""The staff side of the kiosk: the PIN pad, the unlocked admin screen and its tools.

``StaffDesk`` owns what only staff touch while the admin screen is open: the
PIN being typed, whether the screen is unlocked, the on-screen keyboard, the
saved-sets comparison, and the screen to go back to. ``lock`` is the one call
that ends staff access (closing the screen, the idle time-out, a visitor
reset); nothing typed or opened there survives it. The move names staff add
for visitors (``custom_action_names``) are the exhibit's configuration for
this run, so they survive a lock on purpose.
"""

from __future__ import annotations

from kiosk.session.compare import Comparer
from kiosk.session.keyboard import Keyboard
from kiosk.session.screens import Screen
from kiosk.session.staff_lock import StaffLock

KEYBOARD_MAX = 14  # characters in a move name typed on the admin keyboard


class StaffDesk:
    def __init__(self, compare: Comparer, pin: StaffLock) -> None:
        self.compare = compare
        self.pin = pin  # the PIN pad; its count of wrong guesses outlives every lock on purpose
        self.unlocked = False
        self.keyboard_open = False
        self.keyboard = Keyboard(KEYBOARD_MAX)  # the move name being typed
        self.screen_before = Screen.ATTRACT  # where "Close" goes back to
        self.custom_action_names: list[str] = []
        self.quit_requested = False
        self.exit_code = 0  # EXIT_TO_SHELL after "Exit to shell"

    def open(self, from_screen: Screen) -> None:
        """Show the PIN pad (locked) over ``from_screen``."""
        if from_screen is not Screen.ADMIN:
            self.screen_before = from_screen
        self.lock()

    def lock(self) -> None:
        """End staff access: locked, nothing typed, keyboard and comparison closed."""
        self.unlocked = False
        self.pin.clear()
        self.keyboard_open = False
        self.keyboard.clear()
        self.compare.close()

    @property
    def pin_entry(self) -> str:
        """What has been typed on the PIN pad."""
        return self.pin.entry

    @property
    def keyboard_text(self) -> str:
        return self.keyboard.text

    @keyboard_text.setter
    def keyboard_text(self, text: str) -> None:
        self.keyboard.text = text

    def type_key(self, key: str) -> None:
        """A key of the on-screen keyboard: a letter, "space" or "back"."""
        self.keyboard.type_key(key)
