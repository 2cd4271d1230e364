"""Training on a worker thread, so the touchscreen keeps animating while the model learns.

One job: compute every recording's features, estimate the accuracy honestly
with cross-validation (models tested on recordings they never saw), train the
final model on everything, export it to TFLite and load it into the TFLite
runtime that will predict live. The UI reads ``progress`` and ``stage``; the
session collects ``result`` (or ``error``) once ``done``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from kiosk.errors import KioskError
from kiosk.ml.evaluation import Evaluation, cross_validate
from kiosk.ml.features import feature_matrix, fingerprint
from kiosk.ml.runtime import TFLiteClassifier
from kiosk.ml.training import TrainedModel, train_model
from kiosk.ml.windows import DataWindow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingResult:
    classes: tuple[str, ...]
    evaluation: Evaluation  # the honest (cross-validated) estimate
    model: TrainedModel  # trained on every recording
    tflite: bytes  # what the live predictor runs and the store keeps
    classifier: TFLiteClassifier
    features: np.ndarray  # (m, 24) training features, rows in dataset order
    fingerprints: np.ndarray  # (m, 24) 0..1
    labels: np.ndarray  # (m,) action index per row
    seconds: float


class TrainingJob:
    """Runs once on its own thread; poll ``done``."""

    def __init__(
        self,
        samples: list[np.ndarray],
        labels: np.ndarray,
        classes: tuple[str, ...],
        window: DataWindow,
        kind: str = "nn",
    ) -> None:
        self._samples = samples
        self._labels = np.asarray(labels, dtype=np.int64)
        self._classes = classes
        self._window = window
        self._kind = kind
        self.progress = 0.0
        self.stage = "Getting ready…"
        self.result: TrainingResult | None = None
        self.error: str | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._main, name="training", daemon=True)

    def start(self) -> TrainingJob:
        self._thread.start()
        return self

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def _step(self, progress: float, stage: str) -> None:
        self.progress, self.stage = progress, stage

    def _main(self) -> None:
        started = time.perf_counter()
        try:
            self.result = self._train(started)
            self._step(1.0, "Done!")
        except KioskError as error:
            self.error = str(error)
        except Exception as error:  # a bug: log it, tell the visitor plainly
            log.exception("training failed")
            self.error = f"Something went wrong while learning ({error}). Please try again."
        finally:
            self._done.set()

    def _train(self, started: float) -> TrainingResult:
        classes, window, y = list(self._classes), self._window, self._labels
        self._step(0.05, "Measuring the fingerprints…")
        X = feature_matrix(self._samples, window)
        self._step(0.2, "Testing how well it learns…")
        evaluation = cross_validate(X, y, classes, window, kind=self._kind)
        self._step(0.65, "Learning from all your recordings…")
        model = train_model(X, y, classes, window, kind=self._kind)
        self._step(0.9, "Getting the model ready…")
        tflite = model.to_tflite()
        classifier = TFLiteClassifier.from_bytes(tflite)
        return TrainingResult(
            classes=tuple(classes),
            evaluation=evaluation,
            model=model,
            tflite=tflite,
            classifier=classifier,
            features=X,
            fingerprints=np.vstack([fingerprint(row, window) for row in X]),
            labels=y,
            seconds=time.perf_counter() - started,
        )
