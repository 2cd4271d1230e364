"""Preset actions a visitor can pick without typing, each with a MakeCode icon.

An action stores its icon by MakeCode's name (CreateAI's ``icon`` field is
that name too, see ``kiosk.microbit.icons``), so the same picture appears on
the touchscreen, on the micro:bit's LEDs when the action is recognised, and
in CreateAI after an export.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.i18n import N_, _
from kiosk.microbit.icons import DEFAULT_ICONS, Icon, icon_cells

__all__ = [
    "CUSTOM_ICONS",
    "MAX_ACTIONS",
    "MIN_ACTIONS",
    "PRESETS",
    "Icon",
    "Preset",
    "gesture_for",
    "icon_cells",
    "preset_named",
]


@dataclass(frozen=True)
class Preset:
    name: str  # what the visitor reads (the English: shown through ``_``, in their language)
    icon: str  # a MakeCode icon name (kiosk.microbit.icons.ICON_NAMES)
    gesture: str  # what a pretend (simulated) micro:bit does for it


PRESETS: tuple[Preset, ...] = (
    Preset(N_("Still"), "Asleep", "still"),
    Preset(N_("Shake"), "Surprised", "shake"),
    Preset(N_("Circle"), "Target", "circle"),
    Preset(N_("Wave"), "StickFigure", "wave"),
    Preset(N_("Tilt"), "LeftTriangle", "tilt"),
    Preset(N_("Clap"), "QuarterNote", "clap"),
    Preset(N_("Jump"), "Rabbit", "jump"),
    Preset(N_("Spin"), "Umbrella", "spin"),
)

#: Icons given to the move names staff add, in turn: CreateAI's default icons
#: that no preset uses, so a picked set never shows one picture twice.
CUSTOM_ICONS: tuple[str, ...] = tuple(
    icon for icon in DEFAULT_ICONS if icon not in {p.icon for p in PRESETS}
)

MIN_ACTIONS = 2
MAX_ACTIONS = 5


def preset_named(name: str) -> Preset | None:
    """The preset called ``name`` in English or in the language on screen (a move keeps
    the name it was picked under)."""
    for preset in PRESETS:
        if name.lower() in (preset.name.lower(), _(preset.name).lower()):
            return preset
    return None


def gesture_for(action_name: str) -> str:
    """The simulated gesture that best acts out an action (``none`` for custom ones)."""
    preset = preset_named(action_name)
    return preset.gesture if preset else "none"
