"""LivePredictor: one prediction per new sample, on the last window cut by time; detection rule."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from kiosk.ml.features import compute_features, feature_matrix, fingerprint
from kiosk.ml.predictor import LivePredictor, detect_action
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
    assert predictor.update(buffer) is None  # nothing yet
    buffer.extend(_rows(recording[:40], 0.0, 0.02))
    assert predictor.update(buffer) is None  # fewer than min_samples in the window
    buffer.extend(_rows(recording[40:], 40 * 0.02, 0.02))
    prediction = predictor.update(buffer)
    assert prediction is not None
    assert predictor.update(buffer) is None  # no new sample since
    # The window is the last 1.8 s by time: at 20 ms that is the newest 91 samples.
    expected_window = recording[-91:]
    np.testing.assert_allclose(
        prediction.features, compute_features(expected_window, LEGACY_WINDOW), atol=1e-12
    )
    np.testing.assert_allclose(
        prediction.probabilities, classifier.predict_proba(prediction.features), atol=1e-7
    )
    np.testing.assert_allclose(prediction.fingerprint, fingerprint(prediction.features,
                                                                    LEGACY_WINDOW))
    assert prediction.sequence == buffer.sequence == len(recording) - 1
    assert prediction.t == pytest.approx((len(recording) - 1) * 0.02)
    buffer.append(10.0, 0.0, 0.0, -1.0)  # one new sample, long after: window has 1 sample
    assert predictor.update(buffer) is None
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
            last = predictor.update(buffer) or last
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
        prediction = predictor.update(buffer)
        expected = buffer.last_seconds(LEGACY_WINDOW.duration_ms / 1000)
        if len(expected) < LEGACY_WINDOW.min_samples:
            assert prediction is None
            continue
        assert prediction is not None
        np.testing.assert_array_equal(
            prediction.features, compute_features(expected.xyz, LEGACY_WINDOW)
        )
        assert prediction.sequence == expected.last_sequence
        checked += 1
    assert checked >= 5
