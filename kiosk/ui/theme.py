"""Colours of the kiosk: high contrast, calm background, one strong colour per meaning.

Axis colours (x, y, z) are Okabe-Ito colours, distinguishable with the common
colour-vision deficiencies; fingerprints use viridis (see ``colormap``).
"""

from __future__ import annotations

Colour = tuple[int, int, int]

BACKGROUND: Colour = (18, 24, 38)
PANEL: Colour = (32, 41, 62)
PANEL_LIGHT: Colour = (48, 60, 88)
TEXT: Colour = (245, 246, 250)
TEXT_DIM: Colour = (170, 180, 200)
ACCENT: Colour = (255, 196, 0)  # the one thing to press next
ACCENT_TEXT: Colour = (20, 20, 20)
BUTTON: Colour = (70, 96, 160)
BUTTON_PRESSED: Colour = (110, 140, 210)
BUTTON_DISABLED: Colour = (52, 58, 74)
SELECTED: Colour = (0, 158, 115)
GOOD: Colour = (0, 170, 120)
PROBLEM: Colour = (213, 94, 0)
INFO: Colour = (86, 140, 220)
LED_ON: Colour = (255, 40, 40)  # the micro:bit's red LEDs
LED_OFF: Colour = (60, 30, 34)
AXES: tuple[Colour, Colour, Colour] = ((230, 159, 0), (86, 180, 233), (204, 121, 167))
OVERLAY: tuple[int, int, int, int] = (8, 10, 18, 215)
