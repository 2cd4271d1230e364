"""Training in a child process, so the touchscreen keeps animating while the model learns.

One job: compute every recording's features here (the same numpy code the
live predictor runs, so training and testing can never disagree), send them
to the training worker (``kiosk.ml.train_worker``, a separate Python process,
so this process never loads scikit-learn and the GIL never stalls a frame)
and collect what it sends back, each part as soon as it arrives:

1. the final model, trained on every recording and exported to TFLite; it is
   loaded here into the TFLite runtime, and that one classifier is what
   predicts live: from this moment the visitor can test (``model_ready``);
2. the honest score: cross-validation, models tested on recordings they never
   saw (``TrainingResult.evaluation``);
3. which fingerprint squares each move relies on (``TrainingResult.importance``).

``result`` is replaced by a fuller copy as each part arrives; ``done`` is set
once nothing more will come. The UI reads ``stage`` (a ``Stage`` key) as it
changes.

A visitor should not wait for a Python interpreter to import scikit-learn, so
``SpareWorker`` keeps one training process started and warmed up ahead of
Train (the session asks for it while the visitor records). If that process
has hung while it waited, a fresh one takes the task; if it dies or hangs
during the task, the job fails with words for the screen and a fresh process
is started for the next try.
"""

from __future__ import annotations

import dataclasses
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
from kiosk.ml.live_model import LiveClassifier, live_classifier
from kiosk.ml.train_worker import (
    DEFAULT_TIMEOUT_S,
    FIRST_ANSWER_TIMEOUT_S,
    Evaluated,
    Importance,
    Message,
    Progress,
    Stage,
    Trained,
    TrainingWorkerError,
    TrainTask,
    WorkerRun,
)
from kiosk.ml.training import TrainedModel
from kiosk.ml.windows import DataWindow

log = logging.getLogger(__name__)

# Fresh processes started in a row that die before they are ready: after this many the
# installation is broken, and starting more would only burn the CPU the frames need.
MAX_FAILED_STARTS = 3


@dataclass(frozen=True)
class TrainingResult:
    """A trained model and what is known about it so far (the score and importance stream in)."""

    classes: tuple[str, ...]
    model: TrainedModel  # trained on every recording; what the explanations read
    tflite: bytes  # the same model as the store keeps it (b"" for nearest neighbours)
    classifier: LiveClassifier  # what predicts live (kiosk.ml.live_model)
    features: np.ndarray  # (m, 24) training features, rows in dataset order
    fingerprints: np.ndarray  # (m, 24) 0..1
    labels: np.ndarray  # (m,) action index per row
    seconds: float  # from Train to this model predicting here
    evaluation: Evaluation | None = None  # the honest (cross-validated) score, once it arrives
    score_problem: str | None = None  # why there will be no score
    score_seconds: float | None = None  # from Train to the score here
    importance: np.ndarray | None = None  # (k, 24) global importance, once it arrives
    importance_problem: str | None = None  # why there will be no importance

    @property
    def model_sentence(self) -> str:
        """One plain sentence for the visitor: which kind of model was trained."""
        return self.model.description

    @property
    def scored(self) -> bool:
        """The score has arrived, or it is known that it will not."""
        return self.evaluation is not None or self.score_problem is not None


class SpareWorker:
    """One training process started ahead of Train and kept warm; a fresh one after a failure.

    ``prepare`` starts one if none is alive; ``take`` hands it over (or, with
    none, a freshly started one) and forgets it, so at most one idle process
    exists and a process never serves two tasks. A run that dies or hangs is
    logged for staff and replaced at once, unless processes keep dying before
    they are ready (``MAX_FAILED_STARTS``). Thread-safe: runs end on their own
    reader threads.
    """

    def __init__(self, make_run: Callable[..., WorkerRun] = WorkerRun) -> None:
        self._make_run = make_run
        self._lock = threading.Lock()
        self._spare: WorkerRun | None = None
        self._failed_starts = 0
        self._closed = False
        self.faults = 0  # processes that died or hung (for the log and tests)
        # What staff should hear about: warm processes that failed with no task to fail
        # (a task's failure reaches staff through its job).
        self.idle_failures: list[str] = []

    @property
    def spare(self) -> WorkerRun | None:
        """The idle process, if one is alive (for tests and the bench)."""
        spare = self._spare
        return spare if spare is not None and spare.alive else None

    def prepare(self) -> None:
        """Have a process starting or warm (cheap when one already is)."""
        with self._lock:
            self._closed = False
            if self._failed_starts >= MAX_FAILED_STARTS:
                return
            if self._spare is None or not self._spare.alive:
                self._spare = self._new_run()

    def take(self) -> WorkerRun:
        """The warm (or warming) process for a task, else a freshly started one."""
        with self._lock:
            spare, self._spare = self._spare, None
            if spare is not None and spare.alive:
                return spare
            return self._new_run()

    def take_idle_failures(self) -> list[str]:
        """The idle processes' failures since the last call, for the staff's fault list."""
        with self._lock:
            failures, self.idle_failures = self.idle_failures, []
        return failures

    def stop(self) -> None:
        """End the idle process (the visitor left); nothing is started again until ``prepare``."""
        with self._lock:
            spare, self._spare = self._spare, None
            self._closed = True
        if spare is not None:
            spare.stop()

    def _new_run(self) -> WorkerRun:
        return self._make_run(on_end=self._ended).start()

    def _ended(self, run: WorkerRun) -> None:
        """On the run's reader thread: a failure is a fault, and a fresh process replaces it."""
        if run.stopped or run.expired or run.error is None:
            return
        self.faults += 1
        log.warning("training process failed (pid %s): %s", run.pid, run.error)
        if run.task is None:
            self.idle_failures.append(run.error)
        with self._lock:
            self._failed_starts = 0 if run.ready.is_set() else self._failed_starts + 1
            if self._failed_starts >= MAX_FAILED_STARTS:
                log.error(
                    "training processes keep failing before they are ready: not starting more"
                )
                return
            spare = self._spare
            if self._closed or (spare is not None and spare is not run and spare.alive):
                return
            self._spare = self._new_run()


class TrainingJob:
    """One training task in a worker process; poll ``model_ready``, then ``done``."""

    def __init__(
        self,
        samples: list[np.ndarray],
        labels: np.ndarray,
        classes: tuple[str, ...],
        window: DataWindow,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        *,
        workers: SpareWorker | None = None,
        kind: str = "nn",
        first_answer_s: float = FIRST_ANSWER_TIMEOUT_S,
    ) -> None:
        self.kind = kind  # which model the class chose (kiosk.session.model_choice)
        self._classes = tuple(classes)
        self._window = window
        self._samples = [np.asarray(s, dtype=np.float64) for s in samples]
        self._labels = np.asarray(labels, dtype=np.int64)
        self._timeout_s = timeout_s
        self._first_answer_s = first_answer_s
        self.progress = 0.0
        self.stage = Stage.FEATURES
        self.stages: list[str] = [Stage.FEATURES]  # every stage so far, in the order it came
        self.words = "Measuring the fingerprints…"  # the stage for the log
        self.result: TrainingResult | None = None
        self.error: str | None = None
        self.peak_rss_mb = 0.0  # the training process's, once it has finished
        self._started = 0.0
        self._features: np.ndarray | None = None
        self._model_ready = threading.Event()
        self._done = threading.Event()
        self._workers = workers  # the warm process comes from here; else a fresh one
        self._run: WorkerRun | None = None
        self._stopped = False
        self._lock = threading.Lock()  # ``stop`` against handing the task to a process
        self._watcher = threading.Thread(target=self._main, name="training", daemon=True)

    def start(self) -> TrainingJob:
        self._started = time.perf_counter()
        self._watcher.start()
        return self

    @property
    def model_ready(self) -> bool:
        """The final model is here and predicts: the visitor can test."""
        return self._model_ready.is_set()

    @property
    def done(self) -> bool:
        """Nothing more will come: every part arrived, or the job failed or was stopped."""
        return self._done.is_set()

    @property
    def worker_pid(self) -> int | None:
        """The training process's id while it runs (for tests and the log)."""
        run = self._run
        return run.pid if run is not None else None

    def wait(self, timeout: float | None = None) -> bool:
        """Until ``done``."""
        return self._done.wait(timeout)

    def wait_model(self, timeout: float | None = None) -> bool:
        """Until the model is ready or the job has ended; True if the model is ready."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._model_ready.is_set() and not self._done.is_set():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            self._done.wait(0.01 if left is None else min(left, 0.01))
        return self._model_ready.is_set()

    def stop(self) -> None:
        """Stop the worker (the visitor left, or trained again); nothing more is kept."""
        with self._lock:
            self._stopped = True
            run = self._run
        if run is not None:
            run.stop()

    def _main(self) -> None:
        try:
            features = feature_matrix(self._samples, self._window)
            self._features = features
            task = TrainTask(features, self._labels, self._classes, self._window, kind=self.kind)
            run = self._hand_over(task)
            run.wait()
            if run.unresponsive and self.result is None:
                # The warm process had hung while it waited: a fresh one takes the task.
                log.warning("training process %s never answered: a fresh one takes over", run.pid)
                run = self._hand_over(task)
                run.wait()
            self.peak_rss_mb = run.peak_rss_mb
            if run.error is not None:
                raise TrainingWorkerError(run.error)
            if self.result is None:
                raise TrainingWorkerError(_("Learning failed. Please try again."))
        except KioskError as error:  # a recording too short, or the worker's words
            self.error = str(error)
            log.warning("training failed: %s", self.error)
        except Exception as error:  # a bug on this side: the visitor still gets words
            log.exception("training failed")
            self.error = _(
                "Something went wrong while learning ({error}). Please try again."
            ).format(error=error)
        finally:
            self._settle()
            self._done.set()

    def _hand_over(self, task: TrainTask) -> WorkerRun:
        """Give the task to the warm process (or a fresh one if that one has just gone)."""
        with self._lock:
            for _attempt in range(2):
                if self._stopped:
                    raise TrainingWorkerError(_("Learning was stopped."))
                if self._workers is not None:
                    run = self._workers.take()
                else:
                    run = WorkerRun(first_answer_s=self._first_answer_s).start()
                self._run = run
                if not run.ready.is_set():
                    self._set_stage(Stage.STARTING, "Starting the learning helper…")
                if run.give(task, self._message, self._timeout_s):
                    return run
                run.stop()
        raise TrainingWorkerError(_("The learning helper could not start. Please try again."))

    def _settle(self) -> None:
        """After the end: the parts that never came say why, so no screen waits for them."""
        result = self.result
        if result is None:
            return
        problem = self.error or _("The learning helper ended early.")
        if not result.scored:
            result = dataclasses.replace(result, score_problem=problem)
        if result.importance is None and result.importance_problem is None:
            result = dataclasses.replace(result, importance_problem=problem)
        self.result = result
        if self.error is None:
            self._set_stage(Stage.DONE, "Done!")

    def _set_stage(self, stage: str, words: str) -> None:
        self.stage, self.words = stage, words
        if not self.stages or self.stages[-1] != stage:
            self.stages.append(stage)

    def _message(self, message: Message) -> None:
        """Called on the worker's reader thread for each message."""
        if isinstance(message, Progress):
            self.progress = message.fraction
            self._set_stage(message.stage or self.stage, message.words)
        elif isinstance(message, Trained):
            self.result = self._result(message)
            self._model_ready.set()
            log.info("model ready %.0f ms after Train", self.result.seconds * 1e3)
        elif isinstance(message, Evaluated) and self.result is not None:
            self.result = dataclasses.replace(
                self.result,
                evaluation=message.evaluation,
                score_problem=message.problem,
                score_seconds=time.perf_counter() - self._started,
            )
        elif isinstance(message, Importance) and self.result is not None:
            self.result = dataclasses.replace(
                self.result, importance=message.values, importance_problem=message.problem
            )

    def _result(self, trained: Trained) -> TrainingResult:
        features = self._features
        assert features is not None
        return TrainingResult(
            classes=self._classes,
            model=trained.model,
            tflite=trained.tflite,
            classifier=live_classifier(trained.model, trained.tflite),
            features=features,
            fingerprints=fingerprint(features, self._window),
            labels=self._labels,
            seconds=time.perf_counter() - self._started,
        )
