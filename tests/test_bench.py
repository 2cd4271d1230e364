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
