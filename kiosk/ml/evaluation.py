"""How well a model will recognise new recordings: honest estimates and confusion matrices.

Accuracy on the training recordings says little about a model trained on a
dozen of them, so the kiosk estimates it with stratified k-fold cross
validation: each recording is predicted by a model that never saw it. ``k``
comes from the data (five folds, fewer when an action has fewer recordings),
and the folds are fixed by a seed so the same recordings give the same figure.
The same ``Evaluation`` also reports a train/test split or given folds (the
CreateAI comparison protocols).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kiosk.errors import DatasetFormatError
from kiosk.ml.training import ScaledClassifier, make_estimator
from kiosk.ml.windows import DataWindow

MAX_FOLDS = 5
FOLD_SEED = 0
RECOGNITION_THRESHOLD = 0.8  # CreateAI's default per-move threshold


class NotEnoughRecordingsError(DatasetFormatError):
    """An action has too few recordings for an honest accuracy estimate."""


@dataclass(frozen=True)
class Evaluation:
    """Held-out predictions summarised: accuracy and a confusion matrix (rows = true class)."""

    accuracy: float
    classes: tuple[str, ...]
    confusion: np.ndarray  # (k, k) int64, rows true class, columns predicted class
    n: int  # predictions counted
    predicted: np.ndarray  # (n,) predicted class per evaluated row, in row order
    k_folds: int  # 0 for a train/test split

    def to_json(self) -> dict[str, object]:
        return {
            "accuracy": self.accuracy,
            "classes": list(self.classes),
            "confusion": self.confusion.tolist(),
            "n": self.n,
        }


def choose_k(y: np.ndarray) -> int:
    """Folds for stratified CV: five, or the smallest action's recording count if lower."""
    counts = np.bincount(np.asarray(y, dtype=np.int64))
    present = counts[counts > 0]
    smallest = int(present.min()) if present.size else 0
    if smallest < 2:
        raise NotEnoughRecordingsError(
            "an honest accuracy estimate needs at least 2 recordings of every action; "
            "record some more"
        )
    return min(MAX_FOLDS, smallest)


def stratified_folds(y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train rows, test rows) folds ``cross_validate`` uses, fixed for given labels."""
    from sklearn.model_selection import StratifiedKFold  # here: the UI process never needs it

    y = np.asarray(y, dtype=np.int64)
    splitter = StratifiedKFold(n_splits=choose_k(y), shuffle=True, random_state=FOLD_SEED)
    return list(splitter.split(np.zeros((len(y), 1)), y))


def fresh_estimator(
    estimator: ScaledClassifier | None, kind: str, classes: Sequence[str], window: DataWindow
) -> ScaledClassifier:
    """An unfitted copy of ``estimator`` (its settings, none of its learned state), or the
    default estimator of ``kind``."""
    if estimator is None:
        return make_estimator(kind, classes, window)
    fresh = copy.copy(estimator)
    for name in [n for n in vars(fresh) if n.endswith("_") and not n.startswith("_")]:
        delattr(fresh, name)
    return fresh


def cross_validate(
    X: np.ndarray,
    y: np.ndarray,
    classes: Sequence[str],
    window: DataWindow,
    kind: str = "nn",
    *,
    estimator: ScaledClassifier | None = None,
) -> Evaluation:
    """Stratified k-fold estimate of accuracy on recordings the model has not seen."""
    folds = stratified_folds(y)
    return evaluate_folds(
        X, y, classes, window, [test for _, test in folds], kind=kind, estimator=estimator
    )


def evaluate_folds(
    X: np.ndarray,
    y: np.ndarray,
    classes: Sequence[str],
    window: DataWindow,
    test_folds: Sequence[np.ndarray],
    kind: str = "nn",
    *,
    estimator: ScaledClassifier | None = None,
) -> Evaluation:
    """Pooled predictions over given test folds (each trained on all other rows)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    predicted = np.full(len(y), -1, dtype=np.int64)
    for test in test_folds:
        test = np.asarray(test, dtype=np.int64)
        train = np.setdiff1d(np.arange(len(y)), test)
        model = fresh_estimator(estimator, kind, classes, window).fit(X[train], y[train])
        predicted[test] = model.predict(X[test])
    rows = predicted >= 0
    return _summary(y[rows], predicted[rows], classes, len(test_folds))


def evaluate_split(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    classes: Sequence[str],
    window: DataWindow,
    kind: str = "nn",
    *,
    estimator: ScaledClassifier | None = None,
) -> Evaluation:
    """Train on one set, predict another (e.g. CreateAI's separate test file)."""
    model = fresh_estimator(estimator, kind, classes, window).fit(X_train, y_train)
    predicted = model.predict(X_test) if len(X_test) else np.zeros(0, dtype=np.int64)
    return _summary(np.asarray(y_test, dtype=np.int64), predicted, classes, 0)


@dataclass(frozen=True)
class LearningCurvePoint:
    """Accuracy with exactly ``per_move`` training recordings per move, over seeded draws."""

    per_move: int
    seed: int
    accuracies: tuple[float, ...]  # one per draw, on all the recordings the draw left out
    tested: tuple[int, ...]  # recordings tested in each draw
    # What a visitor feels: the share of tested recordings that CreateAI's rule
    # (``detect_action``, every move at ``threshold``) recognises as their move,
    # and the share it recognises as another move; mean over the draws.
    recognised: float = 0.0
    wrongly_recognised: float = 0.0
    threshold: float = 0.8

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies))

    @property
    def min(self) -> float:
        return float(np.min(self.accuracies))

    @property
    def max(self) -> float:
        return float(np.max(self.accuracies))

    def to_json(self) -> dict[str, object]:
        return {
            "per_move": self.per_move,
            "draws": len(self.accuracies),
            "seed": self.seed,
            "mean": self.mean,
            "min": self.min,
            "max": self.max,
            "accuracies": list(self.accuracies),
            "tested": list(self.tested),
            "threshold": self.threshold,
            "recognised": self.recognised,
            "wrongly_recognised": self.wrongly_recognised,
        }


def few_shot_draws(
    y: np.ndarray, per_move: int, draws: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train rows, test rows) of each draw: exactly ``per_move`` rows of every move train.

    The draws depend only on the labels (the file's order), ``per_move``, ``seed``
    and the draw's number: the generator is seeded with (seed, per_move), and
    asking for more draws adds draws without changing the first ones.
    """
    y = np.asarray(y, dtype=np.int64)
    if per_move < 1 or draws < 1:
        raise ValueError("per_move and draws must be at least 1")
    moves = np.unique(y)
    short = [int(c) for c in moves if np.count_nonzero(y == c) < per_move]
    if short:
        raise NotEnoughRecordingsError(
            f"{per_move} training recordings per move need at least {per_move} of every move; "
            f"move(s) {short} have fewer"
        )
    rng = np.random.default_rng(np.random.SeedSequence([seed, per_move]))
    result = []
    for _ in range(draws):
        train = np.sort(
            np.concatenate(
                [rng.choice(np.flatnonzero(y == c), size=per_move, replace=False) for c in moves]
            )
        )
        test = np.setdiff1d(np.arange(len(y)), train)
        if len(test) == 0:
            raise NotEnoughRecordingsError(
                f"with {per_move} training recordings per move no recording is left to test"
            )
        result.append((train, test))
    return result


def learning_curve(
    X: np.ndarray,
    y: np.ndarray,
    classes: Sequence[str],
    window: DataWindow,
    per_move: int,
    draws: int = 20,
    seed: int = 0,
    kind: str = "nn",
    *,
    estimator: ScaledClassifier | None = None,
    threshold: float = RECOGNITION_THRESHOLD,
) -> LearningCurvePoint:
    """Few-shot accuracy: per draw, ``per_move`` recordings of each move train, the rest test."""
    from kiosk.ml.predictor import detect_action  # numpy only

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    thresholds = np.full(len(classes), threshold)
    accuracies, tested, recognised, wrong = [], [], [], []
    for train, test in few_shot_draws(y, per_move, draws, seed):
        model = fresh_estimator(estimator, kind, classes, window).fit(X[train], y[train])
        proba = np.atleast_2d(model.predict_proba(X[test]))
        accuracies.append(float(np.mean(np.argmax(proba, axis=1) == y[test])))
        tested.append(len(test))
        detected = [detect_action(row, thresholds) for row in proba]
        recognised.append(np.mean([d == t for d, t in zip(detected, y[test], strict=True)]))
        wrong.append(
            np.mean([d is not None and d != t for d, t in zip(detected, y[test], strict=True)])
        )
    return LearningCurvePoint(
        per_move,
        seed,
        tuple(accuracies),
        tuple(tested),
        recognised=float(np.mean(recognised)),
        wrongly_recognised=float(np.mean(wrong)),
        threshold=threshold,
    )


def confusion_matrix(y_true: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """(k, k) counts, rows = true class, columns = predicted class."""
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(predicted)), 1)
    return matrix


def _summary(
    y_true: np.ndarray, predicted: np.ndarray, classes: Sequence[str], k_folds: int
) -> Evaluation:
    n = len(y_true)
    accuracy = float(np.mean(predicted == y_true)) if n else 0.0
    return Evaluation(
        accuracy=accuracy,
        classes=tuple(classes),
        confusion=confusion_matrix(y_true, predicted, len(classes)),
        n=n,
        predicted=np.asarray(predicted, dtype=np.int64),
        k_folds=k_folds,
    )
