"""The emulated board's own logic, without a radio: period rounding and movement playback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.rigs.ble_board.board import encode_accelerometer, round_period
from tests.rigs.ble_board.movements import RECORDED_PERIOD_S, load_movements


@pytest.mark.parametrize(
    ("asked", "chosen"), [(20, 20), (1, 1), (25, 20), (30, 40), (70, 100), (65535, 1000)]
)
def test_the_period_is_rounded_as_a_board_rounds_it(asked: int, chosen: int) -> None:
    assert round_period(asked) == chosen


def test_accelerometer_payloads_are_milli_g_little_endian() -> None:
    assert encode_accelerometer(-1.064, 0.5, 40.0) == bytes.fromhex(
        "d8fbf401ff7f"
    )  # 40 g saturates


def test_movements_play_the_recordings_by_time(createai_dir: Path) -> None:
    path = createai_dir / "shake-still-circle-data-samples-legacy.json"
    moves = load_movements(path)
    assert set(moves) == {"shake", "still", "circle"}
    first = json.loads(path.read_text())[0]["recordings"][0]["data"]
    shake = moves["shake"]  # the first action in the file
    np.testing.assert_allclose(shake.at(0.0), (first["x"][0], first["y"][0], first["z"][0]))
    halfway = shake.at(RECORDED_PERIOD_S / 2)
    np.testing.assert_allclose(halfway[0], (first["x"][0] + first["x"][1]) / 2)
    np.testing.assert_allclose(shake.at(shake.duration_s), shake.at(0.0))  # it loops


def test_a_file_without_recordings_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    with pytest.raises(SystemExit, match="no recordings"):
        load_movements(empty)
