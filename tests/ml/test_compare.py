"""Comparing two datasets trains each exactly as the train screen does."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.bench.explain import simulated_dataset
from kiosk.dataset import Dataset
from kiosk.errors import DatasetFormatError
from kiosk.microbit.gestures import synthesize
from kiosk.ml.compare import compare_datasets, comparison_pictures
from kiosk.ml.evaluation import cross_validate
from kiosk.ml.features import compute_features, feature_matrix
from kiosk.ml.training import train_model
from kiosk.ml.windows import CURRENT_WINDOW


@pytest.fixture(scope="module")
def comparison():
    before = simulated_dataset(3, seed=1, gestures=("still", "shake"))
    now = simulated_dataset(5, seed=2, gestures=("still", "shake", "circle"))
    return before, now, compare_datasets(before, now, ("Before", "Now"))


def test_each_side_matches_the_ml_core_run_directly(comparison) -> None:
    _, now, result = comparison
    X = feature_matrix(now.sample_arrays(), CURRENT_WINDOW)
    y = now.labels()
    direct = cross_validate(X, y, now.class_names, CURRENT_WINDOW)
    side = result.right
    assert side.name == "Now" and side.classes == ("still", "shake", "circle")
    assert side.n_recordings == 15
    assert side.evaluation.accuracy == direct.accuracy
    assert np.array_equal(side.evaluation.confusion, direct.confusion)
    model = train_model(X, y, now.class_names, CURRENT_WINDOW)
    np.testing.assert_array_equal(side.model.predict_proba(X), model.predict_proba(X))


def test_both_sides_predict_the_same_movement(comparison) -> None:
    _, _, result = comparison
    movement = synthesize("shake", 1.0, seed=4242)
    left, right = result.predict_samples(movement)
    assert left.shape == (2,) and right.shape == (3,)
    np.testing.assert_allclose([left.sum(), right.sum()], 1.0, atol=1e-5)
    assert np.argmax(left) == 1 and np.argmax(right) == 1  # both recognise the shake
    features = compute_features(movement, CURRENT_WINDOW)
    by_features = result.predict_features(features)
    np.testing.assert_allclose(by_features[0], left)
    np.testing.assert_allclose(by_features[1], right)


def test_pictures_carry_each_sides_figures(comparison) -> None:
    _, _, result = comparison
    live = result.predict_samples(synthesize("still", 1.0, seed=7))
    left, right = comparison_pictures(result, live)
    assert left.name == "Before" and right.name == "Now"
    assert left.accuracy == result.left.evaluation.accuracy
    assert np.array_equal(right.confusion, result.right.evaluation.confusion)
    np.testing.assert_allclose(right.live, live[1])
    assert comparison_pictures(result)[0].live is None


def test_empty_dataset_is_refused_with_a_clear_message() -> None:
    with pytest.raises(DatasetFormatError, match="no recordings"):
        compare_datasets(Dataset(()), simulated_dataset(3))
