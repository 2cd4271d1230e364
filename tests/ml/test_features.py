"""The 24 features equal CreateAI's reference vectors, and follow its quirks on synthetic input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.errors import WindowTooShortError
from kiosk.ml.features import (
    FEATURE_NAMES,
    MIN_FEATURE_SAMPLES,
    compute_features,
    feature_matrix,
    fingerprint,
)
from kiosk.ml.windows import (
    CURRENT_WINDOW,
    LEGACY_WINDOW,
    choose_window,
    window_by_name,
)
from kiosk.store.createai_json import load_createai

REFERENCE_FILES = [
    f"{name}.{split}.{window}-window.json"
    for name, split in (
        ("shake-still-circle", "train"),
        ("shake-still-circle", "test"),
        ("still-wave-clap", "train"),
        ("dataset", "train"),
    )
    for window in ("current", "legacy")
]


def _reference_peaks(values: list[float]) -> int:
    """CreateAI's peak detector written out step by step, as slowly and plainly as it reads."""
    lag, threshold, influence = 5, 3.5, 0.5
    n = len(values)
    signals = [0] * n
    filtered = list(values)
    average = [0.0] * n
    deviation = [0.0] * n

    def mean(d: list[float]) -> float:
        total = d[0]
        for v in d[1:]:
            total += v
        return total / len(d)

    def std(d: list[float]) -> float:
        m = mean(d)
        total = 0.0
        for v in d:
            total += (v - m) ** 2
        return (total / len(d)) ** 0.5

    average[lag - 1] = mean(values[:lag])
    deviation[lag - 1] = mean(values[:lag])  # CreateAI's quirk
    count = 0
    for i in range(lag, n):
        distance = abs(values[i] - average[i - 1])
        if distance > 0.1 and distance > threshold * deviation[i - 1]:
            if values[i] > average[i - 1]:
                signals[i] = 1
                if signals[i - 1] == 0:
                    count += 1
            else:
                signals[i] = -1
            filtered[i] = influence * values[i] + (1 - influence) * filtered[i - 1]
        else:
            filtered[i] = values[i]
        average[i] = mean(filtered[i - lag : i])
        deviation[i] = std(filtered[i - lag : i])
    return count


@pytest.mark.parametrize("reference_name", REFERENCE_FILES)
def test_features_equal_createai_reference_vectors(createai_dir: Path, reference_name: str) -> None:
    reference = json.loads((createai_dir / "features" / reference_name).read_text())
    dataset, _ = load_createai(createai_dir / reference["source"])
    window = window_by_name(reference["window"])
    assert window.duration_ms == reference["window_params"]["duration"]
    assert window.nominal_samples == reference["window_params"]["deviceSamplesLength"]
    assert list(FEATURE_NAMES) == reference["feature_names"]
    assert dataset.class_names == reference["classes"]
    recordings = []
    for row in reference["rows"]:
        samples = dataset.actions[row["action"]].recordings[row["recording"]].samples
        assert len(samples) == row["length"]  # whole recording, not cut to the window
        recordings.append(samples)
    computed = feature_matrix(recordings, window)
    expected = np.array(reference["X"], dtype=np.float64)
    assert computed.shape == expected.shape
    np.testing.assert_allclose(computed, expected, rtol=0, atol=1e-9)


def test_window_choice_follows_createai() -> None:
    assert choose_window([93, 44]) is LEGACY_WINDOW
    assert choose_window([80]) is LEGACY_WINDOW
    assert choose_window([79, 200]) is CURRENT_WINDOW
    assert choose_window([]) is CURRENT_WINDOW
    assert window_by_name("current") is CURRENT_WINDOW
    with pytest.raises(ValueError, match="unknown data window"):
        window_by_name("huge")


def test_acc_scales_with_nominal_samples_only() -> None:
    samples = np.random.default_rng(1).normal(0, 0.5, size=(60, 3))
    current = compute_features(samples, CURRENT_WINDOW)
    legacy = compute_features(samples, LEGACY_WINDOW)
    acc = slice(15, 18)
    np.testing.assert_allclose(legacy[acc] / current[acc], 80 / 50)
    others = np.r_[0:15, 18:24]
    np.testing.assert_array_equal(current[others], legacy[others])
    np.testing.assert_allclose(current[acc], np.abs(samples).mean(axis=0) * 50)


def test_zcr_counts_zero_as_positive_and_std_is_population() -> None:
    x = np.array([0.0, -0.5, 0.0, 0.5, -0.1, -0.2, 0.3, 0.0])
    samples = np.stack([x, np.ones_like(x), -np.ones_like(x)], axis=1)
    features = dict(zip(FEATURE_NAMES, compute_features(samples, CURRENT_WINDOW), strict=True))
    # 0 -> -0.5 -> 0 -> 0.5 -> -0.1 -> -0.2 -> 0.3 -> 0: changes at 1, 2, 4, 6 = 4 of 7 steps
    assert features["zcr-x"] == pytest.approx(4 / 7)
    assert features["zcr-y"] == 0.0 and features["zcr-z"] == 0.0
    assert features["std-x"] == pytest.approx(np.std(x, ddof=0))
    assert features["rms-z"] == pytest.approx(1.0)
    assert features["max-x"] == 0.5 and features["min-x"] == -0.5


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(*[st.integers(-2048, 2047)] * 3), min_size=MIN_FEATURE_SAMPLES, max_size=120
    ),
    st.sampled_from([0.001, 0.004, 0.016]),
)
def test_fast_peak_detector_equals_plain_one(rows: list[tuple[int, int, int]], unit: float) -> None:
    samples = np.array(rows, dtype=np.float64) * unit
    features = compute_features(samples, CURRENT_WINDOW)
    expected = [_reference_peaks(samples[:, k].tolist()) for k in range(3)]
    assert features[12:15].tolist() == expected


def test_peak_detector_on_smooth_bursts_equals_plain_one() -> None:
    # Random walks and bursts exercise runs of consecutive signals.
    rng = np.random.default_rng(7)
    for trial in range(400):
        n = int(rng.integers(MIN_FEATURE_SAMPLES, 100))
        steps = rng.normal(0, rng.uniform(0.01, 1.0), size=(n, 3))
        samples = np.round(np.cumsum(steps, axis=0) * 0.2 if trial % 2 else steps, 3)
        features = compute_features(samples, LEGACY_WINDOW)
        expected = [_reference_peaks(samples[:, k].tolist()) for k in range(3)]
        assert features[12:15].tolist() == expected, trial


def test_too_short_or_empty_window_is_a_clear_error() -> None:
    for n in (0, 1, MIN_FEATURE_SAMPLES - 1):
        with pytest.raises(WindowTooShortError, match=f"at least {MIN_FEATURE_SAMPLES} samples"):
            compute_features(np.zeros((n, 3)), CURRENT_WINDOW)
    with pytest.raises(WindowTooShortError, match=r"\(n, 3\)"):
        compute_features(np.zeros(30), CURRENT_WINDOW)
    with pytest.raises(WindowTooShortError, match="recording 2"):
        feature_matrix([np.zeros((20, 3)), np.zeros((3, 3))], CURRENT_WINDOW)


def test_fingerprint_uses_createai_ranges_and_clamps() -> None:
    features = np.zeros(24)
    features[0:3] = [2.048, 0.0, -5.0]  # max: top, middle, below range
    features[12:15] = [5, 10, 20]  # peaks over 0..10
    features[15:18] = [44 * 2.048, 22 * 2.048, -1]  # acc over 0..min_samples * 2.048
    result = fingerprint(features, CURRENT_WINDOW)
    np.testing.assert_allclose(result[0:3], [1.0, 0.5, 0.0])
    np.testing.assert_allclose(result[12:15], [0.5, 1.0, 1.0])
    np.testing.assert_allclose(result[15:18], [1.0, 0.5, 0.0])
    assert fingerprint(features, LEGACY_WINDOW)[15] == pytest.approx(44 / 80)
    batch = fingerprint(np.stack([features, features]), CURRENT_WINDOW)
    assert batch.shape == (2, 24) and ((batch >= 0) & (batch <= 1)).all()


# Series where some point is exactly 3.5 standard deviations from its window mean, in
# floating point too (found by searching dyadic values; the window mean is exact).
_AT_THRESHOLD_STD = [
    [-0.625, 0.25, 1.0, 1.25, 0.0, 0.0, -0.625, 0.0, 0.0, 0.0, 0.0, -1.0],
    [0.625, 0.0, 0.0, 0.0, 0.625, 0.0, 0.0, 0.0, 0.625, 1.0, 1.0, 0.5, -1.0, 0.625],
    [0.625, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, -0.625, 0.25],
    [0.25, 0.0, -0.625, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.625, 1.0, 0.0],
    [-0.625, 0.0, 0.0, 0.0, 0.0, 1.0, -1.0, 0.0, -0.625, 0.625, -1.0],
    [0.0, -1.0, -0.625, 0.0, -0.625, -1.0, 0.0, 0.0, 0.625, 0.0, 0.0, 1.0, 1.0, 0.5],
]


def _knife_edge_windows() -> list[np.ndarray]:
    """Windows with points exactly on the detector's thresholds, in floating point too."""
    rng = np.random.default_rng(11)
    windows = []
    for series in _AT_THRESHOLD_STD:
        for offset in (0.0, 1.0, -2.0):  # keeps every sum exact
            base = np.asarray(series) + offset
            windows.append(np.stack([base, -base, base * 2], axis=1))
    for scale in (0.25, 1.0, 2.0):
        # A point 0.1 g from a flat window is at the 0.1 g threshold.
        flat = [scale] * 11 + [scale + 0.1, scale - 0.1, scale, scale, scale + 0.1]
        base = np.asarray(flat)
        windows.append(np.stack([base, base[::-1].copy(), -base], axis=1))
    # Integer milli-g grids put many points exactly on a threshold too.
    for _ in range(300):
        n = int(rng.integers(MIN_FEATURE_SAMPLES, 60))
        windows.append(rng.integers(-3, 4, size=(n, 3)) * rng.choice([0.025, 0.05, 0.1]))
    return windows


def test_peak_detector_on_knife_edges_equals_plain_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fast loop decides most points from running sums and hands points close
    # to a threshold to the exact test; these windows must reach that hand-over.
    from kiosk.ml import features

    exact_checks = 0
    exact = features._signal

    def counted(*args: float) -> int:
        nonlocal exact_checks
        exact_checks += 1
        return exact(*args)

    monkeypatch.setattr(features, "_signal", counted)
    for samples in _knife_edge_windows():
        result = compute_features(samples, CURRENT_WINDOW)
        expected = [_reference_peaks(samples[:, k].tolist()) for k in range(3)]
        assert result[12:15].tolist() == expected, samples
    assert exact_checks > 100


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(*[st.integers(-2048, 2047)] * 3), min_size=MIN_FEATURE_SAMPLES, max_size=90),
    st.sampled_from([0.001, 0.016]),
)
def test_exact_test_alone_equals_plain_one(rows: list[tuple[int, int, int]], unit: float) -> None:
    # With an enormous slack every point after the lead-in takes the exact test.
    from kiosk.ml import features

    samples = np.array(rows, dtype=np.float64) * unit
    original = features._RUNNING_SUM_SLACK
    features._RUNNING_SUM_SLACK = 1e6
    try:
        result = compute_features(samples, CURRENT_WINDOW)
    finally:
        features._RUNNING_SUM_SLACK = original
    expected = [_reference_peaks(samples[:, k].tolist()) for k in range(3)]
    assert result[12:15].tolist() == expected


def test_odd_values_take_the_exact_path() -> None:
    # NaN, infinities and huge values must give what the plain detector gives.
    rng = np.random.default_rng(5)
    for trial in range(200):
        n = int(rng.integers(MIN_FEATURE_SAMPLES, 40))
        samples = np.round(rng.normal(0, 1, size=(n, 3)), 2) * (1e6 if trial % 3 == 0 else 1)
        holes = rng.random((n, 3)) < 0.05
        samples[holes] = rng.choice([np.nan, np.inf, -np.inf, 1e100], size=int(holes.sum()))
        with np.errstate(all="ignore"):
            result = compute_features(samples, CURRENT_WINDOW)
            expected = [_reference_peaks(samples[:, k].tolist()) for k in range(3)]
        assert result[12:15].tolist() == expected, trial


def test_features_are_independent_of_the_input_layout() -> None:
    # Fortran-ordered, non-contiguous, integer and list inputs give the same features.
    rng = np.random.default_rng(3)
    samples = np.round(rng.normal(0, 0.8, size=(61, 3)), 3)
    expected = compute_features(samples, CURRENT_WINDOW)
    strided = np.zeros((61, 6))
    strided[:, ::2] = samples
    for variant in (
        np.asfortranarray(samples),
        strided[:, ::2],
        np.repeat(samples, 2, axis=0)[::2],
        samples.tolist(),
    ):
        np.testing.assert_array_equal(compute_features(variant, CURRENT_WINDOW), expected)
    ints = rng.integers(-2, 3, size=(50, 3))
    np.testing.assert_array_equal(
        compute_features(ints, LEGACY_WINDOW), compute_features(ints.astype(float), LEGACY_WINDOW)
    )
