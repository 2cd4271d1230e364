"""ML figures for ``kiosk bench``: features, live prediction, training, against same-run baselines.

What the kiosk does on every sample (features + TFLite invoke) is timed per
window and as a sustained rate through ``LivePredictor`` on a buffer being
fed; training is timed on shake-still-circle (CreateAI's real recordings when
``../shared/data/createai`` is present, else synthetic gestures of the same
shape, so the bench also runs on a Pi as a self-test). Baselines measured in
the same process: a straightforward per-axis numpy/Python feature
implementation, and scikit-learn's own ``predict_proba`` (scaler + MLP).
"""

from __future__ import annotations

import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kiosk.ml.evaluation import cross_validate, learning_curve
from kiosk.ml.features import compute_features, feature_matrix
from kiosk.ml.predictor import LivePredictor
from kiosk.ml.runtime import TFLiteClassifier
from kiosk.ml.training import NetworkClassifier, train_model
from kiosk.ml.windows import CURRENT_WINDOW, LEGACY_WINDOW, DataWindow, choose_window
from kiosk.signal.buffer import SampleBuffer

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "createai"
SSC = "shake-still-circle-data-samples-legacy.json"


def run() -> dict[str, float | int]:
    arrays, labels, classes, window, real = _shake_still_circle()
    X = feature_matrix(arrays, window)
    figures: dict[str, float | int] = {"ml_real_data": int(real)}

    # One live (current, 50-sample) window of each class, cycled, so the figure
    # mixes still windows (cheap peaks) and shakes (expensive peaks).
    live_windows = [a[:50].copy() for a in _one_per_class(arrays, labels)]
    figures["features_ms"] = _per_call_ms(
        lambda i: compute_features(live_windows[i % 3], CURRENT_WINDOW)
    )
    figures["features_legacy_window_ms"] = _per_call_ms(
        lambda i: compute_features(arrays[i % len(arrays)], window)
    )
    figures["features_naive_ms"] = _per_call_ms(
        lambda i: _naive_features(live_windows[i % 3], CURRENT_WINDOW.nominal_samples), 200
    )
    figures["features_speedup_vs_naive"] = figures["features_naive_ms"] / figures["features_ms"]

    model = train_model(X, labels, classes, window)
    float_model = TFLiteClassifier.from_bytes(model.to_tflite())
    int8_model = TFLiteClassifier.from_bytes(model.to_tflite(int8=True))
    rows = X.astype(np.float32)
    figures["tflite_invoke_ms"] = _per_call_ms(lambda i: float_model.predict_proba(rows[i % 3]))
    figures["tflite_int8_invoke_ms"] = _per_call_ms(lambda i: int8_model.predict_proba(rows[i % 3]))
    figures["predict_ms"] = _per_call_ms(
        lambda i: float_model.predict_proba(compute_features(live_windows[i % 3], CURRENT_WINDOW))
    )
    figures["predict_int8_ms"] = _per_call_ms(
        lambda i: int8_model.predict_proba(compute_features(live_windows[i % 3], CURRENT_WINDOW))
    )
    sklearn_model = _sklearn_equivalent(X, labels)
    one_row = [X[i : i + 1] for i in range(3)]
    figures["sklearn_predict_proba_ms"] = _per_call_ms(
        lambda i: sklearn_model.predict_proba(one_row[i % 3]), 300
    )
    figures["predict_speedup_vs_sklearn"] = (
        figures["sklearn_predict_proba_ms"] / figures["tflite_invoke_ms"]
    )

    train_times = []
    for _ in range(5):
        start = time.perf_counter()
        train_model(X, labels, classes, window)
        train_times.append((time.perf_counter() - start) * 1e3)
    figures["train_ms"] = statistics.median(train_times)
    start = time.perf_counter()
    train_model(feature_matrix(arrays, window), labels, classes, window).to_tflite()
    figures["train_with_features_and_export_ms"] = (time.perf_counter() - start) * 1e3

    figures["predictions_per_s"] = _sustained_rate(float_model, arrays, labels)
    figures["train_screen_5x10_ms"] = _train_screen_ms()
    figures.update(_few_shot())
    return {key: _round(value) for key, value in figures.items()}


def _train_screen_ms() -> float:
    """The learning work behind the train screen for 5 moves x 10 recordings (median of 3).

    Features of every recording, the cross-validated estimate, the final model
    and its TFLite export, in this process (``kiosk.bench.train_latency`` times
    the whole path from Train to a usable model, warm and cold). Synthetic 1 s
    gestures, so the figure means the same everywhere.
    """
    arrays, labels, moves = _five_by_ten()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        X = feature_matrix(arrays, CURRENT_WINDOW)
        cross_validate(X, labels, moves, CURRENT_WINDOW)
        train_model(X, labels, moves, CURRENT_WINDOW).to_tflite()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def _five_by_ten() -> tuple[list[np.ndarray], np.ndarray, tuple[str, ...]]:
    from kiosk.microbit.gestures import synthesize

    moves = ("still", "shake", "circle", "wave", "clap")
    arrays = [
        synthesize(m, seconds=1.0, seed=31 * c + r) for c, m in enumerate(moves) for r in range(10)
    ]
    return arrays, np.repeat(np.arange(len(moves)), 10), moves


FEW_SHOT_SETS = {
    "ssc": SSC,
    "swc": "still-wave-clap-data-samples-legacy.json",
    "dataset": "dataset.json",
}


def _few_shot() -> dict[str, float]:
    """Mean accuracy, and the share recognised at CreateAI's 0.8 threshold, with 1 and 3
    recordings per move (20 draws) on CreateAI's real sets.

    The same figures as ``kiosk evaluate FILE --per-move 1,3``; absent when the
    real recordings are not on this machine.
    """
    from kiosk.store.createai_json import load_createai

    figures: dict[str, float] = {}
    for short, name in FEW_SHOT_SETS.items():
        path = DATA / name
        if not path.is_file():
            continue
        dataset, _ = load_createai(path)
        arrays = dataset.sample_arrays()
        window = choose_window([len(a) for a in arrays])
        X, y = feature_matrix(arrays, window), dataset.labels()
        for k in (1, 3):
            point = learning_curve(X, y, dataset.class_names, window, k, draws=20, seed=0)
            figures[f"few_shot_{short}_k{k}_mean"] = point.mean
            figures[f"few_shot_{short}_k{k}_recognised"] = point.recognised
    return figures


def _shake_still_circle() -> tuple[list[np.ndarray], np.ndarray, list[str], DataWindow, bool]:
    path = DATA / SSC
    if path.is_file():
        from kiosk.store.createai_json import load_createai

        dataset, _ = load_createai(path)
        arrays = dataset.sample_arrays()
        window = choose_window([len(a) for a in arrays])
        return arrays, dataset.labels(), dataset.class_names, window, True
    from kiosk.microbit.gestures import synthesize

    classes = ["shake", "still", "circle"]
    arrays, labels = [], []
    for c, name in enumerate(classes):
        for r in range(8):
            arrays.append(synthesize(name, seconds=1.8, seed=100 * c + r, rate_hz=50))
            labels.append(c)
    return arrays, np.array(labels), classes, LEGACY_WINDOW, False


def _one_per_class(arrays: list[np.ndarray], labels: np.ndarray) -> list[np.ndarray]:
    return [arrays[int(np.flatnonzero(labels == c)[0])] for c in range(3)]


def _sklearn_equivalent(X: np.ndarray, labels: np.ndarray) -> Any:
    """The same kind of model as scikit-learn would serve it: scaler + MLPClassifier."""
    kiosk_model = NetworkClassifier((), LEGACY_WINDOW)  # only its settings are read
    pipeline = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=kiosk_model.hidden_units,
            solver=kiosk_model.solver,
            alpha=kiosk_model.alpha,
            max_iter=kiosk_model.max_iter,
            random_state=0,
        ),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.fit(X, labels)
    return pipeline


def _sustained_rate(
    classifier: TFLiteClassifier, arrays: list[np.ndarray], labels: np.ndarray
) -> float:
    """Predictions per second with a sample appended before every update, for ~1 s."""
    stream = np.concatenate(_one_per_class(arrays, labels) * 4)
    buffer = SampleBuffer(capacity=1024)
    predictor = LivePredictor(classifier, CURRENT_WINDOW)
    made = 0
    i = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < 1.0:
        x, y, z = stream[i % len(stream)]
        buffer.append(i * 0.02, x, y, z)  # 50 Hz timestamps, fed as fast as the CPU allows
        made += len(predictor.update(buffer))
        i += 1
    return made / elapsed


def _naive_features(samples: np.ndarray, nominal: int) -> list[float]:
    """A straightforward implementation (per axis, convenience functions): the baseline."""
    out: list[list[float]] = [[] for _ in range(8)]
    for k in range(3):
        v = samples[:, k]
        out[0].append(float(np.max(v)))
        out[1].append(float(np.mean(v)))
        out[2].append(float(np.min(v)))
        out[3].append(float(np.std(v)))
        out[4].append(_naive_peaks(v.tolist()))
        out[5].append(float(np.mean(np.abs(v)) * nominal))
        signs = np.where(v >= 0, 1, -1)
        out[6].append(float(np.sum(signs[1:] != signs[:-1]) / (len(v) - 1)))
        out[7].append(float(np.sqrt(np.mean(v * v))))
    return [value for row in out for value in row]


def _naive_peaks(data: list[float]) -> int:
    lag, count = 5, 0
    filtered = list(data)
    signals = [0] * len(data)
    average, deviation = float(np.mean(data[:lag])), float(np.mean(data[:lag]))
    for i in range(lag, len(data)):
        distance = abs(data[i] - average)
        if distance > 0.1 and distance > 3.5 * deviation:
            signals[i] = 1 if data[i] > average else -1
            count += signals[i] == 1 and signals[i - 1] == 0
            filtered[i] = 0.5 * data[i] + 0.5 * filtered[i - 1]
        average = float(np.mean(filtered[i - lag : i]))
        deviation = float(np.std(filtered[i - lag : i]))
    return count


def _per_call_ms(call: Callable[[int], object], repeats: int = 2000) -> float:
    """Median over 7 blocks of the mean time per call, in ms."""
    for i in range(min(repeats, 50)):
        call(i)
    block = max(repeats // 7, 1)
    results = []
    for _ in range(7):
        start = time.perf_counter()
        for i in range(block):
            call(i)
        results.append((time.perf_counter() - start) / block * 1e3)
    return statistics.median(results)


def _round(value: float | int) -> float | int:
    return value if isinstance(value, int) else float(f"{value:.4g}")
