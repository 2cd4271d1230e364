"""Text rendered once and reused: fonts by size, and surfaces by (text, size, colour).

Rendering text is the most expensive thing a frame can do in pygame; the
kiosk's labels rarely change, so each one is rendered the first time it is
needed and blitted afterwards. Uses pygame's bundled default font (shipped in
the pygame wheel; no downloads).
"""

from __future__ import annotations

import pygame

_MAX_ENTRIES = 3000


class TextCache:
    """Fonts and rendered text; ``floor`` is the smallest size text may shrink to.

    The app sets ``floor`` to the screen's smallest readable size
    (``Metrics.min_px``); text that does not fit at it must be cut, not shrunk.
    A test sets ``drawn`` to a list to record every text drawn (words, size), and
    ``overflow`` to a list to record every text that does not fit its room even at
    the floor (words, size, room): copy too long for the screen, in some language.
    """

    def __init__(self, floor: int = 18) -> None:
        self._fonts: dict[tuple[int, bool], pygame.font.Font] = {}
        self._surfaces: dict[tuple[str, int, tuple[int, int, int], bool], pygame.Surface] = {}
        self.floor = floor
        self.drawn: list[tuple[str, int]] | None = None
        self.overflow: list[tuple[str, int, int]] | None = None
        # (text, size) -> room, for texts that did not fit: drawn anyway, they overflow
        # (a fit only tried, to choose shorter words, is not an overflow).
        self._unfit: dict[tuple[str, int], int] = {}

    def font(self, size: int, bold: bool = True) -> pygame.font.Font:
        key = (size, bold)
        font = self._fonts.get(key)
        if font is None:
            # freesansbold.ttf is bold already; "bold=False" uses the same face, unbolded look
            # is not available without another font file, so both share it.
            font = pygame.font.Font(pygame.font.get_default_font(), size)
            self._fonts[key] = font
        return font

    def render(
        self, text: str, size: int, colour: tuple[int, int, int], bold: bool = True
    ) -> pygame.Surface:
        key = (text, size, colour, bold)
        if self.drawn is not None and text.strip():
            self.drawn.append((text, size))
        if self.overflow is not None and (text, size) in self._unfit:
            self.overflow.append((text, size, self._unfit[(text, size)]))
        surface = self._surfaces.get(key)
        if surface is None:
            if len(self._surfaces) > _MAX_ENTRIES:
                self._surfaces.clear()
            surface = self.font(size, bold).render(text, True, colour)
            self._surfaces[key] = surface
        return surface

    def wrap(self, text: str, size: int, width: int) -> list[str]:
        """Split ``text`` into lines that fit ``width`` px (explicit newlines kept)."""
        font = self.font(size)
        lines: list[str] = []
        for paragraph in text.split("\n"):
            line = ""
            for word in paragraph.split():
                trial = f"{line} {word}".strip()
                if line and font.size(trial)[0] > width:
                    lines.append(line)
                    line = word
                else:
                    line = trial
            lines.append(line)
        return lines

    def fit_size(self, text: str, size: int, width: int, minimum: int | None = None) -> int:
        """The largest size <= ``size`` (and >= ``floor``) at which ``text`` fits ``width``."""
        minimum = self.floor if minimum is None else max(minimum, self.floor)
        while size > minimum and self.font(size).size(text)[0] > width:
            size -= 1
        if self.overflow is not None:
            if self.font(size).size(text)[0] > width:
                self._unfit[(text, size)] = width
            else:
                self._unfit.pop((text, size), None)
        return size
