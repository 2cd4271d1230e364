"""Full-integer post-training quantisation of a ``DenseNetwork``, as TFLite's converter does it.

TFLite's int8 kernels fix the rules: weights are symmetric int8 (zero point 0),
biases int32 with scale ``input_scale * weight_scale``, activations asymmetric
int8 whose range must contain 0, and a softmax output of scale 1/256 with zero
point -128. Activation ranges come from running the float network on
representative data (the training features), as the converter's calibration does.

Two departures from the converter, each for a reason. The kiosk's first layer has the
standardisation folded in, so it takes *raw* features whose ranges differ a
hundredfold (zero-crossing rates near 0.1, ``acc`` near 50). A single int8
input scale would erase the small ones. So the int8 model starts with a float
``x * multiplier + offset`` (MUL, ADD) that maps each feature's representative
range onto [-1, 1], and the first layer is refolded to undo it exactly. The
model still takes and gives float32, and every dense layer runs in int8.
And calibrated ranges are widened, because live windows stray beyond the
training ones (see ``DEFAULT_INPUT_HEADROOM``).
This module only computes numbers; the writer puts them in the file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kiosk.ml.network import DenseNetwork

INT8_MIN, INT8_MAX = -128, 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
# TFLite's int8 softmax only accepts this output quantisation.
SOFTMAX_OUTPUT_SCALE = 1.0 / 256.0
SOFTMAX_OUTPUT_ZERO_POINT = -128
# Live windows go beyond the training windows' ranges (a visitor shakes harder):
# on shake-still-circle the held-out recordings reach 2.8x the training span in
# some feature. Exact calibration ranges clip them and the int8 model then
# disagrees with the float one (max probability error 0.53 measured); giving the
# input one span of room on each side and the activations a quarter brought the
# worst case over 54 trained models (3 sets x 2 windows x 3 sizes x 3 seeds) to
# 0.026, at the cost of a 3x coarser input step (still 1/85 of a feature's span).
DEFAULT_INPUT_HEADROOM = 1.0
DEFAULT_ACTIVATION_HEADROOM = 0.25
# A range narrower than this (a unit that is always 0) still needs a usable scale.
_MIN_RANGE = 1e-6


@dataclass(frozen=True)
class QuantParams:
    """real = scale * (q - zero_point)."""

    scale: float
    zero_point: int


@dataclass(frozen=True)
class ChannelScales:
    """Symmetric per-channel quantisation along axis 0: real[c] = scales[c] * q[c], zero point 0."""

    scales: tuple[float, ...]


@dataclass(frozen=True)
class QuantizedLayer:
    weights: np.ndarray  # (n_out, n_in) int8, TFLite's FULLY_CONNECTED layout
    weights_params: ChannelScales
    bias: np.ndarray  # (n_out,) int32
    bias_params: ChannelScales
    output_params: QuantParams  # of the layer's int8 output (pre-softmax for the last layer)


@dataclass(frozen=True)
class InputNormaliser:
    """Float per-feature affine map applied before quantising the input: x * multiplier + offset."""

    multiplier: np.ndarray  # (n_in,) float32
    offset: np.ndarray  # (n_in,) float32

    def apply(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float32) * self.multiplier + self.offset


@dataclass(frozen=True)
class QuantizedNetwork:
    normaliser: InputNormaliser
    input_params: QuantParams
    layers: tuple[QuantizedLayer, ...]
    softmax_params: QuantParams | None  # set when the last layer ends in softmax


def activation_params(low: float, high: float) -> QuantParams:
    """Asymmetric int8 parameters covering [low, high], widened to contain 0 exactly."""
    low = min(float(low), 0.0)
    high = max(float(high), 0.0)
    if high - low < _MIN_RANGE:
        high = low + _MIN_RANGE
    scale = (high - low) / (INT8_MAX - INT8_MIN)
    zero_point = int(np.clip(round(INT8_MIN - low / scale), INT8_MIN, INT8_MAX))
    return QuantParams(scale=float(np.float32(scale)), zero_point=zero_point)


def symmetric_weights(weights: np.ndarray) -> tuple[np.ndarray, ChannelScales]:
    """Per-output-channel symmetric int8 weights (zero point 0, range -127..127).

    ``weights`` is (n_out, n_in). One scale per output row, as TFLite's converter
    does for FULLY_CONNECTED: a unit with small weights keeps its precision even
    when another unit's weights are large.
    """
    peak = np.max(np.abs(weights), axis=1).astype(np.float64)
    scales = np.where(peak > 0, peak / INT8_MAX, 1.0).astype(np.float32)
    quantized = np.clip(np.round(weights / scales[:, None]), -INT8_MAX, INT8_MAX)
    return quantized.astype(np.int8), ChannelScales(tuple(float(s) for s in scales))


def input_normaliser(representative: np.ndarray) -> InputNormaliser:
    """The map sending each feature's [min, max] over ``representative`` onto [-1, 1]."""
    data = np.asarray(representative, dtype=np.float64)
    low, high = data.min(axis=0), data.max(axis=0)
    span = high - low
    constant = span < _MIN_RANGE * np.maximum(1.0, np.abs(high))
    # A feature that never varies maps to 0 (its value only shifts the first layer's bias).
    multiplier = np.where(constant, 1.0, 2.0 / np.where(constant, 1.0, span))
    offset = np.where(constant, -low, -1.0 - low * multiplier)
    return InputNormaliser(multiplier.astype(np.float32), offset.astype(np.float32))


def normalised_network(network: DenseNetwork, normaliser: InputNormaliser) -> DenseNetwork:
    """``network`` refolded to take normalised inputs: same outputs for ``normaliser.apply(x)``.

    ``u = x * multiplier + offset`` means ``x = (u - offset) / multiplier``: the
    standardisation fold with mean ``offset`` and scale ``multiplier``.
    """
    first = DenseNetwork.fold_standardisation(
        normaliser.offset, normaliser.multiplier, network.layers[0]
    )
    return DenseNetwork((first, *network.layers[1:]), network.info)


def widen(low: float, high: float, headroom: float) -> tuple[float, float]:
    """[low, high] grown by ``headroom`` times its span on each side that is not 0.

    A ReLU output's lower end (0) stays put: nothing below it ever comes.
    """
    span = high - low
    return (low - headroom * span if low < 0 else low, high + headroom * span if high > 0 else high)


def quantize_network(
    network: DenseNetwork,
    representative: np.ndarray,
    *,
    input_headroom: float = DEFAULT_INPUT_HEADROOM,
    activation_headroom: float = DEFAULT_ACTIVATION_HEADROOM,
) -> QuantizedNetwork:
    """Quantisation parameters and integer tensors for every layer of ``network``.

    The integer layers belong to ``normalised_network(network, result.normaliser)``.
    Ranges are the representative data's, widened by the headrooms (see ``widen``).
    """
    raw = np.asarray(representative, dtype=np.float32)
    if raw.ndim != 2 or raw.shape[1] != network.n_in or raw.shape[0] == 0:
        raise ValueError(
            f"representative data must have shape (m >= 1, {network.n_in}), got {raw.shape}"
        )
    if not np.isfinite(raw).all():
        raise ValueError("representative data must be finite")
    normaliser = input_normaliser(raw)
    network = normalised_network(network, normaliser)
    data = normaliser.apply(raw)
    input_params = activation_params(*widen(data.min(), data.max(), input_headroom))
    layers = []
    in_scale = input_params.scale
    for layer, output in zip(network.layers, network.layer_outputs(data), strict=True):
        weights, weights_params = symmetric_weights(layer.weights.T)
        # TFLite requires bias scale = input scale * weight scale, channel by channel.
        bias_scales = in_scale * np.asarray(weights_params.scales, dtype=np.float64)
        bias = np.clip(np.round(layer.bias / bias_scales), INT32_MIN, INT32_MAX)
        output_params = activation_params(*widen(output.min(), output.max(), activation_headroom))
        layers.append(
            QuantizedLayer(
                weights=np.ascontiguousarray(weights),
                weights_params=weights_params,
                bias=bias.astype(np.int32),
                bias_params=ChannelScales(tuple(float(s) for s in bias_scales)),
                output_params=output_params,
            )
        )
        in_scale = output_params.scale
    softmax_params = None
    if network.layers[-1].activation == "softmax":
        softmax_params = QuantParams(SOFTMAX_OUTPUT_SCALE, SOFTMAX_OUTPUT_ZERO_POINT)
    return QuantizedNetwork(normaliser, input_params, tuple(layers), softmax_params)
