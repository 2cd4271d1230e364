"""A micro:bit on USB (or a radio bridge) speaking the Foundation's sensor-bridge serial protocol.

Why a separate backend: a board plugged into the kiosk needs no Bluetooth
pairing at all, and with the Foundation's radio-bridge program the USB board
relays a second, battery-powered board over the micro:bit radio. The link
finds the board by its USB ids, handshakes, asks for compact streaming
(``ZSTART``), decodes ``P`` lines into samples in g time-stamped on arrival,
turns changes of the button bits into press / release events, and recovers on
its own from unplugging, silence and garbage. Everything runs on the link's
thread; each connection attempt either streams until the board goes away or
raises a typed ``BoardFault``, and the ``Link`` base decides when to try again
(``SerialTimings.retry``; see ``kiosk.microbit.link``).

Two programs speak this protocol: the kiosk's own (``firmware/``) and the
Foundation's. The Foundation's panics on any command it does not know, so
after the handshake the link asks ``SWVER`` (which both know), learns which
program runs (``program``) and from then on sends only commands that program
knows: icons go out as ``LED`` only to the kiosk's program (``can_show_icons``),
``MBID`` only where it exists, and ``RF`` never (it retunes the Foundation's
bridge but not its remote). A board that stops answering for a long time ends
``failed`` with its fault, but the link keeps trying quietly and comes back by
itself when the board does.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from kiosk.errors import LinkError
from kiosk.microbit import serial_protocol as sp
from kiosk.microbit.link import (
    BoardFault,
    Clock,
    Fault,
    Link,
    LinkState,
    RetryPolicy,
    icon_to_led_bytes,
)
from kiosk.signal import SampleBuffer

log = logging.getLogger(__name__)

#: Up to this many lines per read are decoded one by one, more in one numpy pass.
_SCALAR_LINES = 8

#: For staff: how to fix a board with another program on it.
WRONG_PROGRAM = (
    "it may have a different program on it: flash it with Settings, “Prepare a micro:bit” "
    "(or 'kiosk flash usb')."
)

#: A USB board is retried patiently, and never given up on: a board that froze
#: or is being re-flashed must be picked up again without anyone tapping Try again.
SERIAL_RETRY = RetryPolicy(
    first_delay_s=0.5, max_delay_s=8.0, attempts_before_failed=5, keep_trying_after_failed=True
)


class SerialPort(Protocol):
    """The part of ``serial.Serial`` the link uses (a test may pass its own)."""

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


SerialFactory = Callable[[str, float], SerialPort]


@dataclass(frozen=True)
class SerialTimings:
    """Every wait the link makes; tests shrink them to run fast."""

    read_timeout_s: float = 0.05  # longest a read blocks (how quickly stop is noticed)
    write_timeout_s: float = 1.0  # a board that stopped reading makes writes fail, not hang
    handshake_timeout_s: float = 2.5  # per attempt; HS is re-sent meanwhile (DAPLink quirk)
    handshake_resend_s: float = 0.1
    command_timeout_s: float = 1.0
    first_data_timeout_s: float = 1.5  # after ZSTART, the first P line must arrive by then
    silence_timeout_s: float = 3.0  # no P line for this long while streaming: reconnect
    port_poll_s: float = 0.5  # how often to look for an unplugged board to come back
    retry: RetryPolicy = SERIAL_RETRY  # waits between failed attempts, and when to say failed
    sample_period_s: float = 0.02  # the firmware's default period, to spread bursts in time


def find_serial_boards() -> list[str]:
    """Device paths of the micro:bits on USB (VID 0x0D28, PID 0x0204), sorted."""
    from serial.tools import list_ports

    return sorted(
        port.device
        for port in list_ports.comports()
        if port.vid == sp.MICROBIT_VID and port.pid == sp.MICROBIT_PID
    )


def parse_remote_id(remote_id: int | str | None) -> int | None:
    """A radio bridge's remote board id from config text (decimal or 0x-hex), or None."""
    if remote_id is None or (isinstance(remote_id, str) and not remote_id.strip()):
        return None
    try:
        value = remote_id if isinstance(remote_id, int) else int(remote_id.strip(), 0)
    except ValueError:
        raise LinkError(
            f"The radio bridge's remote micro:bit id {remote_id!r} is not a number; "
            "copy it from the remote board's screen into the kiosk settings."
        ) from None
    if not 0 <= value <= 0xFFFFFFFF:
        raise LinkError(f"The remote micro:bit id {value} is out of range (0 to 4294967295).")
    return value


def is_url(port: str) -> bool:
    """True for a pyserial URL (``socket://host:port``: an emulated board), not a device path."""
    return "://" in port


def _open_pyserial(port: str, timings: SerialTimings) -> SerialPort:
    import serial

    if is_url(port):
        link: SerialPort = serial.serial_for_url(
            port,
            baudrate=sp.BAUD_RATE,
            timeout=timings.read_timeout_s,
            write_timeout=timings.write_timeout_s,
        )
        return link
    return serial.Serial(
        port,
        sp.BAUD_RATE,
        timeout=timings.read_timeout_s,
        write_timeout=timings.write_timeout_s,
    )


def _port_errors() -> tuple[type[BaseException], ...]:
    import serial

    return (serial.SerialException, OSError)


class SerialLink(Link):
    """One micro:bit over USB serial; see the module docstring."""

    kind = "USB"

    def __init__(
        self,
        port: str = "auto",
        remote_id: int | str | None = None,
        *,
        buffer: SampleBuffer | None = None,
        timings: SerialTimings | None = None,
        serial_factory: SerialFactory | None = None,
        port_finder: Callable[[], list[str]] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.timings = timings or SerialTimings()
        super().__init__(buffer, retry=self.timings.retry, clock=clock)
        self.port = port or "auto"
        self.remote_id = parse_remote_id(remote_id)
        self._open = serial_factory or (lambda path, _t: _open_pyserial(path, self.timings))
        self._find = port_finder or (find_serial_boards if self.port == "auto" else self._explicit)
        self._next_id = int.from_bytes(os.urandom(2), "big")  # ids differ between runs
        self._icon_noted = False
        #: What the board runs, learnt at each handshake (None before the first).
        self.program: sp.BoardProgram | None = None
        self.board_id: str | None = None  # MBID's answer, where the program knows MBID
        self.hardware: str | None = None  # HWVER's answer: "1" or "2"
        self._icon_ids: set[int] = set()  # LED commands sent and not yet answered
        self._ever_connected = False
        self._last_t = 0.0
        self._prev_buttons = 0
        self._last_sequence: int | None = None
        self.current_port: str | None = None
        self._splitter = sp.LineSplitter()
        #: Running counts for a technician (``kiosk monitor``); only the link thread writes them.
        self.stats = {
            "lines": 0,
            "rejected": 0,
            "noise": 0,
            "overlong": 0,
            "lost": 0,
            "sessions": 0,
            "drops": 0,
            "icons_shown": 0,  # LED commands the board confirmed
            "icons_refused": 0,
        }

    @property
    def description(self) -> str:
        where = self.current_port or ("any USB port" if self.port == "auto" else self.port)
        running = f", running {self.program.words}" if self.program is not None else ""
        if self.remote_id is not None:
            return f"radio bridge on {where}, remote micro:bit {self.remote_id}{running}"
        return f"USB micro:bit on {where}{running}"

    @property
    def can_show_icons(self) -> bool:
        """Only the kiosk's own program has an LED command; unknown until the handshake."""
        return self.program is not None and self.program.can_show_icons

    def _explicit(self) -> list[str]:
        return [self.port] if is_url(self.port) or os.path.exists(self.port) else []

    # ---- the thread ------------------------------------------------------------------

    def _attempt(self, stop: threading.Event) -> bool:
        """Wait for the port, then one session; True if the board streamed (see ``Link``)."""
        port = self._wait_for_port(stop)
        if port is None:
            return False
        self._session(port, stop)
        if self._connected_in_session:
            self._ever_connected = True
        return self._connected_in_session

    def _wait_for_port(self, stop: threading.Event) -> str | None:
        announced = False
        while not stop.is_set():
            try:
                ports = self._find()
            except Exception:
                log.exception("could not list the serial ports")
                ports = []
            if ports:
                return ports[0]
            if not announced:
                # Unplugged or never plugged in: say so, even while failed and retrying quietly.
                self._quiet = False
                if self._ever_connected:
                    state, fault = LinkState.RECONNECTING, Fault.UNPLUGGED
                else:
                    state, fault = LinkState.CONNECTING, Fault.BOARD_NOT_FOUND
                where = "any USB port" if self.port == "auto" else self.port
                self._set_state(state, f"No micro:bit on {where}; waiting for one.", fault)
                announced = True
            stop.wait(self.timings.port_poll_s)
        return None

    def _session(self, port: str, stop: threading.Event) -> None:
        """Open, handshake, stream until stop or a drop; raises BoardFault if it never streamed."""
        self._connected_in_session = False
        self.current_port = port
        errors = _port_errors()
        try:
            ser = self._open(port, self.timings.read_timeout_s)
        except errors as exc:
            if not self._find():
                return  # unplugged as we opened it: look for it again
            raise _open_failure(port, exc) from exc
        self.stats["sessions"] += 1
        splitter = self._splitter
        splitter.reset()  # a partial line from the previous session is meaningless now
        try:
            ser.reset_input_buffer()
            self._progress(
                LinkState.RECONNECTING if self._ever_connected else LinkState.CONNECTING,
                f"Saying hello to the micro:bit on {port}…",
            )
            self._handshake(ser, splitter, stop)
            self._identify(ser, splitter, stop)
            self._configure_remote(ser, splitter, stop)
            self._configure(ser, splitter, stop, "ZSTART", "AB", expect_value="")
            self._stream(ser, splitter, stop)
        except errors as exc:
            if self._connected_in_session:
                self.stats["drops"] += 1
            log.info("serial port %s failed: %s", port, exc)
            gone = not self._find()
            if gone or self._connected_in_session:
                self._set_state(
                    LinkState.RECONNECTING,
                    f"The USB port {port} went away ({exc})."
                    if gone
                    else f"The USB connection on {port} failed ({exc}).",
                    Fault.UNPLUGGED if gone else Fault.CONNECTION_LOST,
                )
                return
            raise BoardFault(
                Fault.NO_ANSWER, f"The USB connection to the micro:bit failed ({exc})."
            ) from exc
        finally:
            self._release_buttons()
            if stop.is_set():
                self._send_stop(ser)
            try:
                ser.close()
            except Exception:
                log.debug("closing %s failed", port, exc_info=True)

    # ---- commands --------------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id = (self._next_id + 1) & 0xFFFFFFFF
        return self._next_id

    def _handshake(self, ser: SerialPort, splitter: sp.LineSplitter, stop: threading.Event) -> None:
        """Send HS until answered: a board's DAPLink may hold back the first replies."""
        t = self.timings
        deadline = time.monotonic() + t.handshake_timeout_s
        sent: set[int] = set()
        while not stop.is_set() and time.monotonic() < deadline:
            command_id = self._new_id()
            sent.add(command_id)
            ser.write(sp.encode_command(command_id, "HS"))
            response = self._await_response(
                ser, splitter, stop, sent, min(deadline, time.monotonic() + t.handshake_resend_s)
            )
            if response is None:
                continue
            if response.is_error or response.value != str(sp.PROTOCOL_VERSION):
                raise BoardFault(
                    Fault.WRONG_PROGRAM,
                    f"The micro:bit speaks protocol version {response.value or '?'}, "
                    f"but the kiosk needs version {sp.PROTOCOL_VERSION}: {WRONG_PROGRAM}",
                )
            return
        if stop.is_set():
            return
        raise BoardFault(
            Fault.NO_ANSWER,
            f"The micro:bit on {self.current_port} does not answer the handshake: it may be "
            f"frozen or busy, or {WRONG_PROGRAM}",
        )

    def _identify(self, ser: SerialPort, splitter: sp.LineSplitter, stop: threading.Event) -> None:
        """Learn which program runs (SWVER, known to every version of both) and its details."""
        answer = self._query(ser, splitter, stop, "SWVER")
        program = sp.identify_program(answer)
        if program != self.program:
            log.info("the micro:bit on %s runs %s", self.current_port, program.words)
        self.program = program
        self.hardware = self._query(ser, splitter, stop, "HWVER")
        if program.knows("MBID"):
            self.board_id = self._query(ser, splitter, stop, "MBID")

    def _configure_remote(
        self, ser: SerialPort, splitter: sp.LineSplitter, stop: threading.Event
    ) -> None:
        if self.remote_id is None:
            return
        program = self.program
        if program is not None and program.program == "kiosk" and program.role != "bridge":
            # RMBID is unknown there: the board would answer ERROR and stream its own
            # movement anyway. Say so to staff; the visitor can still use this board.
            log.warning(
                "A radio remote is set (%s) but the USB micro:bit runs %s, not the radio "
                "bridge: it sends its own movement. Flash it with 'kiosk flash bridge'.",
                self.remote_id,
                program.words,
            )
            return
        if program is None or program.knows("RMBID"):
            self._configure(ser, splitter, stop, "RMBID", str(self.remote_id))

    def _query(
        self, ser: SerialPort, splitter: sp.LineSplitter, stop: threading.Event, command: str
    ) -> str | None:
        """The value a command answers, or None for ERROR or no answer (never raises)."""
        command_id = self._new_id()
        ser.write(sp.encode_command(command_id, command))
        response = self._await_response(
            ser, splitter, stop, {command_id}, time.monotonic() + self.timings.command_timeout_s
        )
        if response is None or response.is_error:
            return None
        return response.value

    def probe(self) -> sp.BoardProgram:
        """Open the port, handshake and identify the program, close; on the calling thread.

        For ``kiosk doctor`` and the flasher's check. Raises ``BoardFault`` (a
        ``LinkError``) with the fault and its detail.
        """
        port = self.port
        if port == "auto":
            ports = self._find()
            if not ports:
                raise BoardFault(Fault.BOARD_NOT_FOUND, "No micro:bit is plugged in on USB.")
            port = ports[0]
        self.current_port = port
        stop = threading.Event()
        try:
            ser = self._open(port, self.timings.read_timeout_s)
        except _port_errors() as exc:
            raise _open_failure(port, exc) from None
        splitter = sp.LineSplitter()
        try:
            ser.reset_input_buffer()
            self._handshake(ser, splitter, stop)
            self._identify(ser, splitter, stop)
        except _port_errors() as exc:
            raise BoardFault(
                Fault.NO_ANSWER, f"The USB connection to the micro:bit failed ({exc})."
            ) from None
        finally:
            try:
                ser.close()
            except Exception:
                log.debug("closing %s failed", port, exc_info=True)
        assert self.program is not None
        return self.program

    def _configure(
        self,
        ser: SerialPort,
        splitter: sp.LineSplitter,
        stop: threading.Event,
        command: str,
        value: str,
        expect_value: str | None = None,
    ) -> None:
        command_id = self._new_id()
        ser.write(sp.encode_command(command_id, command, value))
        response = self._await_response(
            ser, splitter, stop, {command_id}, time.monotonic() + self.timings.command_timeout_s
        )
        if stop.is_set():
            return
        expected = value if expect_value is None else expect_value
        if response is None or response.is_error or response.value != expected:
            answer = "no answer" if response is None else f"{response.command}[{response.value}]"
            raise _configure_failure(command, value, answer)

    def _await_response(
        self,
        ser: SerialPort,
        splitter: sp.LineSplitter,
        stop: threading.Event,
        ids: set[int],
        deadline: float,
    ) -> sp.Response | None:
        """The first response to one of ``ids`` before ``deadline``; other lines are skipped."""
        while not stop.is_set() and time.monotonic() < deadline:
            for line in splitter.feed(self._read(ser)):
                if line[:1] != b"R":
                    continue  # P lines still flowing from an earlier session, or an echo
                response = sp.parse_response(line)
                if response is not None and response.command_id in ids:
                    return response
        return None

    def _send_stop(self, ser: SerialPort) -> None:
        """Best effort: ask the board to stop streaming before the port is closed.

        Waits (briefly) for the answer: a port closed right after the write can
        drop the command on its way (an emulated board's socket does).
        """
        try:
            command_id = self._new_id()
            ser.write(sp.encode_command(command_id, "STOP"))
            flush = getattr(ser, "flush", None)
            if flush is not None:
                flush()
            wait = min(self.timings.command_timeout_s, 1.0)
            self._await_response(
                ser, sp.LineSplitter(), threading.Event(), {command_id}, time.monotonic() + wait
            )
        except Exception:
            log.debug("could not send STOP", exc_info=True)

    # ---- streaming -------------------------------------------------------------------

    def _read(self, ser: SerialPort) -> bytes:
        data = ser.read(ser.in_waiting or 1)
        if len(data) == 1:  # woke on the first byte: take whatever else is already there
            more = ser.in_waiting
            if more:
                data += ser.read(more)
        return data

    def _stream(self, ser: SerialPort, splitter: sp.LineSplitter, stop: threading.Event) -> None:
        t = self.timings
        self._prev_buttons = 0
        self._last_sequence = None
        last_data = time.monotonic()
        while not stop.is_set():
            self._send_icon(ser)
            data = self._read(ser)
            now = time.monotonic()
            if data:
                lines = splitter.feed(data)
                periodic = [line for line in lines if line[:1] == b"P"]
                if self._icon_ids and len(periodic) != len(lines):
                    self._icon_answers(lines)
                self.stats["noise"] = splitter.noise_lines
                self.stats["overlong"] = splitter.overlong_lines
                if periodic and self._take(periodic, now):
                    last_data = now
                    if not self._connected_in_session:
                        self._connected_in_session = True
                        self._set_state(LinkState.CONNECTED, f"Connected: {self.description}.")
            limit = t.silence_timeout_s if self._connected_in_session else t.first_data_timeout_s
            if now - last_data > limit:
                if self._connected_in_session:
                    self.stats["drops"] += 1
                    self._set_state(
                        LinkState.RECONNECTING,
                        f"The micro:bit stopped sending data for {limit:.1f} s. Reconnecting…",
                        Fault.CONNECTION_LOST,
                    )
                    return
                raise self._no_data()

    def _take(self, lines: list[bytes], now: float) -> bool:
        """Decode P lines into samples and button events; True if any sample was good.

        At 50 Hz a read usually holds one line, where plain Python beats numpy's
        per-call overhead; a backlog of many lines is decoded in one numpy pass.
        """
        self.stats["lines"] += len(lines)
        if len(lines) <= _SCALAR_LINES:
            return self._take_few(lines, now)
        batch = sp.decode_compact_lines(lines)
        self.stats["rejected"] += batch.rejected
        n = len(batch)
        if n == 0:
            return False
        # Time-stamp on arrival; a burst read at once is spread back by the nominal
        # period (never before the previous sample) so windows cut by time stay right.
        times = now - self.timings.sample_period_s * np.arange(n - 1, -1, -1, dtype=np.float64)
        times = np.maximum(times, self._last_t)
        self._last_t = float(times[-1])
        self._push_samples(np.column_stack((times, batch.xyz_g)))
        self._count_lost(batch.sequence)
        self._emit_buttons(batch.buttons)
        return True

    def _take_few(self, lines: list[bytes], now: float) -> bool:
        """The same as ``_take`` for a handful of lines, one at a time."""
        samples = [s for s in map(sp.decode_compact, lines) if s is not None]
        self.stats["rejected"] += len(lines) - len(samples)
        period = self.timings.sample_period_s
        last = len(samples) - 1
        for i, sample in enumerate(samples):
            t = max(now - period * (last - i), self._last_t)
            self._last_t = t
            self._push_sample(sample.x / 1000.0, sample.y / 1000.0, sample.z / 1000.0, t)
            if self._last_sequence is not None:
                self.stats["lost"] += (sample.sequence - self._last_sequence - 1) % 256
            self._last_sequence = sample.sequence
            if sample.buttons != self._prev_buttons:
                self._button_bits(sample.buttons)
        return bool(samples)

    def _count_lost(self, sequence: np.ndarray) -> None:
        seq = sequence.astype(np.int32)
        if self._last_sequence is not None:
            seq = np.concatenate(([self._last_sequence], seq))
        if seq.size > 1:
            self.stats["lost"] += int(((np.diff(seq) - 1) % 256).sum())
        self._last_sequence = int(seq[-1])

    def _emit_buttons(self, buttons: np.ndarray) -> None:
        previous = self._prev_buttons
        for index in np.flatnonzero(np.diff(buttons, prepend=np.uint8(previous))):
            self._button_bits(int(buttons[index]))

    def _button_bits(self, current: int) -> None:
        """Press / release events for the bits that differ from the previous sample."""
        changed = current ^ self._prev_buttons
        for bit, name in ((1, "A"), (2, "B")):
            if changed & bit:
                self._push_button(name, bool(current & bit))
        self._prev_buttons = current

    def _release_buttons(self) -> None:
        """A button held when the link dropped must not stay pressed on screen."""
        for bit, name in ((1, "A"), (2, "B")):
            if self._prev_buttons & bit:
                self._push_button(name, False)
        self._prev_buttons = 0

    def _send_icon(self, ser: SerialPort) -> None:
        """The newest queued icon as an LED command, where the board's program knows LED."""
        icon = self._next_icon()
        if icon is None:
            return
        if not self.can_show_icons:
            if not self._icon_noted:
                self._icon_noted = True
                words = self.program.words if self.program is not None else "its program"
                log.info(
                    "The micro:bit runs %s, which has no LED command: icons are not shown "
                    "on the board (flash it with 'kiosk flash usb' to show them).",
                    words,
                )
            return
        command_id = self._new_id()
        value = sp.encode_icon_value(icon_to_led_bytes(icon))
        ser.write(sp.encode_command(command_id, "LED", value))
        self._icon_ids.add(command_id)
        if len(self._icon_ids) > 32:  # answers lost in a drop: do not grow for ever
            self._icon_ids.clear()

    def _icon_answers(self, lines: list[bytes]) -> None:
        for line in lines:
            if line[:1] != b"R":
                continue
            response = sp.parse_response(line)
            if response is None or response.command_id not in self._icon_ids:
                continue
            self._icon_ids.discard(response.command_id)
            self.stats["icons_refused" if response.is_error else "icons_shown"] += 1

    def _no_data(self) -> BoardFault:
        if self.remote_id is not None:
            return BoardFault(
                Fault.NO_DATA,
                f"The USB micro:bit answers but no data comes from remote micro:bit "
                f"{self.remote_id}: is it switched on, close by, and running the radio "
                "sender program?",
            )
        return BoardFault(
            Fault.WRONG_PROGRAM, f"The micro:bit answers but sends no data: {WRONG_PROGRAM}"
        )

    _connected_in_session = False


def _open_failure(port: str, exc: Any) -> BoardFault:
    text = str(exc)
    if "ermission" in text:
        return BoardFault(
            Fault.PERMISSION_MISSING,
            f"The kiosk may not open {port} ({text}): add its user to the 'dialout' group "
            "(see the install guide).",
        )
    if "busy" in text.lower():
        return BoardFault(Fault.PORT_BUSY, f"Another program is using {port}; close it.")
    return BoardFault(Fault.NO_ANSWER, f"Could not open {port} ({text}).")


def _configure_failure(command: str, value: str, answer: str) -> BoardFault:
    if command == "RMBID":
        return BoardFault(
            Fault.BAD_SETTING,
            f"The radio bridge did not accept remote micro:bit {value} ({answer}): "
            "check the id in the kiosk settings and that the USB board runs the radio-bridge "
            "program.",
        )
    return BoardFault(
        Fault.WRONG_PROGRAM, f"The micro:bit did not start streaming ({command} answered {answer})."
    )
