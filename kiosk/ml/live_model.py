"""Which object predicts live for a trained model, whichever kind the class chose.

The network runs in the TFLite runtime, as it always has: what is tested live
is the ``.tflite`` file the store keeps and the USB stick receives. Nearest
neighbours has no ``.tflite`` form; its fitted estimator is plain numpy
(``kiosk.ml.neighbours``), so that estimator is itself the live predictor.
Either way the live predictor, the micro:bit's icon and the explanations
read one ``predict_proba``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from kiosk.errors import DatasetFormatError
from kiosk.ml.runtime import TFLiteClassifier
from kiosk.ml.training import TrainedModel


class LiveClassifier(Protocol):
    """(24,) features -> (k,) probabilities; (m, 24) -> (m, k). Safe to call from any thread."""

    def predict_proba(self, features: np.ndarray) -> np.ndarray: ...


def live_classifier(model: TrainedModel, tflite: bytes) -> LiveClassifier:
    """The predictor for ``model``: its ``.tflite`` in the runtime, or the numpy model itself."""
    if tflite:
        return TFLiteClassifier.from_bytes(tflite)
    if model.network is None:
        return model
    raise DatasetFormatError("a network model arrived without its .tflite file")
