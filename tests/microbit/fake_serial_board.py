"""A fake micro:bit on a real pseudo-terminal, speaking the sensor-bridge protocol.

The serial link under test opens the pty's slave path with pyserial exactly
as it would open ``/dev/ttyACM0``; this board answers ``HS``, ``RMBID``,
``RF``, ``ZSTART``, ``STOP`` (byte for byte like the Foundation's firmware,
echoing the host's id) and, like that firmware, panics (goes dead) on a
command it does not know; with ``swver="kiosk-1.0-usb"`` it imitates the
kiosk's own program instead (``LED``, ``MBID``, ``ERROR`` for unknown
commands). It streams compact ``P`` lines at a chosen rate, and
injects faults on request: garbage, split and over-long lines, wrong
lengths, bad digits, noise lines, silence, unplugging (closing the pty) and
replugging (a new pty), and refusing to answer the handshake.

All pty I/O happens on the board's own thread; the test's calls queue work
for it and wait until it is done, so nothing closes a descriptor under a
``select``. Every sample the board sends is recorded, so a test can check
that what the kiosk received is exactly a subsequence of what was sent.
"""

from __future__ import annotations

import errno
import os
import queue
import random
import select
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kiosk.microbit import serial_protocol as sp
from kiosk.microbit.link import ButtonEvent, Link, LinkEvent, LinkState, RetryPolicy, StateChange
from kiosk.microbit.serial_link import SerialTimings

FAULT_KINDS = (
    "garbage",
    "partial",
    "overlong",
    "wrong_length",
    "bad_hex",
    "bad_buttons",
    "noise_line",
    "stray_response",
)


def sample_values(k: int) -> tuple[int, int, int]:
    """The k-th sample the board sends, milli-g; distinct, covering the whole range and clamps."""
    x = (k * 37) % 4400 - 2200  # beyond +-2048 now and then: the firmware clamps
    y = (k * 101) % 4095 - 2048
    z = (k * 13 + 500) % 4095 - 2048
    return x, y, z


def clamp(value: int) -> int:
    return min(max(value, -2048), 2047)


@dataclass
class BoardLog:
    """What happened on the board's side, for assertions."""

    sent: list[tuple[int, int, int, int]] = field(default_factory=list)  # x, y, z (clamped), b
    commands: list[tuple[str, str]] = field(default_factory=list)
    faults: int = 0
    drops: list[float] = field(default_factory=list)  # monotonic time of unplug / silence start
    handshakes: int = 0


class FakeSerialBoard:
    """See the module docstring. Use as a context manager or call ``start`` / ``close``."""

    def __init__(
        self,
        rate_hz: float = 50.0,
        *,
        lines_per_write: int = 1,
        answer_handshake: bool = True,
        protocol_version: str = "1",
        accept_remote_id: bool = True,
        stable_path: Path | None = None,
        seed: int = 0,
        swver: str = "0.2.0",
    ) -> None:
        self.rate_hz = rate_hz
        self.lines_per_write = lines_per_write
        self.answer_handshake = answer_handshake
        self.protocol_version = protocol_version
        self.accept_remote_id = accept_remote_id
        self.stable_path = stable_path  # a symlink kept pointing at the current pty (like by-id)
        self.log = BoardLog()
        self.buttons = 0
        self.remote_id = ""
        self.radio_frequency = "42"
        self.swver = swver
        self.panicked = False  # the Foundation's firmware after an unknown command
        self.icons: list[str] = []  # LED values shown (kiosk program only)
        self._frozen_until = 0.0
        self._rng = random.Random(seed)
        self._master: int | None = None
        self._slave: int | None = None
        self._slave_path: str | None = None
        self._streaming = False
        self._silent_until = 0.0
        self._k = 0
        self._sequence = 0
        self._pending: list[bytes] = []  # fault bytes to write before the next sample
        self._split_next = 0  # how many next sample lines to write in pieces
        self._requests: queue.SimpleQueue[tuple[Callable[[], None], threading.Event]] = (
            queue.SimpleQueue()
        )
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fake-board", daemon=True)
        self._rx = b""

    # ---- control from the test -------------------------------------------------------

    def start(self) -> FakeSerialBoard:
        self._plug()
        self._thread.start()
        return self

    def close(self) -> None:
        self._halt.set()
        self._thread.join(5)
        self._unplug_now()

    def __enter__(self) -> FakeSerialBoard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> str:
        """The device path to open: the stable symlink if any, else the current pty slave."""
        if self.stable_path is not None:
            return str(self.stable_path)
        assert self._slave_path is not None, "the board is unplugged"
        return self._slave_path

    def ports(self) -> list[str]:
        """A port finder for the link: the board's path while plugged in, else nothing."""
        return [self.path] if self._master is not None else []

    @property
    def plugged(self) -> bool:
        return self._master is not None

    @property
    def streaming(self) -> bool:
        return self._streaming

    def unplug(self) -> None:
        self._call(self._unplug_now)

    def replug(self) -> None:
        self._call(self._plug)

    def inject(self, kind: str) -> None:
        """Queue one fault of ``kind`` (see FAULT_KINDS) to go out before the next sample."""
        self._call(lambda: self._queue_fault(kind))

    def go_silent(self, seconds: float) -> None:
        """Keep the port open but send nothing (a hung or re-flashing board)."""

        def silence() -> None:
            self._silent_until = time.monotonic() + seconds
            self.log.faults += 1
            self.log.drops.append(time.monotonic())

        self._call(silence)

    def freeze(self, seconds: float) -> None:
        """Hang completely: no samples and no answers, then carry on (a stuck board)."""

        def hang() -> None:
            self._frozen_until = time.monotonic() + seconds
            self.log.faults += 1
            self.log.drops.append(time.monotonic())

        self._call(hang)

    @property
    def kiosk_program(self) -> bool:
        return self.swver.startswith("kiosk-")

    def _call(self, work: Callable[[], None], timeout: float = 5.0) -> None:
        done = threading.Event()
        self._requests.put((work, done))
        if not done.wait(timeout):
            raise TimeoutError("the fake board's thread did not run the request")

    # ---- the board's thread ------------------------------------------------------------

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no newline translation: bytes pass unchanged
        os.set_blocking(master, False)  # a host that stops reading must not block the board
        self._master, self._slave = master, slave
        self._slave_path = os.ttyname(slave)
        self._streaming = False  # a freshly plugged board waits for its handshake
        self._rx = b""
        if self.stable_path is not None:
            tmp = self.stable_path.with_suffix(".new")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(self._slave_path)
            tmp.replace(self.stable_path)

    def _unplug_now(self) -> None:
        if self._master is None:
            return
        self.log.drops.append(time.monotonic())
        self.log.faults += 1
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        self._streaming = False
        if self.stable_path is not None:
            self.stable_path.unlink(missing_ok=True)

    def _loop(self) -> None:
        period = 1.0 / self.rate_hz
        next_due = time.monotonic()
        while not self._halt.is_set():
            self._serve_requests()
            master = self._master
            if master is None:
                time.sleep(0.002)
                continue
            now = time.monotonic()
            wait = max(0.0, next_due - now) if self._streaming else 0.005
            readable, _, _ = select.select([master], [], [], min(wait, 0.005))
            if readable:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    data = b""
                if time.monotonic() >= self._frozen_until and not self.panicked:
                    self._handle_input(data)
            now = time.monotonic()
            frozen = now < self._frozen_until or self.panicked
            if not self._streaming or now < self._silent_until or frozen:
                next_due = now
                continue
            if now >= next_due:
                self._send_samples()
                next_due += period * self.lines_per_write
                if next_due < now - 0.1:  # fell far behind (a slow machine): do not burst
                    next_due = now

    def _serve_requests(self) -> None:
        while True:
            try:
                work, done = self._requests.get_nowait()
            except queue.Empty:
                return
            try:
                work()
            finally:
                done.set()

    def _write(self, data: bytes) -> None:
        if self._master is None:
            return
        try:
            os.write(self._master, data)
        except BlockingIOError:
            pass  # nobody reads: the USB interface chip drops data too
        except OSError as exc:
            if exc.errno not in (errno.EIO, errno.EAGAIN):
                raise

    def _handle_input(self, data: bytes) -> None:
        lines = (self._rx + data).split(b"\n")
        self._rx = lines.pop()[-200:]
        for line in lines:
            parsed = sp.parse_command(line)
            if parsed is None:
                continue
            command_id, command, value = parsed
            self.log.commands.append((command, value))
            reply = self._respond(command, value)
            if reply is not None:
                self._write(sp.encode_response(command_id, *reply))

    def _respond(self, command: str, value: str) -> tuple[str, str] | None:
        if self.kiosk_program:
            if command == "LED":
                if len(value) != 10:
                    return "ERROR", "1"
                self.icons.append(value)
                return "LED", value
            if command == "MBID":
                return "MBID", "305419896"
            if command in ("RF", "START") or (command == "RMBID" and "bridge" not in self.swver):
                return "ERROR", "4"
        elif command not in sp.FOUNDATION_COMMANDS_0_2 | {"RF"}:
            self.panicked = True  # the real firmware shows error 210 and stops
            self._streaming = False
            return None
        if command == "HS":
            if not self.answer_handshake:
                return None
            self.log.handshakes += 1
            return "HS", self.protocol_version
        if command == "ZSTART":
            self._streaming = True
            return "ZSTART", ""
        if command == "STOP":
            self._streaming = False
            return "STOP", ""
        if command == "RMBID":
            if value and not self.accept_remote_id:
                return "ERROR", "2"
            if value:
                self.remote_id = value
            return "RMBID", self.remote_id
        if command == "RF":
            if value:
                if not value.isdigit() or int(value) > 83:
                    return "ERROR", "1"
                self.radio_frequency = value
            return "RF", self.radio_frequency
        if command == "SWVER":
            return "SWVER", self.swver
        if command == "HWVER":
            return "HWVER", "2"
        if command == "MBID":
            return "MBID", "3141592653"
        return "ERROR", "1"

    def _queue_fault(self, kind: str) -> None:
        rng = self._rng
        self.log.faults += 1
        if kind == "garbage":
            alphabet = bytes(b for b in range(256) if b not in b"\nP")
            junk = bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
            self._pending.append(junk + (b"\n" if rng.random() < 0.5 else b""))
        elif kind == "partial":
            self._split_next += 1
        elif kind == "overlong":
            self._pending.append(b"P" + b"0" * rng.randint(130, 600) + b"\n")
        elif kind == "wrong_length":
            line = self._fake_line()
            cut = rng.choice([1, 5, 11, 12, 14, 15, 20])
            self._pending.append((line[:cut] if cut < 13 else line + b"0" * (cut - 13)) + b"\n")
        elif kind == "bad_hex":
            line = bytearray(self._fake_line())
            line[rng.randint(1, 12)] = ord(rng.choice("GZxg- "))
            self._pending.append(bytes(line) + b"\n")
        elif kind == "bad_buttons":
            self._pending.append(self._fake_line()[:12] + b"7\n")
        elif kind == "noise_line":
            self._pending.append(
                rng.choice(
                    [b"t[12]debug\n", b"\r\n", b"MICROBIT boot\r\n", b"\xff\xfe\x00\n", b"Z\n"]
                )
            )
        elif kind == "stray_response":
            self._pending.append(b"R[DEAD]HS[1]\nR[1]ERROR[4]\n")
        else:
            raise ValueError(f"unknown fault kind {kind!r}")

    def _fake_line(self) -> bytes:
        return sp.encode_compact(self._sequence, 1, 2, 3, 0)[:-1]

    def _send_samples(self) -> None:
        out = b"".join(self._pending)
        self._pending.clear()
        for _ in range(self.lines_per_write):
            x, y, z = sample_values(self._k)
            self._k += 1
            buttons = self.buttons
            line = sp.encode_compact(self._sequence, x, y, z, buttons)
            self._sequence = (self._sequence + 1) & 0xFF
            self.log.sent.append((clamp(x), clamp(y), clamp(z), buttons))
            if self._split_next:
                self._split_next -= 1
                self._write(out)
                out = b""
                cut = self._rng.randint(1, len(line) - 1)
                self._write(line[:cut])
                time.sleep(0.001)  # the host reads the first piece on its own
                self._write(line[cut:])
            else:
                out += line
        self._write(out)


# ---- helpers for the serial tests ------------------------------------------------------

FAST = SerialTimings(
    read_timeout_s=0.01,
    write_timeout_s=0.5,
    handshake_timeout_s=0.4,
    handshake_resend_s=0.05,
    command_timeout_s=0.3,
    first_data_timeout_s=0.4,
    silence_timeout_s=0.25,
    port_poll_s=0.01,
    retry=RetryPolicy(first_delay_s=0.02, max_delay_s=0.1, attempts_before_failed=3),
)


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0, step: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class Events:
    """Accumulates a link's events (``poll_events`` drains them)."""

    def __init__(self, link: Link) -> None:
        self.link = link
        self.all: list[LinkEvent] = []

    def poll(self) -> list[LinkEvent]:
        new = self.link.poll_events()
        self.all += new
        return new

    @property
    def states(self) -> list[StateChange]:
        self.poll()
        return [e for e in self.all if isinstance(e, StateChange)]

    @property
    def buttons(self) -> list[ButtonEvent]:
        self.poll()
        return [e for e in self.all if isinstance(e, ButtonEvent)]

    def count(self, state: LinkState) -> int:
        return sum(1 for s in self.states if s.state is state)

    def wait_count(self, state: LinkState, n: int, timeout: float = 5.0) -> bool:
        return wait_for(lambda: self.count(state) >= n, timeout)


def received_milli_g(link: Link) -> list[tuple[int, int, int]]:
    window = link.samples.latest(link.samples.capacity)
    return [tuple(int(v) for v in row) for row in np.rint(window.xyz * 1000.0)]


def is_subsequence(received: list[tuple[int, int, int]], sent: list[tuple[int, int, int]]) -> bool:
    """True if ``received`` appears in ``sent`` in order (samples may be lost, never invented)."""
    position = 0
    for sample in received:
        while position < len(sent) and sent[position] != sample:
            position += 1
        if position == len(sent):
            return False
        position += 1
    return True


Triple = tuple[int, int, int]


def is_contiguous_run(received: list[Triple], sent: list[Triple]) -> bool:
    """True if ``received`` appears in ``sent`` as one unbroken run (no sample lost)."""
    if not received:
        return False
    first = received[0]
    starts = [i for i, s in enumerate(sent) if s == first]
    return any(sent[i : i + len(received)] == received for i in starts)


def sent_xyz(board_sent: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int]]:
    return [(x, y, z) for x, y, z, _ in board_sent]
