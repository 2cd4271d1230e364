"""The TFLite runtime runs the kiosk's model files and gives what the numpy network gives.

Real-data checks use CreateAI's reference feature vectors for real micro:bit
recordings and a scikit-learn MLP trained on them inside the test.
"""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.errors import DatasetFormatError, KioskError
from kiosk.ml import runtime
from kiosk.ml.runtime import TFLiteClassifier, bench_runtime, load_interpreter_class
from kiosk.ml.tflite_writer import network_to_tflite
from tests.ml.tflite_fixtures import feature_sets, random_network, train_network

FLOAT_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def real_models():
    """(feature set, trained model) for every reference set and data window."""
    return [(features, train_network(features)) for features in feature_sets()]


@pytest.mark.parametrize(
    ("sizes", "final"),
    [
        ((24, 16, 3), "softmax"),
        ((24, 32, 16, 5), "softmax"),
        ((24, 2), "softmax"),
        ((24, 8, 4), "linear"),
        ((7, 3), "relu"),
    ],
)
def test_float_model_matches_numpy_forward_on_random_networks(sizes, final):
    rng = np.random.default_rng(sum(sizes))
    network = random_network(rng, sizes, final)
    classifier = TFLiteClassifier.from_bytes(network_to_tflite(network))
    x = rng.normal(scale=2.0, size=(200, sizes[0]))
    got = classifier.predict_proba(x)
    assert got.dtype == np.float32 and got.shape == (200, sizes[-1])
    np.testing.assert_allclose(got, network.forward(x), rtol=0, atol=FLOAT_TOLERANCE)
    assert not classifier.is_int8
    assert classifier.info == network.info


def test_float_model_matches_forward_and_sklearn_on_real_features(real_models):
    for features, model in real_models:
        classifier = TFLiteClassifier.from_bytes(network_to_tflite(model.network))
        got = classifier.predict_proba(features.x_all)
        np.testing.assert_allclose(
            got,
            model.network.forward(features.x_all),
            rtol=0,
            atol=FLOAT_TOLERANCE,
            err_msg=features.name,
        )
        # The folded network is the scikit-learn model: standardise-then-MLP.
        np.testing.assert_allclose(
            got,
            model.sklearn_proba(features.x_all),
            rtol=0,
            atol=FLOAT_TOLERANCE,
            err_msg=features.name,
        )
        assert classifier.info.classes == features.info.classes
        assert classifier.info.window == features.info.window


def test_one_window_gives_the_same_probabilities_alone_or_in_a_batch(real_models):
    features, model = real_models[0]
    classifier = TFLiteClassifier.from_bytes(network_to_tflite(model.network))
    batch = classifier.predict_proba(features.x_all)
    for row in range(len(features.x_all)):
        single = classifier.predict_proba(features.x_all[row])
        assert single.shape == (len(features.info.classes),)
        np.testing.assert_array_equal(single, batch[row])


def test_results_are_copies_not_views_of_the_interpreter(real_models):
    features, model = real_models[0]
    classifier = TFLiteClassifier.from_bytes(network_to_tflite(model.network))
    first = classifier.predict_proba(features.x_all[0])
    kept = first.copy()
    second = classifier.predict_proba(features.x_all[-1])
    assert not np.array_equal(kept, second)  # different windows, different outputs
    np.testing.assert_array_equal(first, kept)  # the next call did not overwrite the first


@pytest.mark.parametrize("shape", [(23,), (2, 25), (24, 1), (2, 3, 24), ()])
def test_wrong_feature_shape_is_refused(shape):
    network = random_network(np.random.default_rng(1))
    classifier = TFLiteClassifier.from_bytes(network_to_tflite(network))
    with pytest.raises(ValueError, match="shape"):
        classifier.predict_proba(np.zeros(shape))


def test_from_path_reads_a_model_file(tmp_path):
    network = random_network(np.random.default_rng(2))
    path = tmp_path / "model.tflite"
    path.write_bytes(network_to_tflite(network))
    classifier = TFLiteClassifier.from_path(path)
    x = np.random.default_rng(3).normal(size=24)
    np.testing.assert_allclose(
        classifier.predict_proba(x), network.forward(x), atol=FLOAT_TOLERANCE
    )


def test_missing_model_file_is_a_dataset_format_error(tmp_path):
    with pytest.raises(DatasetFormatError, match="cannot read model file"):
        TFLiteClassifier.from_path(tmp_path / "absent.tflite")


def test_interpreter_class_comes_from_an_installed_runtime():
    interpreter_class = load_interpreter_class()
    assert interpreter_class.__name__ == "Interpreter"
    assert interpreter_class.__module__.split(".")[0] in {"tflite_runtime", "ai_edge_litert"}


def test_no_runtime_installed_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(runtime, "_INTERPRETER_MODULES", ("no_such_runtime.interpreter",))
    with pytest.raises(KioskError, match="tflite-runtime"):
        load_interpreter_class()


def test_bench_runtime_reports_both_timings():
    figures = bench_runtime(repeats=20)
    assert set(figures) == {"tflite_predict_ms", "sklearn_predict_ms", "sklearn_over_tflite"}
    assert all(np.isfinite(value) and value > 0 for value in figures.values())


# --- int8 ----------------------------------------------------------------------------------

INT8_MIN_AGREEMENT = 0.99
INT8_MAX_PROBABILITY_ERROR = 0.05


@pytest.mark.parametrize(("hidden", "seed"), [((16,), 0), ((32,), 1), ((16, 16), 2)])
def test_int8_model_agrees_with_float_on_real_windows(hidden, seed):
    """Calibrated on the training features; judged on every real window, held-out ones too."""
    for features in feature_sets():
        model = train_network(features, hidden, seed)
        model_bytes = network_to_tflite(model.network, int8=True, representative=features.x_train)
        classifier = TFLiteClassifier.from_bytes(model_bytes)
        assert classifier.is_int8
        assert classifier.info == features.info
        got = classifier.predict_proba(features.x_all)
        expected = model.network.forward(features.x_all)
        assert got.dtype == np.float32 and got.shape == expected.shape
        agreement = np.mean(got.argmax(axis=1) == expected.argmax(axis=1))
        error = np.abs(got - expected).max()
        assert agreement >= INT8_MIN_AGREEMENT, (features.name, agreement)
        assert error <= INT8_MAX_PROBABILITY_ERROR, (features.name, error)
        np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=0.02)


def test_int8_model_is_not_just_the_float_model(real_models):
    """The quantised model really runs quantised: outputs differ and sit on the int8 grid."""
    features, model = real_models[0]
    float_bytes = network_to_tflite(model.network)
    int8_bytes = network_to_tflite(model.network, int8=True, representative=features.x_train)
    float_out = TFLiteClassifier.from_bytes(float_bytes).predict_proba(features.x_all)
    int8_out = TFLiteClassifier.from_bytes(int8_bytes).predict_proba(features.x_all)
    assert not np.array_equal(float_out, int8_out)
    # int8 softmax outputs are multiples of 1/256.
    np.testing.assert_allclose(int8_out * 256, np.round(int8_out * 256), atol=1e-3)


def test_int8_linear_output_network_runs():
    rng = np.random.default_rng(5)
    network = random_network(rng, (24, 8, 4), "linear")
    x = rng.normal(size=(300, 24))
    classifier = TFLiteClassifier.from_bytes(
        network_to_tflite(network, int8=True, representative=x)
    )
    expected = network.forward(x)
    span = expected.max() - expected.min()
    assert np.abs(classifier.predict_proba(x) - expected).max() < 0.05 * span
