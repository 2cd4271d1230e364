"""The "Why?" squares held steady: an exponential average of the model's own saliency.

A live explanation is computed for every new prediction (many a second), and
single-sample saliency wobbles with the noise of each window even while the
answer and its reasons stay the same; squares that jump every second teach a
visitor that the explanation is random. ``SmoothedSaliency`` averages the
saliency vectors the model gives for the same answer, so what is drawn is
still the model's attribution (a weighted mean of its own vectors, never
anything else), and starts afresh when the answer changes, so a new answer
shows its own reasons at once.
"""

from __future__ import annotations

import numpy as np

# How many explanations it takes for an old one to count half: about a second of
# live predictions on a 50 Hz board, so a held move settles and a new one shows quickly.
HALF_LIFE = 12.0


class SmoothedSaliency:
    def __init__(self, half_life: float = HALF_LIFE) -> None:
        if half_life <= 0:
            raise ValueError("half_life must be positive")
        self.alpha = 1.0 - 0.5 ** (1.0 / half_life)
        self.target: int | None = None
        self.value: np.ndarray | None = None
        self.count = 0  # explanations averaged since the answer last changed

    def update(self, target: int, saliency: np.ndarray) -> np.ndarray:
        """Fold in one explanation of ``target``; returns the smoothed saliency (a copy)."""
        push = np.asarray(saliency, np.float64).reshape(-1)
        if self.value is None or target != self.target or self.value.shape != push.shape:
            self.target, self.value, self.count = target, push.copy(), 1
        else:
            self.value += self.alpha * (push - self.value)
            self.count += 1
        return self.value.copy()

    def reset(self) -> None:
        self.target = None
        self.value = None
        self.count = 0
