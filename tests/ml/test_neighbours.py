"""The numpy nearest-neighbours vote gives scikit-learn's answers, so KNN can run live."""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from kiosk.dataset import Dataset
from kiosk.ml.features import feature_matrix
from kiosk.ml.neighbours import neighbour_vote
from kiosk.ml.training import NeighboursClassifier
from kiosk.ml.windows import DataWindow, choose_window

SSC = "shake-still-circle-data-samples-legacy.json"
SSC_TEST = "shake-still-circle-legacy-test-data.json"


def _xy(dataset: Dataset, window: DataWindow | None = None):
    arrays = dataset.sample_arrays()
    window = window or choose_window([len(a) for a in arrays])
    return feature_matrix(arrays, window), dataset.labels(), dataset.class_names, window


@pytest.mark.parametrize("k", [1, 3, 5])
def test_the_vote_equals_scikit_learns_on_real_recordings(load_real: Callable, k: int) -> None:
    X, y, classes, window = _xy(load_real(SSC))
    X_test, _, _, _ = _xy(load_real(SSC_TEST), window)
    model = NeighboursClassifier(classes, window, neighbours=k).fit(X, y)
    mean, scale = model.scaler_mean, model.scaler_scale
    reference = KNeighborsClassifier(n_neighbors=k, weights="distance").fit((X - mean) / scale, y)
    for points in (X_test, X[:10]):  # unseen windows, and training rows (distance 0)
        expected = reference.predict_proba((points - mean) / scale)
        np.testing.assert_allclose(model.predict_proba(points), expected, atol=1e-9)


def test_an_exact_match_outvotes_everything_and_rows_sum_to_one() -> None:
    train = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    labels = np.array([0, 1, 1])
    votes = neighbour_vote(train, labels, 2, np.array([[0.0, 0.0], [0.9, 0.1]]), 3)
    np.testing.assert_allclose(votes[0], [1.0, 0.0])
    assert votes[1, 1] > votes[1, 0]
    np.testing.assert_allclose(votes.sum(axis=1), 1.0)
    with pytest.raises(ValueError):
        neighbour_vote(train, labels, 2, np.zeros((1, 3)), 3)


def test_a_fitted_knn_model_unpickles_without_scikit_learn(load_real: Callable) -> None:
    """What the training child sends must load in a process that never imports scikit-learn."""
    X, y, classes, window = _xy(load_real(SSC))
    model = NeighboursClassifier(classes, window).fit(X, y)
    probe = (
        "import pickle, sys\n"
        "model = pickle.loads(sys.stdin.buffer.read())\n"
        "p = model.predict_proba(model.training_features[:3])\n"
        "assert 'sklearn' not in sys.modules, 'scikit-learn was loaded'\n"
        "print(p.argmax(axis=1).tolist())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        input=pickle.dumps(model),
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip() == str(model.predict(X[:3]).tolist())
