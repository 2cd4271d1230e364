"""The ``.tflite`` writer: deterministic bytes, TFLite's schema as the runtime expects it,
the kiosk's description inside, and damaged files refused with a clear error.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import tflite
from tflite.BuiltinOperator import BuiltinOperator
from tflite.TensorType import TensorType

from kiosk.errors import DatasetFormatError
from kiosk.ml.network import DenseLayer, DenseNetwork, ModelInfo
from kiosk.ml.runtime import TFLiteClassifier
from kiosk.ml.tflite_writer import METADATA_NAME, network_to_tflite, read_model_info
from tests.ml.tflite_fixtures import feature_sets, random_network, train_network


@pytest.fixture(scope="module")
def network() -> DenseNetwork:
    return random_network(np.random.default_rng(11), (24, 16, 3))


@pytest.fixture(scope="module")
def representative() -> np.ndarray:
    return np.random.default_rng(12).normal(size=(100, 24))


def _copy(network: DenseNetwork) -> DenseNetwork:
    """The same values in freshly allocated arrays."""
    layers = tuple(
        DenseLayer(layer.weights.copy(), layer.bias.copy(), layer.activation)
        for layer in network.layers
    )
    return DenseNetwork(layers, ModelInfo(**vars(network.info)))


def test_same_network_gives_identical_bytes(network, representative):
    assert network_to_tflite(network) == network_to_tflite(_copy(network))
    int8 = network_to_tflite(network, int8=True, representative=representative)
    assert int8 == network_to_tflite(
        _copy(network), int8=True, representative=representative.copy()
    )


def test_real_training_gives_identical_bytes_twice():
    features = feature_sets()[0]
    first = network_to_tflite(train_network(features).network)
    second = network_to_tflite(train_network(features).network)
    assert first == second


def test_different_networks_give_different_bytes(network):
    other = random_network(np.random.default_rng(13), (24, 16, 3))
    assert network_to_tflite(network) != network_to_tflite(other)


def test_int8_needs_representative_data(network):
    with pytest.raises(ValueError, match="representative"):
        network_to_tflite(network, int8=True)


@pytest.mark.parametrize("int8", [False, True])
def test_model_info_travels_inside_the_file(network, representative, int8):
    info = ModelInfo(
        classes=("Shake", "Still", "Circle"),
        window="legacy",
        feature_names=network.info.feature_names,
        trainer="mlp 16 relu, lbfgs",
        extra={"accuracy": 0.97, "recordings": 25},
    )
    labelled = DenseNetwork(network.layers, info)
    model = network_to_tflite(labelled, int8=int8, representative=representative)
    assert read_model_info(model) == info


def _model(data: bytes) -> tflite.Model:
    return tflite.Model.GetRootAs(data, 0)


def _ops(model: tflite.Model) -> list[int]:
    codes = [model.OperatorCodes(i).BuiltinCode() for i in range(model.OperatorCodesLength())]
    graph = model.Subgraphs(0)
    return [codes[graph.Operators(i).OpcodeIndex()] for i in range(graph.OperatorsLength())]


def test_float_model_is_fully_connected_then_softmax(network):
    model = _model(network_to_tflite(network))
    assert model.Version() == 3
    assert _ops(model) == [
        BuiltinOperator.FULLY_CONNECTED,
        BuiltinOperator.FULLY_CONNECTED,
        BuiltinOperator.SOFTMAX,
    ]
    graph = model.Subgraphs(0)
    # Weights are stored in TFLite's (n_out, n_in) layout with the network's values.
    weights = graph.Tensors(graph.Operators(0).Inputs(1))
    assert list(weights.ShapeAsNumpy()) == [16, 24]
    stored = model.Buffers(weights.Buffer()).DataAsNumpy().view(np.float32).reshape(16, 24)
    np.testing.assert_array_equal(stored, network.layers[0].weights.T)


def test_int8_model_has_integer_layers_and_tflite_softmax_quantisation(network, representative):
    model = _model(network_to_tflite(network, int8=True, representative=representative))
    ops = _ops(model)
    assert ops[-3:] == [
        BuiltinOperator.FULLY_CONNECTED,
        BuiltinOperator.SOFTMAX,
        BuiltinOperator.DEQUANTIZE,
    ]
    assert BuiltinOperator.QUANTIZE in ops
    graph = model.Subgraphs(0)
    for index, code in enumerate(ops):
        op = graph.Operators(index)
        if code == BuiltinOperator.FULLY_CONNECTED:
            x, w, b = (graph.Tensors(op.Inputs(i)) for i in range(3))
            assert (x.Type(), w.Type(), b.Type()) == (
                TensorType.INT8,
                TensorType.INT8,
                TensorType.INT32,
            )
            assert np.all(w.Quantization().ZeroPointAsNumpy() == 0)
            # TFLite requires bias scale = input scale * weight scale.
            np.testing.assert_allclose(
                b.Quantization().ScaleAsNumpy(),
                x.Quantization().Scale(0) * w.Quantization().ScaleAsNumpy(),
                rtol=1e-6,
            )
        if code == BuiltinOperator.SOFTMAX:
            out = graph.Tensors(op.Outputs(0)).Quantization()
            assert out.Scale(0) == pytest.approx(1 / 256)
            assert out.ZeroPoint(0) == -128


def test_constant_data_is_16_byte_aligned(network, representative):
    for data in (
        network_to_tflite(network),
        network_to_tflite(network, int8=True, representative=representative),
    ):
        model = _model(data)
        for i in range(model.BuffersLength()):
            buffer = model.Buffers(i)
            if buffer.DataLength():
                start = buffer._tab.Vector(4)  # absolute offset of the payload
                assert start % 16 == 0


# --- damaged and foreign files ---------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"TFL3",
        b"not a model at all",
        json.dumps({"classes": ["a"]}).encode(),
        bytes(range(256)) * 4,
        b"\x00\x00\x00\x00TFL3" + b"\x00" * 64,
        b"\xff\xff\xff\x7fTFL3" + b"\x00" * 64,
    ],
)
def test_bytes_that_are_not_a_model_are_refused(data):
    with pytest.raises(DatasetFormatError):
        read_model_info(data)
    with pytest.raises(DatasetFormatError):
        TFLiteClassifier.from_bytes(data)


def test_truncated_models_are_refused(network, representative):
    for model in (
        network_to_tflite(network),
        network_to_tflite(network, int8=True, representative=representative),
    ):
        for length in range(0, len(model), 7):
            with pytest.raises(DatasetFormatError):
                TFLiteClassifier.from_bytes(model[:length])


def test_model_without_kiosk_description_is_refused(network):
    model = network_to_tflite(network)
    renamed = model.replace(METADATA_NAME.encode(), b"x" * len(METADATA_NAME))
    with pytest.raises(DatasetFormatError, match="no kiosk description"):
        read_model_info(renamed)
    with pytest.raises(DatasetFormatError, match="no kiosk description"):
        TFLiteClassifier.from_bytes(renamed)


def test_model_with_a_damaged_description_is_refused(network):
    model = network_to_tflite(network)
    damaged = model.replace(b'"classes"', b'"klasses"')
    assert damaged != model
    with pytest.raises(DatasetFormatError, match="class names"):
        read_model_info(damaged)


def test_randomly_damaged_models_are_refused_or_still_work(network, representative):
    """Flipped and overwritten bytes never crash the process (the runtime alone would)."""
    rng = np.random.default_rng(2024)
    models = [
        network_to_tflite(network),
        network_to_tflite(network, int8=True, representative=representative),
    ]
    refused = 0
    for trial in range(600):
        data = bytearray(models[trial % 2])
        for _ in range(int(rng.integers(1, 6))):
            data[int(rng.integers(len(data)))] = int(rng.integers(256))
        try:
            classifier = TFLiteClassifier.from_bytes(bytes(data))
        except DatasetFormatError:
            refused += 1
            continue
        probabilities = classifier.predict_proba(np.zeros(24))
        assert probabilities.shape == (3,)
    assert refused > 300  # most damage is detected, not silently run
