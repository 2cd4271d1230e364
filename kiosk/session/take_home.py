"""The test screen's "Put my model on my micro:bit": the visitor's model, on their own board.

The visitor taps the button and plugs their micro:bit in by USB; a worker
thread builds the hex (MicroPython for micro:bit V2 and the generated
``main.py``, ``kiosk.ml.microbit_model``), waits for the board's ``MICROBIT``
drive, and copies the hex onto it the way the kiosk flashes its own boards
(``kiosk.firmware.flasher.copy_hex``). The screen says one short sentence per
step; the detail of a failure goes to the log for staff.

A V1 board is refused before anything is copied (its drive's DETAILS.TXT says
which board it is, ``kiosk.firmware.drives``): the network does not fit its
memory; a board whose drive does not say gets the V2 program. The drive of the
kiosk's own USB board (its serial port's USB serial number is the drive's
"Unique ID") is never written to.

Owns its state and its reset; no pygame. Each read collects the worker's news,
so no tick is needed.
"""

from __future__ import annotations

import enum
import logging
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.i18n import N_, _
from kiosk.ml.microbit_model import BOARD_VERSION, Move, main_py
from kiosk.ml.network import DenseNetwork
from kiosk.ml.windows import DataWindow

log = logging.getLogger(__name__)

#: How long the kiosk waits for the visitor to plug their board in.
PLUG_IN_TIMEOUT_S = 120.0
#: After the copy: how long a DAPLink failure (FAIL.TXT) is looked for before "done".
SETTLE_S = 8.0
POLL_S = 0.5
COPY_NAME = "my-model"  # the file on the drive: kiosk-my-model.hex


class Step(enum.Enum):
    IDLE = "idle"
    PREPARING = "preparing"
    PLUG_IN = "plug_in"
    ONLY_ONE = "only_one"
    COPYING = "copying"
    DONE = "done"
    V1 = "v1"
    NO_BOARD = "no_board"
    FAILED = "failed"
    NOT_NETWORK = "not_network"


#: The one short sentence the screen shows for each step (translated where drawn).
WORDS: dict[Step, str] = {
    Step.IDLE: "",
    Step.PREPARING: N_("Getting your model ready…"),
    Step.PLUG_IN: N_("Plug your micro:bit in by USB."),
    Step.ONLY_ONE: N_("Plug in only your own micro:bit."),
    Step.COPYING: N_("Copying… keep it plugged in."),
    Step.DONE: N_("Done! Unplug it and press reset."),
    Step.V1: N_("This is a micro:bit V1: your model needs a V2."),
    Step.NO_BOARD: N_("No micro:bit came. Tap to try again."),
    Step.FAILED: N_("That did not work: plug it in again and tap."),
    Step.NOT_NETWORK: N_("Only the neural network can go on a micro:bit."),
}
#: Steps after which a new tap starts again.
FINISHED = frozenset({Step.IDLE, Step.DONE, Step.V1, Step.NO_BOARD, Step.FAILED, Step.NOT_NETWORK})


@dataclass(frozen=True)
class Board:
    """A micro:bit drive as the take-home job needs it (see ``kiosk.firmware.drives``)."""

    path: Path
    board_version: int | None
    unique_id: str

    def failure(self) -> str | None:
        try:
            return (self.path / "FAIL.TXT").read_text(errors="replace").strip() or "failed"
        except OSError:
            return None


@dataclass(frozen=True)
class Parts:
    """How the job reaches the world; tests swap them."""

    drives: Callable[[], list[Board]]
    copy: Callable[[Path, Path], None]  # (hex file, drive folder)
    build: Callable[[str], str]  # main.py -> hex text
    plug_in_timeout_s: float = PLUG_IN_TIMEOUT_S
    settle_s: float = SETTLE_S
    poll_s: float = POLL_S


def _real_drives() -> list[Board]:
    from kiosk.firmware.drives import find_drives

    return [Board(d.path, d.board_version, d.unique_id) for d in find_drives()]


def _real_copy(hex_path: Path, drive: Path) -> None:
    from kiosk.firmware.flasher import copy_hex

    copy_hex(hex_path, drive, COPY_NAME)


def _real_build(program: str) -> str:
    # In a child process: a build on this process's thread slows every frame meanwhile.
    from kiosk.firmware.hexbuild import build_files_hex_apart

    return build_files_hex_apart(BOARD_VERSION, {"main.py": program}, what="model")


REAL_PARTS = Parts(_real_drives, _real_copy, _real_build)


def usb_serial_number(port: str | None) -> str | None:
    """The USB serial number of a serial port (a micro:bit's is its drive's "Unique ID")."""
    if not port:
        return None
    try:
        from serial.tools import list_ports

        for found in list_ports.comports():
            if found.device == port:
                return found.serial_number or None
    except (ImportError, OSError):
        return None
    return None


class TakeHome:
    """See the module docstring."""

    def __init__(self, parts: Parts = REAL_PARTS) -> None:
        self.parts = parts  # tests and the demo swap them
        # News from the worker, tagged with its job's cancel event: news of a job a reset
        # cancelled is dropped.
        self._news: queue.SimpleQueue[tuple[threading.Event, Step, str]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._step = Step.IDLE
        self.detail = ""  # for staff and the log: what went wrong, in full

    # ---- what the screen reads ---------------------------------------------------

    @property
    def step(self) -> Step:
        self._collect()
        return self._step

    @property
    def busy(self) -> bool:
        return self.step not in FINISHED

    @property
    def button_words(self) -> str:
        """What the test screen's button says before it is tapped."""
        return _("Put my model on my micro:bit")

    @property
    def line(self) -> str:
        """The one short sentence for the visitor, in their language ("" when idle)."""
        words = WORDS[self.step]
        return _(words) if words else ""

    # ---- intents ---------------------------------------------------------------------

    def start(
        self,
        network: DenseNetwork | None,
        moves: Sequence[Move],
        window: DataWindow,
        keep_off: frozenset[str] = frozenset(),
    ) -> None:
        """Build the visitor's model and put it on the board they plug in.

        ``keep_off``: "Unique ID"s of boards the kiosk must not write to (its own).
        """
        if self.busy:
            return
        self.detail = ""
        if network is None:
            self._set(Step.NOT_NETWORK)
            return
        self._cancel = threading.Event()
        self._set(Step.PREPARING)
        self._thread = threading.Thread(
            target=self._work,
            args=(self._cancel, network, tuple(moves), window, keep_off),
            name="take-home",
            daemon=True,
        )
        self._thread.start()

    def reset(self) -> None:
        """Forget the visitor's job (visitor reset); a copy under way stops at its next step."""
        self._cancel.set()
        self._cancel = threading.Event()
        self._thread = None
        self._step = Step.IDLE
        self.detail = ""

    def wait(self, timeout: float) -> bool:
        """For tests and shutdown: True once the job is over."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.busy

    # ---- the worker -----------------------------------------------------------------

    def _work(
        self,
        cancel: threading.Event,
        network: DenseNetwork,
        moves: tuple[Move, ...],
        window: DataWindow,
        keep_off: frozenset[str],
    ) -> None:
        def say(step: Step, detail: str = "") -> None:
            self._news.put((cancel, step, detail))

        try:
            hex_text = self.parts.build(main_py(network, moves, window))
            board = self._wait_for_board(cancel, keep_off, say)
            if board is None:
                return
            if board.board_version == 1:
                say(Step.V1, f"the board at {board.path} is a micro:bit V1")
                return
            say(Step.COPYING)
            with tempfile.TemporaryDirectory(prefix="kiosk-model-") as folder:
                hex_path = Path(folder) / "my-model.hex"
                hex_path.write_text(hex_text, encoding="ascii")
                self.parts.copy(hex_path, board.path)
            failure = self._failure_after_copy(cancel, board)
            if failure:
                say(Step.FAILED, f"the micro:bit could not program itself: {failure}")
            else:
                say(Step.DONE)
        except KioskError as exc:
            say(Step.FAILED, str(exc))
        except Exception as exc:  # a bug must not leave the button spinning
            log.exception("putting a model on a micro:bit failed")
            say(Step.FAILED, f"{type(exc).__name__}: {exc}")

    def _wait_for_board(
        self,
        cancel: threading.Event,
        keep_off: frozenset[str],
        say: Callable[[Step, str], None],
    ) -> Board | None:
        parts = self.parts
        deadline = time.monotonic() + parts.plug_in_timeout_s
        said: Step | None = None
        while not cancel.is_set():
            boards = [b for b in parts.drives() if not (b.unique_id and b.unique_id in keep_off)]
            if len(boards) == 1:
                return boards[0]
            step = Step.PLUG_IN if not boards else Step.ONLY_ONE
            if step is not said:
                say(step, "")
                said = step
            if time.monotonic() >= deadline:
                say(Step.NO_BOARD, f"no micro:bit drive within {parts.plug_in_timeout_s:.0f} s")
                return None
            cancel.wait(parts.poll_s)
        return None

    def _failure_after_copy(self, cancel: threading.Event, board: Board) -> str | None:
        """What FAIL.TXT says if the board reports a failed flash while it settles."""
        deadline = time.monotonic() + self.parts.settle_s
        while True:
            failure = board.failure()
            if failure or cancel.is_set() or time.monotonic() >= deadline:
                return failure
            cancel.wait(self.parts.poll_s)

    def _set(self, step: Step) -> None:
        self._step = step

    def _collect(self) -> None:
        while True:
            try:
                job, step, detail = self._news.get_nowait()
            except queue.Empty:
                return
            if job is not self._cancel:
                continue  # news of a job a reset forgot
            if detail:
                self.detail = detail
                log.info("take-home model: %s", detail)
            self._set(step)
            if step in FINISHED:
                self._thread = None
