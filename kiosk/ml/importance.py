"""Which fingerprint squares matter for each action overall: permutation importance on CV folds.

The train screen's global view. For every cross-validation fold a model is
trained on the other folds; then, on the held-out recordings, one feature at a
time is replaced by values taken from random training recordings (so it no
longer says anything about the action) and the drop in the probability the
model gives the *true* action is measured. Averaged per true action, that drop
is how much the model relies on the feature to recognise that action, measured
on recordings it never saw. Everything is seeded, so the same data gives the
same picture.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import numpy as np

from kiosk.ml import evaluation
from kiosk.ml.windows import DataWindow


class Probabilistic(Protocol):
    def predict_proba(self, X: np.ndarray) -> np.ndarray: ...


Fit = Callable[[np.ndarray, np.ndarray], Probabilistic]
Folds = Iterable[tuple[np.ndarray, np.ndarray]]


def global_importance(
    X: np.ndarray,
    y: np.ndarray,
    classes: Sequence[str],
    window: DataWindow,
    kind: str = "nn",
    *,
    n_repeats: int = 5,
    seed: int = 0,
    fit: Fit | None = None,
    folds: Folds | None = None,
) -> np.ndarray:
    """(k, n_features) mean drop in the true action's probability when a feature is scrambled.

    ``fit`` and ``folds`` default to the ML core's ``train_model`` and CV folds;
    tests pass their own. An action with no held-out recordings gets a row of zeros.
    """
    X = np.asarray(X, np.float64)
    y = np.asarray(y, np.int64)
    k = len(classes)
    n_features = X.shape[1]
    if fit is None:
        from kiosk.ml.training import make_estimator

        def fit(X_fit: np.ndarray, y_fit: np.ndarray) -> Probabilistic:
            return make_estimator(kind, list(classes), window, seed).fit(X_fit, y_fit)

    # The same folds as the accuracy estimate, so "important" means important there.
    fold_list = evaluation.stratified_folds(y) if folds is None else list(folds)
    total = np.zeros((k, n_features))
    count = np.zeros(k)
    rng = np.random.default_rng(seed)
    for train_rows, test_rows in fold_list:
        model = fit(X[train_rows], y[train_rows])
        X_test, y_test = X[test_rows], y[test_rows]
        n_test = len(test_rows)
        base = np.asarray(model.predict_proba(X_test))[np.arange(n_test), y_test]
        # One batch for the whole fold: (feature, repeat, test row) copies of the test rows,
        # each with one feature replaced by that feature from a random training row.
        batch = np.tile(X_test, (n_features * n_repeats, 1)).reshape(
            n_features, n_repeats, n_test, n_features
        )
        donors = rng.integers(0, len(train_rows), size=(n_features, n_repeats, n_test))
        for f in range(n_features):
            batch[f, :, :, f] = X[train_rows][donors[f], f]
        proba = np.asarray(model.predict_proba(batch.reshape(-1, n_features)))
        scrambled = proba.reshape(n_features, n_repeats, n_test, -1)[
            :, :, np.arange(n_test), y_test
        ].mean(axis=1)  # (features, test rows)
        drop = base[None, :] - scrambled
        for c in range(k):
            rows = y_test == c
            total[c] += drop[:, rows].sum(axis=1)
            count[c] += rows.sum()
    return np.divide(total, count[:, None], out=np.zeros_like(total), where=count[:, None] > 0)
