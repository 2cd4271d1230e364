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


# --- reading and checking ----------------------------------------------------------------
#
# The TFLite runtime trusts a model's flatbuffer: a damaged file can crash the
# process (measured: a few flipped bytes gave a segmentation fault in
# tflite-runtime 2.14). So before a model reaches the interpreter it is parsed
# here, with every vector length bounded, checked op by op for shapes, types and
# buffer sizes, and written again: only bytes identical to what this writer
# produces for the parsed content are accepted.

_MAX_ENTRIES = 256  # far above any kiosk model; bounds loops over damaged lengths
_MAX_DIM = 1 << 16
_ITEMSIZE = {TensorType.FLOAT32: 4, TensorType.INT8: 1, TensorType.INT32: 4}
_UNARY = (BuiltinOperator.SOFTMAX, BuiltinOperator.QUANTIZE, BuiltinOperator.DEQUANTIZE)
_ELEMENTWISE = (BuiltinOperator.MUL, BuiltinOperator.ADD)


def read_model_info(model_bytes: bytes) -> ModelInfo:
    """The ``ModelInfo`` stored in a model written by ``network_to_tflite``.

    Raises ``DatasetFormatError`` for anything that is not such a model: not a
    TFLite flatbuffer, truncated, damaged, or without the kiosk's description.
    """
    return check_model(model_bytes)


def check_model(model_bytes: bytes) -> ModelInfo:
    """``read_model_info`` after proving the bytes are safe to give to the TFLite runtime."""
    data = _as_bytes(model_bytes)
    try:
        graph, info = _parse(data)
        _check_graph(graph)
        rewritten = _serialise(graph, info)
    except DatasetFormatError:
        raise
    except Exception as error:  # damaged offsets surface as assorted low-level errors
        raise DatasetFormatError(
            f"the model file is damaged or cut short ({type(error).__name__}: cannot parse it); "
            "retrain the model"
        ) from None
    if rewritten != data:
        raise DatasetFormatError(
            "the model file is damaged or was not written by this kiosk; retrain the model"
        )
    return info


def _as_bytes(model_bytes: bytes) -> bytes:
    if not isinstance(model_bytes, bytes | bytearray | memoryview):
        raise DatasetFormatError("a model must be given as bytes")
    data = bytes(model_bytes)
    if len(data) < 8 or data[4:8] != FILE_IDENTIFIER:
        raise DatasetFormatError("the file is not a TFLite model (no TFL3 identifier)")
    return data


def _count(length: int, what: str) -> int:
    if not 0 <= length <= _MAX_ENTRIES:
        raise DatasetFormatError(f"the model file is damaged (implausible number of {what})")
    return length


def _numpy(vector: object) -> np.ndarray:
    # The bindings return 0 for an absent vector.
    return np.zeros(0, dtype=np.int32) if isinstance(vector, int) else np.asarray(vector)


def _parse(data: bytes) -> tuple[_Graph, ModelInfo]:
    model = tflite.Model.GetRootAs(data, 0)
    if model.Version() != SCHEMA_VERSION:
        raise DatasetFormatError(
            f"the model uses TFLite schema version {model.Version()}, expected {SCHEMA_VERSION}"
        )
    buffers = [
        _numpy(model.Buffers(i).DataAsNumpy()).astype(np.uint8).tobytes()
        for i in range(_count(model.BuffersLength(), "buffers"))
    ]
    info_buffer = None
    for i in range(_count(model.MetadataLength(), "metadata entries")):
        entry = model.Metadata(i)
        if entry.Name() == METADATA_NAME.encode():
            info_buffer = entry.Buffer()
    if info_buffer is None:
        raise DatasetFormatError(
            "the model file has no kiosk description (class names); retrain the model in the kiosk"
        )
    if info_buffer != len(buffers) - 1:
        raise DatasetFormatError("the model file is damaged (description in the wrong place)")
    info = ModelInfo.from_json(buffers[info_buffer])
    if _count(model.SubgraphsLength(), "subgraphs") != 1:
        raise DatasetFormatError("a kiosk model has exactly one subgraph")
    codes = []
    for i in range(_count(model.OperatorCodesLength(), "operator codes")):
        code = model.OperatorCodes(i)
        codes.append(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()))
    subgraph = model.Subgraphs(0)
    tensors = [
        _parse_tensor(subgraph.Tensors(i))
        for i in range(_count(subgraph.TensorsLength(), "tensors"))
    ]
    operators = [
        _parse_operator(subgraph.Operators(i), codes)
        for i in range(_count(subgraph.OperatorsLength(), "operators"))
    ]
    int8 = any(tensor.dtype == TensorType.INT8 for tensor in tensors)
    return _Graph(int8=int8, tensors=tensors, buffers=buffers[:-1], operators=operators), info


def _parse_tensor(tensor: tflite.Tensor) -> _Tensor:
    shape = tuple(int(d) for d in _numpy(tensor.ShapeAsNumpy())[:_MAX_ENTRIES])
    quant: QuantParams | ChannelScales | None = None
    parameters = tensor.Quantization()
    if parameters is not None:
        scales = _numpy(parameters.ScaleAsNumpy())[: _MAX_ENTRIES + 1]
        zero_points = _numpy(parameters.ZeroPointAsNumpy())[: _MAX_ENTRIES + 1]
        if len(scales) != len(zero_points) or len(scales) == 0:
            raise DatasetFormatError("the model file is damaged (quantisation parameters)")
        if len(scales) == 1:
            quant = QuantParams(float(scales[0]), int(zero_points[0]))
        else:
            quant = ChannelScales(tuple(float(v) for v in scales))
    return _Tensor(
        name=(tensor.Name() or b"").decode("utf-8"),
        shape=shape,
        dtype=int(tensor.Type()),
        buffer=int(tensor.Buffer()),
        quant=quant,
    )


def _parse_operator(operator: tflite.Operator, codes: list[int]) -> _Operator:
    index = operator.OpcodeIndex()
    if not 0 <= index < len(codes):
        raise DatasetFormatError("the model file is damaged (operator code out of range)")
    code = codes[index]
    activation = ActivationFunctionType.NONE
    if code == BuiltinOperator.FULLY_CONNECTED:
        options = tflite.FullyConnectedOptions()
        table = operator.BuiltinOptions()
        if table is None:
            raise DatasetFormatError("the model file is damaged (fully connected options)")
        options.Init(table.Bytes, table.Pos)
        activation = options.FusedActivationFunction()
    return _Operator(
        code=code,
        inputs=tuple(int(i) for i in _numpy(operator.InputsAsNumpy())[: _MAX_ENTRIES + 1]),
        outputs=tuple(int(i) for i in _numpy(operator.OutputsAsNumpy())[: _MAX_ENTRIES + 1]),
        activation=activation,
    )


def _check_graph(graph: _Graph) -> None:
    """Shapes, types and buffer sizes that make every op safe to run; raises if not."""

    def fail(why: str) -> None:
        raise DatasetFormatError(f"the model file is damaged ({why}); retrain the model")

    tensors = graph.tensors
    for tensor in tensors:
        if tensor.dtype not in _ITEMSIZE or len(tensor.shape) not in (1, 2):
            fail(f"tensor {tensor.name!r} has an unsupported type or rank")
        if not all(1 <= d <= _MAX_DIM for d in tensor.shape):
            fail(f"tensor {tensor.name!r} has an impossible shape")
        if not 0 <= tensor.buffer < len(graph.buffers):
            fail(f"tensor {tensor.name!r} points outside the buffers")
        size = len(graph.buffers[tensor.buffer])
        if tensor.buffer != 0 and size != int(np.prod(tensor.shape)) * _ITEMSIZE[tensor.dtype]:
            fail(f"tensor {tensor.name!r} does not match its data")
        if tensor.dtype != TensorType.FLOAT32 and not _quant_ok(tensor):
            fail(f"tensor {tensor.name!r} has bad quantisation")
    if graph.buffers[0] or not graph.operators or not tensors:
        fail("no operators")
    first = tensors[0]
    if first.buffer != 0 or first.dtype != TensorType.FLOAT32 or len(first.shape) != 2:
        fail("the input is not float32 features")
    ready = {0}  # tensors whose values exist when the next op runs
    for op in graph.operators:
        if not all(0 <= i < len(tensors) for i in (*op.inputs, *op.outputs)):
            fail("an operator uses a tensor that does not exist")
        if len(op.outputs) != 1 or op.outputs[0] in ready or tensors[op.outputs[0]].buffer != 0:
            fail("an operator writes where it must not")
        if not op.inputs or op.inputs[0] not in ready:
            fail("an operator reads a value before it is computed")
        _check_operator(op, [tensors[i] for i in op.inputs], tensors[op.outputs[0]], fail)
        ready.add(op.outputs[0])
    if tensors[graph.operators[-1].outputs[0]].dtype != TensorType.FLOAT32:
        fail("the output is not float32")


def _quant_ok(tensor: _Tensor) -> bool:
    quant = tensor.quant
    if isinstance(quant, QuantParams):
        return bool(
            np.isfinite(quant.scale) and quant.scale > 0 and -128 <= quant.zero_point <= 127
        )
    if isinstance(quant, ChannelScales):
        scales = np.asarray(quant.scales)
        return bool(
            tensor.buffer != 0
            and len(scales) == tensor.shape[0]
            and np.all(np.isfinite(scales))
            and np.all(scales > 0)
        )
    return False


def _check_operator(op: _Operator, inputs: list[_Tensor], output: _Tensor, fail) -> None:
    x = inputs[0]
    if x.buffer != 0 or len(x.shape) != 2 or x.shape[0] != 1:
        fail("an operator's input is not a single row")
    if op.code == BuiltinOperator.FULLY_CONNECTED:
        if len(inputs) != 3 or op.activation not in (
            ActivationFunctionType.NONE,
            ActivationFunctionType.RELU,
        ):
            fail("a fully connected layer is malformed")
        weights, bias = inputs[1], inputs[2]
        n_out, n_in = (*weights.shape, 0, 0)[:2]
        if (
            weights.buffer == 0
            or bias.buffer == 0
            or len(weights.shape) != 2
            or x.shape != (1, n_in)
            or bias.shape != (n_out,)
            or output.shape != (1, n_out)
        ):
            fail("a fully connected layer's shapes do not fit")
        types = (x.dtype, weights.dtype, bias.dtype, output.dtype)
        float_types = (TensorType.FLOAT32,) * 4
        int8_types = (TensorType.INT8, TensorType.INT8, TensorType.INT32, TensorType.INT8)
        if types not in (float_types, int8_types):
            fail("a fully connected layer mixes types")
    elif op.code in _UNARY:
        if len(inputs) != 1 or output.shape != x.shape:
            fail("an operator's shapes do not fit")
        expected = {
            BuiltinOperator.SOFTMAX: (x.dtype, x.dtype),
            BuiltinOperator.QUANTIZE: (TensorType.FLOAT32, TensorType.INT8),
            BuiltinOperator.DEQUANTIZE: (TensorType.INT8, TensorType.FLOAT32),
        }[op.code]
        if (x.dtype, output.dtype) != expected:
            fail("an operator has the wrong types")
    elif op.code in _ELEMENTWISE:
        if len(inputs) != 2 or output.shape != x.shape or inputs[1].shape != (x.shape[1],):
            fail("an element-wise operator's shapes do not fit")
        if {x.dtype, inputs[1].dtype, output.dtype} != {TensorType.FLOAT32}:
            fail("an element-wise operator is not float32")
    else:
        fail(f"operator {op.code} is not one the kiosk writes")
