"""``kiosk features | evaluate | train | predict`` in-process, and once via the entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kiosk.cli import main
from kiosk.ml.features import FEATURE_NAMES

REPO = Path(__file__).resolve().parents[2]
SSC = "shake-still-circle-data-samples-legacy.json"
SSC_TEST = "shake-still-circle-legacy-test-data.json"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_features_json_equals_reference(createai_dir: Path, capsys) -> None:
    code, out, _ = _run(capsys, "features", str(createai_dir / "dataset.json"), "--json")
    assert code == 0
    document = json.loads(out)
    reference = json.loads(
        (createai_dir / "features" / "dataset.train.legacy-window.json").read_text()
    )
    assert document["feature_names"] == list(FEATURE_NAMES)
    assert [(r["action"], r["recording"]) for r in document["rows"]] == [
        (r["action"], r["recording"]) for r in reference["rows"]
    ]
    values = np.array([r["values"] for r in document["rows"]])
    np.testing.assert_allclose(values, reference["X"], rtol=0, atol=1e-9)
    code, out, _ = _run(
        capsys, "features", str(createai_dir / "dataset.json"), "--window", "current", "--json"
    )
    current_file = createai_dir / "features" / "dataset.train.current-window.json"
    current = json.loads(current_file.read_text())
    np.testing.assert_allclose(
        [r["values"] for r in json.loads(out)["rows"]], current["X"], rtol=0, atol=1e-9
    )


def test_evaluate_with_test_file_and_fixed_folds(createai_dir: Path, capsys) -> None:
    code, out, _ = _run(
        capsys,
        "evaluate",
        str(createai_dir / SSC),
        "--test",
        str(createai_dir / SSC_TEST),
        "--json",
    )
    assert code == 0
    result = json.loads(out)
    assert result["classes"] == ["Shake", "Still", "Circle"] and result["n"] == 14
    assert result["accuracy"] >= 0.986
    assert np.array(result["confusion"]).sum() == 14
    code, out, _ = _run(
        capsys,
        "evaluate",
        str(createai_dir / "still-wave-clap-data-samples-legacy.json"),
        "--folds",
        str(createai_dir / "folds.json"),
        "--set",
        "still-wave-clap",
        "--json",
    )
    result = json.loads(out)
    assert code == 0 and result["n"] == 18 and result["accuracy"] >= 0.967
    code, out, _ = _run(
        capsys, "evaluate", str(createai_dir / "dataset.json"), "--model", "knn", "--json"
    )
    result = json.loads(out)
    assert code == 0 and result["n"] == 12 and len(result["confusion"]) == 2


def test_train_then_predict_float_and_int8(createai_dir: Path, tmp_path: Path, capsys) -> None:
    for int8 in (False, True):
        model = tmp_path / ("int8.tflite" if int8 else "float.tflite")
        argv = ["train", str(createai_dir / SSC), "--out", str(model), "--json"]
        code, out, _ = _run(capsys, *argv, *(["--int8"] if int8 else []))
        assert code == 0
        summary = json.loads(out)
        assert summary["bytes"] == model.stat().st_size > 0
        assert summary["int8"] is int8
        assert summary["estimate"]["n"] == 25 and 0.8 <= summary["estimate"]["accuracy"] <= 1
        code, out, _ = _run(capsys, "predict", str(model), str(createai_dir / SSC_TEST), "--json")
        assert code == 0
        predicted = json.loads(out)
        assert predicted["classes"] == ["Shake", "Still", "Circle"]
        p = np.array([row["probabilities"] for row in predicted["rows"]])
        truth = np.array([row["action"] for row in predicted["rows"]])
        assert p.shape == (14, 3)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=0.02)
        assert np.mean(p.argmax(axis=1) == truth) >= 0.986


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "{bad}"], "not valid JSON"),
        (["evaluate", "{missing}"], "cannot open"),
        (["features", "{empty_list}", "--json"], "holds no actions"),
        (["evaluate", "{good}", "--folds", "{bad}", "--set", "dataset"], "not valid JSON"),
        (["evaluate", "{good}", "--folds", "{folds}", "--set", "nope"], "has no set 'nope'"),
        (["evaluate", "{good}", "--folds", "{folds}"], "needs --set"),
        (["evaluate", "{good}", "--folds", "{folds}", "--set", "still-wave-clap"], "does not have"),
        (["predict", "{bad}", "{good}", "--json"], "model"),
        (["train", "{good}", "--out", "/nonexistent-dir/m.tflite"], "could not write"),
    ],
)
def test_malformed_inputs_give_one_line_and_exit_2(
    createai_dir: Path, tmp_path: Path, capsys, argv: list[str], message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    names = {
        "bad": str(bad),
        "missing": str(tmp_path / "nope.json"),
        "empty_list": str(empty),
        "good": str(createai_dir / "dataset.json"),
        "folds": str(createai_dir / "folds.json"),
    }
    code, _out, err = _run(capsys, *[a.format(**names) for a in argv])
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.slow  # a fresh interpreter importing scikit-learn: seconds, for one wiring check
def test_entry_point_subprocess(createai_dir: Path, tmp_path: Path) -> None:
    kiosk = REPO / ".venv" / "bin" / "kiosk"
    command = [str(kiosk)] if kiosk.exists() else [sys.executable, "-m", "kiosk"]
    done = subprocess.run(
        [
            *command,
            "evaluate",
            str(createai_dir / "dataset.json"),
            "--folds",
            str(createai_dir / "folds.json"),
            "--set",
            "dataset",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["accuracy"] >= 0.933 and result["classes"] == ["active", "inactive"]
    # Another process trains byte-for-byte the same model as this one.
    out_of_process, in_process = tmp_path / "sub.tflite", tmp_path / "here.tflite"
    done = subprocess.run(
        [*command, "train", str(createai_dir / "dataset.json"), "--out", str(out_of_process)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert main(["train", str(createai_dir / "dataset.json"), "--out", str(in_process)]) == 0
    assert out_of_process.read_bytes() == in_process.read_bytes()
    bad = tmp_path / "bad.json"
    bad.write_text('[{"name": "x", "ID": 1, "recordings": [{"ID": 2, "data": {"x": [1]}}]}]')
    done = subprocess.run(
        [*command, "features", str(bad), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stderr.strip()
