"""Nearest recordings equal a brute-force search in the model's standardised space."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from kiosk.ml.similar import NearestIndex, nearest_recordings


def brute_force(
    X: np.ndarray, mean: np.ndarray, scale: np.ndarray, x: np.ndarray, k: int
) -> list[tuple[int, float]]:
    rows = []
    for i, row in enumerate(X):
        d = float(np.sqrt(sum(((row[j] - x[j]) / scale[j]) ** 2 for j in range(len(x)))))
        rows.append((d, i))
    rows.sort()
    return [(i, d) for d, i in rows[:k]]


@pytest.mark.parametrize("seed", range(5))
def test_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 24)) * rng.uniform(0.1, 50, size=24)
    model = SimpleNamespace(scaler_mean=X.mean(axis=0), scaler_scale=X.std(axis=0))
    index = NearestIndex.from_model(model, X)
    for _ in range(10):
        x = rng.normal(size=24) * 10
        for k in (1, 3, 7):
            got = index.query(x, k)
            want = brute_force(X, model.scaler_mean, model.scaler_scale, x, k)
            assert [i for i, _ in got] == [i for i, _ in want]
            np.testing.assert_allclose([d for _, d in got], [d for _, d in want], rtol=1e-9)
            assert got == nearest_recordings(model, X, x, k)


def test_standardisation_changes_the_answer() -> None:
    # Feature 0 spreads over ~100 units in training, feature 1 over ~0.1: in raw units
    # feature 0 would decide alone; standardised, the 1-unit gap on feature 1 is huge.
    X = np.array([[0.0, 1.0], [10.0, 0.0]])
    query = np.array([9.0, 1.0])
    assert NearestIndex(X, np.zeros(2), np.ones(2)).query(query, 1)[0][0] == 1
    assert NearestIndex(X, np.zeros(2), np.array([100.0, 0.1])).query(query, 1)[0][0] == 0


def test_ties_are_ordered_by_row_and_k_is_capped() -> None:
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [3.0, 3.0]])
    index = NearestIndex(X, np.zeros(2), np.ones(2))
    assert [i for i, _ in index.query(np.zeros(2), 3)] == [0, 1, 2]
    assert [i for i, _ in index.query(np.zeros(2), 10)] == [0, 1, 2, 3]
    assert index.query(np.zeros(2), 0) == []


def test_constant_feature_does_not_divide_by_zero() -> None:
    X = np.array([[1.0, 2.0], [1.0, 3.0]])
    index = NearestIndex(X, X.mean(axis=0), X.std(axis=0))
    ((row, distance),) = index.query(np.array([1.0, 2.9]), 1)
    assert row == 1 and np.isfinite(distance)


def test_empty_training_set() -> None:
    index = NearestIndex(np.zeros((0, 24)), np.zeros(24), np.ones(24))
    assert index.query(np.zeros(24), 3) == []
