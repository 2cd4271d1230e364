"""Live predictions on a worker thread: the same predictions as the synchronous mode, drained by
the UI, and a thread that stops whenever testing stops and never outlives its tester."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from kiosk.ml.features import feature_matrix
from kiosk.ml.predictor import LivePredictor, Prediction
from kiosk.ml.runtime import TFLiteClassifier
from kiosk.ml.training import train_model
from kiosk.ml.windows import LEGACY_WINDOW
from kiosk.session.live import LiveTester
from kiosk.session.prediction_thread import PROBLEM, PredictionThread
from kiosk.session.screens import Screen
from kiosk.session.session import Session
from kiosk.signal.buffer import SampleBuffer

SSC = "shake-still-circle-data-samples-legacy.json"
THRESHOLDS = [0.6, 0.6, 0.6]
GROUP = 20  # samples fed before waiting for the thread: below MAX_CATCH_UP, so none is skipped


@pytest.fixture(scope="module")
def model_bytes(load_real: Callable) -> bytes:
    dataset = load_real(SSC)
    X = feature_matrix(dataset.sample_arrays(), LEGACY_WINDOW)
    return train_model(X, dataset.labels(), dataset.class_names, LEGACY_WINDOW).to_tflite()


@pytest.fixture(scope="module")
def stream(load_real: Callable) -> list[np.ndarray]:
    """Real recordings one after another, as (n, 4) bursts of 1-3 samples with jittered times."""
    actions = load_real(SSC).actions
    samples = np.concatenate([a.recordings[i].samples for i in range(2) for a in actions])
    rng = np.random.default_rng(4)
    t = np.cumsum(rng.uniform(0.012, 0.028, len(samples)))
    rows = np.column_stack([t, samples])
    cuts = np.cumsum(rng.integers(1, 4, len(rows)))
    return [b for b in np.split(rows, cuts[cuts < len(rows)]) if len(b)]


def _live_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "live-predictor" and t.is_alive()]


def _wait(condition: Callable[[], bool], limit_s: float = 20.0) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "the prediction thread did not catch up"
        time.sleep(0.001)


def _same(a: Prediction, b: Prediction) -> bool:
    return (
        a.sequence == b.sequence
        and a.t == b.t
        and np.array_equal(a.probabilities, b.probabilities)
        and np.array_equal(a.features, b.features)
        and np.array_equal(a.fingerprint, b.fingerprint)
    )


def test_the_thread_makes_exactly_the_synchronous_predictions_one_per_sample(
    model_bytes: bytes, stream: list[np.ndarray]
) -> None:
    classifier = TFLiteClassifier.from_bytes(model_bytes)
    sync_buffer, thread_buffer = SampleBuffer(512), SampleBuffer(512)
    # Both start on an empty buffer, so both predict on every sample from the first.
    sync = LivePredictor(classifier, LEGACY_WINDOW)
    worker = PredictionThread(
        lambda: LivePredictor(TFLiteClassifier.from_bytes(model_bytes), LEGACY_WINDOW),
        thread_buffer,
    ).start()
    expected: list[Prediction] = []
    got: list[Prediction] = []
    fed = 0

    def caught_up() -> bool:  # the thread looked at every sample fed so far
        return worker.seen == thread_buffer.sequence and worker.made == len(expected)

    try:
        for burst in stream:
            sync_buffer.extend(burst)
            expected += sync.update(sync_buffer)
            thread_buffer.extend(burst)  # the thread predicts while we carry on
            got += worker.drain()
            fed += len(burst)
            if fed >= GROUP:
                fed = 0
                _wait(caught_up)
        _wait(caught_up)
        got += worker.drain()
    finally:
        assert worker.stop()
    n_samples = sum(len(b) for b in stream)
    first = LEGACY_WINDOW.min_samples - 1  # the first window with enough samples (times vary)
    assert len(expected) > n_samples - 2 * first
    assert [p.sequence for p in got] == [p.sequence for p in expected]
    assert len({p.sequence for p in got}) == len(got)  # one per sample, none twice
    assert all(_same(a, b) for a, b in zip(got, expected, strict=True))
    assert worker.drain() == [] and not worker.alive and worker.problem is None
    assert not _live_threads()


def test_a_threaded_tester_recognises_like_a_synchronous_one(
    model_bytes: bytes, stream: list[np.ndarray]
) -> None:
    classifier = TFLiteClassifier.from_bytes(model_bytes)
    sync = LiveTester(classifier, LEGACY_WINDOW)
    threaded = LiveTester(classifier, LEGACY_WINDOW, threaded=True, model_bytes=model_bytes)
    sync_buffer, thread_buffer = SampleBuffer(512), SampleBuffer(512)
    assert threaded.update(thread_buffer, THRESHOLDS, 0.0) is False  # starts the thread
    assert threaded.running and threaded.predictor is None
    changes = [0, 0]
    detected: list[tuple[int | None, int | None]] = []
    fed = 0

    def caught_up() -> bool:
        changes[1] += threaded.update(thread_buffer, THRESHOLDS, 0.0)
        worker = threaded.worker
        looked = worker is not None and worker.seen == thread_buffer.sequence
        return looked and threaded.predictions == sync.predictions

    try:
        for burst in stream:
            sync_buffer.extend(burst)
            thread_buffer.extend(burst)
            changes[0] += sync.update(sync_buffer, THRESHOLDS, 0.0)
            fed += len(burst)
            if fed < GROUP:
                continue
            fed = 0
            _wait(caught_up)
            detected.append((sync.detected, threaded.detected))
            if sync.latest is None:  # the window is not full yet
                assert threaded.latest is None
            else:
                assert _same(threaded.latest, sync.latest)
        _wait(caught_up)
    finally:
        assert threaded.stop()
    assert sync.predictions > 100
    assert all(a == b for a, b in detected)
    assert len({d for d, _ in detected} - {None}) >= 2  # the stream shows several moves
    assert threaded.rate_hz() == pytest.approx(sync.rate_hz())
    assert not threaded.running and not _live_threads()
    # Grouped draining may merge changes the synchronous tester saw one frame at a time.
    assert 0 < changes[1] <= changes[0]


class _Broken:
    """A classifier whose runtime fails, as a damaged interpreter would."""

    def __init__(self, classifier: TFLiteClassifier) -> None:
        self.info = classifier.info

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        raise RuntimeError("tensor arena exhausted")


def test_a_failing_thread_is_logged_reported_once_and_not_restarted(
    model_bytes: bytes, stream: list[np.ndarray], caplog: pytest.LogCaptureFixture
) -> None:
    classifier = TFLiteClassifier.from_bytes(model_bytes)
    tester = LiveTester(_Broken(classifier), LEGACY_WINDOW, threaded=True)  # type: ignore[arg-type]
    buffer = SampleBuffer(512)
    with caplog.at_level(logging.ERROR):
        tester.update(buffer, THRESHOLDS, 0.0)
        buffer.extend(np.concatenate(stream[:60]))

        def reported() -> bool:
            tester.update(buffer, THRESHOLDS, 0.0)
            return tester.problem is not None

        _wait(reported)
    assert tester.take_problem() == PROBLEM and tester.take_problem() is None
    assert "tensor arena exhausted" in caplog.text
    assert tester.predictions == 0 and tester.latest is None
    buffer.extend(stream[60])
    assert tester.update(buffer, THRESHOLDS, 0.0) is False  # no new thread, no new report
    assert tester.problem is None and not tester.running and not _live_threads()
    tester.stop()


def test_stop_joins_and_a_new_buffer_gets_a_new_thread(model_bytes: bytes) -> None:
    classifier = TFLiteClassifier.from_bytes(model_bytes)
    tester = LiveTester(classifier, LEGACY_WINDOW, threaded=True, model_bytes=model_bytes)
    first, second = SampleBuffer(64), SampleBuffer(64)
    tester.update(first, THRESHOLDS, 0.0)
    assert len(_live_threads()) == 1
    tester.update(second, THRESHOLDS, 0.0)  # the board was replaced: follow the new buffer
    assert len(_live_threads()) == 1
    assert tester.stop() and tester.stop()  # idempotent
    assert not _live_threads()


@pytest.fixture
def threaded_journey(journey):
    """The journey; its tester's thread is stopped even when a test fails half-way."""
    yield journey
    if journey.session.learning.tester is not None:
        journey.session.learning.tester.stop()


def _session_at_test(journey, threaded: bool | None) -> Session:
    """The journey's board and store, a session predicting on a thread, trained and testing."""
    j = journey
    j.session = Session(j.store, j.boards, j.settings, clock=j.clock, predict_in_thread=threaded)
    s = j.session
    j.connect_pretend()
    j.pick("Still", "Shake")
    for index in range(2):
        j.record(index, 3)
    s.train()
    s.learning.training.wait(120)
    j.advance(0.02)
    assert s.learning.trained is not None, s.learning.training_error
    s.test()
    return s


def _predict_a_while(journey, s: Session, count: int = 10) -> None:
    """Let the stepped board deliver (with a breath of wall time) until ``count`` predictions."""
    before = s.learning.tester.predictions

    def enough() -> bool:
        journey.advance(0.02)
        return s.learning.tester.predictions >= before + count

    _wait(enough)


def test_the_session_runs_the_thread_only_while_testing(threaded_journey) -> None:
    journey = threaded_journey
    s = _session_at_test(journey, threaded=True)
    assert s.screen is Screen.TEST and s.learning.tester.threaded
    s.set_pretend_gesture("shake")
    _predict_a_while(journey, s)
    assert len(_live_threads()) == 1 and s.learning.tester.latest is not None
    s.open_admin()  # leaving the test screen pauses the thread ...
    journey.advance(0.02)
    assert not _live_threads()
    s.close_admin()  # ... and coming back restarts it
    assert s.screen is Screen.TEST
    _predict_a_while(journey, s)
    assert len(_live_threads()) == 1
    s.add_more_recordings()
    assert not _live_threads() and s.learning.tester is None
    s.test()
    _predict_a_while(journey, s)
    s.test()  # testing again replaces the tester and its thread
    _predict_a_while(journey, s)
    assert len(_live_threads()) == 1
    s.train()  # a new model replaces the old one
    assert not _live_threads()
    s.learning.training.wait(120)
    journey.advance(0.02)
    s.test()
    _predict_a_while(journey, s)
    s.start_again()
    assert not _live_threads() and s.screen is Screen.ATTRACT


def test_a_stepped_board_keeps_the_synchronous_mode(journey) -> None:
    s = _session_at_test(journey, threaded=None)  # decided by the link: stepped, not real time
    assert not s.learning.tester.threaded
    journey.advance(0.5)
    assert s.learning.tester.predictions > 0 and not _live_threads()


def test_the_thread_predicts_with_the_one_classifier_made_after_training(
    model_bytes: bytes, stream: list[np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No second interpreter is rebuilt from the bytes: what was trained is what runs."""
    classifier = TFLiteClassifier.from_bytes(model_bytes)
    used: list[object] = []
    original = TFLiteClassifier.predict_proba

    def spy(self: TFLiteClassifier, features: np.ndarray) -> np.ndarray:
        used.append(self)
        return original(self, features)

    built: list[object] = []
    original_init = TFLiteClassifier.__init__

    def counting_init(self: TFLiteClassifier, *args: object, **kwargs: object) -> None:
        built.append(self)
        original_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(TFLiteClassifier, "predict_proba", spy)
    monkeypatch.setattr(TFLiteClassifier, "__init__", counting_init)
    tester = LiveTester(classifier, LEGACY_WINDOW, threaded=True, model_bytes=model_bytes)
    buffer = SampleBuffer(512)
    try:
        for burst in stream[:60]:
            buffer.extend(burst)
            tester.update(buffer, THRESHOLDS, 0.0)
        _wait(lambda: tester.worker is not None and tester.worker.made > 0)
    finally:
        assert tester.stop()
    assert built == [] and used and all(c is classifier for c in used)
