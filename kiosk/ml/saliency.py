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
        # Midpoints of `steps` equal sub-intervals of [0, 1] (the path of integrated
        # gradients) and 1 (the input itself, for its logits), as a column. The row
        # weights average the path gradients ("gradient": only the input's row counts).
        alphas = np.append((np.arange(self.steps) + 0.5) / self.steps, 1.0)
        weights = np.append(np.full(self.steps, 1.0 / self.steps), 0.0)
        if method == "gradient":
            alphas, weights = np.array([1.0]), np.array([1.0])
        self._alphas = alphas[:, None]
        self._row_weights = weights

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
        return self.explain_winner(features, self._check_target(target))[1]

    def explain_winner(
        self, features: np.ndarray, target: int | None = None
    ) -> tuple[int, np.ndarray]:
        """(target, saliency); ``target`` None means the action the network ranks first.

        The input itself rides along as one more row of the path batch, so finding
        the winner costs no separate forward pass (the live path, once per frame).
        """
        x = np.asarray(features, np.float64).reshape(-1)
        if x.shape != (self.n_in,):
            raise ValueError(f"expected {self.n_in} features, got shape {np.shape(features)}")
        delta = x - self.baseline
        # Path points baseline + alpha * delta, with alpha = 1 (the input) as the last row.
        batch = self.baseline + self._alphas * delta
        logits, masks = self._forward(batch)
        if target is None:
            target = int(logits[-1].argmax())
        grad = self._backward(logits, masks, target, self._row_weights)
        return target, grad * delta

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
        return self._backward(logits, masks, target)

    def _backward(
        self,
        logits: np.ndarray,
        masks: list[np.ndarray | None],
        target: int,
        row_weights: np.ndarray | None = None,
    ) -> np.ndarray:
        """Gradient per row, or its ``row_weights``-weighted sum over rows when given.

        The weighted sum is taken as soon as no ReLU mask is left to apply (the
        first layer is linear in its input), saving a matrix product per row.
        """
        grad = _log_odds_grad(logits, target)
        relu_layers = [i for i, mask in enumerate(masks) if mask is not None]
        reduce_at = relu_layers[0] if relu_layers else len(masks)
        if row_weights is not None and reduce_at == len(masks):
            grad = row_weights @ grad
        for i in range(len(self._layers) - 1, -1, -1):
            mask = masks[i]
            if mask is not None:
                grad *= mask
            if row_weights is not None and i == reduce_at:
                grad = row_weights @ grad
            grad = grad @ self._layers[i].weights_t
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
    if logits.shape[1] == 1:
        return np.ones_like(logits)
    e = logits.copy()
    e[:, target] = -np.inf  # the others only; shifting by their max keeps the sum >= 1
    e -= e.max(axis=1, keepdims=True)
    np.exp(e, out=e)
    e /= -e.sum(axis=1, keepdims=True)
    e[:, target] = 1.0
    return e
