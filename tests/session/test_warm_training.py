"""The warm training process: started while the visitor records, handed the task on Train.

Behaviour, not timing: the task goes to the process already warm; the model
reaches the session (and the test screen) before the score; a warm process
that dies, hangs or never gets ready is a fault with words and a fresh process
(never an endless chain of them); an unused one goes by itself; a visitor reset
leaves no training process behind.
"""

from __future__ import annotations

import os
import signal
import time
from functools import partial

import numpy as np
import pytest

from kiosk.microbit.gestures import synthesize
from kiosk.ml.train_worker import Stage, WorkerRun
from kiosk.ml.windows import CURRENT_WINDOW
from kiosk.session.learning import Learned
from kiosk.session.screens import Screen
from kiosk.session.training import MAX_FAILED_STARTS, SpareWorker, TrainingJob
from tests.processes import alive
from tests.session.journey import Journey

MOVES = ("still", "shake", "circle")
DEADLINE_S = 120.0


def _recordings(per_move: int = 4) -> tuple[list[np.ndarray], np.ndarray]:
    samples = [
        synthesize(m, 1.0, seed=10 * i + s) for i, m in enumerate(MOVES) for s in range(per_move)
    ]
    return samples, np.repeat(np.arange(len(MOVES)), per_move)


def _until(condition, what: str, limit_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen in {limit_s:.0f} s"
        time.sleep(0.01)


def _warm(workers: SpareWorker) -> WorkerRun:
    workers.prepare()
    _until(lambda: workers.spare is not None and workers.spare.ready.is_set(), "warming up")
    spare = workers.spare
    assert spare is not None and spare.pid is not None
    return spare


@pytest.fixture
def workers():
    made = SpareWorker()
    yield made
    made.stop()


def test_train_hands_the_task_to_the_process_already_warm(workers: SpareWorker) -> None:
    spare = _warm(workers)
    samples, labels = _recordings()
    job = TrainingJob(samples, labels, MOVES, CURRENT_WINDOW, workers=workers).start()
    assert job.wait(DEADLINE_S) and job.error is None, job.error
    assert job.worker_pid == spare.pid  # no new interpreter was started for it
    assert Stage.STARTING not in job.stages  # so it never waited for one to get ready
    assert job.result is not None and job.result.evaluation is not None
    assert workers.spare is None  # a process serves one task; the next visitor's is fresh
    _until(lambda: not alive(spare.pid), "the finished process to exit")


def test_a_warm_process_that_dies_is_a_fault_and_a_fresh_one_starts(workers: SpareWorker) -> None:
    spare = _warm(workers)
    os.kill(spare.pid, signal.SIGKILL)  # as the out-of-memory killer would
    _until(lambda: workers.faults == 1, "the fault to be noted")
    fresh = _warm(workers)
    assert fresh.pid != spare.pid and spare.error is not None
    assert "stopped unexpectedly" in spare.error
    samples, labels = _recordings()
    job = TrainingJob(samples, labels, MOVES, CURRENT_WINDOW, workers=workers).start()
    assert job.wait(DEADLINE_S) and job.error is None, job.error
    assert job.worker_pid == fresh.pid


def test_a_process_killed_during_the_task_fails_the_job_with_words(workers: SpareWorker) -> None:
    spare = _warm(workers)
    os.kill(spare.pid, signal.SIGSTOP)  # frozen: the task waits in its pipe, nothing comes back
    samples, labels = _recordings()
    job = TrainingJob(samples, labels, MOVES, CURRENT_WINDOW, workers=workers).start()
    _until(lambda: spare.task is not None, "the task to be handed over")
    assert not job.model_ready and not job.done
    os.kill(spare.pid, signal.SIGKILL)
    assert job.wait(DEADLINE_S)
    assert job.result is None and job.error is not None
    assert "stopped unexpectedly" in job.error and "recordings are safe" in job.error
    _until(lambda: workers.faults == 1, "the fault to be noted")
    assert _warm(workers).pid != spare.pid  # the next try starts warm again


def test_a_process_hung_while_waiting_is_replaced_and_the_visitor_still_gets_a_model() -> None:
    workers = SpareWorker(partial(WorkerRun, acknowledge_s=0.5))
    try:
        spare = _warm(workers)
        os.kill(spare.pid, signal.SIGSTOP)  # hangs while idle: alive, silent
        samples, labels = _recordings()
        job = TrainingJob(samples, labels, MOVES, CURRENT_WINDOW, workers=workers).start()
        assert job.wait(DEADLINE_S) and job.error is None, job.error
        assert job.result is not None and job.worker_pid != spare.pid
        assert spare.unresponsive and workers.faults == 1
        _until(lambda: not alive(spare.pid), "the hung process to be killed")
        assert workers.spare is None  # one process at a time: no spare beside the job's
    finally:
        workers.stop()


def test_a_process_hung_during_the_task_fails_the_job_and_is_replaced() -> None:
    workers = SpareWorker(partial(WorkerRun, first_answer_s=1.0))
    try:
        spare = _warm(workers)
        samples, labels = _recordings()
        os.kill(spare.pid, signal.SIGSTOP)
        job = TrainingJob(samples, labels, MOVES, CURRENT_WINDOW, workers=workers).start()
        _until(lambda: spare.task is not None, "the task to be handed over")
        # It acknowledged nothing, but the model's deadline is the shorter here.
        assert job.wait(DEADLINE_S)
        assert job.result is None and "longer than" in (job.error or "")
        _until(lambda: not alive(spare.pid), "the hung process to be killed")
        assert _warm(workers).pid != spare.pid
        assert workers.faults == 1
    finally:
        workers.stop()


def test_processes_that_never_get_ready_are_not_started_for_ever() -> None:
    warm_s = [0.001]  # never ready in time, until the job below
    made: list[WorkerRun] = []

    def make_run(**kwargs: object) -> WorkerRun:
        made.append(WorkerRun(warm_timeout_s=warm_s[0], **kwargs))  # type: ignore[arg-type]
        return made[-1]

    workers = SpareWorker(make_run)
    try:
        workers.prepare()
        # Each run's end (``wait`` returns once its ``on_end`` has run) starts the next,
        # until the limit: then every run made has ended and none started another.
        ended = 0
        while ended < min(len(made), MAX_FAILED_STARTS + 1):
            assert made[ended].wait(DEADLINE_S), "a never-ready process was not ended"
            ended += 1
        assert len(made) == MAX_FAILED_STARTS
        assert workers.faults == MAX_FAILED_STARTS and workers.spare is None
        # Train still starts a process of its own (bounded by the time to its first answer;
        # one that may take its time to get ready, or the 1 ms would race the hand-over).
        warm_s[0] = 120.0
        samples, labels = _recordings()
        job = TrainingJob(samples, labels, MOVES, CURRENT_WINDOW, workers=workers).start()
        assert job.wait(DEADLINE_S) and job.error is None, job.error
        assert Stage.STARTING in job.stages  # and the screen said it was waiting for one
    finally:
        workers.stop()


def test_an_unused_warm_process_goes_by_itself() -> None:
    workers = SpareWorker(partial(WorkerRun, idle_s=0.2))
    try:
        spare = _warm(workers)
        assert spare.wait(DEADLINE_S)
        assert spare.expired and spare.error is None and workers.faults == 0
        _until(lambda: not alive(spare.pid), "the unused process to exit")
        assert workers.spare is None  # not replaced: the next recording asks again
    finally:
        workers.stop()


def _ready_to_train(journey: Journey) -> int:
    """Record every move in the journey; returns the warm process's id."""
    s = journey.session
    journey.connect_pretend()
    journey.pick("Still", "Shake")
    journey.record(0, 3)
    journey.record(1, 3)
    journey.until(lambda: s.learning.workers.spare is not None, 5)
    spare = s.learning.workers.spare
    assert spare is not None
    # Its process is started by the run's own thread: the id comes when it has.
    _until(lambda: spare.pid is not None, "the warm process to start")
    assert spare.pid is not None
    return spare.pid


def test_the_session_gets_the_model_first_and_can_test_before_the_score(
    journey: Journey,
) -> None:
    s = journey.session
    warm = _ready_to_train(journey)
    s.train()
    job = s.learning.training
    assert job is not None
    assert job.wait_model(DEADLINE_S), job.error
    news = s.learning.collect_training()
    assert news[0] is Learned.MODEL and s.learning.training is None
    assert job.worker_pid == warm
    s.test()  # allowed now, score or not
    assert s.screen is Screen.TEST and s.learning.tester is not None
    assert job.wait(DEADLINE_S)
    news += s.learning.collect_training()
    assert news == [Learned.MODEL, Learned.SCORE]
    assert s.learning.trained is not None and s.learning.trained.evaluation is not None


def test_a_visitor_reset_leaves_no_training_process(journey: Journey) -> None:
    s = journey.session
    warm = _ready_to_train(journey)
    s.reset_visitor()
    _until(lambda: not alive(warm), "the warm process to go with the visitor")
    assert s.learning.workers.spare is None
    # Mid-training too: the job's process goes.
    warm = _ready_to_train(journey)
    s.train()
    s.reset_visitor()
    _until(lambda: not alive(warm), "the training process to go with the visitor")
    journey.advance(0.1)
    assert s.learning.workers.spare is None and s.learning.streaming is None


def test_a_warm_process_dying_unused_is_on_the_staffs_fault_list(journey: Journey) -> None:
    s = journey.session
    warm = _ready_to_train(journey)
    os.kill(warm, signal.SIGKILL)

    def noted() -> bool:
        journey.advance(0.02)  # the session ticks while the process's end is noticed
        return bool(s.faults.faults)

    _until(noted, "the fault on the staff's list")
    assert "stopped unexpectedly" in s.faults.faults[0] and s.faults.unseen
    fresh = s.learning.workers.spare  # and a fresh one, already starting
    assert fresh is not None and fresh.pid != warm


def test_a_process_stopped_as_it_starts_does_not_linger() -> None:
    run = WorkerRun().start()
    run.stop()  # before (or just as) the child exists
    assert run.wait(DEADLINE_S) and run.stopped
    assert run.pid is None or not alive(run.pid)
