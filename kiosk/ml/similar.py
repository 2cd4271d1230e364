"""The recordings most like the live movement, measured the way the model measures features.

Shown next to the prediction as "similar recordings", this is *not* how the
neural network decides; it is a plain nearest-neighbour search. It is measured
in the standardised feature space the model is trained in (each feature minus
its training mean, divided by its training spread), so a feature with large raw
numbers (``acc``) does not drown the others, just as it does not for the model.

``NearestIndex`` standardises the training matrix once; a live query then costs
one (m, 24) subtraction and a partial sort.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np


class Standardiser(Protocol):
    """What the search needs from a trained model (every fitted estimator has both)."""

    @property
    def scaler_mean(self) -> np.ndarray: ...

    @property
    def scaler_scale(self) -> np.ndarray: ...


def safe_scale(scale: np.ndarray) -> np.ndarray:
    """The scale with zeros (a feature constant in training) replaced by 1, as scikit-learn does."""
    s = np.asarray(scale, np.float64).reshape(-1).copy()
    s[~np.isfinite(s) | (s == 0)] = 1.0
    return s


class NearestIndex:
    """Training recordings, standardised once, searchable by Euclidean distance."""

    def __init__(self, X_train: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> None:
        X = np.asarray(X_train, np.float64)
        if X.ndim != 2:
            raise ValueError(f"X_train must be (m, n_features), got shape {X.shape}")
        self.mean = np.asarray(mean, np.float64).reshape(-1)
        self.scale = safe_scale(scale)
        if self.mean.shape != (X.shape[1],) or self.scale.shape != (X.shape[1],):
            raise ValueError("mean and scale must have one value per feature")
        self.Z = (X - self.mean) / self.scale
        self.n = X.shape[0]

    @classmethod
    def from_model(cls, model: Standardiser, X_train: np.ndarray) -> NearestIndex:
        return cls(X_train, model.scaler_mean, model.scaler_scale)

    def query(self, features: np.ndarray, k: int = 3) -> list[tuple[int, float]]:
        """The k nearest training rows as (row index, distance), nearest first.

        Ties are broken by row index so the answer is deterministic.
        """
        if self.n == 0 or k <= 0:
            return []
        z = (np.asarray(features, np.float64).reshape(-1) - self.mean) / self.scale
        diff = self.Z - z
        d2 = np.einsum("ij,ij->i", diff, diff)
        # A stable sort orders equal distances by row index: deterministic answers.
        rows = np.argsort(d2, kind="stable")[:k]
        return [(int(i), math.sqrt(d2[i])) for i in rows]


def nearest_recordings(
    model: Standardiser, X_train: np.ndarray, features: np.ndarray, k: int = 3
) -> list[tuple[int, float]]:
    """The k training rows nearest to ``features`` in the model's standardised space.

    Builds the index each call; keep a ``NearestIndex`` for live use.
    """
    return NearestIndex.from_model(model, X_train).query(features, k)
