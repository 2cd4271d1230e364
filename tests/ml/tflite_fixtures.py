"""Helpers shared by the TFLite tests: real feature vectors and networks to write.

The real features are CreateAI's own reference vectors for real micro:bit
recordings (``../shared/data/createai/features``); a small scikit-learn MLP
trained on them, with its standardisation folded into the first layer, is the
kind of network the kiosk really exports.
"""

from __future__ import annotations

import itertools
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from kiosk.ml.network import DenseLayer, DenseNetwork, ModelInfo, logistic_as_softmax

SHARED_DIR = Path(__file__).resolve().parents[3] / "shared"
FEATURES_DIR = SHARED_DIR / "data" / "createai" / "features"
MISSING_REASON = "real micro:bit data folder ../shared/data/createai/features is absent"


@dataclass(frozen=True)
class FeatureSet:
    name: str  # e.g. "shake-still-circle.legacy"
    x_train: np.ndarray
    y_train: np.ndarray
    x_all: np.ndarray  # train plus any held-out test file: every real window of the set
    info: ModelInfo


def feature_sets() -> list[FeatureSet]:
    """Every dataset and data window of the reference features; skips if the folder is absent."""
    if not FEATURES_DIR.is_dir():
        pytest.skip(MISSING_REASON)
    sets = []
    for train_path in sorted(FEATURES_DIR.glob("*.train.*-window.json")):
        train = json.loads(train_path.read_text())
        x_train = np.asarray(train["X"], dtype=np.float64)
        x_all = x_train
        test_path = train_path.with_name(train_path.name.replace(".train.", ".test."))
        if test_path.is_file():
            x_all = np.vstack([x_train, np.asarray(json.loads(test_path.read_text())["X"])])
        info = ModelInfo(
            classes=tuple(train["classes"]),
            window=train["window"],
            feature_names=tuple(train["feature_names"]),
            trainer="test MLP",
        )
        sets.append(
            FeatureSet(
                name=f"{train['dataset']}.{train['window']}",
                x_train=x_train,
                y_train=np.asarray(train["y"]),
                x_all=x_all,
                info=info,
            )
        )
    if not sets:
        pytest.skip(f"{MISSING_REASON} (no *.train.*-window.json files)")
    return sets


@dataclass(frozen=True)
class TrainedModel:
    network: DenseNetwork
    scaler: StandardScaler
    mlp: MLPClassifier

    def sklearn_proba(self, x: np.ndarray) -> np.ndarray:
        return self.mlp.predict_proba(self.scaler.transform(x))


def train_network(
    features: FeatureSet, hidden: tuple[int, ...] = (16,), seed: int = 0
) -> TrainedModel:
    """A scikit-learn MLP on standardised features, as a DenseNetwork with the scaler folded in."""
    scaler = StandardScaler().fit(features.x_train)
    mlp = MLPClassifier(hidden_layer_sizes=hidden, max_iter=500, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings do not matter here
        mlp.fit(scaler.transform(features.x_train), features.y_train)
    return TrainedModel(mlp_to_network(mlp, scaler, features.info), scaler, mlp)


def mlp_to_network(mlp: MLPClassifier, scaler: StandardScaler, info: ModelInfo) -> DenseNetwork:
    n = len(mlp.coefs_)
    layers = [
        DenseLayer(w, b, "relu" if i < n - 1 else "softmax")
        for i, (w, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_, strict=True))
    ]
    if layers[-1].n_out == 1:  # scikit-learn's binary MLP has one logistic output
        layers[-1] = logistic_as_softmax(layers[-1])
    layers[0] = DenseNetwork.fold_standardisation(scaler.mean_, scaler.scale_, layers[0])
    return DenseNetwork(tuple(layers), info)


def random_network(
    rng: np.random.Generator,
    sizes: tuple[int, ...] = (24, 16, 3),
    final: str = "softmax",
    weight_scale: float = 0.5,
) -> DenseNetwork:
    """Random weights for layer sizes ``sizes`` (inputs first); hidden layers use ReLU."""
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        activation = final if i == len(sizes) - 2 else "relu"
        layers.append(
            DenseLayer(
                rng.normal(scale=weight_scale, size=(n_in, n_out)),
                rng.normal(scale=weight_scale, size=n_out),
                activation,
            )
        )
    info = ModelInfo(
        classes=tuple(f"class{k}" for k in range(sizes[-1])),
        window="current",
        feature_names=tuple(f"f{k}" for k in range(sizes[0])),
    )
    return DenseNetwork(tuple(layers), info)
