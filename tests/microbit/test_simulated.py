"""The simulated micro:bit: deterministic, plausible gestures with Bluetooth-like timing."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kiosk.errors import LinkError
from kiosk.microbit.gestures import FULL_SCALE_G, GestureStream, synthesize
from kiosk.microbit.link import ButtonEvent, Fault, LinkState, StateChange
from kiosk.microbit.simulated import GESTURES, SimulatedLink


def _fast(gesture: str = "still", seed: int = 0) -> SimulatedLink:
    return SimulatedLink(gesture, seed=seed, realtime=False, start_time=0.0)


def _all_rows(link: SimulatedLink) -> tuple[np.ndarray, np.ndarray]:
    window = link.samples.latest(link.samples.capacity)
    return window.t, window.xyz


def _wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def _simple_features(xyz: np.ndarray) -> np.ndarray:
    """A stand-in for CreateAI's features: level, spread, range and zero crossings per axis."""
    zcr = (np.diff(np.signbit(xyz), axis=0) != 0).mean(axis=0)
    return np.concatenate([xyz.max(0), xyz.mean(0), xyz.min(0), xyz.std(0), zcr])


def test_the_contracted_gestures_exist() -> None:
    assert {"still", "shake", "circle", "wave", "tilt", "clap", "none"} <= set(GESTURES)
    link = _fast()
    assert link.simulated is True and link.kind == "Simulated"


def test_same_seed_gives_identical_samples_and_times() -> None:
    a, b = _fast("circle", seed=7), _fast("circle", seed=7)
    for link in (a, b):
        link.run_for(2.0)
        link.set_gesture("shake")
        link.run_for(2.0)
    ta, xa = _all_rows(a)
    tb, xb = _all_rows(b)
    np.testing.assert_array_equal(ta, tb)
    np.testing.assert_array_equal(xa, xb)
    c = _fast("circle", seed=8)
    c.run_for(2.0)
    assert not np.array_equal(_all_rows(c)[1][:50], xa[:50])


def test_unknown_gesture_and_button_are_refused_with_the_choices() -> None:
    with pytest.raises(LinkError, match="shake"):
        SimulatedLink("juggle")
    link = _fast()
    with pytest.raises(LinkError, match="circle"):
        link.set_gesture("juggle")
    with pytest.raises(LinkError, match="A and B"):
        link.press_button("C")
    assert link.gesture == "still"


def test_values_are_milli_g_and_clipped_at_full_scale() -> None:
    link = _fast("shake", seed=3)
    link.run_for(10.0)
    xyz = _all_rows(link)[1]
    assert np.all(np.abs(xyz) <= FULL_SCALE_G)
    np.testing.assert_allclose(xyz * 1000, np.round(xyz * 1000), atol=1e-6)
    assert np.isclose(np.abs(xyz).max(), FULL_SCALE_G), "a vigorous shake should hit the clip"


def test_arrival_is_bursty_like_bluetooth_with_a_20ms_mean() -> None:
    link = _fast("wave", seed=1)
    delivered = link.run_for(20.0)
    t = _all_rows(link)[0]
    assert delivered == len(t)
    gaps_ms = np.diff(t) * 1000
    assert np.all(gaps_ms > 0), "arrival times must increase"
    assert 18.0 <= gaps_ms.mean() <= 22.0
    assert gaps_ms.max() <= 50.0
    assert (gaps_ms < 3.0).mean() > 0.2, "samples should come in bursts"
    assert (gaps_ms > 25.0).mean() > 0.2, "bursts should be separated by connection intervals"
    # about rate_hz samples per second of virtual time
    assert abs(delivered - 20 * 50) <= 5


def test_gravity_and_motion_look_like_each_gesture() -> None:
    link = _fast(seed=2)
    stats = {}
    for gesture in GESTURES:
        link.set_gesture(gesture)
        link.run_for(0.5)  # let the change settle
        link.run_for(3.0)
        xyz = link.samples.last_seconds(2.9).xyz
        stats[gesture] = (xyz.mean(0), xyz.std(0))
    mean_still, std_still = stats["still"]
    assert np.linalg.norm(mean_still) == pytest.approx(1.0, abs=0.05), "still is gravity only"
    assert std_still.max() < 0.03
    assert stats["shake"][1].max() > 0.8
    circle_std = stats["circle"][1]
    assert circle_std[0] > 0.15 and circle_std[1] > 0.15 and circle_std[2] < circle_std[:2].min()
    tilt_std = stats["tilt"][1]
    assert 0.15 < tilt_std.max() < stats["shake"][1].max()


def test_circle_axes_are_phase_shifted() -> None:
    xyz = synthesize("circle", seconds=3.0, seed=4)
    x, y = xyz[:, 0] - xyz[:, 0].mean(), xyz[:, 1] - xyz[:, 1].mean()
    # a quarter-period shift makes x and y nearly uncorrelated, unlike a straight swing
    assert abs(np.corrcoef(x, y)[0, 1]) < 0.5


def test_a_classifier_separates_the_gestures_but_repetitions_vary() -> None:
    features, labels = [], []
    for seed in range(5):
        link = _fast(seed=seed)
        for label, gesture in enumerate(GESTURES):
            link.set_gesture(gesture)
            link.run_for(0.5)
            for _ in range(3):
                link.run_for(1.0)
                features.append(_simple_features(link.samples.last_seconds(0.99).xyz))
                labels.append(label)
    X, y = np.array(features), np.array(labels)
    model = make_pipeline(StandardScaler(), KNeighborsClassifier(3))
    accuracy = cross_val_score(model, X, y, cv=5).mean()
    assert accuracy >= 0.9
    for label in range(len(GESTURES)):
        rows = X[y == label]
        assert np.ptp(rows, axis=0).max() > 0.02, f"{GESTURES[label]} repetitions are all alike"


def test_gesture_stream_changes_at_once() -> None:
    stream = GestureStream("still", seed=0)
    stream.take(30)
    stream.set_gesture("shake")
    shake = stream.take(50)
    assert shake.std(axis=0).max() > 0.5


def test_press_button_emits_press_then_release() -> None:
    link = _fast()
    link.press_button("a")
    link.press_button("B", long_press=True)
    buttons = [e for e in link.poll_events() if isinstance(e, ButtonEvent)]
    assert [(e.button, e.pressed, e.long_press) for e in buttons] == [
        ("A", True, False),
        ("A", False, False),
        ("B", True, True),
        ("B", False, True),
    ]


def test_drop_out_stops_samples_then_recovers() -> None:
    link = _fast("circle", seed=5)
    link.run_for(2.0)
    link.poll_events()
    before = len(link.samples)
    link.drop_out(1.5)
    assert link.run_for(1.0) == 0
    assert link.state is LinkState.RECONNECTING
    assert link.fault is Fault.CONNECTION_LOST and "reconnecting" in link.reason
    assert link.run_for(2.0) > 0
    assert link.state is LinkState.CONNECTED
    states = [e.state for e in link.poll_events() if isinstance(e, StateChange)]
    assert states == [LinkState.RECONNECTING, LinkState.CONNECTED]
    t = _all_rows(link)[0]
    gaps = np.diff(t[before - 1 :])
    assert gaps.max() == pytest.approx(1.5, abs=0.06), "the gap in the data is the drop-out"


def test_realtime_thread_streams_shows_icons_and_recovers_from_a_drop() -> None:
    link = SimulatedLink("shake", seed=0, realtime=True)
    link.connect()
    try:
        assert _wait_for(lambda: len(link.samples) >= 10)
        window = link.samples.latest(10)
        assert abs(window.t[-1] - time.monotonic()) < 2.0, "stamped on the monotonic clock"
        link.show_icon([[r == c for c in range(5)] for r in range(5)])
        assert _wait_for(lambda: link.led_bytes is not None)
        assert link.led_bytes == bytes([16, 8, 4, 2, 1])
        link.drop_out(0.3)
        assert _wait_for(lambda: link.state is LinkState.RECONNECTING)
        assert _wait_for(lambda: link.state is LinkState.CONNECTED)
        count = link.samples.sequence
        assert _wait_for(lambda: link.samples.sequence > count)
    finally:
        link.close()
    assert link.state is LinkState.DISCONNECTED
    states = [e.state for e in link.poll_events() if isinstance(e, StateChange)]
    assert states[:2] == [LinkState.CONNECTING, LinkState.CONNECTED]
    assert LinkState.RECONNECTING in states


def test_fast_thread_runs_ahead_of_the_clock() -> None:
    link = SimulatedLink("tilt", seed=0, realtime=False, start_time=0.0)
    link.connect()
    try:
        assert _wait_for(lambda: link.samples.sequence > 500)
    finally:
        link.close()
    t = link.samples.latest(10).t
    assert np.all(np.diff(t) > 0)
