"""Which of the 24 features pushed the model towards an action, read off the network itself.

The kiosk shows a visitor "the model is looking at these squares". To be
truthful that picture must come from the very weights the TFLite model runs,
so everything here works on a ``DenseNetwork`` (the float reference the model
file is checked against), by exact back-propagation in numpy: no surrogate
model, no sampling noise.

What is explained is the target action's *log-odds*,
``log(p_t / (1 - p_t)) = logit_t - logsumexp(other logits)``. Unlike the
probability it does not flatten out when the model is sure, so a confident
prediction still shows which squares made it confident.

Two attributions, both in the network's own input space, both measured against
a *baseline* input (the training mean: "an average movement"):

- ``"gradient"``: gradient x (input - baseline), a first-order estimate, one
  backward pass.
- ``"integrated"`` (default): integrated gradients along the straight path from
  the baseline to the input (midpoint rule, ``steps`` points in one batch). For
  this network (piecewise linear up to the logits) the contributions add up to
  ``log-odds(input) - log-odds(baseline)`` up to the path discretisation, so the
  picture accounts for the whole difference between this movement and an
  average one.

A positive value means the feature pushed the action up, a negative one down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from kiosk.ml.network import DenseNetwork

Method = Literal["integrated", "gradient"]
DEFAULT_STEPS = 16


@dataclass(frozen=True)
class _Layer64:
    weights: np.ndarray  # (n_in, n_out) float64
    weights_t: np.ndarray  # (n_out, n_in) float64, contiguous for the backward pass
    bias: np.ndarray  # (n_out,) float64
    relu: bool


class SaliencyExplainer:
    """A network's weights prepared once, so explaining one live sample costs microseconds.

    Float64 copies of the weights and their transposes are made here, not per frame.
    """

    def __init__(
        self,
        network: DenseNetwork,
        baseline: np.ndarray | None = None,
        *,
        method: Method = "integrated",
        steps: int = DEFAULT_STEPS,
    ) -> None:
        if method not in ("integrated", "gradient"):
            raise ValueError(f"method must be 'integrated' or 'gradient', got {method!r}")
        if steps < 1:
            raise ValueError("steps must be at least 1")
        self.network = network
        self.method: Method = method
        self.steps = int(steps)
        self.n_in = network.n_in
        self.n_classes = network.n_out
        base = np.zeros(self.n_in) if baseline is None else np.asarray(baseline, np.float64)
        if base.shape != (self.n_in,):
            raise ValueError(f"baseline must have {self.n_in} values, got shape {base.shape}")
        self.baseline = base
        layers = []
        for layer in network.layers:
            w = layer.weights.astype(np.float64)
            layers.append(
                _Layer64(
                    w,
                    np.ascontiguousarray(w.T),
                    layer.bias.astype(np.float64),
                    layer.activation == "relu",
                )
            )
        self._layers = tuple(layers)
        # Midpoints of `steps` equal sub-intervals of [0, 1]: the path points for
        # integrated gradients, as a column to broadcast against (features,).
        self._alphas = ((np.arange(self.steps) + 0.5) / self.steps)[:, None]

    def log_odds(self, features: np.ndarray, target: int) -> np.ndarray:
        """Log-odds of ``target`` for (m, n_in) or (n_in,) inputs, in float64."""
        x = np.atleast_2d(np.asarray(features, np.float64))
        logits, _ = self._forward(x)
        return _log_odds(logits, self._check_target(target))

    def logits(self, features: np.ndarray) -> np.ndarray:
        """The last layer's values before softmax, float64; argmax is the winning action."""
        x = np.asarray(features, np.float64)
        logits, _ = self._forward(np.atleast_2d(x))
        return logits[0] if x.ndim == 1 else logits

    def gradient(self, features: np.ndarray, target: int) -> np.ndarray:
        """d log-odds(target) / d input, for (m, n_in) inputs -> (m, n_in)."""
        x = np.atleast_2d(np.asarray(features, np.float64))
        return self._gradient(x, self._check_target(target))

    def explain(self, features: np.ndarray, target: int) -> np.ndarray:
        """(n_in,) signed contribution of each input to ``target``'s log-odds."""
        x = np.asarray(features, np.float64).reshape(-1)
        if x.shape != (self.n_in,):
            raise ValueError(f"expected {self.n_in} features, got shape {np.shape(features)}")
        target = self._check_target(target)
        delta = x - self.baseline
        if self.method == "gradient":
            return self._gradient(x[None, :], target)[0] * delta
        path = self.baseline + self._alphas * delta
        return self._gradient(path, target).mean(axis=0) * delta

    def _check_target(self, target: int) -> int:
        if not 0 <= int(target) < self.n_classes:
            raise ValueError(f"target must be a class index below {self.n_classes}, got {target}")
        return int(target)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray | None]]:
        """Logits (the last layer's values before any softmax) and the ReLU masks, in float64."""
        masks: list[np.ndarray | None] = []
        a = x
        for layer in self._layers:
            a = a @ layer.weights + layer.bias
            mask = a > 0 if layer.relu else None
            if mask is not None:
                a = a * mask
            masks.append(mask)
        return a, masks

    def _gradient(self, x: np.ndarray, target: int) -> np.ndarray:
        logits, masks = self._forward(x)
        grad = _log_odds_grad(logits, target)
        for layer, mask in zip(reversed(self._layers), reversed(masks), strict=True):
            if mask is not None:
                grad = grad * mask
            grad = grad @ layer.weights_t
        return grad


def saliency(
    network: DenseNetwork,
    features: np.ndarray,
    target: int,
    baseline: np.ndarray | None = None,
    *,
    method: Method = "integrated",
    steps: int = DEFAULT_STEPS,
) -> np.ndarray:
    """(n_in,) signed push of each feature on ``target``'s log-odds (see module docstring).

    ``features`` and ``baseline`` are in the space the network takes as input; the
    baseline defaults to zeros, which is the training mean when the network takes
    standardised features. For a network with the standardisation folded in, pass
    the training mean in raw units. Build a ``SaliencyExplainer`` once for live use.
    """
    return SaliencyExplainer(network, baseline, method=method, steps=steps).explain(
        features, target
    )


def _log_odds(logits: np.ndarray, target: int) -> np.ndarray:
    if logits.shape[1] == 1:
        return logits[:, 0]
    others = np.delete(logits, target, axis=1)
    top = others.max(axis=1)
    lse = top + np.log(np.exp(others - top[:, None]).sum(axis=1))
    return logits[:, target] - lse


def _log_odds_grad(logits: np.ndarray, target: int) -> np.ndarray:
    """d(logit_t - logsumexp_{j != t} logit_j) / d logits: e_t - softmax over the others."""
    grad = np.zeros_like(logits)
    if logits.shape[1] == 1:
        grad[:, 0] = 1.0
        return grad
    others = np.delete(np.arange(logits.shape[1]), target)
    sub = logits[:, others]
    sub = np.exp(sub - sub.max(axis=1, keepdims=True))
    grad[:, others] = -sub / sub.sum(axis=1, keepdims=True)
    grad[:, target] = 1.0
    return grad
