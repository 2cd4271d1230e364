"""``DenseNetwork``: the float32 reference a TFLite model must match, and the folds feeding it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from kiosk.errors import DatasetFormatError
from kiosk.ml.network import DenseLayer, DenseNetwork, ModelInfo, logistic_as_softmax
from tests.ml.tflite_fixtures import feature_sets, random_network, train_network


def _reference_forward(network: DenseNetwork, x: np.ndarray) -> np.ndarray:
    """The same maths in float64, written out independently."""
    out = np.atleast_2d(np.asarray(x, dtype=np.float64))
    for layer in network.layers:
        out = out @ layer.weights.astype(np.float64) + layer.bias
        if layer.activation == "relu":
            out = np.where(out > 0, out, 0.0)
        elif layer.activation == "softmax":
            e = np.exp(out - out.max(axis=1, keepdims=True))
            out = e / e.sum(axis=1, keepdims=True)
    return out


@pytest.mark.parametrize("final", ["softmax", "linear", "relu"])
def test_forward_matches_float64_reference(final):
    rng = np.random.default_rng(0)
    network = random_network(rng, (24, 16, 8, 4), final)
    x = rng.normal(size=(50, 24))
    got = network.forward(x)
    assert got.dtype == np.float32 and got.shape == (50, 4)
    np.testing.assert_allclose(got, _reference_forward(network, x), rtol=1e-4, atol=1e-5)
    if final == "softmax":
        np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-6)


def test_forward_of_one_window_is_a_vector():
    rng = np.random.default_rng(1)
    network = random_network(rng)
    x = rng.normal(size=24)
    single = network.forward(x)
    assert single.shape == (3,)
    np.testing.assert_array_equal(single, network.forward(x[None, :])[0])


def test_softmax_does_not_overflow_on_huge_logits():
    info = ModelInfo(("a", "b"), "current", ("f",))
    network = DenseNetwork(
        (DenseLayer(np.array([[1000.0, -1000.0]]), np.zeros(2), "softmax"),), info
    )
    np.testing.assert_allclose(network.forward(np.array([5.0])), [1.0, 0.0])


def test_folded_standardisation_equals_standardising_first():
    rng = np.random.default_rng(2)
    first = DenseLayer(rng.normal(size=(24, 16)), rng.normal(size=16), "relu")
    mean = rng.normal(scale=10, size=24)
    scale = rng.uniform(0.01, 50, size=24)
    folded = DenseNetwork.fold_standardisation(mean, scale, first)
    x = mean + scale * rng.normal(size=(100, 24))
    z = (x - mean) / scale
    expected = np.maximum(z @ first.weights.astype(np.float64) + first.bias, 0)
    got = np.maximum(x @ folded.weights.astype(np.float64) + folded.bias, 0)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert folded.activation == "relu"


def test_folded_network_equals_sklearn_on_real_features():
    for features in feature_sets():
        model = train_network(features)
        np.testing.assert_allclose(
            model.network.forward(features.x_all),
            model.sklearn_proba(features.x_all),
            atol=1e-5,
            err_msg=features.name,
        )


def test_logistic_output_becomes_an_equal_two_way_softmax():
    rng = np.random.default_rng(3)
    logistic = DenseLayer(rng.normal(size=(8, 1)), rng.normal(size=1), "linear")
    x = rng.normal(size=(40, 8)).astype(np.float32)
    z = (x @ logistic.weights + logistic.bias)[:, 0].astype(np.float64)
    sigmoid = 1 / (1 + np.exp(-z))
    info = ModelInfo(("no", "yes"), "current", tuple(f"f{i}" for i in range(8)))
    network = DenseNetwork((logistic_as_softmax(logistic),), info)
    np.testing.assert_allclose(network.forward(x), np.c_[1 - sigmoid, sigmoid], atol=1e-6)


def test_fold_refuses_zero_scale():
    layer = DenseLayer(np.ones((2, 2)), np.zeros(2), "relu")
    with pytest.raises(ValueError, match="scale"):
        DenseNetwork.fold_standardisation(np.zeros(2), np.array([1.0, 0.0]), layer)
    # StandardScaler itself never gives 0: constant features get scale 1.
    scaler = StandardScaler().fit(np.array([[1.0, 2.0], [1.0, 3.0]]))
    DenseNetwork.fold_standardisation(scaler.mean_, scaler.scale_, layer)


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (((24, 16, "relu"), (8, 3, "softmax")), "chain"),
        (((24, 16, "softmax"), (16, 3, "softmax")), "only the last"),
        (((24, 16, "relu"), (16, 4, "softmax")), "classes"),
        (((20, 3, "softmax"),), "features"),
        ((), "at least one"),
    ],
)
def test_inconsistent_networks_are_refused(layers, message):
    rng = np.random.default_rng(4)
    info = ModelInfo(("a", "b", "c"), "current", tuple(f"f{i}" for i in range(24)))
    built = tuple(
        DenseLayer(rng.normal(size=(n_in, n_out)), np.zeros(n_out), act)
        for n_in, n_out, act in layers
    )
    with pytest.raises(ValueError, match=message):
        DenseNetwork(built, info)


def test_bad_layers_are_refused():
    with pytest.raises(ValueError):
        DenseLayer(np.ones((3, 2)), np.zeros(3), "relu")
    with pytest.raises(ValueError):
        DenseLayer(np.ones((3, 2)), np.zeros(2), "tanh")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DenseLayer(np.full((3, 2), np.nan), np.zeros(2), "relu")


def test_model_info_json_round_trip_is_canonical():
    info = ModelInfo(("Shake", "Still"), "legacy", ("max-x", "max-y"), "mlp", {"k": [1, 2]})
    text = info.to_json()
    assert ModelInfo.from_json(text) == info
    assert ModelInfo.from_json(text).to_json() == text
    assert " " not in text  # compact, key order fixed


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"classes": [], "window": "current", "feature_names": ["a"]}',
        '{"classes": ["a"], "window": "sideways", "feature_names": ["a"]}',
        '{"classes": ["a"], "window": "current", "feature_names": [1]}',
        '{"classes": ["a"], "window": "current", "feature_names": ["a"], "extra": 3}',
        b"\xff\xfe",
    ],
)
def test_malformed_model_info_is_a_dataset_format_error(text):
    with pytest.raises(DatasetFormatError):
        ModelInfo.from_json(text)
