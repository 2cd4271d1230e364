"""A 2-D map of every recording, so a visitor sees which movements look alike to the model.

Each recording becomes a dot; the live movement is projected with the same
transform and moves among them. The map is drawn from the standardised
features the model is trained on.

PCA is the default: a fixed linear projection, fast to fit, instant to apply to
a live sample, and identical for identical data (components come from an SVD
and each component's sign is fixed so that its largest loading is positive).
t-SNE is offered for small datasets only: it is slow to fit on a Pi and has no
projection for new points, so the live point is placed at the distance-weighted
mean of its three nearest recordings (said so in ``DataMap.live_note``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from kiosk.ml.similar import NearestIndex, safe_scale

MapMethod = Literal["pca", "tsne"]
TSNE_MAX_RECORDINGS = 150  # above this t-SNE takes too long on a Pi (see kiosk bench explain)
_TSNE_NEIGHBOURS = 3


@dataclass(frozen=True)
class DataMap:
    """Recordings as 2-D points and the way to place a new sample among them."""

    method: str
    points: np.ndarray  # (m, 2) one per training row, in row order
    mean: np.ndarray  # (n_features,) standardisation
    scale: np.ndarray  # (n_features,)
    centre: np.ndarray  # (n_features,) PCA centre in standardised space
    components: np.ndarray  # (n_features, 2) PCA axes, or zeros for t-SNE
    explained: tuple[float, float] = (0.0, 0.0)  # share of the spread each axis shows (PCA)
    _index: NearestIndex | None = field(default=None, repr=False, compare=False)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) of the recordings, padded 10 %, never zero-sized."""
        if len(self.points) == 0:
            return (-1.0, -1.0, 1.0, 1.0)
        lo = self.points.min(axis=0)
        hi = self.points.max(axis=0)
        span = np.maximum(hi - lo, 1e-9)
        pad = np.maximum(0.1 * span, 0.5 * (span < 1e-6))
        return (
            float(lo[0] - pad[0]),
            float(lo[1] - pad[1]),
            float(hi[0] + pad[0]),
            float(hi[1] + pad[1]),
        )

    @property
    def live_note(self) -> str:
        if self.method == "pca":
            return "the live dot uses the same projection as the recordings"
        return "t-SNE map: the live dot sits between its nearest recordings"

    def project(self, features: np.ndarray) -> np.ndarray:
        """(n_features,) raw features -> (2,) position on the map."""
        x = np.asarray(features, np.float64).reshape(-1)
        if self._index is not None:
            nearest = self._index.query(x, _TSNE_NEIGHBOURS)
            rows = np.array([i for i, _ in nearest])
            weights = 1.0 / (np.array([d for _, d in nearest]) + 1e-6)
            return (self.points[rows] * weights[:, None]).sum(axis=0) / weights.sum()
        return ((x - self.mean) / self.scale - self.centre) @ self.components

    def project_many(self, X: np.ndarray) -> np.ndarray:
        """(m, n_features) -> (m, 2)."""
        X = np.atleast_2d(np.asarray(X, np.float64))
        if self._index is not None:
            return np.array([self.project(x) for x in X]).reshape(-1, 2)
        return ((X - self.mean) / self.scale - self.centre) @ self.components


def fit_data_map(
    X: np.ndarray,
    scaler_mean: np.ndarray,
    scaler_scale: np.ndarray,
    method: MapMethod = "pca",
    *,
    seed: int = 0,
) -> DataMap:
    """Lay out the rows of X (raw features) in 2-D; the same data always gives the same map.

    ``method="tsne"`` needs at least 5 and at most ``TSNE_MAX_RECORDINGS`` rows.
    """
    X = np.atleast_2d(np.asarray(X, np.float64))
    mean = np.asarray(scaler_mean, np.float64).reshape(-1)
    scale = safe_scale(scaler_scale)
    if mean.shape != (X.shape[1],) or scale.shape != (X.shape[1],):
        raise ValueError("scaler_mean and scaler_scale must have one value per feature")
    Z = (X - mean) / scale
    if method == "pca":
        centre, components, explained = _pca_axes(Z)
        points = (Z - centre) @ components
        return DataMap("pca", points, mean, scale, centre, components, explained)
    if method == "tsne":
        return _fit_tsne(X, Z, mean, scale, seed)
    raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}")


def _pca_axes(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    n_features = Z.shape[1]
    components = np.zeros((n_features, 2))
    if Z.shape[0] == 0:
        return np.zeros(n_features), components, (0.0, 0.0)
    centre = Z.mean(axis=0)
    if Z.shape[0] < 2:
        return centre, components, (0.0, 0.0)
    _, s, vt = np.linalg.svd(Z - centre, full_matrices=False)
    n = min(2, vt.shape[0])
    axes = vt[:n].T.copy()
    # Fix each axis' sign (its largest loading positive) so a refit never mirrors the map.
    biggest = np.abs(axes).argmax(axis=0)
    axes *= np.sign(axes[biggest, np.arange(n)])
    components[:, :n] = axes
    var = s**2
    total = var.sum()
    shares = [float(v / total) if total > 0 else 0.0 for v in var[:2]] + [0.0, 0.0]
    return centre, components, (shares[0], shares[1])


def _fit_tsne(
    X: np.ndarray, Z: np.ndarray, mean: np.ndarray, scale: np.ndarray, seed: int
) -> DataMap:
    from sklearn.manifold import TSNE  # imported lazily: slow to import, rarely used

    m = Z.shape[0]
    if not 5 <= m <= TSNE_MAX_RECORDINGS:
        raise ValueError(
            f"a t-SNE map needs between 5 and {TSNE_MAX_RECORDINGS} recordings, got {m}; "
            "use the PCA map"
        )
    # Exact gradients and 500 iterations: for at most TSNE_MAX_RECORDINGS points this is
    # several times faster than the Barnes-Hut default and settles as well (measured in
    # kiosk bench explain: explain_tsne_fit_150_recordings_s).
    tsne = TSNE(
        n_components=2,
        perplexity=min(30.0, (m - 1) / 3),
        init="pca",
        method="exact",
        max_iter=500,
        random_state=seed,
        n_jobs=1,
    )
    points = tsne.fit_transform(Z)
    n_features = Z.shape[1]
    index = NearestIndex(X, mean, scale)
    return DataMap(
        "tsne",
        points,
        mean,
        scale,
        np.zeros(n_features),
        np.zeros((n_features, 2)),
        (0.0, 0.0),
        index,
    )
