"""A small dense network as plain numpy arrays: the hand-over point between training and TFLite.

The trainer (scikit-learn) produces weights; the TFLite writer turns them into a
model file; the tests compare the runtime's outputs with ``DenseNetwork.forward``.
Keeping the network as a frozen value with no framework attached lets each of those
steps be tested on its own, and ``forward`` is the reference the TFLite model must
match: it computes in float32, layer by layer, exactly the ops the model file holds
(fully connected + optional ReLU, then softmax).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from kiosk.errors import DatasetFormatError

Activation = Literal["relu", "softmax", "linear"]
ACTIVATIONS: tuple[str, ...] = ("relu", "softmax", "linear")
WINDOWS: tuple[str, ...] = ("current", "legacy")


@dataclass(frozen=True)
class DenseLayer:
    """One fully connected layer: ``activation(x @ weights + bias)``."""

    weights: np.ndarray  # (n_in, n_out) float32
    bias: np.ndarray  # (n_out,) float32
    activation: Activation

    def __post_init__(self) -> None:
        # Coerce once so every consumer (forward, writer) sees contiguous float32.
        weights = np.ascontiguousarray(self.weights, dtype=np.float32)
        bias = np.ascontiguousarray(self.bias, dtype=np.float32)
        if weights.ndim != 2 or bias.ndim != 1 or bias.shape[0] != weights.shape[1]:
            raise ValueError(
                f"a dense layer needs weights (n_in, n_out) and bias (n_out,), "
                f"got {weights.shape} and {bias.shape}"
            )
        if weights.shape[0] == 0 or weights.shape[1] == 0:
            raise ValueError("a dense layer needs at least one input and one output")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if not (np.isfinite(weights).all() and np.isfinite(bias).all()):
            raise ValueError("a dense layer's weights and bias must be finite")
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "bias", bias)

    @property
    def n_in(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n_out(self) -> int:
        return int(self.weights.shape[1])


@dataclass(frozen=True)
class ModelInfo:
    """What a model file must say about itself so the kiosk can use it without other files."""

    classes: tuple[str, ...]  # action names, in output order
    window: str  # CreateAI data window the features were computed with: "current" or "legacy"
    feature_names: tuple[str, ...]  # input order
    trainer: str = ""  # free text describing how the model was made, for people
    extra: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable additions

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "feature_names", tuple(self.feature_names))
        if self.window not in WINDOWS:
            raise ValueError(f"window must be one of {WINDOWS}, got {self.window!r}")

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces) so the same info gives the same bytes."""
        return json.dumps(
            {
                "classes": list(self.classes),
                "window": self.window,
                "feature_names": list(self.feature_names),
                "trainer": self.trainer,
                "extra": self.extra,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=True,
            allow_nan=False,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> ModelInfo:
        """Parse what ``to_json`` wrote; anything else is a ``DatasetFormatError``."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as error:
            raise DatasetFormatError(
                f"the model's description is not valid JSON ({error})"
            ) from None
        if not isinstance(data, dict):
            raise DatasetFormatError("the model's description is not a JSON object")
        classes = data.get("classes")
        names = data.get("feature_names")
        window = data.get("window")
        trainer = data.get("trainer", "")
        extra = data.get("extra", {})
        if not _is_str_list(classes) or not classes:
            raise DatasetFormatError("the model's description has no list of class names")
        if not _is_str_list(names) or not names:
            raise DatasetFormatError("the model's description has no list of feature names")
        if window not in WINDOWS:
            raise DatasetFormatError(
                f"the model's description names an unknown data window {window!r}"
            )
        if not isinstance(trainer, str) or not isinstance(extra, dict):
            raise DatasetFormatError("the model's description has a malformed trainer or extra")
        return cls(
            classes=tuple(classes),
            window=window,
            feature_names=tuple(names),
            trainer=trainer,
            extra=extra,
        )


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


@dataclass(frozen=True)
class DenseNetwork:
    """Dense layers applied in order; the last may be softmax, none before it may."""

    layers: tuple[DenseLayer, ...]
    info: ModelInfo

    def __post_init__(self) -> None:
        layers = tuple(self.layers)
        object.__setattr__(self, "layers", layers)
        if not layers:
            raise ValueError("a network needs at least one layer")
        for before, after in itertools.pairwise(layers):
            if before.n_out != after.n_in:
                raise ValueError(
                    f"layer sizes do not chain: {before.n_out} outputs into {after.n_in} inputs"
                )
        if any(layer.activation == "softmax" for layer in layers[:-1]):
            raise ValueError("only the last layer may use softmax")
        if layers[0].n_in != len(self.info.feature_names):
            raise ValueError(
                f"the network takes {layers[0].n_in} inputs but the info names "
                f"{len(self.info.feature_names)} features"
            )
        if layers[-1].n_out != len(self.info.classes):
            raise ValueError(
                f"the network gives {layers[-1].n_out} outputs but the info names "
                f"{len(self.info.classes)} classes"
            )

    @property
    def n_in(self) -> int:
        return self.layers[0].n_in

    @property
    def n_out(self) -> int:
        return self.layers[-1].n_out

    def forward(self, features: np.ndarray) -> np.ndarray:
        """(m, n_in) or (n_in,) -> (m, k) or (k,) float32 outputs, in float32 like TFLite."""
        x = np.asarray(features, dtype=np.float32)
        single = x.ndim == 1
        x = np.atleast_2d(x)
        if x.ndim != 2 or x.shape[1] != self.n_in:
            raise ValueError(
                f"expected features of shape (m, {self.n_in}), got {np.shape(features)}"
            )
        for layer in self.layers:
            x = apply_layer(layer, x)
        return x[0] if single else x

    def layer_outputs(self, features: np.ndarray) -> list[np.ndarray]:
        """Every layer's output for (m, n_in) features, with the last layer's *pre*-softmax values.

        These are the values the int8 model stores in its int8 tensors, so the
        quantiser takes their ranges from here.
        """
        x = np.atleast_2d(np.asarray(features, dtype=np.float32))
        outputs = []
        for layer in self.layers:
            if layer.activation == "softmax":
                x = x @ layer.weights + layer.bias
            else:
                x = apply_layer(layer, x)
            outputs.append(x)
        return outputs

    @staticmethod
    def fold_standardisation(mean: np.ndarray, scale: np.ndarray, first: DenseLayer) -> DenseLayer:
        """A layer equal to ``first((x - mean) / scale)``, so standardising is free at run time.

        ``first(z) = z @ W + b`` with ``z = (x - mean) / scale`` is
        ``x @ (W / scale[:, None]) + (b - (mean / scale) @ W)``. Computed in float64
        so the folding itself adds no rounding beyond the final cast.
        """
        mean64 = np.asarray(mean, dtype=np.float64).reshape(-1)
        scale64 = np.asarray(scale, dtype=np.float64).reshape(-1)
        if mean64.shape != (first.n_in,) or scale64.shape != (first.n_in,):
            raise ValueError(
                f"mean and scale must have {first.n_in} values, "
                f"got {mean64.shape} and {scale64.shape}"
            )
        if not np.all(np.isfinite(scale64)) or np.any(scale64 == 0):
            raise ValueError("every scale must be finite and non-zero")
        weights64 = first.weights.astype(np.float64)
        weights = weights64 / scale64[:, None]
        bias = first.bias.astype(np.float64) - (mean64 / scale64) @ weights64
        return DenseLayer(weights.astype(np.float32), bias.astype(np.float32), first.activation)


def apply_layer(layer: DenseLayer, x: np.ndarray) -> np.ndarray:
    """One layer on (m, n_in) float32 inputs, as TFLite's float kernels compute it."""
    y = x @ layer.weights + layer.bias
    if layer.activation == "relu":
        return np.maximum(y, np.float32(0))
    if layer.activation == "softmax":
        return softmax(y)
    return y


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum as TFLite does (no overflow)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)


def logistic_as_softmax(layer: DenseLayer) -> DenseLayer:
    """A 2-output softmax layer equal to a 1-output logistic layer (scikit-learn's binary MLP).

    ``sigmoid(z) = softmax([0, z])[1]``, so a zero column is added in front:
    class 0 gets ``1 - sigmoid(z)`` and class 1 ``sigmoid(z)``, as in
    ``MLPClassifier.predict_proba``.
    """
    if layer.n_out != 1:
        raise ValueError(f"a logistic layer has one output, this one has {layer.n_out}")
    weights = np.hstack([np.zeros_like(layer.weights), layer.weights])
    bias = np.concatenate([np.zeros_like(layer.bias), layer.bias])
    return DenseLayer(weights, bias, "softmax")
