"""The explain benchmark runs and reports every figure (values are read, never asserted on)."""

from __future__ import annotations

import math

import pytest

from kiosk.bench import explain as bench


@pytest.mark.slow
def test_run_reports_every_figure() -> None:
    figures = bench.run()
    for key in (
        "explain_ms",
        "explain_saliency_ms",
        "explain_similar_ms",
        "explain_map_point_ms",
        "explain_baseline_numpy_forward_ms",
        "explain_ratio_to_numpy_forward",
        "explain_ms_300_recordings",
        "explain_tsne_fit_s",
        "explain_global_importance_s",
        "why_map_frame_ms_p50_30_recordings",
        "why_map_frame_ms_p50_1000_recordings",
        "why_map_1000_vs_30_recordings",
    ):
        assert key in figures
        assert math.isfinite(figures[key]) and figures[key] > 0


def test_scene_explains_the_live_movement_with_the_trained_model() -> None:
    scene = bench.build_scene(n_per_action=4, live_frames=2)
    assert scene.live.target_name in scene.dataset.class_names
    assert scene.live.saliency.shape == (24,)
    assert len(scene.live.similar) == 3
    assert scene.explainer.picture.points.shape == (12, 2)
