"""``kiosk bench`` figures for the live explanations: what they add to each test-screen frame.

Budget: saliency + similar recordings + map point for one new sample must add
at most 1 ms per frame. ``run()`` trains a model on simulated gestures (no data
files needed, so it runs on any Pi), then times the live explanation and its
parts over many samples and reports them next to baselines measured in the
same process: the TFLite model's own ``predict_proba`` for one sample and a
plain numpy forward pass of the same network. Fitting costs (PCA map, t-SNE
map, permutation importance) are reported too: they run once after training.

``build_scene`` is also what the view tests and ``bench/render_explain_views.py``
draw from.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from kiosk.dataset import Action, Dataset, Recording
from kiosk.microbit.gestures import synthesize
from kiosk.ml.compare import Comparison, compare_datasets
from kiosk.ml.datamap import fit_data_map
from kiosk.ml.evaluation import Evaluation, cross_validate
from kiosk.ml.explain import LiveExplainer, LiveExplanation, importance_strength
from kiosk.ml.features import compute_features, feature_matrix, fingerprint
from kiosk.ml.importance import global_importance
from kiosk.ml.training import TrainedModel, train_model
from kiosk.ml.windows import DataWindow, choose_window

SCENE_GESTURES = ("still", "shake", "circle")
_REPEATS = 300


@dataclass(frozen=True)
class ExplainScene:
    """A trained model on simulated recordings, with one live movement explained."""

    dataset: Dataset
    window: DataWindow
    X: np.ndarray
    y: np.ndarray
    fingerprints: np.ndarray
    evaluation: Evaluation
    model: TrainedModel
    explainer: LiveExplainer
    live_samples: list[np.ndarray]  # one window per live frame, a new movement each
    live_features: np.ndarray  # (frames, 24)
    live_fingerprint: np.ndarray  # (24,) of the first live window
    live: LiveExplanation  # of the first live window


def simulated_dataset(
    n_per_action: int = 8, seed: int = 0, gestures: tuple[str, ...] = SCENE_GESTURES
) -> Dataset:
    """Recordings of simulated 1 s gestures, deterministic for a seed."""
    actions = []
    for a, name in enumerate(gestures):
        recordings = tuple(
            Recording(synthesize(name, 1.0, seed=seed * 10_000 + a * 1000 + r), id=f"{name}{r}")
            for r in range(n_per_action)
        )
        actions.append(Action(name, recordings))
    return Dataset(tuple(actions))


def build_scene(
    n_per_action: int = 8,
    seed: int = 0,
    live_gesture: str = "circle",
    live_frames: int = 20,
    dataset: Dataset | None = None,
) -> ExplainScene:
    """Train on ``dataset`` (default: simulated still / shake / circle) and explain live circles."""
    if dataset is None:
        dataset = simulated_dataset(n_per_action, seed)
    window = choose_window([len(s) for s in dataset.sample_arrays()])
    X = feature_matrix(dataset.sample_arrays(), window)
    y = dataset.labels()
    classes = dataset.class_names
    fingerprints = fingerprint(X, window)
    evaluation = cross_validate(X, y, classes, window)
    model = train_model(X, y, classes, window)
    explainer = LiveExplainer(model, X, y, fingerprints, predicted=evaluation.predicted)
    live_samples = [
        synthesize(live_gesture, 1.0, seed=90_000 + seed * 100 + i) for i in range(live_frames)
    ]
    # Simulated 1 s gestures; a legacy (1.8 s) model sees them stretched to its window.
    live_features = np.vstack([compute_features(s, window) for s in live_samples])
    return ExplainScene(
        dataset,
        window,
        X,
        y,
        fingerprints,
        evaluation,
        model,
        explainer,
        live_samples,
        live_features,
        fingerprint(live_features[0], window),
        explainer.explain(live_features[0]),
    )


def build_comparison(seed: int = 0) -> Comparison:
    """'Before' = a few recordings per action, 'Now' = more: the usual classroom story."""
    before = simulated_dataset(3, seed)
    now = simulated_dataset(8, seed)
    return compare_datasets(before, now, ("Before: 3 each", "Now: 8 each"))


def _per_call_ms(fn, inputs: np.ndarray, repeats: int) -> float:
    """Median over rounds of the mean time per call, in ms (median: shared machines are noisy)."""
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for i in range(repeats):
            fn(inputs[i % len(inputs)])
        rounds.append((time.perf_counter() - started) / repeats * 1000.0)
    return float(np.median(rounds))


def run() -> dict[str, float | int]:
    scene = build_scene(n_per_action=10)
    explainer = scene.explainer
    feats = scene.live_features
    network = scene.model.network
    saliency = explainer.saliency_explainer
    assert network is not None and saliency is not None
    target = scene.live.target
    figures: dict[str, float | int] = {}

    # Per frame: the whole live explanation, then its parts.
    figures["explain_ms"] = _per_call_ms(explainer.explain, feats, _REPEATS)
    figures["explain_saliency_ms"] = _per_call_ms(
        lambda x: saliency.explain(x, target), feats, _REPEATS
    )
    figures["explain_similar_ms"] = _per_call_ms(
        lambda x: explainer.index.query(x, 3), feats, _REPEATS
    )
    figures["explain_map_point_ms"] = _per_call_ms(explainer.data_map.project, feats, _REPEATS)
    figures["explain_budget_ms"] = 1.0
    figures["explain_recordings"] = len(scene.X)

    # Baselines in this process: the same network's numpy forward pass, and the TFLite model.
    forward_ms = _per_call_ms(network.forward, feats, _REPEATS)
    figures["explain_baseline_numpy_forward_ms"] = forward_ms
    figures["explain_ratio_to_numpy_forward"] = round(figures["explain_ms"] / forward_ms, 2)
    try:
        from kiosk.ml.runtime import TFLiteClassifier

        classifier = TFLiteClassifier.from_bytes(scene.model.to_tflite())
    except Exception:  # no TFLite runtime on this machine: the numpy baseline stands alone
        classifier = None
    if classifier is not None:
        tflite_ms = _per_call_ms(classifier.predict_proba, feats.astype(np.float32), _REPEATS)
        figures["explain_baseline_tflite_predict_ms"] = tflite_ms
        figures["explain_ratio_to_tflite_predict"] = round(figures["explain_ms"] / tflite_ms, 2)

    # A big class: 300 recordings (the training rows jittered), same model. Only the
    # similar-recordings search grows with the data.
    rng = np.random.default_rng(0)
    reps = -(-300 // len(scene.X))
    X_big = np.tile(scene.X, (reps, 1))[:300]
    X_big = X_big * (1 + 0.05 * rng.standard_normal(X_big.shape))
    y_big = np.tile(scene.y, reps)[:300]
    big = LiveExplainer(scene.model, X_big, y_big, fingerprint(X_big, scene.window))
    figures["explain_ms_300_recordings"] = _per_call_ms(big.explain, feats, _REPEATS)

    # Once after training: preparing the explainer (PCA map included), t-SNE, importance.
    started = time.perf_counter()
    LiveExplainer(
        scene.model, scene.X, scene.y, scene.fingerprints, predicted=scene.evaluation.predicted
    )
    figures["explain_setup_ms"] = (time.perf_counter() - started) * 1000.0
    started = time.perf_counter()
    fit_data_map(scene.X, scene.model.scaler_mean, scene.model.scaler_scale, "tsne")
    figures["explain_tsne_fit_s"] = time.perf_counter() - started
    started = time.perf_counter()
    fit_data_map(X_big[:150], scene.model.scaler_mean, scene.model.scaler_scale, "tsne")
    figures["explain_tsne_fit_150_recordings_s"] = time.perf_counter() - started
    started = time.perf_counter()
    importance_strength(
        global_importance(scene.X, scene.y, scene.dataset.class_names, scene.window)
    )
    figures["explain_global_importance_s"] = time.perf_counter() - started
    started = time.perf_counter()
    cross_validate(scene.X, scene.y, scene.dataset.class_names, scene.window)
    figures["explain_baseline_cross_validate_s"] = time.perf_counter() - started
    figures.update(_map_frame_figures(scene))
    return {
        key: round(value, 4) if isinstance(value, float) else value
        for key, value in figures.items()
    }


MAP_RECORDINGS = (30, 300, 1000)
MAP_FRAMES = 120


def _map_frame_figures(scene: ExplainScene) -> dict[str, float]:
    """The "Why?" map's drawing cost per frame, with 30, 300 and 1000 recordings on it.

    Each frame the live point moves (a new movement explained), as on the test
    screen. The test screen's own way of drawing it is timed: the cached map
    (``kiosk.ui.why_panel.MapView``) where there is one, else the whole map drawn
    every frame (the baseline, and the cost that grew with the data).
    """
    import dataclasses
    import os

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from kiosk.ui import explain_views
    from kiosk.ui.text import TextCache

    try:
        from kiosk.ui.redraw import Redraw
        from kiosk.ui.why_panel import MapView
    except ImportError:  # the code before the cached map: drawn whole every frame
        MapView = None  # type: ignore[assignment,misc]
    pygame.init()
    pygame.display.set_mode((800, 480))
    surface = pygame.display.get_surface()
    rect = pygame.Rect(16, 200, 300, 260)
    text = TextCache()
    base = scene.explainer.picture
    rng = np.random.default_rng(1)
    points = [scene.explainer.explain(f).map_point for f in scene.live_features]
    figures: dict[str, float] = {}
    for n in MAP_RECORDINGS:
        reps = -(-n // len(base.points))
        picture = dataclasses.replace(
            base,
            points=np.clip(
                np.tile(base.points, (reps, 1))[:n] + 0.02 * rng.standard_normal((n, 2)), 0, 1
            ),
            labels=np.tile(base.labels, reps)[:n],
            wrong=np.tile(base.wrong, reps)[:n],
        )
        view, redraw = (MapView(), Redraw()) if MapView is not None else (None, None)
        times = []
        for i in range(MAP_FRAMES + 1):  # the first frame draws everything (once per model)
            live = points[i % len(points)]
            started = time.perf_counter()
            if view is not None and redraw is not None:
                view.paint(surface, rect, text, picture, live, redraw)
            else:
                pygame.draw.rect(surface, (0, 0, 0), rect)
                explain_views.draw_data_map(surface, rect, text, picture.with_live(live))
            times.append((time.perf_counter() - started) * 1000.0)
        times = times[1:]
        figures[f"why_map_frame_ms_p50_{n}_recordings"] = float(np.percentile(times, 50))
        figures[f"why_map_frame_ms_max_{n}_recordings"] = float(np.max(times))
    figures["why_map_1000_vs_30_recordings"] = round(
        figures["why_map_frame_ms_p50_1000_recordings"]
        / max(figures["why_map_frame_ms_p50_30_recordings"], 1e-6),
        2,
    )
    return figures
