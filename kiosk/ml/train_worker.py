"""Training in a child process, so the touchscreen process never loads scikit-learn.

Why a process and not a thread: scikit-learn and scipy add ~75 MB to the
process that imports them (the kiosk must stay under 150 MB on a Pi), and a
training thread holds the GIL long enough to stall frames. The child is a
fresh ``python -m kiosk.ml.train_worker``: it reads one task from stdin, does
the scikit-learn work, writes messages to stdout, and exits, so its memory is
returned as soon as it is done.

Wire format, both ways: frames of an 8-byte little-endian length and a pickle
(both ends are this module, run from the same install). The parent sends one
``(task, arguments)`` frame; the child answers with frames
``("progress", fraction, words)``, ``("result", key, value)`` (several, as
each part is ready) and finally ``("done",)`` or ``("error", text, is_kiosk)``.
Everything sent back is plain numpy or kiosk dataclasses that need no
scikit-learn to unpickle (a network model's ``TrainedModel`` is numpy only).

``WorkerRun`` is the parent's side: it starts the child, feeds the messages to
a callback on its own reader thread and turns a crash, a kill or a timeout
into a ``TrainingWorkerError`` with words a person can act on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

from kiosk.errors import KioskError

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("<Q")
DEFAULT_TIMEOUT_S = 300.0  # far beyond a visitor's few dozen recordings on a Pi
TASKS = ("train", "compare")

Message = tuple[Any, ...]


class TrainingWorkerError(KioskError):
    """The training process failed, crashed, was killed or took too long."""


# ---- framing ----------------------------------------------------------------------------


def write_frame(stream: BinaryIO, message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: BinaryIO) -> object:
    """One frame from a blocking stream; EOFError at a clean end."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError("the stream ended")
    (size,) = _LENGTH.unpack(head)
    body = stream.read(size)
    if len(body) < size:
        raise EOFError("the stream ended inside a frame")
    return pickle.loads(body)


class _FrameReader:
    """Frames from a pipe's file descriptor, with a deadline (select + os.read)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = bytearray()

    def next(self, deadline: float) -> object:
        """The next frame; EOFError when the child closed the pipe, TimeoutError at the deadline."""
        while True:
            if len(self._buffer) >= _LENGTH.size:
                (size,) = _LENGTH.unpack_from(self._buffer)
                end = _LENGTH.size + size
                if len(self._buffer) >= end:
                    body = bytes(self._buffer[_LENGTH.size : end])
                    del self._buffer[:end]
                    return pickle.loads(body)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self._fd], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(self._fd, 1 << 16)
            if not chunk:
                raise EOFError
            self._buffer += chunk


# ---- the parent's side ------------------------------------------------------------------


class WorkerRun:
    """One task in a child process; ``on_message`` gets each message on the reader thread.

    ``done`` is set once the child has finished (or failed); ``error`` then says
    why it failed, in words for the screen, or is None.
    """

    def __init__(
        self,
        task: str,
        arguments: dict[str, Any],
        on_message: Callable[[Message], None],
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; use one of {TASKS}")
        self.task = task
        self.error: str | None = None
        self.done = threading.Event()
        self._arguments = arguments
        self._on_message = on_message
        self._timeout_s = timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._main, name=f"{task}-worker", daemon=True)

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
        try:
            self._run()
        except TrainingWorkerError as error:
            self.error = str(error)
            log.warning("%s worker: %s", self.task, error)
        except Exception as error:  # a bug on our side of the pipe
            log.exception("%s worker failed", self.task)
            self.error = f"Something went wrong while learning ({error}). Please try again."
        finally:
            process = self._process
            if process is not None:
                if process.poll() is None:
                    process.kill()
                process.wait()
                for pipe in (process.stdin, process.stdout):
                    if pipe is not None:
                        pipe.close()
            self.done.set()

    def _run(self) -> None:
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "kiosk.ml.train_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=_child_environment(),
            )
        except OSError as error:
            raise TrainingWorkerError(
                f"Could not start the learning helper ({error}). Please try again."
            ) from None
        process = self._process
        assert process.stdin is not None and process.stdout is not None
        try:
            write_frame(process.stdin, (self.task, self._arguments))
            process.stdin.close()
        except (BrokenPipeError, OSError):
            pass  # the child died at once; its exit is reported below
        reader = _FrameReader(process.stdout.fileno())
        deadline = time.monotonic() + self._timeout_s
        while True:
            try:
                message = reader.next(deadline)
            except TimeoutError:
                process.kill()
                raise TrainingWorkerError(
                    f"Learning took longer than {self._timeout_s:.0f} seconds and was stopped. "
                    "Try again with fewer recordings."
                ) from None
            except EOFError:
                code = process.wait()
                raise TrainingWorkerError(
                    "The learning helper stopped unexpectedly "
                    f"({_describe_exit(code)}). Your recordings are safe: please try again."
                ) from None
            kind = message[0]  # type: ignore[index]
            if kind == "done":
                return
            if kind == "error":
                _, text, is_kiosk = message  # type: ignore[misc]
                if not is_kiosk:
                    log.error("%s worker traceback:\n%s", self.task, text)
                    text = "Something went wrong while learning. Please try again."
                raise TrainingWorkerError(text)
            self._on_message(message)  # type: ignore[arg-type]


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
    found: dict[str, Any] = {}

    def message(m: Message) -> None:
        if m[0] == "progress" and on_progress is not None:
            on_progress(m[1], m[2])
        elif m[0] == "result":
            found[m[1]] = m[2]

    # Plain names and arrays on the wire (a Dataset's ``extra`` mapping does not pickle).
    plain = [
        [(a.name, [np.asarray(r.samples) for r in a.recordings]) for a in d.actions]
        for d in datasets
    ]
    run = WorkerRun("compare", {"datasets": plain, "names": tuple(names)}, message, timeout_s)
    run.start().wait()
    if run.error is not None:
        raise TrainingWorkerError(run.error)
    if "comparison" not in found:
        raise TrainingWorkerError("The comparison could not be finished. Please try again.")
    return found["comparison"]


def _child_environment() -> dict[str, str]:
    env = dict(os.environ)
    # One BLAS thread (training is tiny; threads only add overhead, see kiosk.ml.training).
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    # The child must import this very tree (a checkout run without installing, e.g. tests).
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def _describe_exit(code: int) -> str:
    if code < 0:
        return f"stopped by signal {-code}"
    return f"exit code {code}"


# ---- the child's side -------------------------------------------------------------------


def _train(arguments: dict[str, Any], send: Callable[[Message], None]) -> None:
    """Features, honest estimate, final model and TFLite export; then global importance."""
    from kiosk.ml.evaluation import cross_validate
    from kiosk.ml.features import feature_matrix, fingerprint
    from kiosk.ml.importance import global_importance
    from kiosk.ml.training import train_model

    samples: list[np.ndarray] = arguments["samples"]
    y = np.asarray(arguments["labels"], dtype=np.int64)
    classes = list(arguments["classes"])
    window = arguments["window"]
    kind = arguments.get("kind", "nn")
    send(("progress", 0.05, "Measuring the fingerprints…"))
    X = feature_matrix(samples, window)
    send(("progress", 0.2, "Testing how well it learns…"))
    evaluation = cross_validate(X, y, classes, window, kind=kind)
    send(("progress", 0.65, "Learning from all your recordings…"))
    model = train_model(X, y, classes, window, kind=kind)
    if model.network is None:
        raise ValueError("the training worker returns network models only (kind 'nn')")
    send(("progress", 0.9, "Getting the model ready…"))
    send(
        (
            "result",
            "trained",
            {
                "evaluation": evaluation,
                "model": model,
                "tflite": model.to_tflite(),
                "features": X,
                "fingerprints": np.vstack([fingerprint(row, window) for row in X]),
                "labels": y,
            },
        )
    )
    if arguments.get("importance", True):
        try:
            raw = global_importance(X, y, classes, window, kind=kind)
            send(("result", "importance", raw))
        except (KioskError, ValueError) as error:  # e.g. too few recordings for folds
            send(("result", "importance", error))


def _compare(arguments: dict[str, Any], send: Callable[[Message], None]) -> None:
    """Both sides of a comparison (``kiosk.ml.compare.train_side``)."""
    from kiosk.dataset import Action, Dataset, Recording
    from kiosk.ml.compare import Comparison, train_side

    left_name, right_name = arguments["names"]
    left_data, right_data = (
        Dataset(tuple(Action(name, tuple(Recording(s) for s in takes)) for name, takes in plain))
        for plain in arguments["datasets"]
    )
    send(("progress", 0.1, f"Learning from {left_name}…"))
    left = train_side(left_name, left_data)
    send(("progress", 0.55, f"Learning from {right_name}…"))
    right = train_side(right_name, right_data)
    send(("result", "comparison", Comparison(left, right)))


_TASK_FUNCTIONS: dict[str, Callable[[dict[str, Any], Callable[[Message], None]], None]] = {
    "train": _train,
    "compare": _compare,
}


def child_main() -> int:
    """Entry point of ``python -m kiosk.ml.train_worker``."""
    # Our stdout is the message pipe: keep it for frames and send stray prints to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    with contextlib.suppress(OSError):
        os.nice(5)  # the touchscreen's frames come first

    def send(message: Message) -> None:
        write_frame(out, message)

    try:
        task, arguments = read_frame(sys.stdin.buffer)  # type: ignore[misc]
        _TASK_FUNCTIONS[task](arguments, send)
        send(("done",))
    except KioskError as error:
        send(("error", str(error), True))
    except Exception:
        send(("error", traceback.format_exc(), False))
    finally:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
