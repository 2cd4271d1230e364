"""Global (permutation) importance finds the features that separate the actions."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kiosk.ml.importance import global_importance
from kiosk.ml.windows import CURRENT_WINDOW
from tests.ml.explain_synthetic import CLASSES, SIGNAL, synthetic


def mlp_fit(X: np.ndarray, y: np.ndarray):
    model = make_pipeline(
        StandardScaler(), MLPClassifier((16,), max_iter=1000, alpha=0.1, random_state=0)
    )
    return model.fit(X, y)


def folds(y: np.ndarray):
    return list(StratifiedKFold(4, shuffle=True, random_state=0).split(np.zeros((len(y), 1)), y))


def test_signal_features_dominate_and_result_is_deterministic() -> None:
    X, y = synthetic(n_per_class=24)
    first = global_importance(
        X, y, CLASSES, CURRENT_WINDOW, fit=mlp_fit, folds=folds(y), n_repeats=3
    )
    second = global_importance(
        X, y, CLASSES, CURRENT_WINDOW, fit=mlp_fit, folds=folds(y), n_repeats=3
    )
    assert first.shape == (3, 24)
    assert np.array_equal(first, second)
    noise = np.setdiff1d(np.arange(24), SIGNAL)
    overall = first.mean(axis=0)
    assert overall[list(SIGNAL)].min() > 3 * max(overall[noise].max(), 1e-3)
    assert abs(overall[noise].mean()) < 0.1 * overall[list(SIGNAL)].min()
    # Every action is told apart by at least one signal feature.
    for c in range(3):
        assert np.argmax(first[c]) in SIGNAL


def test_an_action_without_test_rows_gets_zeros() -> None:
    X, y = synthetic(n_per_class=12)
    keep = y != 2
    X, y = X[keep], y[keep]
    result = global_importance(
        X, y, CLASSES, CURRENT_WINDOW, fit=mlp_fit, folds=folds(y), n_repeats=2
    )
    assert np.all(result[2] == 0)
    assert result[:2].max() > 0
