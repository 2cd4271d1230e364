"""LiveExplainer joins saliency, similar recordings and the map for one live sample."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from kiosk.ml.explain import (
    LiveExplainer,
    average_fingerprints,
    display_strength,
    importance_strength,
    occlusion_saliency,
)
from kiosk.ml.network import DenseNetwork
from kiosk.ml.saliency import saliency
from kiosk.ml.similar import NearestIndex
from tests.ml.explain_synthetic import CLASSES, SIGNAL, fit_network, synthetic


def fake_model(folded: bool) -> tuple[SimpleNamespace, np.ndarray, np.ndarray]:
    """A TrainedModel look-alike whose network takes raw (folded) or standardised input."""
    X, y = synthetic()
    network, mean, scale = fit_network(X, y)
    if folded:
        first = DenseNetwork.fold_standardisation(mean, scale, network.layers[0])
        net = DenseNetwork((first, *network.layers[1:]), network.info)

        def proba(A):
            return net.forward(A)
    else:
        net = network

        def proba(A):
            return net.forward((np.asarray(A) - mean) / scale)

    model = SimpleNamespace(
        classes=CLASSES, network=net, scaler_mean=mean, scaler_scale=scale, predict_proba=proba
    )
    return model, X, y


@pytest.mark.parametrize("folded", [True, False])
def test_live_explanation_parts_agree_with_the_pieces(folded: bool) -> None:
    model, X, y = fake_model(folded)
    fingerprints = np.clip((X - X.min(0)) / (X.max(0) - X.min(0)), 0, 1)
    predicted = y.copy()
    predicted[:4] = (y[:4] + 1) % 3
    explainer = LiveExplainer(model, X, y, fingerprints, predicted=predicted, k_similar=3)
    x = X[7] + 0.1
    live = explainer.explain(x)
    assert live.target == int(np.argmax(model.predict_proba(x[None])[0]))
    assert live.target_name == CLASSES[live.target]
    z_network = fake_model(False)[0].network
    expected = saliency(z_network, (x - model.scaler_mean) / model.scaler_scale, live.target)
    np.testing.assert_allclose(live.saliency, expected, atol=2e-3 * np.abs(expected).max())
    assert np.argmax(np.abs(live.saliency)) in SIGNAL
    rows = [s.row for s in live.similar]
    assert rows == [
        i for i, _ in NearestIndex(X, model.scaler_mean, model.scaler_scale).query(x, 3)
    ]
    assert all(s.action_name == CLASSES[y[s.row]] for s in live.similar)
    assert np.array_equal(live.similar[0].fingerprint, fingerprints[rows[0]])
    np.testing.assert_allclose(live.map_point, explainer.data_map.project(x))
    assert explainer.picture.wrong[:4].all() and not explainer.picture.wrong[4:].any()


def test_target_can_be_chosen() -> None:
    model, X, y = fake_model(True)
    explainer = LiveExplainer(model, X, y, np.zeros_like(X))
    assert explainer.explain(X[0], target=2).target == 2


def test_model_without_network_uses_occlusion() -> None:
    model, X, y = fake_model(True)
    knn_like = SimpleNamespace(
        classes=CLASSES,
        network=None,
        scaler_mean=model.scaler_mean,
        scaler_scale=model.scaler_scale,
        predict_proba=model.predict_proba,
    )
    live = LiveExplainer(knn_like, X, y, np.zeros_like(X)).explain(X[0])
    assert np.argmax(np.abs(live.saliency)) in SIGNAL


def test_occlusion_is_the_change_when_one_feature_is_averaged() -> None:
    def proba(A):
        p = 1 / (1 + np.exp(-(2 * A[:, 0] - A[:, 1])))
        return np.column_stack([1 - p, p])

    s = occlusion_saliency(proba, np.array([1.0, 1.0, 5.0]), np.zeros(3), 1)
    np.testing.assert_allclose(s, [2.0, -1.0, 0.0], atol=1e-9)


def test_average_fingerprints_and_missing_actions() -> None:
    F = np.array([[0.0, 1.0], [1.0, 1.0], [0.5, 0.0]])
    avg = average_fingerprints(F, np.array([0, 0, 2]), 3)
    np.testing.assert_allclose(avg[0], [0.5, 1.0])
    assert np.isnan(avg[1]).all()
    np.testing.assert_allclose(avg[2], [0.5, 0.0])


def test_display_strength_keeps_the_biggest_pushes() -> None:
    v = np.array([0.1, -4.0, 2.0, 0.3, 0.0, 1.0])
    out = display_strength(v, keep=2)
    np.testing.assert_allclose(out, [0, -1.0, 0.5, 0, 0, 0])
    assert not display_strength(np.zeros(4)).any()
    np.testing.assert_allclose(display_strength(v, keep=6, floor=0.2), [0, -1, 0.5, 0, 0, 0.25])


def test_importance_strength_is_per_action_and_ignores_negative() -> None:
    imp = np.array([[0.2, 0.1, -0.3], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(importance_strength(imp), [[1.0, 0.5, 0.0], [0, 0, 0]])


@pytest.fixture(scope="module")
def trained_model():
    from kiosk.ml.training import train_model
    from kiosk.ml.windows import CURRENT_WINDOW

    X, y = synthetic()
    return train_model(X, y, CLASSES, CURRENT_WINDOW), X, y


def test_with_the_ml_cores_trained_model(trained_model) -> None:
    model, X, y = trained_model
    explainer = LiveExplainer(model, X, y, np.zeros_like(X))
    tops = 0
    for x in X:
        live = explainer.explain(x)
        assert live.target == int(np.argmax(model.predict_proba(x)))
        tops += int(np.argmax(np.abs(live.saliency)) in SIGNAL)
    assert tops / len(X) > 0.9
    # The model's network has the standardisation folded in: explained in raw units
    # against the training mean, exactly as saliency() on that network gives.
    x = X[11]
    target = explainer.explain(x).target
    expected = saliency(model.network, x, target, model.scaler_mean)
    np.testing.assert_allclose(explainer.explain(x).saliency, expected, rtol=1e-9, atol=1e-12)


def test_global_importance_on_the_ml_cores_folds(trained_model) -> None:
    from kiosk.ml.importance import global_importance
    from kiosk.ml.windows import CURRENT_WINDOW

    _, X, y = trained_model
    first = global_importance(X, y, CLASSES, CURRENT_WINDOW, n_repeats=2)
    again = global_importance(X, y, CLASSES, CURRENT_WINDOW, n_repeats=2)
    assert np.array_equal(first, again)
    overall = first.mean(axis=0)
    noise = np.setdiff1d(np.arange(24), SIGNAL)
    assert overall[list(SIGNAL)].min() > 3 * max(overall[noise].max(), 1e-3)


def test_real_recordings_nearest_of_a_training_row_is_itself(load_real) -> None:
    from kiosk.ml.evaluation import cross_validate
    from kiosk.ml.features import feature_matrix, fingerprint
    from kiosk.ml.training import train_model
    from kiosk.ml.windows import choose_window

    dataset = load_real("shake-still-circle-data-samples-legacy.json")
    samples = dataset.sample_arrays()
    window = choose_window([len(s) for s in samples])
    X, y = feature_matrix(samples, window), dataset.labels()
    model = train_model(X, y, dataset.class_names, window)
    evaluation = cross_validate(X, y, dataset.class_names, window)
    explainer = LiveExplainer(model, X, y, fingerprint(X, window), predicted=evaluation.predicted)
    for row in (0, 10, 20):
        live = explainer.explain(X[row])
        assert live.similar[0].row == row and live.similar[0].distance == 0.0
        np.testing.assert_allclose(live.map_point, explainer.data_map.points[row], atol=1e-9)
    assert explainer.picture.wrong.sum() == round((1 - evaluation.accuracy) * len(y))


def test_explained_network_is_the_one_the_tflite_model_runs(trained_model) -> None:
    from kiosk.ml.runtime import TFLiteClassifier

    model, X, y = trained_model
    classifier = TFLiteClassifier.from_bytes(model.to_tflite())
    explainer = LiveExplainer(model, X, y, np.zeros_like(X))
    shipped = classifier.predict_proba(X.astype(np.float32))
    logits = explainer.saliency_explainer.logits(X)
    # The explanation's winner is the shipped model's answer, and its log-odds are the
    # shipped model's log-odds.
    assert np.array_equal(logits.argmax(axis=1), shipped.argmax(axis=1))
    for target in range(3):
        p = np.clip(shipped[:, target].astype(np.float64), 1e-6, 1 - 1e-6)
        mask = (p > 1e-4) & (p < 1 - 1e-4)  # float32 probabilities resolve log-odds here
        np.testing.assert_allclose(
            explainer.saliency_explainer.log_odds(X, target)[mask],
            (np.log(p) - np.log1p(-p))[mask],
            atol=1e-2,
        )
