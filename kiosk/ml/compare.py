"""Two versions of the data side by side: did the new recordings make the model better?

A visitor (or teacher) picks two snapshots, or the current data and a snapshot.
Each side is trained with the ML core exactly as the train screen trains
(``cross_validate`` for the honest accuracy and confusion matrix, then
``train_model`` on every recording), and both models then predict the *same*
live movement. The two sides may have different actions; each keeps its own.
Drawing is done by ``kiosk.ui.explain_views.draw_comparison``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kiosk.dataset import Dataset
from kiosk.errors import DatasetFormatError
from kiosk.ml.evaluation import Evaluation, cross_validate
from kiosk.ml.features import compute_features, feature_matrix
from kiosk.ml.training import TrainedModel, train_model
from kiosk.ml.windows import DataWindow, choose_window


@dataclass(frozen=True)
class TrainedSide:
    """One side of a comparison: its data, honest estimate and final model."""

    name: str
    classes: tuple[str, ...]
    window: DataWindow
    evaluation: Evaluation
    model: TrainedModel
    n_recordings: int

    def predict_features(self, features: np.ndarray) -> np.ndarray:
        """(k,) probabilities for features computed with this side's window."""
        return self.model.predict_proba(np.asarray(features, np.float64))

    def predict_samples(self, samples: np.ndarray) -> np.ndarray:
        """(k,) probabilities for a live window of (n, 3) samples in g."""
        return self.predict_features(compute_features(samples, self.window))


@dataclass(frozen=True)
class Comparison:
    left: TrainedSide
    right: TrainedSide

    def predict_samples(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Both sides' probabilities for the same movement (features per side's window)."""
        return self.left.predict_samples(samples), self.right.predict_samples(samples)

    def predict_features(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Both sides' probabilities for one feature vector; both sides must share its window."""
        if self.left.window != self.right.window:
            raise DatasetFormatError(
                "the two datasets use different data windows; compare live movements with "
                "predict_samples instead"
            )
        return self.left.predict_features(features), self.right.predict_features(features)


@dataclass(frozen=True)
class ComparisonPicture:
    """What ``draw_comparison`` shows for one side."""

    name: str
    classes: tuple[str, ...]
    accuracy: float
    confusion: np.ndarray  # (k, k) counts, rows = true action
    n_recordings: int
    live: np.ndarray | None  # (k,) probabilities for the current movement, or None


@dataclass(frozen=True)
class SideFeatures:
    """One side's recordings as the trainer needs them: features, labels, names, window."""

    name: str
    features: np.ndarray  # (m, 24)
    labels: np.ndarray  # (m,)
    classes: tuple[str, ...]
    window: DataWindow


def side_features(name: str, dataset: Dataset) -> SideFeatures:
    """The features of one dataset's recordings, with the data window its recordings need."""
    samples = dataset.sample_arrays()
    if not samples:
        raise DatasetFormatError(f"{name!r} has no recordings to train on")
    window = choose_window([len(s) for s in samples])
    return SideFeatures(
        name, feature_matrix(samples, window), dataset.labels(), tuple(dataset.class_names), window
    )


def train_side_features(side: SideFeatures, kind: str = "nn", seed: int = 0) -> TrainedSide:
    """Cross-validated estimate and final model for one side's features."""
    classes = list(side.classes)
    evaluation = cross_validate(side.features, side.labels, classes, side.window, kind=kind)
    model = train_model(side.features, side.labels, classes, side.window, kind=kind, seed=seed)
    return TrainedSide(side.name, side.classes, side.window, evaluation, model, len(side.labels))


def train_side(name: str, dataset: Dataset, kind: str = "nn", seed: int = 0) -> TrainedSide:
    """Features, cross-validated estimate and final model for one dataset."""
    return train_side_features(side_features(name, dataset), kind, seed)


def compare_datasets(
    left: Dataset, right: Dataset, names: tuple[str, str] = ("Before", "Now"), kind: str = "nn"
) -> Comparison:
    """Train both datasets the way the train screen does."""
    return Comparison(train_side(names[0], left, kind), train_side(names[1], right, kind))


def comparison_pictures(
    comparison: Comparison, live: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[ComparisonPicture, ComparisonPicture]:
    """The two sides as plain values to draw; ``live`` from ``Comparison.predict_*``."""
    sides = (comparison.left, comparison.right)
    lives = (None, None) if live is None else live
    return tuple(  # type: ignore[return-value]
        ComparisonPicture(
            side.name,
            side.classes,
            side.evaluation.accuracy,
            side.evaluation.confusion,
            side.n_recordings,
            None if p is None else np.asarray(p, np.float64),
        )
        for side, p in zip(sides, lives, strict=True)
    )
