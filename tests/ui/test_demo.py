"""``kiosk demo``: the scripted journey through real events, with its screenshots and summary."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pygame
import pytest

from kiosk.ui.demo import DemoPlan, run_demo


@pytest.mark.slow  # the whole visitor journey in real time (about half a minute)
def test_demo_runs_the_whole_journey_and_reports_it(tmp_path) -> None:
    plan = DemoPlan(recordings_per_move=3, test_seconds=1.0, countdown_s=0.3, gap_s=0.2)
    summary = run_demo(tmp_path, plan)
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    screens = summary["screens"]
    for expected in ("attract", "pair", "actions", "record", "train", "test", "admin"):
        assert expected in screens
    assert screens[0] == "attract" and screens[-1] == "attract"  # reset for the next visitor
    assert summary["recordings"] == 3 * 3 + 1  # three per move, plus one by button B
    assert 0.5 <= summary["cv_accuracy"] <= 1.0
    # The model runs on new samples (how many a second is a benchmark's figure, not a test's).
    assert summary["predictions_per_s"] > 0
    assert 0 < summary["frame_ms_p50"] <= summary["frame_ms_p95"]
    shots = [tmp_path / name for name in summary["screenshots"]]
    for state in ("explore_map", "explore_squares", "explore_averages", "why_map", "compare"):
        assert any(name.endswith(f"_{state}.png") for name in summary["screenshots"]), state
    assert len(shots) >= 20 and all(p.is_file() for p in shots)
    images = [pygame.surfarray.array3d(pygame.image.load(str(p))) for p in shots]
    for name, image in zip(summary["screenshots"], images, strict=True):
        assert image.shape[:2] == (800, 480) and image.std() > 10, name
    pairs = zip(itertools.pairwise(summary["screenshots"]), itertools.pairwise(images), strict=True)
    for names, (a, b) in pairs:
        assert np.abs(a.astype(int) - b).mean() > 0.5, names  # every shot shows a new state
