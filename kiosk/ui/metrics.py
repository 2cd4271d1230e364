"""Physical sizes on the configured screen: how many pixels make a 15 mm touch target.

A child's fingertip needs about 15 mm; on the official 7" 800x480 panel that
is about 78 px, on a 7" 1280x720 panel about 124 px. Sizes come from the
configured diagonal and the surface's resolution, never from fixed pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MM_PER_INCH = 25.4
TARGET_MM = 15.0
# No word a visitor must read is smaller (a child at arm's length from a 7" panel).
MIN_TEXT_PX = 18


def pixels_per_mm(width: int, height: int, diagonal_inches: float) -> float:
    return math.hypot(width, height) / (diagonal_inches * MM_PER_INCH)


@dataclass(frozen=True)
class Metrics:
    """Sizes derived from one surface size; every layout works from these."""

    width: int
    height: int
    unit: int  # the smallest touch target side, px (15 mm)
    gap: int
    title_px: int  # font sizes
    body_px: int
    small_px: int
    huge_px: int
    min_px: int  # the smallest text a visitor must read: 18 px at 800x480, more on larger screens

    @property
    def portrait(self) -> bool:
        return self.height > self.width

    @staticmethod
    def for_surface(width: int, height: int, diagonal_inches: float = 7.0) -> Metrics:
        unit = math.ceil(TARGET_MM * pixels_per_mm(width, height, diagonal_inches))
        # Text scales with the target size but never crowds a small screen.
        base = min(unit, min(width, height) / 6.0)
        return Metrics(
            width=width,
            height=height,
            unit=unit,
            gap=max(4, unit // 16),
            title_px=max(20, int(base * 0.42)),
            body_px=max(16, int(base * 0.3)),
            small_px=max(MIN_TEXT_PX, int(base * 0.23)),
            huge_px=max(40, int(base * 1.4)),
            min_px=max(MIN_TEXT_PX, int(base * 0.2)),
        )
