"""Few recordings per move: seeded learning curves, the scaling's prior, and no collapse at one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from kiosk.cli import main
from kiosk.dataset import Dataset
from kiosk.ml.evaluation import (
    NotEnoughRecordingsError,
    few_shot_draws,
    fresh_estimator,
    learning_curve,
)
from kiosk.ml.features import FEATURE_NAMES, feature_matrix, fingerprint_ranges
from kiosk.ml.runtime import TFLiteClassifier
from kiosk.ml.scaling import ORIENTATION_FILTERS, PriorScaler
from kiosk.ml.training import NeighboursClassifier, NetworkClassifier
from kiosk.ml.windows import CURRENT_WINDOW, LEGACY_WINDOW, DataWindow, choose_window

REAL_SETS = (
    "shake-still-circle-data-samples-legacy.json",
    "still-wave-clap-data-samples-legacy.json",
    "dataset.json",
)


def _xy(dataset: Dataset) -> tuple[np.ndarray, np.ndarray, list[str], DataWindow]:
    arrays = dataset.sample_arrays()
    window = choose_window([len(a) for a in arrays])
    return feature_matrix(arrays, window), dataset.labels(), dataset.class_names, window


# ---- the draws ---------------------------------------------------------------------------


def test_each_draw_trains_exactly_k_per_move_and_tests_all_the_rest() -> None:
    y = np.repeat([0, 1, 2], [9, 6, 10])
    for k in (1, 2, 5, 6):
        for train, test in few_shot_draws(y, k, 10, seed=3):
            assert np.bincount(y[train], minlength=3).tolist() == [k, k, k]
            assert sorted(np.concatenate([train, test]).tolist()) == list(range(len(y)))
            assert not set(train.tolist()) & set(test.tolist())


def test_draws_depend_only_on_labels_k_seed_and_draw_number() -> None:
    y = np.repeat([0, 1], [6, 6])
    first = few_shot_draws(y, 2, 5, seed=1)
    again = few_shot_draws(y.copy(), 2, 5, seed=1)
    more = few_shot_draws(y, 2, 8, seed=1)
    for (a, b), (c, d), (e, f) in zip(first, again, more, strict=False):
        assert a.tolist() == c.tolist() == e.tolist() and b.tolist() == d.tolist() == f.tolist()
    assert [t.tolist() for t, _ in few_shot_draws(y, 2, 5, seed=2)] != [
        t.tolist() for t, _ in first
    ]
    assert len({tuple(t.tolist()) for t, _ in first}) > 1  # draws differ from each other


def test_draws_refuse_what_cannot_be_drawn() -> None:
    y = np.repeat([0, 1], [3, 5])
    with pytest.raises(NotEnoughRecordingsError, match="fewer"):
        few_shot_draws(y, 4, 2, seed=0)
    with pytest.raises(NotEnoughRecordingsError, match="no recording is left"):
        few_shot_draws(np.repeat([0, 1], [2, 2]), 2, 1, seed=0)
    with pytest.raises(ValueError):
        few_shot_draws(y, 0, 2, seed=0)


# ---- the scaling's prior -----------------------------------------------------------------


def test_prior_scale_follows_the_fingerprint_ranges() -> None:
    low, high = fingerprint_ranges(LEGACY_WINDOW)
    prior = PriorScaler(LEGACY_WINDOW, orientation_fraction=0.5, motion_fraction=0.25).prior_scale()
    for i, name in enumerate(FEATURE_NAMES):
        fraction = 0.5 if name.split("-")[0] in ORIENTATION_FILTERS else 0.25
        assert prior[i] == pytest.approx(fraction * (high[i] - low[i]))


def test_two_recordings_cannot_stretch_a_feature_beyond_its_prior() -> None:
    """The k=1 collapse's cause: two points 1 mg apart made a +-1 feature. Now they do not."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2, 24)) * 1e-3 + 1.0
    plain = PriorScaler(CURRENT_WINDOW, prior_recordings=0).fit(X)
    assert np.allclose(np.abs(plain.transform(X)), 1.0)  # plain standardisation
    scaler = PriorScaler(CURRENT_WINDOW).fit(X)
    assert np.abs(scaler.transform(X)).max() < 0.01
    assert np.all(scaler.scale_ >= scaler.prior_scale() * np.sqrt(10 / 12) - 1e-12)


def test_with_many_recordings_the_data_spread_takes_over() -> None:
    rng = np.random.default_rng(1)
    prior = PriorScaler(CURRENT_WINDOW).prior_scale()
    for n, rtol in ((20000, 0.05),):
        X = rng.normal(size=(n, 24)) * prior / 10  # spread a tenth of the prior
        scaler = PriorScaler(CURRENT_WINDOW).fit(X)
        np.testing.assert_allclose(scaler.mean_, X.mean(axis=0))
        np.testing.assert_allclose(
            scaler.scale_**2, (n * X.var(axis=0) + 10 * prior**2) / (n + 10), rtol=1e-12
        )
        np.testing.assert_allclose(scaler.scale_, X.std(axis=0), rtol=rtol)


# ---- estimators --------------------------------------------------------------------------


def test_estimators_are_shaped_like_scikit_learns() -> None:
    rng = np.random.default_rng(2)
    y = np.repeat([0, 1, 2], 6)
    X = rng.normal(size=(18, 24)) + y[:, None]
    estimator = NetworkClassifier(["a", "b", "c"], CURRENT_WINDOW, hidden_units=(8,), seed=3)
    assert not [n for n in vars(estimator) if n.endswith("_")]  # nothing learned yet
    assert estimator.fit(X, y) is estimator
    learned = {n for n in vars(estimator) if n.endswith("_")}
    assert {"network_", "scaler_mean_", "scaler_scale_", "training_features_"} <= learned
    assert estimator.network is not None and estimator.network.layers[0].n_out == 8
    fresh = fresh_estimator(estimator, "nn", ["a", "b", "c"], CURRENT_WINDOW)
    assert fresh is not estimator and not [n for n in vars(fresh) if n.endswith("_")]
    assert fresh.hidden_units == (8,) and fresh.seed == 3  # settings kept
    assert estimator.network_ is not None  # the original keeps what it learned
    knn = NeighboursClassifier(["a", "b", "c"], CURRENT_WINDOW, neighbours=1)
    assert knn.fit(X, y) is knn and knn.network is None
    assert knn.description and estimator.description != knn.description


# ---- real recordings: the goal column of the learning curve ----------------------------------


@pytest.mark.parametrize("name", REAL_SETS)
def test_one_recording_per_move_is_far_above_chance(load_real: Callable, name: str) -> None:
    """20 draws of one recording per move; plain standardisation scored 0.56 on dataset.json."""
    X, y, classes, window = _xy(load_real(name))
    point = learning_curve(X, y, classes, window, per_move=1, draws=20, seed=0)
    assert point.mean >= 0.85  # the goal, 0.88, is for the mean over the sets (slow test below)
    assert point.min >= 0.5  # no draw collapses below a coin
    before = learning_curve(
        X,
        y,
        classes,
        window,
        1,
        20,
        0,
        estimator=NetworkClassifier(classes, window, prior_recordings=0, alpha=1.0),
    )
    assert point.mean > before.mean
    # And a visitor feels it: more recordings reach CreateAI's 0.8 threshold, none wrongly more.
    assert point.recognised > before.recognised
    assert point.wrongly_recognised <= before.wrongly_recognised


@pytest.mark.slow
def test_learning_curve_meets_the_goals_on_every_real_set(load_real: Callable) -> None:
    goals = {1: 0.88, 2: 0.93, 3: 0.95, 5: 0.98}
    means: dict[int, list[float]] = {k: [] for k in goals}
    for name in REAL_SETS:
        X, y, classes, window = _xy(load_real(name))
        for k in goals:
            point = learning_curve(X, y, classes, window, per_move=k, draws=20, seed=0)
            means[k].append(point.mean)
            if k >= 3:
                assert point.mean >= 0.93, (name, k, point.mean)
                assert point.recognised >= 0.8, (name, k, point.recognised)
    for k, goal in goals.items():
        assert np.mean(means[k]) >= goal, (k, means[k])


def test_few_shot_model_exports_and_int8_agrees(load_real: Callable) -> None:
    """Trained on one recording per move, the .tflite files still give the kiosk's answers."""
    X, y, classes, window = _xy(load_real("shake-still-circle-data-samples-legacy.json"))
    train, _ = few_shot_draws(y, 1, 1, seed=0)[0]
    model = NetworkClassifier(classes, window).fit(X[train], y[train])
    expected = model.predict_proba(X)
    float_model = TFLiteClassifier.from_bytes(model.to_tflite())
    np.testing.assert_allclose(float_model.predict_proba(X), expected, atol=1e-5)
    int8_model = TFLiteClassifier.from_bytes(model.to_tflite(int8=True))
    assert int8_model.is_int8
    int8 = int8_model.predict_proba(X)
    assert np.mean(int8.argmax(axis=1) == expected.argmax(axis=1)) >= 0.95
    # Calibrated beyond the two training rows (mean +- 2 scales): no clipped probabilities.
    assert np.abs(int8 - expected).max() < 0.03
    calibration = model.calibration_features()
    assert len(calibration) == len(train) + 2
    assert (
        model.to_tflite() == NetworkClassifier(classes, window).fit(X[train], y[train]).to_tflite()
    )


def test_cli_prints_the_learning_curve(createai_dir: Path, capsys: pytest.CaptureFixture) -> None:
    path = str(createai_dir / "dataset.json")
    argv = ["evaluate", path, "--per-move", "1,2", "--draws", "4", "--seed", "7", "--json"]
    assert main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert [p["per_move"] for p in document["points"]] == [1, 2]
    for point in document["points"]:
        assert point["draws"] == 4 and len(point["accuracies"]) == 4 and point["seed"] == 7
        assert point["min"] <= point["mean"] <= point["max"]
        assert point["tested"] == [12 - 2 * point["per_move"]] * 4
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out) == document  # same file, K, N, S: same figures
    assert main(["evaluate", path, "--per-move", "1", "--draws", "3"]) == 0
    assert "K per move" in capsys.readouterr().out
    assert main(["evaluate", path, "--per-move", "9"]) == 2
    assert "fewer" in capsys.readouterr().err


@pytest.mark.slow
def test_the_prior_also_wins_on_synthetic_gestures_nobody_tuned_on() -> None:
    """12 simulated sets (4 seeds x 3 gesture mixes, 6 recordings per move), one per move.

    Measured: 0.928 against 0.883 for the model before the prior (recognised at 0.8:
    0.432 against 0.312).
    """
    from kiosk.microbit.gestures import GESTURES, synthesize

    chosen, plain = [], []
    for first in (4242, 77, 1, 900):
        for moves in (GESTURES, ("still", "shake", "circle"), ("wave", "tilt", "none", "clap")):
            arrays = [
                synthesize(g, 1.0, seed=first + 97 * c + r)
                for c, g in enumerate(moves)
                for r in range(6)
            ]
            X = feature_matrix(arrays, CURRENT_WINDOW)
            y = np.repeat(np.arange(len(moves)), 6)
            names = list(moves)
            chosen.append(learning_curve(X, y, names, CURRENT_WINDOW, 1, 10, 0).mean)
            before = NetworkClassifier(names, CURRENT_WINDOW, prior_recordings=0, alpha=1.0)
            plain.append(
                learning_curve(X, y, names, CURRENT_WINDOW, 1, 10, 0, estimator=before).mean
            )
    assert np.mean(chosen) >= np.mean(plain) + 0.02
    assert np.mean(chosen) >= 0.88
