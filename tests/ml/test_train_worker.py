"""The training worker: a child process does the scikit-learn work; failures become words.

Behaviour, not timing: the parent gets a usable model without importing
scikit-learn, the model before the score and the score before the importance,
a crash / kill / hang / timeout in the child ends the job with a message for
the screen (and a fresh warm process for the next try), and the parent
process carries on.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from kiosk.microbit.gestures import synthesize
from kiosk.ml import train_worker
from kiosk.ml.features import feature_matrix
from kiosk.ml.train_worker import (
    Evaluated,
    Failed,
    Finished,
    Importance,
    Progress,
    Ready,
    Stage,
    Trained,
    TrainTask,
    WorkerRun,
    compare_in_worker,
)
from kiosk.ml.windows import CURRENT_WINDOW
from kiosk.session.training import TrainingJob
from tests.processes import alive

MOVES = ("still", "shake", "circle")


def _recordings(per_move: int = 4) -> tuple[list[np.ndarray], np.ndarray]:
    samples, labels = [], []
    for label, move in enumerate(MOVES):
        for seed in range(per_move):
            samples.append(synthesize(move, 1.0, seed=100 * label + seed))
            labels.append(label)
    return samples, np.array(labels)


def test_training_job_returns_a_working_model_then_its_score_and_importance() -> None:
    samples, labels = _recordings()
    job = TrainingJob(samples, labels, MOVES, CURRENT_WINDOW).start()
    assert job.wait(120)
    assert job.error is None and job.result is not None and job.model_ready
    result = job.result
    assert result.evaluation is not None and result.evaluation.accuracy >= 0.75
    assert result.evaluation.predicted.shape == labels.shape
    assert result.seconds <= (result.score_seconds or 0.0)  # the score came after the model
    # The TFLite model loaded here answers as the network the worker trained.
    features = result.features[:5]
    np.testing.assert_allclose(
        result.classifier.predict_proba(features), result.model.predict_proba(features), atol=1e-5
    )
    assert result.importance is not None and result.importance_problem is None
    assert result.importance.shape == (len(MOVES), 24) and np.isfinite(result.importance).all()
    assert job.stage == Stage.DONE and job.peak_rss_mb > 0


class _HeldAtTheModel(TrainingJob):
    """A job whose reader thread waits after the model until ``release`` is set: what the
    visitor has while the score is still being measured."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.release = threading.Event()

    def _message(self, message) -> None:
        super()._message(message)
        if isinstance(message, Trained):
            assert self.release.wait(120)


def test_the_model_predicts_before_the_score_arrives() -> None:
    samples, labels = _recordings()
    job = _HeldAtTheModel(samples, labels, MOVES, CURRENT_WINDOW).start()
    try:
        assert job.wait_model(120), job.error
        result = job.result
        assert result is not None and result.evaluation is None and not result.scored
        assert result.importance is None and not job.done
        probabilities = result.classifier.predict_proba(result.features[0])
        assert probabilities.shape == (len(MOVES),)
    finally:
        job.release.set()
    assert job.wait(120) and job.error is None
    assert job.result is not None and job.result.evaluation is not None


def test_a_killed_worker_ends_the_job_with_a_message() -> None:
    samples, labels = _recordings(6)
    job = TrainingJob(samples, labels, MOVES, CURRENT_WINDOW).start()
    deadline = time.monotonic() + 30
    while job.worker_pid is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(job.worker_pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would
    assert job.wait(60)
    assert job.result is None
    assert "stopped unexpectedly" in job.error and "recordings are safe" in job.error


def test_a_worker_that_takes_too_long_is_stopped() -> None:
    samples, labels = _recordings(6)
    job = TrainingJob(samples, labels, MOVES, CURRENT_WINDOW, timeout_s=0.05).start()
    assert job.wait(60)
    assert job.result is None and "longer than" in job.error


def test_one_recording_per_move_gives_a_model_and_says_why_there_is_no_score() -> None:
    samples, labels = _recordings(1)  # one recording per move: no honest estimate possible
    job = TrainingJob(samples, labels, MOVES, CURRENT_WINDOW).start()
    assert job.wait(60)
    assert job.error is None and job.result is not None
    assert job.result.evaluation is None and "at least 2 recordings" in job.result.score_problem
    assert job.result.scored  # known not to come: no screen waits for it


def test_a_bug_in_the_worker_is_logged_and_said_plainly(caplog: pytest.LogCaptureFixture) -> None:
    task = TrainTask(np.zeros((6, 5)), np.arange(6) % 2, ("a", "b"), CURRENT_WINDOW)  # 5 features
    run = WorkerRun(task, lambda m: None).start()
    assert run.wait(60)
    assert run.error == "Something went wrong while learning. Please try again."
    assert "Traceback" in caplog.text


def test_the_worker_gets_features_and_answers_in_typed_messages_model_first() -> None:
    samples, labels = _recordings()
    features = feature_matrix(samples, CURRENT_WINDOW)
    messages: list[object] = []
    run = WorkerRun(TrainTask(features, labels, MOVES, CURRENT_WINDOW), messages.append).start()
    assert run.wait(120) and run.error is None
    assert run.ready.is_set() and run.peak_rss_mb > 0
    kinds = [type(m) for m in messages]
    # The model first, then the honest score, then the importance.
    assert kinds.index(Trained) < kinds.index(Evaluated) < kinds.index(Importance)
    assert kinds[0] is Progress and kinds[-1] is Importance
    trained = next(m for m in messages if isinstance(m, Trained))
    np.testing.assert_array_equal(trained.model.training_features, features)  # the features sent
    assert trained.tflite == trained.model.to_tflite()
    evaluated = next(m for m in messages if isinstance(m, Evaluated))
    assert evaluated.problem is None and evaluated.evaluation.n == len(labels)
    # Each stage announced before its work, in the order the train screen lists them.
    stages = [m.stage for m in messages if isinstance(m, Progress)]
    assert stages == [Stage.MODEL, Stage.EXPORT, Stage.SCORE, Stage.IMPORTANCE]
    assert all(0 < m.fraction < 1 for m in messages if isinstance(m, Progress))
    # Those end or open the run, never reach the callback.
    assert Finished not in kinds and Failed not in kinds and Ready not in kinds


def test_compare_in_worker_trains_both_sides() -> None:
    from kiosk.dataset import Action, Dataset, Recording

    samples, labels = _recordings()
    takes = [tuple(Recording(samples[j]) for j in np.flatnonzero(labels == i)) for i in range(3)]
    data = Dataset(tuple(Action(move, takes[i]) for i, move in enumerate(MOVES)))
    fewer = Dataset(data.actions[:2])
    stages: list[str] = []
    comparison = compare_in_worker((fewer, data), ("Before", "Now"), lambda f, s: stages.append(s))
    assert comparison.left.classes == MOVES[:2] and comparison.right.classes == MOVES
    assert comparison.right.n_recordings == len(labels)
    assert stages and all(isinstance(s, str) for s in stages)


def test_the_worker_never_runs_code_planted_where_the_kiosk_writes(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``kiosk`` package (and ``numpy``) planted in the app's working directory, or put on
    PYTHONPATH, is never imported by the child: it runs isolated (``-I``) from ``/``."""
    marker = tmp_path / "planted-code-ran"
    for name in ("kiosk", "numpy", "multiprocessing"):
        package = tmp_path / name
        package.mkdir()
        (package / "__init__.py").write_text(f"open({str(marker)!r}, 'a').write({name!r})\n")
        (package / "ml").mkdir()
        (package / "ml" / "__init__.py").write_text("")
        (package / "ml" / "train_worker.py").write_text(
            f"open({str(marker)!r}, 'a').write('worker')\n"
        )
    monkeypatch.chdir(tmp_path)  # the app's working directory: the writable state directory
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    samples, labels = _recordings()
    job = TrainingJob(samples, labels, MOVES, CURRENT_WINDOW).start()
    assert job.wait(120)
    assert job.error is None and job.result is not None
    assert not marker.exists(), marker.read_text()
    assert train_worker.CHILD_DIRECTORY == "/" and os.stat("/").st_uid == 0


def test_the_worker_runs_isolated_from_a_root_owned_directory(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the app runs in its writable state directory
    started: list[tuple[list[str], dict]] = []
    real_popen = subprocess.Popen

    def recording_popen(args: list[str], **kwargs: object) -> subprocess.Popen:
        started.append((list(args), dict(kwargs)))
        return real_popen(args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(train_worker.subprocess, "Popen", recording_popen)
    samples, labels = _recordings()
    job = TrainingJob(samples, labels, MOVES, CURRENT_WINDOW).start()
    assert job.wait(120) and job.result is not None, job.error
    [(args, kwargs)] = started
    assert args[0] == sys.executable and args[1] == "-I"  # no cwd, PYTHON*, user site
    assert kwargs["cwd"] == "/"
    info = os.stat(kwargs["cwd"])
    assert info.st_uid == 0 and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    # It imports the kiosk from where this process's own code comes from, nowhere else.
    assert args[args.index("-c") + 2] == str(Path(train_worker.__file__).parents[2])


def test_the_worker_dies_with_the_app(tmp_path) -> None:
    """Kill the app while its child is training: the child goes at once, with no traceback."""
    code = textwrap.dedent(
        """
        import os, sys, time
        import numpy as np
        from kiosk.microbit.gestures import synthesize
        from kiosk.ml.windows import CURRENT_WINDOW
        from kiosk.session.training import TrainingJob
        moves = ("still", "shake", "circle", "wave", "clap")
        samples = [synthesize(m, 1.0, seed=10 * i + s) for i, m in enumerate(moves)
                   for s in range(30)]
        job = TrainingJob(samples, np.repeat(np.arange(5), 30), moves, CURRENT_WINDOW).start()
        while job.stage not in ("score", "importance"):  # the child is training
            time.sleep(0.001)
        print(job.worker_pid, flush=True)
        time.sleep(600)
        """
    )
    app = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        child = int(app.stdout.readline())
        # Frozen mid-training: a child that merely noticed the closed pipe later would
        # stay here for ever, so only a child tied to the app's life passes.
        os.kill(child, signal.SIGSTOP)
        app.kill()
        app.wait(30)
        deadline = time.monotonic() + 30
        while alive(child) and time.monotonic() < deadline:
            time.sleep(0.01)
        orphaned = alive(child)
        if orphaned:
            os.kill(child, signal.SIGKILL)
        assert not orphaned, "the training child outlived the app"
        assert "Traceback" not in app.stderr.read()
    finally:
        if app.poll() is None:
            app.kill()
        app.wait()


def test_training_leaves_scikit_learn_out_of_this_process() -> None:
    """In a fresh interpreter: train through the job, use the model; sklearn never loaded."""
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        from kiosk.microbit.gestures import synthesize
        from kiosk.ml.explain import LiveExplainer
        from kiosk.ml.windows import CURRENT_WINDOW
        from kiosk.session.training import TrainingJob
        moves = ("still", "shake", "circle")
        samples = [synthesize(m, 1.0, seed=10 * i + s) for i, m in enumerate(moves)
                   for s in range(4)]
        labels = np.repeat(np.arange(3), 4)
        job = TrainingJob(samples, labels, moves, CURRENT_WINDOW).start()
        assert job.wait(120) and job.result is not None, job.error
        r = job.result
        explainer = LiveExplainer(r.model, r.features, r.labels, r.fingerprints,
                                  predicted=r.evaluation.predicted)
        explainer.explain(r.features[0])
        r.classifier.predict_proba(r.features[0])
        assert r.importance is not None and r.evaluation is not None
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("sklearn", "scipy")))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_importance_reuses_the_scores_fold_models_with_the_same_numbers() -> None:
    from kiosk.ml.evaluation import cross_validate
    from kiosk.ml.importance import global_importance
    from kiosk.ml.training import NetworkClassifier

    samples, labels = _recordings(5)
    X = feature_matrix(samples, CURRENT_WINDOW)
    made: list[object] = []

    def make() -> NetworkClassifier:
        made.append(None)
        return NetworkClassifier(MOVES, CURRENT_WINDOW)

    folds = train_worker._RememberedFits(make)
    evaluation = cross_validate(X, labels, MOVES, CURRENT_WINDOW, estimator=folds)
    importance = global_importance(X, labels, MOVES, CURRENT_WINDOW, fit=folds.fit)
    assert len(made) == evaluation.k_folds  # five fold models, not ten
    fresh = cross_validate(X, labels, MOVES, CURRENT_WINDOW)
    np.testing.assert_array_equal(evaluation.predicted, fresh.predicted)
    np.testing.assert_array_equal(importance, global_importance(X, labels, MOVES, CURRENT_WINDOW))
