"""The board the scripted visitor of ``kiosk demo`` uses, and how it is made to move.

``SimulatedDemoBoard`` is the kiosk's pretend micro:bit, chosen on the pair
screen and steered through its link. ``EmulatedBleBoard`` is a real Bluetooth
link: the visitor copies the pattern and taps Connect, and the kiosk's own
``BleLink`` finds the board by name; the board is the emulated micro:bit of
the BlueZ test rig (``tests/rigs/ble_board``), served through bluetoothd and
steered over its control socket (one text line in, one JSON line out), which
plays real recorded movements. Every sample the kiosk sees then arrived as a
Bluetooth notification.
"""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kiosk.microbit.simulated import SimulatedLink
from kiosk.ui.demo import DemoFailed

if TYPE_CHECKING:
    from kiosk.session.session import Session
    from kiosk.ui.demo import DemoDriver

#: Where the BlueZ rig's emulated board listens (``ble_guest.sh``).
DEFAULT_CONTROL = Path("/run/ble-board/control.sock")
BOARDS = ("pretend", "ble-emulated")


class DemoBoard(Protocol):
    """What the scripted journey asks of its board."""

    name: str

    def pair(self, d: DemoDriver) -> None:
        """On the pair screen, with the pattern copied: connect to the board."""

    def record_move(self, s: Session, move: str) -> None:
        """Before the recordings of ``move``: do it."""

    def test_move(self, d: DemoDriver, index: int, move: str) -> None:
        """On the test screen: do move ``index`` (``move``)."""

    def set_gesture(self, s: Session, gesture: str) -> None:
        """Do ``gesture`` ("still", "shake", ...) from now on."""

    def press_b(self, s: Session) -> None:
        """Press and release button B."""

    def drop_out(self, s: Session, seconds: float) -> None:
        """Go off the air for ``seconds``, then come back by itself."""

    def put_down(self, s: Session) -> None:
        """Nobody holds the board any more (the kiosk may then go idle)."""

    def close(self) -> None:
        """The demo is over."""


class SimulatedDemoBoard:
    """The pretend micro:bit: the session acts each move out while it is recorded."""

    name = "pretend"

    def pair(self, d: DemoDriver) -> None:
        d.tap("pretend")

    def record_move(self, s: Session, move: str) -> None:
        pass  # the session makes the pretend board do the move being recorded

    def test_move(self, d: DemoDriver, index: int, move: str) -> None:
        d.tap(f"pretend_{index}")

    def set_gesture(self, s: Session, gesture: str) -> None:
        _simulated(s).set_gesture(gesture)

    def press_b(self, s: Session) -> None:
        _simulated(s).press_button("B")

    def drop_out(self, s: Session, seconds: float) -> None:
        _simulated(s).drop_out(seconds)

    def put_down(self, s: Session) -> None:
        pass  # the pretend board's movement does not count as a visitor

    def close(self) -> None:
        pass


def _simulated(s: Session) -> SimulatedLink:
    link = s.link
    if not isinstance(link, SimulatedLink):
        raise DemoFailed(f"the pretend micro:bit is not connected (the link is {link!r})")
    return link


class EmulatedBleBoard:
    """The BlueZ rig's emulated micro:bit, over Bluetooth, steered through its control socket."""

    name = "ble-emulated"

    def __init__(self, control: Path = DEFAULT_CONTROL, timeout_s: float = 30.0) -> None:
        self.control = control
        self.timeout_s = timeout_s
        self._timers: list[threading.Timer] = []
        self.ask("status")  # fail now, with the reason, if the board is not there

    def ask(self, command: str) -> dict[str, Any]:
        """Send one command; the board's JSON answer (DemoFailed if it cannot or says no)."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout_s)
                sock.connect(str(self.control))
                with sock.makefile("rwb") as stream:
                    stream.write(command.encode() + b"\n")
                    stream.flush()
                    line = stream.readline()
        except OSError as exc:
            raise DemoFailed(
                f"cannot reach the emulated micro:bit at {self.control} ({exc}); "
                "it runs inside the BlueZ test rig (tests/rigs/ble_guest.sh)"
            ) from None
        if not line:
            raise DemoFailed("the emulated micro:bit closed its control socket")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise DemoFailed(f"emulated micro:bit: {reply['error']}")
        return reply

    def pair(self, d: DemoDriver) -> None:
        d.tap("connect")  # the pattern is copied: the kiosk scans for its name

    def record_move(self, s: Session, move: str) -> None:
        self.ask(f"gesture {move.lower()}")

    def test_move(self, d: DemoDriver, index: int, move: str) -> None:
        self.ask(f"gesture {move.lower()}")

    def set_gesture(self, s: Session, gesture: str) -> None:
        self.ask(f"gesture {gesture}")

    def press_b(self, s: Session) -> None:
        self.ask("press B")

    def drop_out(self, s: Session, seconds: float) -> None:
        self.ask("vanish")
        timer = threading.Timer(seconds, self.ask, args=("return",))
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def put_down(self, s: Session) -> None:
        self.ask("gesture still")

    def close(self) -> None:
        for timer in self._timers:
            timer.join()  # the board is back on the air before the demo ends


def open_demo_board(kind: str, control: Path | None = None) -> DemoBoard:
    """The demo's board by name (see ``BOARDS``); DemoFailed for another name or no board."""
    if kind == "pretend":
        return SimulatedDemoBoard()
    if kind == "ble-emulated":
        return EmulatedBleBoard(control or DEFAULT_CONTROL)
    raise DemoFailed(f"no demo board {kind!r}: choose one of {', '.join(BOARDS)}")
