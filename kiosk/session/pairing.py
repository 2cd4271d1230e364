"""The 5x5 grid a visitor uses to copy the micro:bit's pairing pattern.

In pairing mode the board lights the bottom ``k`` LEDs of each column; the
visitor taps a cell to set that column's height. Column heights map to the
board's 5-letter name (see ``kiosk.microbit.pattern``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROWS = COLUMNS = 5


@dataclass
class PairGrid:
    heights: list[int] = field(default_factory=lambda: [0] * COLUMNS)  # 0 = not set yet

    def set_column(self, column: int, height: int) -> None:
        if not 0 <= column < COLUMNS:
            raise ValueError(f"column must be 0..4, not {column}")
        if not 1 <= height <= ROWS:
            raise ValueError(f"height must be 1..5, not {height}")
        self.heights[column] = height

    @property
    def complete(self) -> bool:
        return all(1 <= h <= ROWS for h in self.heights)

    @property
    def columns_text(self) -> str:
        """Heights as digits, e.g. "31524" (what ``parse_columns`` reads)."""
        return "".join(str(h) for h in self.heights)

    def lit(self, row: int, column: int) -> bool:
        """Whether a cell is lit; row 0 is the top (like the board's LEDs)."""
        return self.heights[column] >= ROWS - row

    def clear(self) -> None:
        self.heights = [0] * COLUMNS
