"""Everything the test and train screens show about *why* the model answers as it does.

One entry point for the screens: ``LiveExplainer`` is built once after training
(it precomputes the float64 weights, the standardised training matrix and the
map projection) and ``explain(features)`` then gives, for one live sample, the
saliency of each fingerprint square, the most similar recordings and the live
point on the map, in well under a millisecond. The pieces live in small
modules (``saliency``, ``similar``, ``datamap``, ``importance``); this module
joins them and turns results into plain values the drawing functions take
(``kiosk.ui.explain_views`` draws, never computes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from kiosk.ml.datamap import DataMap, MapMethod, fit_data_map
from kiosk.ml.importance import global_importance
from kiosk.ml.network import DenseNetwork
from kiosk.ml.saliency import SaliencyExplainer, saliency
from kiosk.ml.similar import NearestIndex, nearest_recordings, safe_scale

__all__ = [
    "DataMap",
    "LiveExplainer",
    "LiveExplanation",
    "MapPicture",
    "SimilarRecording",
    "average_fingerprints",
    "display_strength",
    "fit_data_map",
    "global_importance",
    "importance_strength",
    "map_picture",
    "nearest_recordings",
    "occlusion_saliency",
    "saliency",
]

SIMILAR_CAPTION = "Similar recordings - not how the model decides"
AVERAGE_CAPTION = "Averages - the model never sees an average"


class ExplainableModel(Protocol):
    """What explanations need from a fitted ``kiosk.ml.training`` estimator (read only)."""

    @property
    def classes(self) -> Sequence[str]: ...

    @property
    def network(self) -> DenseNetwork | None: ...

    @property
    def scaler_mean(self) -> np.ndarray: ...

    @property
    def scaler_scale(self) -> np.ndarray: ...

    def predict_proba(self, X: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class SimilarRecording:
    """One recording near the live movement, ready to draw."""

    row: int  # index into the training rows
    action: int  # class index
    action_name: str
    fingerprint: np.ndarray  # (24,) 0..1
    distance: float  # in the standardised space


@dataclass(frozen=True)
class LiveExplanation:
    """Why the model answered this one live sample as it did."""

    target: int  # the action explained (the winning one)
    target_name: str
    saliency: np.ndarray  # (24,) signed push on the target's log-odds
    strength: np.ndarray  # (24,) -1..1, display strength (see ``display_strength``)
    similar: tuple[SimilarRecording, ...]
    map_point: np.ndarray  # (2,) on the data map, same units as DataMap.points


@dataclass(frozen=True)
class MapPicture:
    """The data map in 0..1 drawing coordinates (x right, y up), ready to draw."""

    points: np.ndarray  # (m, 2) 0..1
    labels: np.ndarray  # (m,) class index
    wrong: np.ndarray  # (m,) bool: the honest (cross-validated) estimate got it wrong
    class_names: tuple[str, ...]
    live: np.ndarray | None  # (2,) 0..1 clamped, or None when there is no live sample
    note: str
    extent: tuple[float, float, float, float]

    def with_live(self, point: np.ndarray | None) -> MapPicture:
        """The same picture with the live point (in map units) moved to ``point``."""
        live = None if point is None else _to_unit(np.asarray(point)[None, :], self.extent)[0]
        return MapPicture(
            self.points,
            self.labels,
            self.wrong,
            self.class_names,
            None if live is None else np.clip(live, 0.0, 1.0),
            self.note,
            self.extent,
        )


def _to_unit(points: np.ndarray, extent: tuple[float, float, float, float]) -> np.ndarray:
    x0, y0, x1, y1 = extent
    return (points - np.array([x0, y0])) / np.array([x1 - x0, y1 - y0])


def map_picture(
    data_map: DataMap, labels: np.ndarray, predicted: np.ndarray | None, class_names: Sequence[str]
) -> MapPicture:
    """The map's recordings scaled into 0..1; ``predicted`` is ``Evaluation.predicted``."""
    labels = np.asarray(labels, np.int64)
    wrong = np.zeros(len(labels), bool) if predicted is None else np.asarray(predicted) != labels
    extent = data_map.extent
    return MapPicture(
        _to_unit(data_map.points, extent),
        labels,
        wrong,
        tuple(class_names),
        None,
        data_map.live_note,
        extent,
    )


def average_fingerprints(fingerprints: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """(k, 24) mean fingerprint per action; NaN rows for an action with no recordings.

    Shown labelled as averages: the model only ever sees single recordings.
    """
    F = np.asarray(fingerprints, np.float64)
    y = np.asarray(y, np.int64)
    out = np.full((k, F.shape[1] if F.ndim == 2 else 24), np.nan)
    for c in range(k):
        rows = F[y == c]
        if len(rows):
            out[c] = rows.mean(axis=0)
    return out


def display_strength(values: np.ndarray, keep: int = 6, floor: float = 0.15) -> np.ndarray:
    """Signed strengths in -1..1 for drawing: the ``keep`` largest pushes, others 0.

    Scaled by the largest push so the strongest square always shows fully; a push
    below ``floor`` of the strongest is not marked (it did little).
    """
    v = np.asarray(values, np.float64)
    size = np.abs(v)
    out = np.zeros(v.shape)
    biggest = size.max() if v.size else 0.0
    if not 0 < biggest < np.inf:
        return out
    order = np.argsort(-size, kind="stable")[:keep]
    chosen = order[size[order] >= floor * biggest]
    out[chosen] = v[chosen] / biggest
    return out


def importance_strength(importance: np.ndarray) -> np.ndarray:
    """(k, 24) permutation importance -> 0..1 per action (negative, i.e. noise, shows as 0)."""
    imp = np.clip(np.asarray(importance, np.float64), 0.0, None)
    top = imp.max(axis=1, keepdims=True)
    return np.divide(imp, top, out=np.zeros_like(imp), where=top > 0)


def occlusion_saliency(
    predict_proba: Callable[[np.ndarray], np.ndarray],
    features: np.ndarray,
    baseline: np.ndarray,
    target: int,
) -> np.ndarray:
    """(24,) drop in the target's log-odds when each feature alone is set to the baseline.

    For models without a network (k-nearest neighbours); one batch of 25 predictions.
    Positive: this feature's actual value pushed the target up.
    """
    x = np.asarray(features, np.float64).reshape(-1)
    n = x.size
    batch = np.repeat(x[None, :], n + 1, axis=0)
    batch[np.arange(n), np.arange(n)] = np.asarray(baseline, np.float64).reshape(-1)
    p = np.clip(np.asarray(predict_proba(batch), np.float64)[:, target], 1e-6, 1 - 1e-6)
    log_odds = np.log(p) - np.log1p(-p)
    return log_odds[n] - log_odds[:n]


class LiveExplainer:
    """Per-sample explanations for one trained model, with everything fixed precomputed."""

    def __init__(
        self,
        model: ExplainableModel,
        X_train: np.ndarray,
        y_train: np.ndarray,
        fingerprints: np.ndarray,
        *,
        predicted: np.ndarray | None = None,
        k_similar: int = 3,
        map_method: MapMethod = "pca",
    ) -> None:
        self.model = model
        self.class_names = tuple(model.classes)
        self.X = np.asarray(X_train, np.float64)
        self.y = np.asarray(y_train, np.int64)
        self.fingerprints = np.asarray(fingerprints, np.float64)
        self.k_similar = k_similar
        self.mean = np.asarray(model.scaler_mean, np.float64).reshape(-1)
        self.scale = safe_scale(model.scaler_scale)
        self.index = NearestIndex(self.X, self.mean, self.scale)
        self.data_map = fit_data_map(self.X, self.mean, self.scale, map_method)
        self.picture = map_picture(self.data_map, self.y, predicted, self.class_names)
        self.averages = average_fingerprints(self.fingerprints, self.y, len(self.class_names))
        self._saliency: SaliencyExplainer | None = None
        self._raw_input = True
        if model.network is not None:
            self._raw_input = _network_takes_raw(model, self.X, self.mean, self.scale)
            baseline = self.mean if self._raw_input else np.zeros_like(self.mean)
            self._saliency = SaliencyExplainer(model.network, baseline)

    @property
    def saliency_explainer(self) -> SaliencyExplainer | None:
        """The prepared network (None for a model without one, explained by occlusion)."""
        return self._saliency

    def explain(self, features: np.ndarray, target: int | None = None) -> LiveExplanation:
        """Explain one live sample (raw features); ``target`` defaults to the winning action."""
        x = np.asarray(features, np.float64).reshape(-1)
        if self._saliency is not None:
            net_x = x if self._raw_input else (x - self.mean) / self.scale
            target, push = self._saliency.explain_winner(net_x, target)
        else:
            if target is None:
                target = int(np.argmax(self.model.predict_proba(x[None, :])[0]))
            push = occlusion_saliency(self.model.predict_proba, x, self.mean, target)
        similar = tuple(
            SimilarRecording(
                row,
                int(self.y[row]),
                self.class_names[int(self.y[row])],
                self.fingerprints[row],
                distance,
            )
            for row, distance in self.index.query(x, self.k_similar)
        )
        return LiveExplanation(
            target,
            self.class_names[target],
            push,
            display_strength(push),
            similar,
            self.data_map.project(x),
        )


def _network_takes_raw(
    model: ExplainableModel, X: np.ndarray, mean: np.ndarray, scale: np.ndarray
) -> bool:
    """Whether ``model.network`` has the standardisation folded in (takes raw features).

    Decided by which input reproduces the model's own probabilities, so the
    explanation follows the network whichever way the trainer built it.
    """
    network = model.network
    assert network is not None
    probe = X[:8] if len(X) else np.zeros((1, network.n_in))
    wanted = np.asarray(model.predict_proba(probe), np.float64)
    raw = np.abs(network.forward(probe) - wanted).max()
    standardised = np.abs(network.forward((probe - mean) / scale) - wanted).max()
    return bool(raw <= standardised)
