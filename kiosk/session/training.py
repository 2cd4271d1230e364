"""Training in a child process, so the touchscreen keeps animating while the model learns.

One job: send the recordings to the training worker (``kiosk.ml.train_worker``,
a separate Python process, so this process never loads scikit-learn and the
GIL never stalls a frame), which computes every recording's features,
estimates the accuracy honestly with cross-validation (models tested on
recordings they never saw), trains the final model on everything and exports
it to TFLite. Here the model is loaded into the TFLite runtime that will
predict live. The UI reads ``progress`` and ``stage``; the session collects
``result`` (or ``error``) once ``done``.

The worker goes on to measure which fingerprint squares each move relies on
(global importance, which trains more models); ``TrainingResult.importance``
waits for that answer, for the explore pictures' worker thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kiosk.ml.evaluation import Evaluation
from kiosk.ml.runtime import TFLiteClassifier
from kiosk.ml.train_worker import DEFAULT_TIMEOUT_S, Message, TrainingWorkerError, WorkerRun
from kiosk.ml.training import TrainedModel
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
    # (features, labels, classes, window) -> (k, 24) global importance, computed by the
    # worker after the model; blocks until it arrives, raises KioskError if it cannot.
    importance: Callable[..., np.ndarray] | None = None


class TrainingJob:
    """Runs once in a worker process; poll ``done``."""

    def __init__(
        self,
        samples: list[np.ndarray],
        labels: np.ndarray,
        classes: tuple[str, ...],
        window: DataWindow,
        kind: str = "nn",
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self._classes = tuple(classes)
        self._window = window
        self.progress = 0.0
        self.stage = "Getting ready…"
        self.result: TrainingResult | None = None
        self.error: str | None = None
        self._started = 0.0
        self._done = threading.Event()
        self._importance: object = None  # an array, or the exception the worker sent
        self._importance_arrived = threading.Event()
        self._run = WorkerRun(
            "train",
            {
                "samples": [np.asarray(s, dtype=np.float64) for s in samples],
                "labels": np.asarray(labels, dtype=np.int64),
                "classes": self._classes,
                "window": window,
                "kind": kind,
            },
            self._message,
            timeout_s,
        )
        self._watcher = threading.Thread(target=self._watch, name="training", daemon=True)

    def start(self) -> TrainingJob:
        self._started = time.perf_counter()
        self._run.start()
        self._watcher.start()
        return self

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def worker_pid(self) -> int | None:
        """The training process's id while it runs (for tests and the log)."""
        return self._run.pid

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def stop(self) -> None:
        """Stop the worker (the visitor left, or trained again); nothing is kept."""
        self._run.stop()

    def _message(self, message: Message) -> None:
        """Called on the worker's reader thread for each message."""
        if message[0] == "progress":
            _, self.progress, self.stage = message
        elif message[0] == "result" and message[1] == "trained":
            self.result = self._result(message[2])
            self.progress, self.stage = 1.0, "Done!"
            self._done.set()
        elif message[0] == "result" and message[1] == "importance":
            self._importance = message[2]
            self._importance_arrived.set()

    def _result(self, parts: dict) -> TrainingResult:
        return TrainingResult(
            classes=self._classes,
            evaluation=parts["evaluation"],
            model=parts["model"],
            tflite=parts["tflite"],
            classifier=TFLiteClassifier.from_bytes(parts["tflite"]),
            features=parts["features"],
            fingerprints=parts["fingerprints"],
            labels=parts["labels"],
            seconds=time.perf_counter() - self._started,
            importance=self._wait_importance,
        )

    def _watch(self) -> None:
        """Turn the worker's end into ``error`` when it ended without a model."""
        self._run.wait()
        if self.result is None:
            self.error = self._run.error or "Learning failed. Please try again."
            log.warning("training failed: %s", self.error)
        self._importance_arrived.set()  # nobody waits for an answer that will not come
        self._done.set()

    def _wait_importance(self, *_ignored: object) -> np.ndarray:
        """The worker's global importance (blocks until it is sent or the worker ends)."""
        self._importance_arrived.wait()
        value = self._importance
        if isinstance(value, np.ndarray):
            return value
        if isinstance(value, Exception):
            raise value
        raise TrainingWorkerError(
            self._run.error or "The squares each move needs could not be measured."
        )
