"""When the visitor has walked away: no touch and no movement for a while.

The kiosk then shows a visible countdown (any touch or movement cancels it)
and, when it runs out, resets for the next visitor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A board lying on the table wobbles by a few milli-g; a hand moves it by far more.
MOVEMENT_STD_G = 0.06


def is_moving(xyz: np.ndarray) -> bool:
    """Whether recent samples (n, 3) show the board being handled."""
    if len(xyz) < 3:
        return False
    return bool(np.max(np.std(xyz, axis=0)) > MOVEMENT_STD_G)


@dataclass
class IdleWatch:
    timeout_s: float
    countdown_s: float
    last_activity: float = 0.0

    def activity(self, now: float) -> None:
        self.last_activity = now

    def countdown_left(self, now: float) -> float | None:
        """Seconds left before reset while the countdown shows, else None."""
        quiet = now - self.last_activity
        if quiet < self.timeout_s:
            return None
        return max(0.0, self.timeout_s + self.countdown_s - quiet)

    def expired(self, now: float) -> bool:
        return now - self.last_activity >= self.timeout_s + self.countdown_s
