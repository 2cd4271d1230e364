"""Synthetic data for the explanation tests: only known features separate the classes.

A network fitted here (scikit-learn's MLP, the same shape as the kiosk's: one
ReLU layer, softmax) is turned into a ``DenseNetwork`` so the explanation maths
is tested on the very type the TFLite model is written from.
"""

from __future__ import annotations

import numpy as np
from sklearn.neural_network import MLPClassifier

from kiosk.ml.network import DenseLayer, DenseNetwork, ModelInfo

N_FEATURES = 24
SIGNAL = (3, 10)  # the only features whose value depends on the class
CLASSES = ("left", "still", "right")


def synthetic(n_per_class: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): noise everywhere, class means differ only in the SIGNAL features.

    The noise features get a large raw scale so that, unstandardised, they would
    look more important than the signal: a check that explanations standardise.
    """
    rng = np.random.default_rng(seed)
    k = len(CLASSES)
    y = np.repeat(np.arange(k), n_per_class)
    X = rng.normal(size=(k * n_per_class, N_FEATURES)) * 5.0 + 2.0
    centres = np.array([[-3.0, 2.0], [0.0, -2.0], [3.0, 2.0]])
    X[:, SIGNAL[0]] = centres[y, 0] + 0.4 * rng.normal(size=len(y))
    X[:, SIGNAL[1]] = centres[y, 1] + 0.4 * rng.normal(size=len(y))
    return X, y


def fit_network(
    X: np.ndarray, y: np.ndarray, seed: int = 0
) -> tuple[DenseNetwork, np.ndarray, np.ndarray]:
    """(network taking standardised features, training mean, training scale)."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    Z = (X - mean) / scale
    mlp = MLPClassifier(hidden_layer_sizes=(16,), max_iter=2000, random_state=seed, alpha=0.1)
    mlp.fit(Z, y)
    info = ModelInfo(CLASSES, "current", tuple(f"f{i}" for i in range(N_FEATURES)))
    layers = (
        DenseLayer(mlp.coefs_[0], mlp.intercepts_[0], "relu"),
        DenseLayer(mlp.coefs_[1], mlp.intercepts_[1], "softmax"),
    )
    return DenseNetwork(layers, info), mean, scale
