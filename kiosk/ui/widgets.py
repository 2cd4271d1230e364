"""Touch targets: a button is a rectangle, a label, a look, and the intent it calls.

Scenes build their buttons from the session's state each time it changes;
the app hit-tests touches against them (activating on release inside the
same button, which forgives a slipping finger) and routes drags to sliders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pygame


@dataclass
class Button:
    rect: pygame.Rect
    label: str
    on_tap: Callable[[], None] | None  # None: shown but disabled
    style: str = "normal"  # normal | primary | selected | quiet | danger
    icon: str | None = None  # an icon name drawn as LEDs left of (or above) the label
    name: str = ""  # a stable name for tests and the demo ("start_again", "record", ...)
    on_drag: Callable[[tuple[int, int]], None] | None = None  # for sliders
    extra: dict = field(default_factory=dict)
    # Drawn greyed though it answers a tap: a button not ready yet says why when tapped
    # (its intent explains) instead of ignoring the finger.
    dimmed: bool = False

    @property
    def enabled(self) -> bool:
        return self.on_tap is not None or self.on_drag is not None


def hit(buttons: list[Button], pos: tuple[int, int]) -> Button | None:
    """The topmost enabled button under ``pos`` (later buttons are on top)."""
    for button in reversed(buttons):
        if button.enabled and button.rect.collidepoint(pos):
            return button
    return None
