"""The "Why?" squares: steady while the answer and its reasons stay, and still the model's own.

Measured on a real trained model with the pretend board shaking: each live
explanation's raw saliency (the model's attribution for that one window) and
the smoothed one drawn on screen are recorded side by side.
"""

from __future__ import annotations

import itertools

import numpy as np

from kiosk.ml.explain import display_strength
from kiosk.ml.smoothing import SmoothedSaliency

from .journey import Journey


def _marked(strength: np.ndarray) -> frozenset[int]:
    return frozenset(np.flatnonzero(strength).tolist())


def test_the_average_restarts_when_the_answer_changes() -> None:
    smooth = SmoothedSaliency(half_life=1.0)
    a, b = np.ones(24), -np.ones(24)
    np.testing.assert_allclose(smooth.update(0, a), a)
    np.testing.assert_allclose(smooth.update(0, b), np.zeros(24))  # halfway after one
    np.testing.assert_allclose(smooth.update(1, b), b)  # a new answer: its own reasons at once
    smooth.reset()
    assert smooth.value is None and smooth.count == 0


def test_why_squares_are_steady_and_truthful(journey: Journey) -> None:
    s = journey.session
    journey.connect_pretend()
    journey.pick("Still", "Shake", "Circle")
    for index in range(3):
        journey.record(index, 4)
    s.train()
    assert s.learning.training.wait(900)
    journey.advance(0.05)
    assert s.learning.trained is not None, s.learning.training_error
    s.test()
    s.set_pretend_gesture("shake")
    journey.advance(1.5)  # the window fills with shaking
    s.toggle_why()
    raws, shown, targets = [], [], []
    for _ in range(150):  # three seconds of live explanations
        journey.advance(0.02)
        explanation = s.learning.explanation
        if explanation is None or s.learning.raw_saliency is None:
            continue
        raws.append(np.array(s.learning.raw_saliency))
        shown.append(np.array(explanation.saliency))
        targets.append(explanation.target)
    assert len(raws) > 50
    # The answer held (shaking is shaking): compare over the run of its last answer.
    last = targets[-1]
    run = len(targets) - next(i for i in range(len(targets)) if all(t == last for t in targets[i:]))
    assert run > 40, f"the answer kept changing: {targets}"
    raw = np.array(raws[-run:])
    steady = np.array(shown[-run:])
    # Truthful: what is drawn is the model's own attribution, averaged. It points the
    # same way as the mean of the raw vectors, and marks the same strongest squares.
    mean_raw = raw.mean(axis=0)
    cosine = float(steady[-1] @ mean_raw / (np.linalg.norm(steady[-1]) * np.linalg.norm(mean_raw)))
    assert cosine > 0.9, cosine
    top_mean = set(np.argsort(-np.abs(mean_raw))[:3].tolist())
    assert set(np.argsort(-np.abs(steady[-1]))[:3].tolist()) & top_mean
    assert np.all(np.abs(steady) <= np.abs(raw).max(axis=0) + 1e-9)  # never beyond the model's
    # Steady: the marked squares change far less often than the raw ones would.
    raw_changes = sum(
        _marked(display_strength(a)) != _marked(display_strength(b))
        for a, b in itertools.pairwise(raw)
    )
    steady_changes = sum(
        _marked(display_strength(a)) != _marked(display_strength(b))
        for a, b in itertools.pairwise(steady)
    )
    print(f"marked squares changed {raw_changes} times raw, {steady_changes} smoothed, of {run}")
    assert steady_changes <= raw_changes / 2, (raw_changes, steady_changes)
