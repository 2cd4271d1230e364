"""Real micro:bit movements to play back: CreateAI recordings, resampled by time.

A board samples its accelerometer at the period the kiosk chose (20 ms), but
the recordings were made at 25 ms; playing them sample-for-sample would speed
every movement up by a quarter. Instead each move's recordings are joined into
one loop and read at the notification's time (linear interpolation), so a
shake looks like the shake that was recorded whatever the period.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: The period the recordings in ../shared/data/createai were made at (legacy format).
RECORDED_PERIOD_S = 0.025
DEFAULT_FILE = "shake-still-circle-data-samples-legacy.json"


@dataclass(frozen=True)
class Movement:
    """One move's recordings joined end to end: (n, 3) g at RECORDED_PERIOD_S."""

    name: str
    xyz: np.ndarray

    @property
    def duration_s(self) -> float:
        return len(self.xyz) * RECORDED_PERIOD_S

    def at(self, t: float) -> tuple[float, float, float]:
        """The acceleration (g) at ``t`` seconds into the loop (wraps around)."""
        position = (t % self.duration_s) / RECORDED_PERIOD_S
        lo = int(position) % len(self.xyz)
        hi = (lo + 1) % len(self.xyz)
        frac = position - int(position)
        x, y, z = self.xyz[lo] * (1.0 - frac) + self.xyz[hi] * frac
        return float(x), float(y), float(z)


def load_movements(path: Path) -> dict[str, Movement]:
    """Every action in a CreateAI JSON file, keyed by its lower-case name."""
    try:
        actions = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"cannot read movements from {path}: {exc}") from None
    moves: dict[str, Movement] = {}
    for action in actions:
        rows = [
            np.column_stack([rec["data"]["x"], rec["data"]["y"], rec["data"]["z"]])
            for rec in action["recordings"]
        ]
        if rows:
            name = str(action["name"]).lower()
            moves[name] = Movement(name, np.vstack(rows).astype(np.float64))
    if not moves:
        raise SystemExit(f"{path} holds no recordings to play")
    return moves
