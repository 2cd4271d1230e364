"""The demo's Bluetooth board steers the emulated micro:bit through its control socket.

The journey itself over Bluetooth runs in the BlueZ rig (``tests/rigs``);
here, a stand-in control socket records what the demo asks of the board.
"""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from kiosk.ui.demo import DemoFailed
from kiosk.ui.demo_boards import EmulatedBleBoard, SimulatedDemoBoard, open_demo_board


class ControlSocket:
    """Answers each line with a JSON line, as ``tests/rigs/ble_board/control.py`` does."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.commands: list[str] = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with conn, conn.makefile("rwb") as stream:
                for line in stream:
                    command = line.decode().strip()
                    self.commands.append(command)
                    reply = {"error": "no such gesture"} if command == "gesture wave" else {}
                    stream.write(json.dumps(reply).encode() + b"\n")
                    stream.flush()

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def control(tmp_path: Path):
    server = ControlSocket(tmp_path / "control.sock")
    yield server
    server.close()


def test_the_board_is_asked_to_move_press_and_drop_out(control: ControlSocket) -> None:
    board = open_demo_board("ble-emulated", control.path)
    assert isinstance(board, EmulatedBleBoard)
    board.record_move(None, "Shake")  # type: ignore[arg-type]
    board.press_b(None)  # type: ignore[arg-type]
    board.drop_out(None, 0.05)  # type: ignore[arg-type]
    board.close()  # waits until the board is back on the air
    board.put_down(None)  # type: ignore[arg-type]
    assert control.commands == [
        "status",  # on opening: a board that is not there stops the demo at once
        "gesture shake",
        "press B",
        "vanish",
        "return",
        "gesture still",
    ]


def test_a_board_that_says_no_or_is_not_there_stops_the_demo_with_the_reason(
    control: ControlSocket, tmp_path: Path
) -> None:
    board = EmulatedBleBoard(control.path)
    with pytest.raises(DemoFailed, match="no such gesture"):
        board.set_gesture(None, "wave")  # type: ignore[arg-type]
    with pytest.raises(DemoFailed, match="BlueZ test rig"):
        open_demo_board("ble-emulated", tmp_path / "nobody.sock")
    with pytest.raises(DemoFailed, match="choose one of pretend, ble-emulated"):
        open_demo_board("usb")
    assert isinstance(open_demo_board("pretend"), SimulatedDemoBoard)
