"""Preset actions a visitor can pick without typing, each with a 5x5 LED picture.

Icons are 5x5 pictures so the same drawing appears on the touchscreen (as
LED-style cells) and on the micro:bit's own LEDs when the action is
recognised. An action stores its icon by name (CreateAI's ``icon`` field is a
name too); ``icon_cells`` turns a name into the pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.i18n import N_, _

# 5 rows, top first; '#' is a lit LED.
_ICON_ART: dict[str, tuple[str, ...]] = {
    "still": ("#####", "#...#", "#...#", "#...#", "#####"),
    "shake": ("..##.", ".##..", "#####", "..##.", ".##.."),
    "circle": (".###.", "#...#", "#...#", "#...#", ".###."),
    "wave": (".....", ".#...", "#.#.#", "...#.", "....."),
    "tilt": ("....#", "...##", "..###", ".####", "#####"),
    "clap": ("#...#", "##.##", "#####", "##.##", "#...#"),
    "jump": ("..#..", ".###.", "#.#.#", "..#..", "..#.."),
    "spin": ("###..", "#....", "#.#.#", "....#", "..###"),
    # Pictures for actions an admin names; handed out in turn.
    "diamond": ("..#..", ".#.#.", "#...#", ".#.#.", "..#.."),
    "heart": (".#.#.", "#####", "#####", ".###.", "..#.."),
    "smile": (".....", ".#.#.", ".....", "#...#", ".###."),
    "star": ("..#..", "#####", ".###.", ".#.#.", "#...#"),
    "ghost": (".###.", "#.#.#", "#####", "#####", "#.#.#"),
    "unknown": (".###.", "#...#", "..##.", ".....", "..#.."),
}

#: Icons given to custom actions, in turn.
CUSTOM_ICONS: tuple[str, ...] = ("diamond", "heart", "smile", "star", "ghost")

Icon = tuple[tuple[bool, ...], ...]


@dataclass(frozen=True)
class Preset:
    name: str  # what the visitor reads (the English: shown through ``_``, in their language)
    icon: str  # a key of the icon table
    gesture: str  # what a pretend (simulated) micro:bit does for it


PRESETS: tuple[Preset, ...] = (
    Preset(N_("Still"), "still", "still"),
    Preset(N_("Shake"), "shake", "shake"),
    Preset(N_("Circle"), "circle", "circle"),
    Preset(N_("Wave"), "wave", "wave"),
    Preset(N_("Tilt"), "tilt", "tilt"),
    Preset(N_("Clap"), "clap", "clap"),
    Preset(N_("Jump"), "jump", "jump"),
    Preset(N_("Spin"), "spin", "spin"),
)

MIN_ACTIONS = 2
MAX_ACTIONS = 5


def icon_cells(name: str | None) -> Icon:
    """The 5x5 pattern of an icon name (the question mark for an unknown one)."""
    art = _ICON_ART.get((name or "").lower(), _ICON_ART["unknown"])
    return tuple(tuple(ch == "#" for ch in row) for row in art)


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
