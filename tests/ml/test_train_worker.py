"""The training worker: a child process does the scikit-learn work; failures become words.

Behaviour, not timing: the parent gets a usable model without importing
scikit-learn, a crash / kill / timeout in the child ends the job with a
message for the screen, and the parent process carries on.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from kiosk.microbit.gestures import synthesize
from kiosk.ml import train_worker
from kiosk.ml.train_worker import WorkerRun, compare_in_worker
from kiosk.ml.windows import CURRENT_WINDOW
from kiosk.session.training import TrainingJob

MOVES = ("still", "shake", "circle")


def _recordings(per_move: int = 4) -> tuple[list[np.ndarray], np.ndarray]:
    samples, labels = [], []
    for label, move in enumerate(MOVES):
        for seed in range(per_move):
            samples.append(synthesize(move, 1.0, seed=100 * label + seed))
            labels.append(label)
    return samples, np.array(labels)


def test_training_job_returns_a_working_model_and_importance() -> None:
    samples, labels = _recordings()
    job = TrainingJob(samples, labels, MOVES, CURRENT_WINDOW).start()
    assert job.wait(120)
    assert job.error is None and job.result is not None
    result = job.result
    assert result.evaluation.accuracy >= 0.75
    assert result.evaluation.predicted.shape == labels.shape
    # The TFLite model loaded here answers as the network the worker trained.
    features = result.features[:5]
    np.testing.assert_allclose(
        result.classifier.predict_proba(features), result.model.predict_proba(features), atol=1e-5
    )
    assert result.importance is not None
    importance = result.importance()
    assert importance.shape == (len(MOVES), 24) and np.isfinite(importance).all()


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


def test_a_dataset_problem_in_the_worker_is_reported_in_its_own_words() -> None:
    samples, labels = _recordings(1)  # one recording per move: no honest estimate possible
    job = TrainingJob(samples, labels, MOVES, CURRENT_WINDOW).start()
    assert job.wait(60)
    assert job.result is None and "at least 2 recordings" in job.error


def test_a_bug_in_the_worker_is_logged_and_said_plainly(caplog: pytest.LogCaptureFixture) -> None:
    run = WorkerRun("train", {"samples": "not arrays"}, lambda m: None).start()
    assert run.wait(60)
    assert run.error == "Something went wrong while learning. Please try again."
    assert "Traceback" in caplog.text


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


def test_frames_round_trip(tmp_path) -> None:
    path = tmp_path / "frames"
    with path.open("wb") as out:
        train_worker.write_frame(out, ("progress", 0.5, "half"))
        train_worker.write_frame(out, ("result", "x", np.arange(3)))
    with path.open("rb") as stream:
        assert train_worker.read_frame(stream) == ("progress", 0.5, "half")
        result = train_worker.read_frame(stream)
        assert result[:2] == ("result", "x")
        np.testing.assert_array_equal(result[2], np.arange(3))
        with pytest.raises(EOFError):
            train_worker.read_frame(stream)


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
        r.importance()
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("sklearn", "scipy")))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
