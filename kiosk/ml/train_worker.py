"""Training in a child process, so the touchscreen process never loads scikit-learn.

Why a process and not a thread: scikit-learn and scipy add ~75 MB to the
process that imports them (the kiosk must stay under 150 MB on a Pi), and a
training thread holds the GIL long enough to stall frames. The child is a
fresh interpreter that receives one task, does the scikit-learn work, sends
messages back and exits, so its memory is returned as soon as it is done.

The conversation is typed: the parent sends one task (``TrainTask`` with the
recordings' *features*, which the touchscreen process computes with the same
numpy code it uses live, or ``CompareTask`` with two sets of features); the child answers with
``Progress``, ``Trained`` / ``Compared``, ``Importance`` and finally
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
to a callback on its own reader thread and turns a crash, a kill or a timeout
into a ``TrainingWorkerError`` with words a person can act on.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
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

DEFAULT_TIMEOUT_S = 300.0  # far beyond a visitor's few dozen recordings on a Pi
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


# ---- tasks (parent -> child) -------------------------------------------------------------


@dataclass(frozen=True)
class TrainTask:
    """Train on these features: honest estimate, final model, TFLite, then global importance."""

    features: np.ndarray  # (m, 24)
    labels: np.ndarray  # (m,)
    classes: tuple[str, ...]
    window: DataWindow
    importance: bool = True


@dataclass(frozen=True)
class CompareTask:
    """Train two sides' features as ``kiosk.ml.compare.compare_datasets`` does."""

    sides: tuple[Any, Any]  # two kiosk.ml.compare.SideFeatures


Task = TrainTask | CompareTask


# ---- messages (child -> parent) ----------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    fraction: float  # 0..1
    words: str  # for the screen


@dataclass(frozen=True)
class Trained:
    evaluation: Any  # kiosk.ml.evaluation.Evaluation, the cross-validated estimate
    model: Any  # kiosk.ml.training.NetworkClassifier fitted on every recording (numpy only)
    tflite: bytes  # the model as the live predictor runs it and the store keeps it


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


@dataclass(frozen=True)
class Failed:
    text: str  # a KioskError's words for the screen, or a traceback for the log
    is_kiosk: bool


Message = Progress | Trained | Importance | Compared | Finished | Failed


# ---- the parent's side ------------------------------------------------------------------


class WorkerRun:
    """One task in a child process; ``on_message`` gets each message on the reader thread.

    ``done`` is set once the child has finished (or failed); ``error`` then says
    why it failed, in words for the screen, or is None.
    """

    def __init__(
        self,
        task: Task,
        on_message: Callable[[Message], None],
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        if not isinstance(task, TrainTask | CompareTask):
            raise ValueError(f"unknown task {task!r}")
        self.task = task
        self.name = "train" if isinstance(task, TrainTask) else "compare"
        self.error: str | None = None
        self.done = threading.Event()
        self._on_message = on_message
        self._timeout_s = timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._main, name=f"{self.name}-worker", daemon=True)

    def start(self) -> WorkerRun:
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)

    def stop(self) -> None:
        """Kill the child (e.g. the visitor left); the run ends with an error."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _main(self) -> None:
        connection: Connection | None = None
        try:
            connection = self._start_child()
            self._converse(connection)
        except TrainingWorkerError as error:
            self.error = str(error)
            log.warning("%s worker: %s", self.name, error)
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
            self.done.set()

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

    def _converse(self, connection: Connection) -> None:
        process = self._process
        assert process is not None
        # If the child died at once, sending fails; its exit is reported below.
        with contextlib.suppress(OSError):
            connection.send(self.task)
        deadline = time.monotonic() + self._timeout_s
        while True:
            left = deadline - time.monotonic()
            try:
                ready = left > 0 and connection.poll(min(left, 1.0))
                if not ready:
                    if time.monotonic() < deadline:
                        continue
                    process.kill()
                    raise TrainingWorkerError(
                        f"Learning took longer than {self._timeout_s:.0f} seconds and was "
                        "stopped. Try again with fewer recordings."
                    )
                message = connection.recv()
            except (EOFError, OSError):
                code = process.wait()
                raise TrainingWorkerError(
                    _(
                        "The learning helper stopped unexpectedly ({why}). "
                        "Your recordings are safe: please try again."
                    ).format(why=_describe_exit(code))
                ) from None
            if isinstance(message, Finished):
                return
            if isinstance(message, Failed):
                text = message.text
                if not message.is_kiosk:
                    log.error("%s worker traceback:\n%s", self.name, text)
                    text = _("Something went wrong while learning. Please try again.")
                raise TrainingWorkerError(text)
            self._on_message(message)


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
    """Honest estimate, final model and TFLite export; then global importance."""
    from kiosk.ml.evaluation import cross_validate
    from kiosk.ml.importance import global_importance
    from kiosk.ml.training import NetworkClassifier

    X = np.asarray(task.features, dtype=np.float64)
    y = np.asarray(task.labels, dtype=np.int64)
    classes = list(task.classes)
    estimator = NetworkClassifier(classes, task.window)
    send(Progress(0.2, "Testing how well it learns…"))  # English: the screen shows its own
    evaluation = cross_validate(X, y, classes, task.window, estimator=estimator)
    send(Progress(0.65, "Learning from all your recordings…"))
    model = NetworkClassifier(classes, task.window).fit(X, y)
    send(Progress(0.9, "Getting the model ready…"))
    send(Trained(evaluation, model, model.to_tflite()))
    if task.importance:
        try:
            values = global_importance(
                X,
                y,
                classes,
                task.window,
                fit=lambda X_fit, y_fit: NetworkClassifier(classes, task.window).fit(X_fit, y_fit),
            )
            send(Importance(values=values))
        except (KioskError, ValueError) as error:  # e.g. too few recordings for folds
            send(Importance(problem=str(error)))


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
    """Entry point of the child (see ``_BOOT``): one task from ``fd``, messages back."""
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
        task = connection.recv()
    except (EOFError, OSError):
        return 0
    try:
        if isinstance(task, TrainTask):
            _train(task, send)
        elif isinstance(task, CompareTask):
            _compare(task, send)
        else:
            raise TypeError(f"unknown task {type(task).__name__}")
        send(Finished())
    except KioskError as error:
        send(Failed(str(error), True))
    except Exception:
        send(Failed(traceback.format_exc(), False))
    finally:
        connection.close()
    return 0
