"""MakeCode's built-in micro:bit icons: the one picture set of the kiosk, by MakeCode's names.

An action stores its icon by name, and that name travels: CreateAI's dataset
files carry it in each action's ``icon`` field, and CreateAI looks it up in
its own table (``makecodeIcons`` in ml-trainer's ``src/utils/icons.ts``),
which is MakeCode's ``IconNames`` (pxt-microbit's ``libs/core/icons.ts``)
with one spelling of its own: CreateAI writes ``EighthNote`` where MakeCode's
enum says ``EigthNote``. A name CreateAI does not know breaks its Data Samples
page, so the kiosk only ever stores and writes CreateAI's names.

The patterns are MakeCode's 5x5 pictures, written here as data ('#' a lit
LED, rows top first), so the same drawing appears on the touchscreen and on
the micro:bit's LEDs.

Names from elsewhere are mapped, never refused: a different case, MakeCode's
``EigthNote``, and the picture names older kiosk versions stored (``still``,
``shake``, ...) become the CreateAI name that looks the same or stands for the
same move. A name nobody knows (or none at all) gets CreateAI's own rule for
actions without an icon: the first of its default icons no other action uses.
"""

from __future__ import annotations

from collections.abc import Sequence

from kiosk.i18n import N_

Icon = tuple[tuple[bool, ...], ...]

# MakeCode's IconNames in MakeCode's order (the order of its icon picker), with the
# words MakeCode's blocks use for them. Scissors came last, in a later MakeCode.
_ICONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Heart", N_("heart"), (".#.#.", "#####", "#####", ".###.", "..#..")),
    ("SmallHeart", N_("small heart"), (".....", ".#.#.", ".###.", "..#..", ".....")),
    ("Yes", N_("yes"), (".....", "....#", "...#.", "#.#..", ".#...")),
    ("No", N_("no"), ("#...#", ".#.#.", "..#..", ".#.#.", "#...#")),
    ("Happy", N_("happy"), (".....", ".#.#.", ".....", "#...#", ".###.")),
    ("Sad", N_("sad"), (".....", ".#.#.", ".....", ".###.", "#...#")),
    ("Confused", N_("confused"), (".....", ".#.#.", ".....", ".#.#.", "#.#.#")),
    ("Angry", N_("angry"), ("#...#", ".#.#.", ".....", "#####", "#.#.#")),
    ("Asleep", N_("asleep"), (".....", "##.##", ".....", ".###.", ".....")),
    ("Surprised", N_("surprised"), (".#.#.", ".....", "..#..", ".#.#.", "..#..")),
    ("Silly", N_("silly"), ("#...#", ".....", "#####", "...##", "...##")),
    ("Fabulous", N_("fabulous"), ("#####", "##.##", ".....", ".#.#.", ".###.")),
    ("Meh", N_("meh"), ("##.##", ".....", "...#.", "..#..", ".#...")),
    ("TShirt", N_("t-shirt"), ("##.##", "#####", ".###.", ".###.", ".###.")),
    ("Rollerskate", N_("roller skate"), ("...##", "...##", "#####", "#####", ".#.#.")),
    ("Duck", N_("duck"), (".##..", "###..", ".####", ".###.", ".....")),
    ("House", N_("house"), ("..#..", ".###.", "#####", ".###.", ".#.#.")),
    ("Tortoise", N_("tortoise"), (".....", ".###.", "#####", ".#.#.", ".....")),
    ("Butterfly", N_("butterfly"), ("##.##", "#####", "..#..", "#####", "##.##")),
    ("StickFigure", N_("stick figure"), ("..#..", "#####", "..#..", ".#.#.", "#...#")),
    ("Ghost", N_("ghost"), (".###.", "#.#.#", "#####", "#####", "#.#.#")),
    ("Sword", N_("sword"), ("..#..", "..#..", "..#..", ".###.", "..#..")),
    ("Giraffe", N_("giraffe"), ("##...", ".#...", ".#...", ".###.", ".#.#.")),
    ("Skull", N_("skull"), (".###.", "#.#.#", "#####", ".###.", ".###.")),
    ("Umbrella", N_("umbrella"), (".###.", "#####", "..#..", "#.#..", "###..")),
    ("Snake", N_("snake"), ("##...", "##.##", ".#.#.", ".###.", ".....")),
    ("Rabbit", N_("rabbit"), ("#.#..", "#.#..", "####.", "##.#.", "####.")),
    ("Cow", N_("cow"), ("#...#", "#...#", "#####", ".###.", "..#..")),
    ("QuarterNote", N_("quarter note"), ("..#..", "..#..", "..#..", "###..", "###..")),
    ("EighthNote", N_("eighth note"), ("..#..", "..##.", "..#.#", "###..", "###..")),
    ("Pitchfork", N_("pitchfork"), ("#.#.#", "#.#.#", "#####", "..#..", "..#..")),
    ("Target", N_("target"), ("..#..", ".###.", "##.##", ".###.", "..#..")),
    ("Triangle", N_("triangle"), (".....", "..#..", ".#.#.", "#####", ".....")),
    ("LeftTriangle", N_("left triangle"), ("#....", "##...", "#.#..", "#..#.", "#####")),
    ("Chessboard", N_("chess board"), (".#.#.", "#.#.#", ".#.#.", "#.#.#", ".#.#.")),
    ("Diamond", N_("diamond"), ("..#..", ".#.#.", "#...#", ".#.#.", "..#..")),
    ("SmallDiamond", N_("small diamond"), (".....", "..#..", ".#.#.", "..#..", ".....")),
    ("Square", N_("square"), ("#####", "#...#", "#...#", "#...#", "#####")),
    ("SmallSquare", N_("small square"), (".....", ".###.", ".#.#.", ".###.", ".....")),
    ("Scissors", N_("scissors"), ("##..#", "##.#.", "..#..", "##.#.", "##..#")),
)

#: Every icon name CreateAI knows, in MakeCode's order.
ICON_NAMES: tuple[str, ...] = tuple(name for name, _, _ in _ICONS)

#: What each icon shows, in words (for the picker's caption); pass through ``_()`` to draw.
ICON_WORDS: dict[str, str] = {name: words for name, words, _ in _ICONS}

_CELLS: dict[str, Icon] = {
    name: tuple(tuple(ch == "#" for ch in row) for row in art) for name, _, art in _ICONS
}

#: CreateAI's icons for actions that come without one, handed out in this order
#: (``defaultIcons`` in ml-trainer's ``src/utils/icons.ts``).
DEFAULT_ICONS: tuple[str, ...] = (
    "House",
    "Duck",
    "Tortoise",
    "StickFigure",
    "Ghost",
    "Giraffe",
    "Umbrella",
    "Cow",
    "EighthNote",
    "Pitchfork",
)

#: CreateAI's icon when every default icon is taken ("better than throwing an error").
LAST_RESORT_ICON = "Heart"

# Names older kiosk versions stored, mapped to the icon the same preset now has
# (kiosk/session/presets.py) or to the MakeCode icon that looks the same.
LEGACY_NAMES: dict[str, str] = {
    "still": "Asleep",
    "shake": "Surprised",
    "circle": "Target",
    "wave": "StickFigure",
    "tilt": "LeftTriangle",
    "clap": "QuarterNote",
    "jump": "Rabbit",
    "spin": "Umbrella",
    "diamond": "Diamond",
    "heart": "Heart",
    "smile": "Happy",
    "star": "Fabulous",
    "ghost": "Ghost",
    # MakeCode's own spelling of the eighth note.
    "eigthnote": "EighthNote",
}

_BY_FOLDED: dict[str, str] = {
    **{name.lower(): name for name in ICON_NAMES},
    **LEGACY_NAMES,
}


def known_icon(name: str | None) -> str | None:
    """CreateAI's name for ``name`` (any case, MakeCode's or an old kiosk name), or None."""
    if not name:
        return None
    return _BY_FOLDED.get(name.strip().lower())


def resolve_icons(names: Sequence[str | None]) -> list[str]:
    """A CreateAI icon name for each action, in order, by CreateAI's rules.

    Known names are mapped (``known_icon``); each action without a known icon
    gets the first of CreateAI's default icons that no action uses yet, as
    CreateAI does when it loads a dataset whose actions have no icon.
    """
    resolved = [known_icon(name) for name in names]
    in_use = {icon for icon in resolved if icon is not None}
    out = []
    for icon in resolved:
        if icon is None:
            icon = next((d for d in DEFAULT_ICONS if d not in in_use), LAST_RESORT_ICON)
            in_use.add(icon)
        out.append(icon)
    return out


def free_icon(in_use: Sequence[str | None]) -> str:
    """The icon a new action gets: CreateAI's first default icon not in ``in_use``."""
    taken = {known_icon(name) for name in in_use}
    return next((d for d in DEFAULT_ICONS if d not in taken), LAST_RESORT_ICON)


def icon_cells(name: str | None) -> Icon:
    """The 5x5 pattern of an icon name; an unknown one shows CreateAI's last-resort heart.

    Where the other actions are known, ``resolve_icons`` gives the better
    fallback (the one an export writes); this is for a lone name.
    """
    return _CELLS[known_icon(name) or LAST_RESORT_ICON]
