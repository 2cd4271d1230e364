"""The take-home model hex in QEMU's micro:bit machine (a V1, nRF51: there is no V2 machine).

What this proves and what it does not: the model program targets micro:bit
V2, which QEMU cannot run. The same generated ``main.py``, built by the same
builder into a V1 hex, boots MicroPython 1.1.1 in QEMU, which finds main.py on
the hex's file system and starts it, and then runs out of memory compiling it
(the V1 heap is about 10 kB; a network of 24 -> 2 runs out too, so it is the
program, not only the weights): the emulator confirms, on real MicroPython,
the kiosk's refusal of V1 boards. That main.py parses and compiles under
MicroPython's own compiler (mpy-cross, the V2 runtime's generation) and runs
as intended (CPython, stand-in board) is proven in
``tests/ml/test_microbit_model.py``; that it runs under MicroPython 2.1.2 on a
real V2 (its float32 arithmetic, its heap, its speed) is NOT proven here.
"""

from __future__ import annotations

import time
from pathlib import Path

import micropython_microbit_fs as mfs
import pytest
import serial

from kiosk.firmware.hexbuild import build_files_hex
from kiosk.ml.features import feature_matrix
from kiosk.ml.microbit_model import Move, main_py
from kiosk.ml.training import train_model
from kiosk.ml.windows import CURRENT_WINDOW
from kiosk.session.presets import icon_cells
from tests.rigs.test_qemu_microbit import EmulatedMicrobit

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _program(load_real) -> str:
    dataset = load_real("still-wave-clap-data-samples-legacy.json")
    X = feature_matrix(dataset.sample_arrays(), CURRENT_WINDOW)
    model = train_model(X, dataset.labels(), dataset.class_names, CURRENT_WINDOW)
    assert model.network is not None
    moves = [Move(a.name, icon_cells(a.icon), a.threshold) for a in dataset.actions]
    return main_py(model.network, moves, CURRENT_WINDOW)


def test_the_v2_hex_carries_the_program_for_a_v2(load_real) -> None:
    program = _program(load_real)
    text = build_files_hex(2, {"main.py": program})
    assert mfs.get_device_info(text).device_version.name.endswith("V2")
    files = {f.name: f.get_text() for f in mfs.get_files(text)}
    assert files == {"main.py": program}


def test_micropython_in_qemu_starts_the_program_and_a_v1_cannot_hold_it(
    load_real, tmp_path: Path
) -> None:
    program = _program(load_real)
    hex_path = tmp_path / "my-model-v1.hex"
    hex_path.write_text(build_files_hex(1, {"main.py": program}), encoding="ascii")
    board = EmulatedMicrobit(hex_path)
    board.start()
    try:
        port = serial.serial_for_url(board.url, baudrate=115200, timeout=0.5)
        # QEMU drops what the board prints before the port is connected, and the first
        # run of main.py may have happened then: a soft reset (Ctrl-C, Ctrl-D at the
        # prompt) runs it again while this side listens.
        port.write(b"\r\x03\x03\x04")
        said = b""
        deadline = time.monotonic() + 120  # emulated time is slow on a busy machine
        while time.monotonic() < deadline and b"Error" not in said:
            said += port.read(256)
        port.close()
    finally:
        board.kill()
    words = said.decode(errors="replace")
    print(f"\nQEMU micro:bit V1 running the model's main.py said: {words.strip()!r}")
    assert "MemoryError" in words, words  # MicroPython ran main.py and ran out of heap
    assert "ready:" not in words
