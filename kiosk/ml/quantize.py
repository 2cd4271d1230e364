"""Full-integer post-training quantisation of a ``DenseNetwork``, as TFLite's converter does it.

TFLite's int8 kernels fix the rules: weights are symmetric int8 (zero point 0),
biases int32 with scale ``input_scale * weight_scale``, activations asymmetric
int8 whose range must contain 0, and a softmax output of scale 1/256 with zero
point -128. Activation ranges come from running the float network on
representative data (the training features), as the converter's calibration does.
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
# A range narrower than this (a unit that is always 0) still needs a usable scale.
_MIN_RANGE = 1e-6


@dataclass(frozen=True)
class QuantParams:
    """real = scale * (q - zero_point)."""

    scale: float
    zero_point: int


@dataclass(frozen=True)
class QuantizedLayer:
    weights: np.ndarray  # (n_out, n_in) int8, TFLite's FULLY_CONNECTED layout
    weights_params: QuantParams
    bias: np.ndarray  # (n_out,) int32
    bias_params: QuantParams
    output_params: QuantParams  # of the layer's int8 output (pre-softmax for the last layer)


@dataclass(frozen=True)
class QuantizedNetwork:
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


def symmetric_weights(weights: np.ndarray) -> tuple[np.ndarray, QuantParams]:
    """Per-tensor symmetric int8 (zero point 0, range -127..127) as TFLite requires for weights."""
    peak = float(np.max(np.abs(weights)))
    scale = float(np.float32(peak / INT8_MAX if peak > 0 else 1.0))
    quantized = np.clip(np.round(weights / scale), -INT8_MAX, INT8_MAX).astype(np.int8)
    return quantized, QuantParams(scale=scale, zero_point=0)


def quantize_network(network: DenseNetwork, representative: np.ndarray) -> QuantizedNetwork:
    """Quantisation parameters and integer tensors for every layer of ``network``."""
    data = np.asarray(representative, dtype=np.float32)
    if data.ndim != 2 or data.shape[1] != network.n_in or data.shape[0] == 0:
        raise ValueError(
            f"representative data must have shape (m >= 1, {network.n_in}), got {data.shape}"
        )
    if not np.isfinite(data).all():
        raise ValueError("representative data must be finite")
    input_params = activation_params(data.min(), data.max())
    layers = []
    in_scale = input_params.scale
    for layer, output in zip(network.layers, network.layer_outputs(data), strict=True):
        weights, weights_params = symmetric_weights(layer.weights.T)
        bias_scale = in_scale * weights_params.scale
        bias = np.clip(np.round(layer.bias.astype(np.float64) / bias_scale), INT32_MIN, INT32_MAX)
        output_params = activation_params(output.min(), output.max())
        layers.append(
            QuantizedLayer(
                weights=np.ascontiguousarray(weights),
                weights_params=weights_params,
                bias=bias.astype(np.int32),
                bias_params=QuantParams(scale=bias_scale, zero_point=0),
                output_params=output_params,
            )
        )
        in_scale = output_params.scale
    softmax_params = None
    if network.layers[-1].activation == "softmax":
        softmax_params = QuantParams(SOFTMAX_OUTPUT_SCALE, SOFTMAX_OUTPUT_ZERO_POINT)
    return QuantizedNetwork(input_params, tuple(layers), softmax_params)
