"""``kiosk bench`` runs and reports the figures the issues name (values are not judged here).

Speed targets are read from the benchmark's output by people and CI logs,
never asserted in tests; this only guards against the benchmark itself
breaking or silently dropping a figure.
"""

from __future__ import annotations

import json

import pytest

from kiosk import cli

# The figures issue 2 (ML core) and issue 3 (links) ask `kiosk bench --json` for.
REQUIRED = {
    "ml": (
        "features_ms",
        "predict_ms",
        "train_ms",
        "predictions_per_s",
        "sklearn_predict_proba_ms",
        "predict_speedup_vs_sklearn",
    ),
    "links": ("ble_parse_samples_per_s", "serial_parse_samples_per_s"),
    # Issue 18: Train to a usable model and to the honest score, warm and the old cold path.
    "train_latency": (
        "train_to_usable_model_ms_p50",
        "train_to_usable_model_ms_max",
        "train_to_honest_score_ms_p50",
        "train_to_honest_score_ms_max",
        "train_old_path_to_model_ms_p50",
        "train_createai_visible_ms",
        "train_ui_plus_child_rss_mb",
    ),
}


# Each area runs its whole benchmark (tens of seconds on a busy machine): full suite only.
@pytest.mark.slow
@pytest.mark.parametrize("area", sorted(REQUIRED))
def test_bench_area_reports_its_figures(area: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "--json", "--only", area]) == 0
    figures = json.loads(capsys.readouterr().out)
    for key in REQUIRED[area]:
        assert key in figures, f"kiosk bench --only {area} lost {key}"
        assert figures[key] > 0


def test_the_journey_figures_name_every_screen_and_view() -> None:
    """The journey's per-frame records become p50/p95/p99/max per size, screen and "Why?" view."""
    from kiosk.bench import journey

    result = {
        "all": journey.stats([1.0, 2.0, 3.0, 30.0]),
        "cpu": journey.stats([0.5, 1.0, 1.5, 2.0]),
        "present": journey.stats([0.1, 0.1, 0.1, 0.1]),
        "without_present": journey.stats([0.9, 1.9, 2.9, 29.9]),
        "screens": {
            "test_why_map": journey.stats([1.0, 2.0]),
            "test_why_squares": journey.stats([3.0, 30.0]),
        },
        "over": {"12.0": 1, "16.7": 1},
        "slowest": [["test_why_squares", 30.0, True, 2.0]],
        "gc_max_ms": {"0": 0.2, "2": 25.0},
        "gc_count": {"0": 3, "2": 1},
        "gc_full_frames": 1,
        "gc_full_frame_max_ms": 30.0,
        "gc_frozen": 5,
        "commits_on_ui_thread": 0,
        "commits_elsewhere": 7,
    }
    figures = journey.figures((800, 480), result)
    assert figures["journey_frame_ms_max_800x480"] == 30.0
    assert figures["journey_test_why_map_frame_ms_p99_800x480"] > 1.0
    assert figures["journey_test_why_squares_frame_ms_max_800x480"] == 30.0
    assert figures["journey_frames_with_full_gc_800x480"] == 1
    assert figures["journey_frame_ms_without_present_max_800x480"] == 29.9
    assert "full gc" in figures["journey_slowest_frames_800x480"]
    slow = journey.figures((800, 480), result, prefix="slow_disk_journey")
    assert slow["slow_disk_journey_commits_on_writer_800x480"] == 7
    assert slow["slow_disk_journey_commits_on_ui_thread_800x480"] == 0
