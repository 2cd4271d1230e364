"""Training in a child process, so the touchscreen process never loads scikit-learn.

Why a process and not a thread: scikit-learn and scipy add ~75 MB to the
process that imports them (the kiosk must stay under 150 MB on a Pi), and a
training thread holds the GIL long enough to stall frames. The child is a
fresh interpreter that does one task's scikit-learn work, sends messages back
and exits, so its memory is returned as soon as it is done.

Why it starts early: importing scikit-learn and the first fit cost a fresh
interpreter well over a second (several on a Pi), far more than fitting a
visitor's few dozen recordings. So the child warms up (imports, one tiny fit)
as soon as it starts, says ``Ready`` and waits for its task: the kiosk starts
it while the visitor is still recording (``kiosk.session.training.SpareWorker``)
and hands it the task when Train is pressed.

The conversation is typed: the parent sends one task (``TrainTask`` with the
recordings' *features*, which the touchscreen process computes with the same
numpy code it uses live, or ``CompareTask`` with two sets of features); the
child answers ``Ready`` once warm, then ``Progress`` before each stage and the
results as each is made, the one a visitor waits for first: ``Trained`` (the
final model and its ``.tflite`` bytes), then ``Evaluated`` (the honest,
cross-validated score), then ``Importance``; or ``Compared``; and finally
``Finished`` or ``Failed``. They travel over a ``multiprocessing`` connection
(its framing and pickling), and every message is plain numpy or kiosk
dataclasses that need no scikit-learn to unpickle.

The child is started so that nothing writable can become its code: ``python
-I`` (no current directory, ``PYTHON*`` variables or user site-packages on the
path), run from ``/`` (which only root can write) rather than the kiosk's
writable state directory, and importing the kiosk from the directory the
parent's own code came from. It dies with the app: the kernel kills it when
the thread that started it goes (``PR_SET_PDEATHSIG``), it checks that its
parent is still the one that started it, and a closed connection ends it
quietly instead of in a chain of ``BrokenPipe`` tracebacks.

``WorkerRun`` is the parent's side: it starts the child, feeds the messages
to a callback on its own reader thread and turns a crash, a kill, a hang
while warming or a timeout into a ``TrainingWorkerError`` with words a person
can act on. A warm child not given a task for a long while is let go.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import resource
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe
from pathlib import Path
from typing import Any

import numpy as np

import kiosk
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.ml.windows import DataWindow

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 300.0  # the whole task: far beyond a visitor's few dozen recordings on a Pi
# From a training task to the model a visitor waits for, warming up included:
# a cold start on a Pi takes several seconds, a fit of a few hundred recordings a few more.
FIRST_ANSWER_TIMEOUT_S = 60.0
# Starting and warming up (imports, one tiny fit): a child silent this long has hung.
WARM_TIMEOUT_S = 120.0
# A warm child says it has its task at once (a Progress); silent this long, it has hung
# and a fresh one takes the task. Generous: a loaded machine can be slow to schedule it.
ACKNOWLEDGE_TIMEOUT_S = 30.0
# A warm child nobody gave a task to goes after this long (the visitor left); the next
# recording starts another.
IDLE_LIFETIME_S = 600.0
# How often the reader thread looks at its deadlines while nothing arrives.
_POLL_S = 0.25
# Where the child runs: a directory only root can write, so no file planted in
# the kiosk's writable state directory is ever near its imports.
CHILD_DIRECTORY = "/"
# The kiosk package's parent directory: the child imports exactly the code the parent runs.
KIOSK_ROOT = str(Path(kiosk.__file__).resolve().parent.parent)
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from kiosk.ml.train_worker import child_main; "
    "sys.exit(child_main(int(sys.argv[2]), int(sys.argv[3])))"
)
_PR_SET_PDEATHSIG = 1


class TrainingWorkerError(KioskError):
    """The training process failed, crashed, was killed or took too long."""


class Stage:
    """What the training is doing now: ``Progress.stage``, in the order it happens.

    Keys, not words: the train screen shows each in the visitor's language.
    """

    FEATURES = "features"  # the touchscreen process measures the fingerprints
    STARTING = "starting"  # waiting for the training process to be ready
    MODEL = "model"  # fitting the final model on every recording
    EXPORT = "export"  # the model as .tflite, loaded into the runtime
    SCORE = "score"  # cross-validation: the honest score
    IMPORTANCE = "importance"  # which squares each move needs
    DONE = "done"
    ORDER = (FEATURES, STARTING, MODEL, EXPORT, SCORE, IMPORTANCE, DONE)


# ---- tasks (parent -> child) -------------------------------------------------------------


@dataclass(frozen=True)
class TrainTask:
    """Train on these features: final model and TFLite, then honest score, then importance."""

    features: np.ndarray  # (m, 24)
    labels: np.ndarray  # (m,)
    classes: tuple[str, ...]
    window: DataWindow
    importance: bool = True
    kind: str = "nn"  # the estimator (``kiosk.ml.training.MODEL_KINDS``)


@dataclass(frozen=True)
class CompareTask:
    """Train two sides' features as ``kiosk.ml.compare.compare_datasets`` does."""

    sides: tuple[Any, Any]  # two kiosk.ml.compare.SideFeatures


Task = TrainTask | CompareTask


# ---- messages (child -> parent) ----------------------------------------------------------


@dataclass(frozen=True)
class Ready:
    """The child has its libraries loaded and warmed up: a task starts at once."""


@dataclass(frozen=True)
class Progress:
    fraction: float  # 0..1
    words: str  # for the screen
    stage: str = ""  # a ``Stage`` key for a training task


@dataclass(frozen=True)
class Trained:
    """The final model, trained on every recording: what the test screen predicts with."""

    model: Any  # kiosk.ml.training estimator fitted on every recording (numpy only)
    tflite: bytes  # the network as the TFLite runtime runs it and the store keeps it; b"" for KNN


@dataclass(frozen=True)
class Evaluated:
    """The honest score: every recording judged by a model that never saw it."""

    evaluation: Any = None  # kiosk.ml.evaluation.Evaluation
    problem: str | None = None  # why it could not be measured (e.g. one recording per move)


@dataclass(frozen=True)
class Importance:
    """The global importance, or in ``problem`` why it could not be measured."""

    values: np.ndarray | None = None  # (k, 24)
    problem: str | None = None


@dataclass(frozen=True)
class Compared:
    comparison: Any  # kiosk.ml.compare.Comparison


@dataclass(frozen=True)
class Finished:
    """The task is complete; nothing more will come."""

    peak_rss_mb: float = 0.0  # the child's resident memory at its peak


@dataclass(frozen=True)
class Failed:
    text: str  # a KioskError's words for the screen, or a traceback for the log
    is_kiosk: bool


Message = Ready | Progress | Trained | Evaluated | Importance | Compared | Finished | Failed
# The messages that answer a task (the first one ends the wait ``FIRST_ANSWER_TIMEOUT_S`` bounds).
_ANSWERS = (Trained, Compared)


# ---- the parent's side ------------------------------------------------------------------


class WorkerRun:
    """One child process and its one task; ``on_message`` gets each message on the reader thread.

        The task can come with the run, or later through ``give`` (a warm spare:
        ``start`` it early, ``give`` it the task when it is wanted). ``ready`` is
        set once the child is warm, ``done`` once it has finished, failed or been
        let go; ``error`` then says why it failed, in words for the screen, or is
        None. ``on_end`` (if given) is called on the reader thread at the end, just
    before ``done`` is set.
    """

    def __init__(
        self,
        task: Task | None = None,
        on_message: Callable[[Message], None] | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        *,
        first_answer_s: float = FIRST_ANSWER_TIMEOUT_S,
        warm_timeout_s: float = WARM_TIMEOUT_S,
        idle_s: float = IDLE_LIFETIME_S,
        acknowledge_s: float = ACKNOWLEDGE_TIMEOUT_S,
        on_end: Callable[[WorkerRun], None] | None = None,
    ) -> None:
        if task is not None and not isinstance(task, TrainTask | CompareTask):
            raise ValueError(f"unknown task {task!r}")
        self.task = task
        self.error: str | None = None
        self.expired = False  # let go unused after ``idle_s``
        self.stopped = False  # stopped on purpose (``stop``)
        self.peak_rss_mb = 0.0  # the child's, from ``Finished``
        self.unresponsive = False  # it was warm but never answered its task (hung while idle)
        self.ready = threading.Event()
        self.done = threading.Event()
        self._on_message = on_message
        self._on_end = on_end
        self._timeout_s = timeout_s
        self._first_answer_s = first_answer_s
        self._warm_timeout_s = warm_timeout_s
        self._idle_s = idle_s
        self._acknowledge_s = acknowledge_s
        self._lock = threading.Lock()  # task hand-over vs. the reader letting the child go
        self._given_at: float | None = time.monotonic() if task is not None else None
        self._answered = False
        self._heard = False  # a message came after the task
        self._closing = False
        self._ready_at: float | None = None
        self._connection: Connection | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._main, name="learning-worker", daemon=True)

    @property
    def name(self) -> str:
        return "compare" if isinstance(self.task, CompareTask) else "train"

    def start(self) -> WorkerRun:
        self._thread.start()
        return self

    def give(
        self,
        task: Task,
        on_message: Callable[[Message], None],
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> bool:
        """Hand this (started) run its task; False if it already has one or has ended."""
        if not isinstance(task, TrainTask | CompareTask):
            raise ValueError(f"unknown task {task!r}")
        with self._lock:
            if self.task is not None or self._closing or self.done.is_set():
                return False
            self._on_message = on_message
            self._timeout_s = timeout_s
            self.task = task
            self._given_at = time.monotonic()
            connection = self._connection
        if connection is not None:  # else the reader thread sends it once the child runs
            self._send_task(connection)
        return True

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)

    def stop(self) -> None:
        """Kill the child (e.g. the visitor left); the run ends with an error."""
        self.stopped = True
        with self._lock:
            self._closing = True
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        """The child runs and this run can still be given a task or is working on one."""
        return not self.done.is_set() and not self._closing

    def _main(self) -> None:
        connection: Connection | None = None
        try:
            connection = self._start_child()
            with self._lock:
                self._connection = connection
                send_now = self.task is not None
            if send_now:
                self._send_task(connection)
            self._converse(connection)
        except TrainingWorkerError as error:
            if not self.stopped:
                self.error = str(error)
                log.warning("%s worker: %s", self.name, error)
            else:
                self.error = _("Learning was stopped.")
        except Exception as error:  # a bug on our side of the connection
            log.exception("%s worker failed", self.name)
            self.error = _(
                "Something went wrong while learning ({error}). Please try again."
            ).format(error=error)
        finally:
            if connection is not None:
                connection.close()
            process = self._process
            if process is not None:
                if process.poll() is None:
                    process.kill()
                process.wait()
            # Before ``done``: whoever waits for this run finds what ``on_end`` did (a fresh
            # spare process) already done.
            if self._on_end is not None:
                try:
                    self._on_end(self)
                except Exception:
                    log.exception("after the %s worker ended", self.name)
            self.done.set()

    def _send_task(self, connection: Connection) -> None:
        # If the child has died, sending fails; its exit is reported by the reader.
        with contextlib.suppress(OSError, ValueError):
            connection.send(self.task)

    def _start_child(self) -> Connection:
        ours, theirs = Pipe(duplex=True)
        try:
            # The child's death signal is tied to this thread, which lives until the child ends.
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-I",
                    "-c",
                    _BOOT,
                    KIOSK_ROOT,
                    str(theirs.fileno()),
                    str(os.getpid()),
                ],
                cwd=CHILD_DIRECTORY,
                env=_child_environment(),
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
            )
        except OSError as error:
            ours.close()
            raise TrainingWorkerError(
                _("Could not start the learning helper ({error}). Please try again.").format(
                    error=error
                )
            ) from None
        finally:
            theirs.close()
        return ours

    def _deadline(self, started: float) -> tuple[float, str]:
        """The next moment something must have happened, and what it is."""
        given = self._given_at
        if given is None:
            if self._ready_at is None:
                return started + self._warm_timeout_s, "warm"
            return self._ready_at + self._idle_s, "idle"
        candidates = [(given + self._timeout_s, "task")]
        if not self._answered and isinstance(self.task, TrainTask):  # a visitor waits on it
            candidates.append((given + self._first_answer_s, "answer"))
        if self._ready_at is not None and not self._heard:
            # A warm child answers a task at once; one that does not has hung while idle.
            candidates.append((max(given, self._ready_at) + self._acknowledge_s, "acknowledge"))
        return min(candidates)

    def _converse(self, connection: Connection) -> None:
        process = self._process
        assert process is not None
        started = time.monotonic()
        while True:
            with self._lock:
                if self.stopped:  # ``stop`` came before the child existed to be killed
                    process.kill()
                    raise TrainingWorkerError("Learning was stopped.")
                when, waiting_for = self._deadline(started)
                left = when - time.monotonic()
                if left <= 0 and waiting_for == "idle":
                    # Nobody came to train: let the warm child go (not a failure).
                    self._closing = True
                    self.expired = True
                    log.info("%s worker unused for %.0f s: let go", self.name, self._idle_s)
                    return
            try:
                ready = left > 0 and connection.poll(min(left, _POLL_S))
                if not ready:
                    if left > 0:
                        continue
                    process.kill()
                    raise self._timed_out(waiting_for)
                message = connection.recv()
            except (EOFError, OSError):
                code = process.wait()
                raise TrainingWorkerError(
                    _(
                        "The learning helper stopped unexpectedly ({why}). "
                        "Your recordings are safe: please try again."
                    ).format(why=_describe_exit(code))
                ) from None
            if isinstance(message, Ready):
                self._ready_at = time.monotonic()
                self.ready.set()
                continue
            if isinstance(message, Finished):
                self.peak_rss_mb = message.peak_rss_mb
                return
            if isinstance(message, Failed):
                text = message.text
                if not message.is_kiosk:
                    log.error("%s worker traceback:\n%s", self.name, text)
                    text = _("Something went wrong while learning. Please try again.")
                raise TrainingWorkerError(text)
            self._heard = self._given_at is not None
            if isinstance(message, _ANSWERS):
                self._answered = True
            if self._on_message is not None:
                self._on_message(message)

    def _timed_out(self, waiting_for: str) -> TrainingWorkerError:
        if waiting_for == "acknowledge":
            self.unresponsive = True
            return TrainingWorkerError(
                _(
                    "The learning helper did not answer within {seconds} seconds and was "
                    "stopped. Please try again."
                ).format(seconds=f"{self._acknowledge_s:g}")
            )
        if waiting_for == "warm":
            return TrainingWorkerError(
                _(
                    "The learning helper did not get ready within {seconds} seconds and was "
                    "stopped. Please try again."
                ).format(seconds=f"{self._warm_timeout_s:.0f}")
            )
        seconds = self._first_answer_s if waiting_for == "answer" else self._timeout_s
        return TrainingWorkerError(
            f"Learning took longer than {seconds:.0f} seconds and was "
            "stopped. Try again with fewer recordings."
        )


def compare_in_worker(
    datasets: tuple[Any, Any],
    names: tuple[str, str],
    on_progress: Callable[[float, str], None] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Any:
    """Train two datasets as ``kiosk.ml.compare.compare_datasets`` does, in a child process.

    Blocks (call it from a worker thread); returns the ``Comparison``; raises
    ``TrainingWorkerError`` (a KioskError) with words for the screen.
    """
    found: list[Any] = []

    def message(m: Message) -> None:
        if isinstance(m, Progress) and on_progress is not None:
            on_progress(m.fraction, m.words)
        elif isinstance(m, Compared):
            found.append(m.comparison)

    from kiosk.ml.compare import side_features

    left, right = (side_features(name, data) for name, data in zip(names, datasets, strict=True))
    run = WorkerRun(CompareTask((left, right)), message, timeout_s)
    run.start().wait()
    if run.error is not None:
        raise TrainingWorkerError(run.error)
    if not found:
        raise TrainingWorkerError(_("The comparison could not be finished. Please try again."))
    return found[0]


def _child_environment() -> dict[str, str]:
    env = dict(os.environ)
    # One BLAS thread (training is tiny; threads only add overhead, see kiosk.ml.training).
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    return env


def _describe_exit(code: int) -> str:
    if code < 0:
        return f"stopped by signal {-code}"
    return f"exit code {code}"


# ---- the child's side -------------------------------------------------------------------


def _train(task: TrainTask, send: Callable[[Message], None]) -> None:
    """The final model first (what the visitor waits for), then the honest score, then
    which squares each move needs: each sent as soon as it is made."""
    from kiosk.ml.evaluation import cross_validate
    from kiosk.ml.importance import global_importance
    from kiosk.ml.training import make_estimator

    X = np.asarray(task.features, dtype=np.float64)
    y = np.asarray(task.labels, dtype=np.int64)
    classes = list(task.classes)

    def estimator() -> Any:
        return make_estimator(task.kind, classes, task.window)

    send(Progress(0.1, "Learning from all your recordings…", Stage.MODEL))
    model = estimator().fit(X, y)
    send(Progress(0.3, "Getting the model ready…", Stage.EXPORT))
    send(Trained(model, model.to_tflite() if model.network is not None else b""))
    send(Progress(0.4, "Testing how well it learns…", Stage.SCORE))
    # The importance is measured on the score's folds: their models are fitted once.
    folds: Any = _RememberedFits(estimator)  # an estimator to cross_validate, by its shape
    try:
        evaluation = cross_validate(X, y, classes, task.window, estimator=folds)
    except KioskError as error:  # e.g. one recording of a move: the model still works
        send(Evaluated(problem=str(error)))
    else:
        send(Evaluated(evaluation))
    if task.importance:
        send(Progress(0.7, "Working out which squares each move needs…", Stage.IMPORTANCE))
        try:
            values = global_importance(X, y, classes, task.window, fit=folds.fit)
            send(Importance(values=values))
        except (KioskError, ValueError) as error:  # e.g. too few recordings for folds
            send(Importance(problem=str(error)))


class _RememberedFits:
    """An estimator whose fits are remembered by their rows.

    Cross-validation and the importance train on the same folds (both use
    ``kiosk.ml.evaluation.stratified_folds``), and a fit is deterministic, so
    the importance can reuse the score's fold models instead of fitting five
    more: the same numbers, sooner. Copies (``evaluation.fresh_estimator``)
    share the memory.
    """

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make
        self.memory: dict[tuple[bytes, bytes], Any] = {}

    def fit(self, X: np.ndarray, y: np.ndarray) -> Any:
        X = np.ascontiguousarray(X, dtype=np.float64)
        y = np.ascontiguousarray(y, dtype=np.int64)
        key = (X.tobytes(), y.tobytes())
        if key not in self.memory:
            self.memory[key] = self.make().fit(X, y)
        return self.memory[key]


def _warm_up() -> None:
    """Load and exercise what a task needs, so the task itself starts at full speed.

    Importing scikit-learn is most of a cold start; the first fit also loads
    scipy's optimiser and fills caches (measured here: 145 ms for the first
    5 x 10 fit in a fresh process, 20-40 ms after).
    """
    from kiosk.ml.evaluation import stratified_folds
    from kiosk.ml.importance import global_importance  # noqa: F401 (loaded for the task)
    from kiosk.ml.training import NetworkClassifier
    from kiosk.ml.windows import CURRENT_WINDOW

    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 24))
    y = np.arange(12) % 2
    model = NetworkClassifier(("a", "b"), CURRENT_WINDOW, max_iter=5).fit(X, y)
    model.predict_proba(X)
    model.to_tflite()
    stratified_folds(y)


def _compare(task: CompareTask, send: Callable[[Message], None]) -> None:
    """Both sides of a comparison (``kiosk.ml.compare.train_side_features``)."""
    from kiosk.ml.compare import Comparison, train_side_features

    left, right = task.sides
    send(Progress(0.1, f"Learning from {left.name}…"))
    left_side = train_side_features(left)
    send(Progress(0.55, f"Learning from {right.name}…"))
    right_side = train_side_features(right)
    send(Compared(Comparison(left_side, right_side)))


def _die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to kill this process when its parent goes; exit if it already has."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the request above
        os._exit(0)


def child_main(fd: int, parent_pid: int) -> int:
    """Entry point of the child (see ``_BOOT``): warm up, say ``Ready``, one task, answers."""
    _die_with_parent(parent_pid)
    with contextlib.suppress(OSError):
        os.nice(5)  # the touchscreen's frames come first
    connection = Connection(fd)

    def send(message: Message) -> None:
        try:
            connection.send(message)
        except OSError:  # the app is gone: nobody is listening, so stop quietly
            os._exit(0)

    try:
        try:
            _warm_up()
        except Exception:  # a broken install: the parent reports it and does not wait
            send(Failed(traceback.format_exc(), False))
            return 0
        send(Ready())
        try:
            task = connection.recv()
        except (EOFError, OSError):  # let go unused, or the app is gone
            return 0
        try:
            if isinstance(task, TrainTask):
                _train(task, send)
            elif isinstance(task, CompareTask):
                _compare(task, send)
            else:
                raise TypeError(f"unknown task {type(task).__name__}")
            send(Finished(_peak_rss_mb()))
        except KioskError as error:
            send(Failed(str(error), True))
        except Exception:
            send(Failed(traceback.format_exc(), False))
    finally:
        connection.close()
    return 0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
