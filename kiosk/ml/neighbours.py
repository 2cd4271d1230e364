"""The nearest-neighbours vote in plain numpy, so the touchscreen can run it live.

scikit-learn's ``KNeighborsClassifier`` (``weights="distance"``) is what the
kiosk measured KNN with, but it must not be loaded in the touchscreen process
(~75 MB with scipy; see ``kiosk.ml.training``). This is the same rule: the
``k`` training rows nearest in Euclidean distance each vote with weight
1 / distance; a row at distance 0 outvotes everything (only exact matches
vote, with weight 1). ``tests/ml/test_neighbours.py`` holds it against
scikit-learn on the real recordings.

With a few hundred rows of 24 features a brute-force distance is a few
microseconds per window, fast enough for every sample at 50 Hz on a Pi.
"""

from __future__ import annotations

import numpy as np


def neighbour_vote(
    train: np.ndarray, labels: np.ndarray, n_classes: int, points: np.ndarray, k: int
) -> np.ndarray:
    """(m, d) ``points`` -> (m, n_classes) distance-weighted votes of the ``k`` nearest rows.

    ``train`` (n, d) and ``points`` are in the same (scaled) space; ``labels``
    (n,) are class indices. Each output row sums to 1.
    """
    train = np.asarray(train, np.float64)
    labels = np.asarray(labels, np.int64)
    x = np.atleast_2d(np.asarray(points, np.float64))
    if train.ndim != 2 or len(train) == 0 or x.shape[1] != train.shape[1]:
        raise ValueError(f"expected points (m, {train.shape[-1]}) and a non-empty training set")
    k = max(1, min(int(k), len(train)))
    # Exact squared distances (no |a|^2 + |b|^2 - 2ab shortcut, whose rounding can
    # turn an exact match into a tiny non-zero distance).
    distances = np.sqrt(((x[:, None, :] - train[None, :, :]) ** 2).sum(axis=2))
    nearest = np.argsort(distances, axis=1, kind="stable")[:, :k]
    near_d = distances[np.arange(len(x))[:, None], nearest]
    exact = near_d == 0.0
    weights = np.divide(1.0, near_d, out=np.zeros_like(near_d), where=~exact)
    has_exact = exact.any(axis=1)
    weights[has_exact] = exact[has_exact].astype(np.float64)
    # One bincount over (row, class) cells: far cheaper per call than np.add.at.
    cells = (np.arange(len(x))[:, None] * n_classes + labels[nearest]).reshape(-1)
    votes = np.bincount(cells, weights.reshape(-1), minlength=len(x) * n_classes)
    votes = votes.reshape(len(x), n_classes)
    return votes / votes.sum(axis=1, keepdims=True)
