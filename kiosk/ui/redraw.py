"""What must be painted again, in one place: the app's frame flags and the scenes' live parts.

The canvas keeps its pixels between frames, so a frame only restores and
repaints what changed (``KioskApp._draw``). Three facts decide that, and all
live here: whether the cached static layer was redrawn since it was last put
on the canvas, whether something besides the scene (a pressed button, the
banner, a message) is on the canvas, and what each of a scene's live parts
last painted. The last one is what lets the test screen skip a bar whose
pixels would not change; ``restored`` forgets it whenever the whole static
layer goes back on the canvas. ``canvas_changed`` says whether this frame
painted anything at all (a rotated display is turned only then).
"""

from __future__ import annotations

from dataclasses import dataclass, field

_NOTHING = object()  # a live part painted nothing yet (distinct from having painted None)


@dataclass
class Redraw:
    static_changed: bool = True  # the static layer was redrawn since it was last blitted
    overlay_drawn: bool = True  # something besides the scene was on the canvas last frame
    canvas_changed: bool = True  # this frame painted something (a turned copy is stale)
    _shown: dict[str, object] = field(default_factory=dict)  # what each live part shows

    def restored(self) -> None:
        """The whole static layer went back on the canvas: every live part must be painted."""
        self._shown.clear()

    def shows(self, part: str, what: object, *, same_object: bool = False) -> bool:
        """Whether ``part`` already shows ``what`` (equal, or the very object when asked)."""
        shown = self._shown.get(part, _NOTHING)
        if shown is _NOTHING:
            return False
        return shown is what if same_object else shown == what

    def shown(self, part: str) -> object:
        """What ``part`` shows now (None when nothing is remembered)."""
        shown = self._shown.get(part, _NOTHING)
        return None if shown is _NOTHING else shown

    def forget(self, *parts: str) -> None:
        """These parts were painted over: they must be painted again."""
        for part in parts:
            self._shown.pop(part, None)

    def painted(self, part: str, what: object) -> None:
        """``part`` now shows ``what`` on the canvas."""
        self._shown[part] = what
        self.canvas_changed = True

    def painted_afresh(self) -> None:
        """Something was drawn that is not remembered (it is drawn again every frame)."""
        self.canvas_changed = True
