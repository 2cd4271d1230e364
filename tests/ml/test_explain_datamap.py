"""The data map: deterministic, same transform for recordings and the live point."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.ml.datamap import TSNE_MAX_RECORDINGS, fit_data_map
from tests.ml.explain_synthetic import SIGNAL, synthetic


def test_same_data_gives_identical_points() -> None:
    X, _ = synthetic()
    mean, scale = X.mean(axis=0), X.std(axis=0)
    first = fit_data_map(X, mean, scale)
    second = fit_data_map(X.copy(), mean.copy(), scale.copy())
    assert np.array_equal(first.points, second.points)
    assert np.array_equal(first.project(X[3]), second.project(X[3]))


def test_sign_is_fixed_even_when_rows_are_reordered() -> None:
    X, _ = synthetic()
    mean, scale = X.mean(axis=0), X.std(axis=0)
    order = np.random.default_rng(1).permutation(len(X))
    base = fit_data_map(X, mean, scale)
    shuffled = fit_data_map(X[order], mean, scale)
    # An SVD may return any sign per axis; the map must not flip with row order.
    np.testing.assert_allclose(shuffled.points, base.points[order], atol=1e-9)


def test_live_projection_is_the_same_transform_as_the_recordings() -> None:
    X, _ = synthetic()
    data_map = fit_data_map(X, X.mean(axis=0), X.std(axis=0))
    for i in (0, 17, 50):
        np.testing.assert_allclose(data_map.project(X[i]), data_map.points[i], atol=1e-12)
    np.testing.assert_allclose(data_map.project_many(X), data_map.points, atol=1e-12)


def test_pca_axes_follow_the_spread_and_the_classes_separate() -> None:
    X, y = synthetic()
    # Only the signal features vary by much once standardised by a tiny noise scale.
    X = X.copy()
    noise = np.setdiff1d(np.arange(24), SIGNAL)
    X[:, noise] = X[:, noise] * 0.01
    data_map = fit_data_map(X, X.mean(axis=0), np.ones(24))
    loading = np.abs(data_map.components)
    assert set(np.argmax(loading, axis=0)) == set(SIGNAL)
    assert sum(data_map.explained) > 0.95
    centres = np.array([data_map.points[y == c].mean(axis=0) for c in range(3)])
    gaps = [np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a + 1, 3)]
    spread = max(data_map.points[y == c].std(axis=0).max() for c in range(3))
    assert min(gaps) > 3 * spread


def test_extent_contains_every_point() -> None:
    X, _ = synthetic()
    data_map = fit_data_map(X, X.mean(axis=0), X.std(axis=0))
    x0, y0, x1, y1 = data_map.extent
    assert (data_map.points[:, 0] > x0).all() and (data_map.points[:, 0] < x1).all()
    assert (data_map.points[:, 1] > y0).all() and (data_map.points[:, 1] < y1).all()


def test_tiny_datasets_do_not_crash() -> None:
    one = fit_data_map(np.ones((1, 24)), np.zeros(24), np.ones(24))
    assert one.points.shape == (1, 2)
    assert one.extent[2] > one.extent[0]
    empty = fit_data_map(np.zeros((0, 24)), np.zeros(24), np.ones(24))
    assert empty.points.shape == (0, 2)


def test_tsne_is_deterministic_and_limited_to_small_sets() -> None:
    X, _ = synthetic(n_per_class=10)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    first = fit_data_map(X, mean, scale, "tsne")
    second = fit_data_map(X, mean, scale, "tsne")
    assert np.array_equal(first.points, second.points)
    live = first.project(X[4])
    assert live.shape == (2,)
    np.testing.assert_allclose(live, first.points[4], atol=1e-3)  # its own nearest point
    big = np.zeros((TSNE_MAX_RECORDINGS + 1, 24))
    with pytest.raises(ValueError, match="PCA"):
        fit_data_map(big, mean, scale, "tsne")
