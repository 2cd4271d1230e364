"""Write a ``DenseNetwork`` as a ``.tflite`` file without TensorFlow, and read back its description.

The model is built with the ``flatbuffers`` package and TFLite's own schema
bindings (the ``tflite`` package): FULLY_CONNECTED ops (ReLU fused) and a final
SOFTMAX, in float32 or fully quantised to int8 (float32 in and out through
QUANTIZE / DEQUANTIZE, so callers never see integers). The ``ModelInfo`` (class
names, data window, feature names) travels inside the file as JSON in a
``Model.metadata`` buffer named ``kiosk_model_info``, so a model file alone is
enough to run it. Nothing here depends on time or randomness: the same network
gives byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import flatbuffers
import numpy as np
import tflite
from tflite.ActivationFunctionType import ActivationFunctionType
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.TensorType import TensorType

from kiosk.errors import DatasetFormatError
from kiosk.ml.network import DenseNetwork, ModelInfo
from kiosk.ml.quantize import ChannelScales, QuantParams, quantize_network

METADATA_NAME = "kiosk_model_info"
FILE_IDENTIFIER = b"TFL3"
SCHEMA_VERSION = 3
# TFLite reads constant data in place; 16-byte alignment is what its converter uses.
_BUFFER_ALIGNMENT = 16

# Operator versions as TFLite's converter assigns them for these type combinations.
_OP_VERSIONS = {
    (BuiltinOperator.FULLY_CONNECTED, False): 1,
    (BuiltinOperator.FULLY_CONNECTED, True): 4,
    (BuiltinOperator.SOFTMAX, False): 1,
    (BuiltinOperator.SOFTMAX, True): 2,
    (BuiltinOperator.QUANTIZE, True): 2,
    (BuiltinOperator.MUL, True): 1,  # float MUL/ADD of the int8 model's input normalisation
    (BuiltinOperator.ADD, True): 1,
    (BuiltinOperator.DEQUANTIZE, True): 2,
}


@dataclass
class _Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: int  # TensorType
    buffer: int = 0  # 0 is the empty buffer: activations
    quant: QuantParams | ChannelScales | None = None


@dataclass
class _Operator:
    code: int  # BuiltinOperator
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    activation: int = ActivationFunctionType.NONE


@dataclass
class _Graph:
    """Tensors, constant buffers and operators, collected before serialising."""

    int8: bool
    tensors: list[_Tensor] = field(default_factory=list)
    buffers: list[bytes] = field(default_factory=lambda: [b""])
    operators: list[_Operator] = field(default_factory=list)

    def tensor(
        self,
        name: str,
        shape: tuple[int, ...],
        dtype: int,
        data: np.ndarray | None = None,
        quant: QuantParams | ChannelScales | None = None,
    ) -> int:
        buffer = 0
        if data is not None:
            self.buffers.append(
                np.ascontiguousarray(data).astype(data.dtype.newbyteorder("<")).tobytes()
            )
            buffer = len(self.buffers) - 1
        self.tensors.append(_Tensor(name, shape, dtype, buffer, quant))
        return len(self.tensors) - 1

    def op(
        self, code: int, inputs: tuple[int, ...], outputs: tuple[int, ...], activation: int = 0
    ) -> None:
        self.operators.append(_Operator(code, inputs, outputs, activation))


def network_to_tflite(
    network: DenseNetwork, *, int8: bool = False, representative: np.ndarray | None = None
) -> bytes:
    """The network as ``.tflite`` bytes: float32, or int8 calibrated on ``representative``."""
    if int8:
        if representative is None:
            raise ValueError("an int8 model needs representative data (the training features)")
        graph = _int8_graph(network, representative)
    else:
        graph = _float_graph(network)
    return _serialise(graph, network.info)


def _activation_code(activation: str) -> int:
    return ActivationFunctionType.RELU if activation == "relu" else ActivationFunctionType.NONE


def _float_graph(network: DenseNetwork) -> _Graph:
    graph = _Graph(int8=False)
    x = graph.tensor("features", (1, network.n_in), TensorType.FLOAT32)
    for i, layer in enumerate(network.layers):
        weights = graph.tensor(
            f"dense_{i}/weights", (layer.n_out, layer.n_in), TensorType.FLOAT32, layer.weights.T
        )
        bias = graph.tensor(f"dense_{i}/bias", (layer.n_out,), TensorType.FLOAT32, layer.bias)
        out = graph.tensor(f"dense_{i}/output", (1, layer.n_out), TensorType.FLOAT32)
        graph.op(
            BuiltinOperator.FULLY_CONNECTED,
            (x, weights, bias),
            (out,),
            _activation_code(layer.activation),
        )
        x = out
    if network.layers[-1].activation == "softmax":
        probabilities = graph.tensor("probabilities", (1, network.n_out), TensorType.FLOAT32)
        graph.op(BuiltinOperator.SOFTMAX, (x,), (probabilities,))
    return graph


def _int8_graph(network: DenseNetwork, representative: np.ndarray) -> _Graph:
    quantized = quantize_network(network, representative)
    graph = _Graph(int8=True)
    features = graph.tensor("features", (1, network.n_in), TensorType.FLOAT32)
    # Float per-feature normalisation first (see kiosk.ml.quantize for why).
    n_in = network.n_in
    multiplier = graph.tensor(
        "normalise/multiplier", (n_in,), TensorType.FLOAT32, quantized.normaliser.multiplier
    )
    offset = graph.tensor(
        "normalise/offset", (n_in,), TensorType.FLOAT32, quantized.normaliser.offset
    )
    scaled = graph.tensor("normalise/scaled", (1, n_in), TensorType.FLOAT32)
    graph.op(BuiltinOperator.MUL, (features, multiplier), (scaled,))
    normalised = graph.tensor("normalise/output", (1, n_in), TensorType.FLOAT32)
    graph.op(BuiltinOperator.ADD, (scaled, offset), (normalised,))
    x = graph.tensor(
        "features_int8", (1, network.n_in), TensorType.INT8, quant=quantized.input_params
    )
    graph.op(BuiltinOperator.QUANTIZE, (normalised,), (x,))
    for i, (layer, qlayer) in enumerate(zip(network.layers, quantized.layers, strict=True)):
        weights = graph.tensor(
            f"dense_{i}/weights",
            (layer.n_out, layer.n_in),
            TensorType.INT8,
            qlayer.weights,
            qlayer.weights_params,
        )
        bias = graph.tensor(
            f"dense_{i}/bias", (layer.n_out,), TensorType.INT32, qlayer.bias, qlayer.bias_params
        )
        out = graph.tensor(
            f"dense_{i}/output", (1, layer.n_out), TensorType.INT8, quant=qlayer.output_params
        )
        graph.op(
            BuiltinOperator.FULLY_CONNECTED,
            (x, weights, bias),
            (out,),
            _activation_code(layer.activation),
        )
        x = out
    if quantized.softmax_params is not None:
        probabilities = graph.tensor(
            "probabilities_int8",
            (1, network.n_out),
            TensorType.INT8,
            quant=quantized.softmax_params,
        )
        graph.op(BuiltinOperator.SOFTMAX, (x,), (probabilities,))
        x = probabilities
    output = graph.tensor("probabilities", (1, network.n_out), TensorType.FLOAT32)
    graph.op(BuiltinOperator.DEQUANTIZE, (x,), (output,))
    return graph


# --- serialisation -----------------------------------------------------------------------


def _serialise(graph: _Graph, info: ModelInfo) -> bytes:
    builder = flatbuffers.Builder(4096)
    info_buffer = len(graph.buffers)
    buffers = [*graph.buffers, info.to_json().encode("utf-8")]

    buffer_offsets = [_buffer(builder, data) for data in buffers]
    tensor_offsets = [_tensor(builder, tensor) for tensor in graph.tensors]

    codes = sorted({op.code for op in graph.operators})
    opcode_offsets = [_operator_code(builder, code, graph.int8) for code in codes]
    operator_offsets = [_operator(builder, op, codes.index(op.code)) for op in graph.operators]

    # The graph's input is the first tensor; its output is the last operator's output.
    subgraph_inputs = _int_vector(builder, tflite.SubGraphStartInputsVector, [0])
    subgraph_outputs = _int_vector(
        builder, tflite.SubGraphStartOutputsVector, list(graph.operators[-1].outputs)
    )
    tensors = _offset_vector(builder, tflite.SubGraphStartTensorsVector, tensor_offsets)
    operators = _offset_vector(builder, tflite.SubGraphStartOperatorsVector, operator_offsets)
    subgraph_name = builder.CreateString("main")
    tflite.SubGraphStart(builder)
    tflite.SubGraphAddTensors(builder, tensors)
    tflite.SubGraphAddInputs(builder, subgraph_inputs)
    tflite.SubGraphAddOutputs(builder, subgraph_outputs)
    tflite.SubGraphAddOperators(builder, operators)
    tflite.SubGraphAddName(builder, subgraph_name)
    subgraph = tflite.SubGraphEnd(builder)

    metadata_name = builder.CreateString(METADATA_NAME)
    tflite.MetadataStart(builder)
    tflite.MetadataAddName(builder, metadata_name)
    tflite.MetadataAddBuffer(builder, info_buffer)
    metadata = tflite.MetadataEnd(builder)

    opcodes = _offset_vector(builder, tflite.ModelStartOperatorCodesVector, opcode_offsets)
    subgraphs = _offset_vector(builder, tflite.ModelStartSubgraphsVector, [subgraph])
    buffer_vector = _offset_vector(builder, tflite.ModelStartBuffersVector, buffer_offsets)
    metadata_vector = _offset_vector(builder, tflite.ModelStartMetadataVector, [metadata])
    description = builder.CreateString("kiosk dense network" + (" (int8)" if graph.int8 else ""))
    tflite.ModelStart(builder)
    tflite.ModelAddVersion(builder, SCHEMA_VERSION)
    tflite.ModelAddOperatorCodes(builder, opcodes)
    tflite.ModelAddSubgraphs(builder, subgraphs)
    tflite.ModelAddDescription(builder, description)
    tflite.ModelAddBuffers(builder, buffer_vector)
    tflite.ModelAddMetadata(builder, metadata_vector)
    model = tflite.ModelEnd(builder)
    builder.Finish(model, file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def _offset_vector(builder: flatbuffers.Builder, start, offsets: list[int]) -> int:
    start(builder, len(offsets))
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()


def _int_vector(builder: flatbuffers.Builder, start, values: list[int]) -> int:
    start(builder, len(values))
    for value in reversed(values):
        builder.PrependInt32(int(value))
    return builder.EndVector()


def _aligned_bytes(builder: flatbuffers.Builder, data: bytes) -> int:
    """A [ubyte] vector whose payload starts on a 16-byte boundary of the finished file."""
    builder.StartVector(1, len(data), _BUFFER_ALIGNMENT)
    builder.head -= len(data)
    builder.Bytes[builder.head : builder.head + len(data)] = data
    return builder.EndVector()


def _buffer(builder: flatbuffers.Builder, data: bytes) -> int:
    payload = _aligned_bytes(builder, data) if data else None
    tflite.BufferStart(builder)
    if payload is not None:
        tflite.BufferAddData(builder, payload)
    return tflite.BufferEnd(builder)


def _tensor(builder: flatbuffers.Builder, tensor: _Tensor) -> int:
    name = builder.CreateString(tensor.name)
    shape = _int_vector(builder, tflite.TensorStartShapeVector, list(tensor.shape))
    # Activations may be resized along the batch axis; constants keep fixed shapes.
    signature_shape = list(tensor.shape)
    if tensor.buffer == 0 and len(signature_shape) == 2:
        signature_shape[0] = -1
    signature = _int_vector(builder, tflite.TensorStartShapeSignatureVector, signature_shape)
    quantization = _quantization(builder, tensor.quant) if tensor.quant is not None else None
    tflite.TensorStart(builder)
    tflite.TensorAddShape(builder, shape)
    tflite.TensorAddType(builder, tensor.dtype)
    tflite.TensorAddBuffer(builder, tensor.buffer)
    tflite.TensorAddName(builder, name)
    if quantization is not None:
        tflite.TensorAddQuantization(builder, quantization)
    tflite.TensorAddShapeSignature(builder, signature)
    return tflite.TensorEnd(builder)


def _quantization(builder: flatbuffers.Builder, params: QuantParams | ChannelScales) -> int:
    if isinstance(params, ChannelScales):
        scales, zero_points = list(params.scales), [0] * len(params.scales)
    else:
        scales, zero_points = [params.scale], [params.zero_point]
    tflite.QuantizationParametersStartScaleVector(builder, len(scales))
    for value in reversed(scales):
        builder.PrependFloat32(value)
    scale = builder.EndVector()
    tflite.QuantizationParametersStartZeroPointVector(builder, len(zero_points))
    for value in reversed(zero_points):
        builder.PrependInt64(value)
    zero_point = builder.EndVector()
    tflite.QuantizationParametersStart(builder)
    tflite.QuantizationParametersAddScale(builder, scale)
    tflite.QuantizationParametersAddZeroPoint(builder, zero_point)
    # Per-channel scales run along axis 0 (output units); 0 is also the default.
    tflite.QuantizationParametersAddQuantizedDimension(builder, 0)
    return tflite.QuantizationParametersEnd(builder)


def _operator_code(builder: flatbuffers.Builder, code: int, int8: bool) -> int:
    tflite.OperatorCodeStart(builder)
    # Codes below 127 go in both fields so old and new runtimes read them.
    tflite.OperatorCodeAddDeprecatedBuiltinCode(builder, code)
    tflite.OperatorCodeAddBuiltinCode(builder, code)
    tflite.OperatorCodeAddVersion(builder, _OP_VERSIONS[(code, int8)])
    return tflite.OperatorCodeEnd(builder)


def _operator(builder: flatbuffers.Builder, op: _Operator, opcode_index: int) -> int:
    inputs = _int_vector(builder, tflite.OperatorStartInputsVector, list(op.inputs))
    outputs = _int_vector(builder, tflite.OperatorStartOutputsVector, list(op.outputs))
    options_type, options = _options(builder, op)
    tflite.OperatorStart(builder)
    tflite.OperatorAddOpcodeIndex(builder, opcode_index)
    tflite.OperatorAddInputs(builder, inputs)
    tflite.OperatorAddOutputs(builder, outputs)
    if options is not None:
        tflite.OperatorAddBuiltinOptionsType(builder, options_type)
        tflite.OperatorAddBuiltinOptions(builder, options)
    return tflite.OperatorEnd(builder)


def _options(builder: flatbuffers.Builder, op: _Operator) -> tuple[int, int | None]:
    if op.code == BuiltinOperator.FULLY_CONNECTED:
        tflite.FullyConnectedOptionsStart(builder)
        tflite.FullyConnectedOptionsAddFusedActivationFunction(builder, op.activation)
        return BuiltinOptions.FullyConnectedOptions, tflite.FullyConnectedOptionsEnd(builder)
    if op.code == BuiltinOperator.SOFTMAX:
        tflite.SoftmaxOptionsStart(builder)
        tflite.SoftmaxOptionsAddBeta(builder, 1.0)
        return BuiltinOptions.SoftmaxOptions, tflite.SoftmaxOptionsEnd(builder)
    if op.code == BuiltinOperator.MUL:
        tflite.MulOptionsStart(builder)
        tflite.MulOptionsAddFusedActivationFunction(builder, ActivationFunctionType.NONE)
        return BuiltinOptions.MulOptions, tflite.MulOptionsEnd(builder)
    if op.code == BuiltinOperator.ADD:
        tflite.AddOptionsStart(builder)
        tflite.AddOptionsAddFusedActivationFunction(builder, ActivationFunctionType.NONE)
        return BuiltinOptions.AddOptions, tflite.AddOptionsEnd(builder)
    if op.code == BuiltinOperator.QUANTIZE:
        tflite.QuantizeOptionsStart(builder)
        return BuiltinOptions.QuantizeOptions, tflite.QuantizeOptionsEnd(builder)
    if op.code == BuiltinOperator.DEQUANTIZE:
        tflite.DequantizeOptionsStart(builder)
        return BuiltinOptions.DequantizeOptions, tflite.DequantizeOptionsEnd(builder)
    return 0, None


# --- reading -------------------------------------------------------------------------------


def read_model_info(model_bytes: bytes) -> ModelInfo:
    """The ``ModelInfo`` stored in a model written by ``network_to_tflite``.

    Raises ``DatasetFormatError`` for anything that is not such a model: not a
    TFLite flatbuffer, truncated, or without the kiosk's description.
    """
    model = parse_model(model_bytes)
    try:
        for i in range(model.MetadataLength()):
            entry = model.Metadata(i)
            if entry.Name() != METADATA_NAME.encode():
                continue
            index = entry.Buffer()
            if not 0 <= index < model.BuffersLength():
                break
            data = model.Buffers(index).DataAsNumpy()
            if isinstance(data, int):  # the bindings return 0 for an absent vector
                break
            return ModelInfo.from_json(data.tobytes())
    except DatasetFormatError:
        raise
    except Exception as error:  # malformed offsets surface as assorted low-level errors
        raise DatasetFormatError(f"the model file is damaged ({type(error).__name__})") from None
    raise DatasetFormatError(
        "the model file has no kiosk description (class names); retrain the model in the kiosk"
    )


def parse_model(model_bytes: bytes) -> tflite.Model:
    """The root ``Model`` table, after the cheap checks that catch non-TFLite bytes."""
    if not isinstance(model_bytes, bytes | bytearray | memoryview):
        raise DatasetFormatError("a model must be given as bytes")
    data = bytes(model_bytes)
    if len(data) < 8 or data[4:8] != FILE_IDENTIFIER:
        raise DatasetFormatError("the file is not a TFLite model (no TFL3 identifier)")
    try:
        model = tflite.Model.GetRootAs(data, 0)
        if model.Version() != SCHEMA_VERSION:
            raise DatasetFormatError(
                f"the model uses TFLite schema version {model.Version()}, expected {SCHEMA_VERSION}"
            )
    except DatasetFormatError:
        raise
    except Exception as error:
        raise DatasetFormatError(f"the model file is damaged ({type(error).__name__})") from None
    return model
