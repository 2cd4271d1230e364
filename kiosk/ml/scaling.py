"""Feature scaling that still works with one recording per move: standardisation with a prior.

Plain standardisation divides each feature by its spread over the training
recordings. With one recording per move that spread is the distance between
two or three points, so a feature that barely differs between them (the
board's orientation: mean, min and max of y and z) is stretched to +-1 and
outweighs the features that really tell the moves apart. On CreateAI's
two-move ``dataset.json`` that model scored 0.56 with one recording per move,
below a coin.

Here each feature's variance is shrunk towards a prior variance, as if
``prior_recordings`` extra recordings with the prior's spread had been seen:

    scale**2 = (n * variance + n0 * prior**2) / (n + n0)

The prior comes from what the features can be, not from any data set: a
fraction of the feature's range on CreateAI's fingerprint (for example
+-2.048 g for a mean, 0..1 for a zero-crossing rate), half of it for the
features that follow how the board is held (max, mean, min, acc, rms: a
visitor holds it differently each time) and a quarter for those that follow the
movement itself (std, peaks, zcr). With few recordings the prior dominates, so
no feature is stretched beyond what it can mean; with many, the data's own
spread takes over, and the full-data results are those of plain
standardisation or better. The settings were chosen by learning curves (1, 2,
3, 5 recordings per move, 20 draws) on CreateAI's real sets, on perturbed
copies (rotated boards, other amplitudes, the shorter current window) and on
synthetic gestures; see ``bench/choose_model.py``.
"""

from __future__ import annotations

import numpy as np

from kiosk.ml.features import AXES, FILTER_NAMES, N_FEATURES, fingerprint_ranges
from kiosk.ml.windows import DataWindow

# Filters whose value depends mostly on how the board is held (gravity's share on each axis).
ORIENTATION_FILTERS: frozenset[str] = frozenset({"max", "mean", "min", "acc", "rms"})


class PriorScaler:
    """Centre on the training mean; scale by the spread shrunk towards the fingerprint prior.

    scikit-learn's shape: settings in the constructor, ``fit`` returns ``self``,
    what was learned ends in ``_`` (``mean_``, ``scale_``).
    """

    def __init__(
        self,
        window: DataWindow,
        prior_recordings: float = 10.0,
        orientation_fraction: float = 0.5,
        motion_fraction: float = 0.25,
    ) -> None:
        self.window = window
        self.prior_recordings = prior_recordings
        self.orientation_fraction = orientation_fraction
        self.motion_fraction = motion_fraction

    def prior_scale(self) -> np.ndarray:
        """(24,) the spread assumed before any recording is seen."""
        low, high = fingerprint_ranges(self.window)
        fraction = np.repeat(
            [
                self.orientation_fraction if name in ORIENTATION_FILTERS else self.motion_fraction
                for name in FILTER_NAMES
            ],
            len(AXES),
        )
        return fraction * (high - low)

    def fit(self, X: np.ndarray) -> PriorScaler:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != N_FEATURES or X.shape[0] == 0:
            raise ValueError(f"expected features of shape (m >= 1, {N_FEATURES}), got {X.shape}")
        n = X.shape[0]
        n0 = float(self.prior_recordings)
        if n0 < 0:
            raise ValueError("prior_recordings must be 0 or more")
        variance = (n * X.var(axis=0) + n0 * self.prior_scale() ** 2) / (n + n0)
        scale = np.sqrt(variance)
        # Only reachable with no prior: a feature constant in the training data
        # carries no information, and scale 1 keeps it from exploding later.
        scale[scale < 1e-12] = 1.0
        self.mean_ = X.mean(axis=0)
        self.scale_ = scale
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_
