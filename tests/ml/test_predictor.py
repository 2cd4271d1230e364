"""LivePredictor: one prediction per new sample, on the last window cut by time; detection rule."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from kiosk.ml.features import compute_features, feature_matrix, fingerprint
from kiosk.ml.predictor import MAX_CATCH_UP, LivePredictor, detect_action
from kiosk.ml.runtime import TFLiteClassifier
from kiosk.ml.training import train_model
from kiosk.ml.windows import LEGACY_WINDOW
from kiosk.signal.buffer import SampleBuffer

SSC = "shake-still-circle-data-samples-legacy.json"
SSC_TEST = "shake-still-circle-legacy-test-data.json"


@pytest.fixture(scope="module")
def classifier(load_real: Callable) -> TFLiteClassifier:
    dataset = load_real(SSC)
    X = feature_matrix(dataset.sample_arrays(), LEGACY_WINDOW)
    model = train_model(X, dataset.labels(), dataset.class_names, LEGACY_WINDOW)
    return TFLiteClassifier.from_bytes(model.to_tflite())


def _rows(samples: np.ndarray, t0: float, period_s: float) -> np.ndarray:
    t = t0 + period_s * np.arange(len(samples))
    return np.column_stack([t, samples])


def test_predicts_once_per_new_sample_from_the_last_window(
    classifier: TFLiteClassifier, load_real: Callable
) -> None:
    recording = load_real(SSC_TEST).actions[0].recordings[0].samples  # a shake
    buffer = SampleBuffer(capacity=512)
    predictor = LivePredictor(classifier, LEGACY_WINDOW)
    assert predictor.update(buffer) == []  # nothing yet
    buffer.extend(_rows(recording[:40], 0.0, 0.02))
    assert predictor.update(buffer) == []  # fewer than min_samples in the window
    buffer.extend(_rows(recording[40:], 40 * 0.02, 0.02))
    made = predictor.update(buffer)
    # One per new sample (at most MAX_CATCH_UP of the newest), oldest first, from the
    # first whose window holds min_samples (the 80th sample, sequence 79).
    first = max(LEGACY_WINDOW.min_samples - 1, len(recording) - MAX_CATCH_UP)
    assert [p.sequence for p in made] == list(range(first, len(recording)))
    prediction = made[-1]
    assert predictor.update(buffer) == []  # no new sample since
    # The window is the last 1.8 s by time: at 20 ms that is the newest 91 samples.
    expected_window = recording[-91:]
    np.testing.assert_allclose(
        prediction.features, compute_features(expected_window, LEGACY_WINDOW), atol=1e-12
    )
    np.testing.assert_allclose(
        prediction.probabilities, classifier.predict_proba(prediction.features), atol=1e-7
    )
    np.testing.assert_allclose(
        prediction.fingerprint, fingerprint(prediction.features, LEGACY_WINDOW)
    )
    assert prediction.sequence == buffer.sequence == len(recording) - 1
    assert prediction.t == pytest.approx((len(recording) - 1) * 0.02)
    buffer.append(10.0, 0.0, 0.0, -1.0)  # one new sample, long after: window has 1 sample
    assert predictor.update(buffer) == []
    predictor.reset()


def test_recognises_real_test_recordings_fed_as_a_stream(
    classifier: TFLiteClassifier, load_real: Callable
) -> None:
    test = load_real(SSC_TEST)
    buffer = SampleBuffer(capacity=256)
    predictor = LivePredictor(classifier, LEGACY_WINDOW)
    t = 0.0
    correct = total = 0
    for label, _, recording in test.labelled_recordings():
        last = None
        for row in _rows(recording.samples, t, 0.019):  # 19 ms: the whole recording fits
            buffer.append(*row)
            made = predictor.update(buffer)
            assert len(made) <= 1  # one sample in, at most one prediction out
            last = made[-1] if made else last
        t += 5.0  # a pause: the next recording starts with a fresh window
        assert last is not None
        total += 1
        correct += int(np.argmax(last.probabilities) == label)
    assert correct / total >= 0.9


def test_detect_action_follows_createai() -> None:
    assert detect_action(np.array([0.1, 0.85, 0.05]), [0.8, 0.8, 0.8]) == 1
    assert detect_action(np.array([0.5, 0.3, 0.2]), [0.8, 0.8, 0.8]) is None
    # exceeding its own threshold by the most wins, not the highest confidence
    assert detect_action(np.array([0.55, 0.45]), [0.6, 0.3]) == 1
    assert detect_action(np.array([0.8, 0.2]), [0.8, 0.8]) == 0  # reaching it counts
    assert detect_action(np.array([0.5, 0.5]), [0.4, 0.4]) == 1  # a tie goes to the later one


@pytest.mark.parametrize("period_s", [0.001, 0.02])  # 1 kHz takes the exact fallback path
def test_window_equals_buffer_last_seconds_with_bursty_arrival(
    classifier: TFLiteClassifier, period_s: float
) -> None:
    rng = np.random.default_rng(5)
    n = int(4.0 / period_s)
    # Bursts: gaps from 0 to 1.6 periods, as BLE delivers them.
    t = np.cumsum(rng.uniform(0.0, 1.6, n) * period_s)
    samples = rng.normal(0, 0.6, size=(n, 3))
    buffer = SampleBuffer(capacity=8192)
    predictor = LivePredictor(classifier, LEGACY_WINDOW)
    checked = 0
    for start in range(0, n, n // 7):
        buffer.extend(np.column_stack([t[start : start + n // 7], samples[start : start + n // 7]]))
        made = predictor.update(buffer)
        expected = buffer.last_seconds(LEGACY_WINDOW.duration_ms / 1000)
        if len(expected) < LEGACY_WINDOW.min_samples:
            assert made == []
            continue
        prediction = made[-1]
        np.testing.assert_array_equal(
            prediction.features, compute_features(expected.xyz, LEGACY_WINDOW)
        )
        assert prediction.sequence == expected.last_sequence
        checked += 1
    assert checked >= 5


def test_bursts_give_the_same_predictions_as_one_sample_at_a_time(
    classifier: TFLiteClassifier,
) -> None:
    """Every sample gets its own window and prediction, however the samples are bunched."""
    rng = np.random.default_rng(11)
    n = 400
    t = np.cumsum(rng.uniform(0.0, 1.6, n) * 0.02)  # BLE-like: 0 to 32 ms apart
    rows = np.column_stack([t, rng.normal(0, 0.7, size=(n, 3))])
    one_by_one: dict[int, np.ndarray] = {}
    expected_windows: dict[int, np.ndarray] = {}
    buffer = SampleBuffer(capacity=1024)
    predictor = LivePredictor(classifier, LEGACY_WINDOW)
    for row in rows:
        buffer.append(*row)
        for p in predictor.update(buffer):
            one_by_one[p.sequence] = p.probabilities
            expected_windows[p.sequence] = p.features
            window = buffer.last_seconds(LEGACY_WINDOW.duration_ms / 1000)
            np.testing.assert_array_equal(p.features, compute_features(window.xyz, LEGACY_WINDOW))
    buffer = SampleBuffer(capacity=1024)
    predictor = LivePredictor(classifier, LEGACY_WINDOW)
    bunched: dict[int, np.ndarray] = {}
    i = 0
    while i < n:
        size = int(rng.integers(1, 6))  # 1-5 samples per frame, as a BLE connection event
        buffer.extend(rows[i : i + size])
        made = predictor.update(buffer)
        assert [p.sequence for p in made] == sorted(p.sequence for p in made)
        for p in made:
            bunched[p.sequence] = p.probabilities
            np.testing.assert_array_equal(p.features, expected_windows[p.sequence])
        i += size
    # Every sample with a full enough window got exactly one prediction, in both runs.
    assert sorted(bunched) == sorted(one_by_one)
    assert len(one_by_one) > n - 100
    for sequence, probabilities in one_by_one.items():
        np.testing.assert_array_equal(bunched[sequence], probabilities)


def test_catching_up_after_a_stall_predicts_only_the_newest_samples(
    classifier: TFLiteClassifier,
) -> None:
    t = np.arange(300) * 0.02
    rows = np.column_stack([t, np.random.default_rng(2).normal(0, 0.5, (300, 3))])
    buffer = SampleBuffer(capacity=1024)
    predictor = LivePredictor(classifier, LEGACY_WINDOW)
    buffer.extend(rows[:100])
    assert [p.sequence for p in predictor.update(buffer)] == [99]  # first look: the newest only
    buffer.extend(rows[100:])  # a long stall: 200 new samples at once
    made = predictor.update(buffer)
    assert [p.sequence for p in made] == list(range(300 - MAX_CATCH_UP, 300))
