"""Training in a child process, so the touchscreen keeps animating while the model learns.

One job: compute every recording's features here (the same numpy code the
live predictor runs, so training and testing can never disagree), send them
to the training worker (``kiosk.ml.train_worker``, a separate Python process,
so this process never loads scikit-learn and the GIL never stalls a frame),
which estimates the accuracy honestly with cross-validation (models tested on
recordings they never saw), trains the final model on everything and exports
it to TFLite. Here the model is loaded once into the TFLite runtime; that one
classifier is what predicts live. The UI reads ``progress`` and ``stage``;
the session collects ``result`` (or ``error``) once ``done``.

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

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.ml.evaluation import Evaluation
from kiosk.ml.features import feature_matrix, fingerprint
from kiosk.ml.runtime import TFLiteClassifier
from kiosk.ml.train_worker import (
    DEFAULT_TIMEOUT_S,
    Importance,
    Message,
    Progress,
    Trained,
    TrainingWorkerError,
    TrainTask,
    WorkerRun,
)
from kiosk.ml.training import TrainedModel
from kiosk.ml.windows import DataWindow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingResult:
    classes: tuple[str, ...]
    evaluation: Evaluation  # the honest (cross-validated) estimate
    model: TrainedModel  # trained on every recording; what the explanations read
    tflite: bytes  # the same model as the store keeps it
    classifier: TFLiteClassifier  # the same model in the TFLite runtime: what predicts live
    features: np.ndarray  # (m, 24) training features, rows in dataset order
    fingerprints: np.ndarray  # (m, 24) 0..1
    labels: np.ndarray  # (m,) action index per row
    seconds: float
    # (features, labels, classes, window) -> (k, 24) global importance, computed by the
    # worker after the model; blocks until it arrives, raises KioskError if it cannot.
    importance: Callable[..., np.ndarray] | None = None

    @property
    def model_sentence(self) -> str:
        """One plain sentence for the visitor: which kind of model was trained."""
        return self.model.description


class TrainingJob:
    """Runs once in a worker process; poll ``done``."""

    def __init__(
        self,
        samples: list[np.ndarray],
        labels: np.ndarray,
        classes: tuple[str, ...],
        window: DataWindow,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self._classes = tuple(classes)
        self._window = window
        self._samples = [np.asarray(s, dtype=np.float64) for s in samples]
        self._labels = np.asarray(labels, dtype=np.int64)
        self._timeout_s = timeout_s
        self.progress = 0.0
        self.stage = "Getting ready…"  # English keys: the train screen shows its own words
        self.result: TrainingResult | None = None
        self.error: str | None = None
        self._started = 0.0
        self._features: np.ndarray | None = None
        self._trained: Trained | None = None
        self._done = threading.Event()
        self._importance: Importance | None = None
        self._importance_arrived = threading.Event()
        self._run: WorkerRun | None = None
        self._stopped = False
        self._watcher = threading.Thread(target=self._main, name="training", daemon=True)

    def start(self) -> TrainingJob:
        self._started = time.perf_counter()
        self._watcher.start()
        return self

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def worker_pid(self) -> int | None:
        """The training process's id while it runs (for tests and the log)."""
        run = self._run
        return run.pid if run is not None else None

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def stop(self) -> None:
        """Stop the worker (the visitor left, or trained again); nothing is kept."""
        self._stopped = True
        run = self._run
        if run is not None:
            run.stop()

    def _main(self) -> None:
        try:
            self.progress, self.stage = 0.05, "Measuring the fingerprints…"
            features = feature_matrix(self._samples, self._window)
            self._features = features
            run = WorkerRun(
                TrainTask(features, self._labels, self._classes, self._window),
                self._message,
                self._timeout_s,
            )
            self._run = run
            if self._stopped:
                raise TrainingWorkerError(_("Learning was stopped."))
            run.start().wait()
            if self.result is None:
                raise TrainingWorkerError(run.error or _("Learning failed. Please try again."))
        except KioskError as error:  # a recording too short, or the worker's words
            if self.result is None:
                self.error = str(error)
                log.warning("training failed: %s", self.error)
        except Exception as error:  # a bug on this side: the visitor still gets words
            log.exception("training failed")
            self.error = _(
                "Something went wrong while learning ({error}). Please try again."
            ).format(error=error)
        finally:
            self._importance_arrived.set()  # nobody waits for an answer that will not come
            self._done.set()

    def _message(self, message: Message) -> None:
        """Called on the worker's reader thread for each message."""
        if isinstance(message, Progress):
            self.progress, self.stage = message.fraction, message.words
        elif isinstance(message, Trained):
            self.result = self._result(message)
            self.progress, self.stage = 1.0, "Done!"
            self._done.set()
        elif isinstance(message, Importance):
            self._importance = message
            self._importance_arrived.set()

    def _result(self, trained: Trained) -> TrainingResult:
        features = self._features
        assert features is not None
        return TrainingResult(
            classes=self._classes,
            evaluation=trained.evaluation,
            model=trained.model,
            tflite=trained.tflite,
            classifier=TFLiteClassifier.from_bytes(trained.tflite),
            features=features,
            fingerprints=fingerprint(features, self._window),
            labels=self._labels,
            seconds=time.perf_counter() - self._started,
            importance=self._wait_importance,
        )

    def _wait_importance(self, *_ignored: object) -> np.ndarray:
        """The worker's global importance (blocks until it is sent or the worker ends)."""
        self._importance_arrived.wait()
        answer = self._importance
        if answer is not None and answer.values is not None:
            return answer.values
        if answer is not None and answer.problem is not None:
            raise TrainingWorkerError(answer.problem)
        run = self._run
        raise TrainingWorkerError(
            (run.error if run is not None else None)
            or _("The squares each move needs could not be measured.")
        )
