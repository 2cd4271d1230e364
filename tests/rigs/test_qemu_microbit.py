"""The kiosk's USB link against a real micro:bit program on an emulated micro:bit (QEMU).

QEMU's ``microbit`` machine (a V1, nRF51) boots the very hex the kiosk builds
(``kiosk.firmware.hexbuild``: MicroPython from micropython-microbit-fs plus the
kiosk's program); its UART is the board's USB serial port, reached over a TCP
socket (``socket://127.0.0.1:PORT``), and the kiosk's own ``SerialLink`` talks
to it. Nothing here is a fake of the board's side except the last test's
stand-in for the Foundation's firmware, which is itself a MicroPython program
running on the emulated board (``foundation_imitation_micropython.py``).

QEMU does not run in real time and its accelerometer is a stub (about -0.736,
-0.736, 0.736 g), so the tests count samples and check values, never rates;
the samples-per-second figure is printed (``-s``) for the record.

If ``qemu-system-arm`` is missing the tests FAIL with the reason: set-up
(scripts/setup.sh) installs it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import serial

from kiosk.firmware import hexbuild
from kiosk.microbit.link import LinkState, RetryPolicy
from kiosk.microbit.serial_link import SerialLink, SerialTimings
from kiosk.signal import SampleBuffer
from tests.microbit.fake_serial_board import Events, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

QEMU = "qemu-system-arm"
HERE = Path(__file__).resolve().parent
STUB_G = np.array([-0.736, -0.736, 0.736])  # QEMU's accelerometer, in g

# Emulated time runs slower than the wall clock on a busy machine: wide margins.
QEMU_TIMINGS = SerialTimings(
    handshake_timeout_s=8.0,
    handshake_resend_s=0.5,
    command_timeout_s=4.0,
    first_data_timeout_s=8.0,
    silence_timeout_s=8.0,
    port_poll_s=0.2,
    retry=RetryPolicy(first_delay_s=0.2, max_delay_s=0.5, attempts_before_failed=60),
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmulatedMicrobit:
    """One ``qemu-system-arm -M microbit`` process serving its UART on a loopback port."""

    def __init__(self, hex_path: Path) -> None:
        if shutil.which(QEMU) is None:
            pytest.fail(
                f"{QEMU} is missing, so the emulated micro:bit cannot start: run "
                "scripts/setup.sh (it installs the apt package qemu-system-arm)."
            )
        self.hex_path = hex_path
        self.port = _free_port()
        self.url = f"socket://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> None:
        command = [
            QEMU,
            "-M",
            "microbit",
            "-device",
            f"loader,file={self.hex_path}",
            "-nographic",
            "-monitor",
            "none",
            "-serial",
            f"tcp:127.0.0.1:{self.port},server=on,wait=off",
        ]
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.started_at = time.monotonic()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = (
                    self.process.stderr.read().decode(errors="replace")
                    if self.process.stderr
                    else ""
                )
                pytest.fail(f"{QEMU} exited with {self.process.returncode}: {err.strip()}")
            try:
                # A listening port means QEMU is up; the probe connection closes at once
                # and QEMU then takes the next client.
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"{QEMU} did not open its serial port within 30 s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


def _build(tmp: Path, role: str = "usb") -> Path:
    sources = hexbuild.read_source()
    path = tmp / hexbuild.hex_name(role, 1)
    path.write_text(hexbuild.build_hex(role, 1, sources), encoding="ascii")
    return path


def _build_imitation(tmp: Path) -> Path:
    import micropython_microbit_fs as mfs

    program = (HERE / "foundation_imitation_micropython.py").read_text(encoding="utf-8")
    runtime = mfs.get_bundled_hex(1).content
    path = tmp / "foundation-imitation-v1.hex"
    path.write_text(mfs.add_files(runtime, [mfs.File.from_text("main.py", program)]))
    return path


@pytest.fixture(scope="module")
def kiosk_board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatedMicrobit]:
    board = EmulatedMicrobit(_build(tmp_path_factory.mktemp("qemu-hex")))
    board.start()
    try:
        yield board
    finally:
        board.kill()


@pytest.fixture(scope="module")
def link(kiosk_board: EmulatedMicrobit) -> Iterator[tuple[SerialLink, Events]]:
    made = SerialLink(kiosk_board.url, buffer=SampleBuffer(50_000), timings=QEMU_TIMINGS)
    events = Events(made)
    made.connect()
    try:
        yield made, events
    finally:
        made.close()


def test_handshake_version_id_and_500_samples_none_rejected(link) -> None:
    serial_link, events = link
    assert events.wait_count(LinkState.CONNECTED, 1, timeout=60), serial_link.reason
    program = serial_link.program
    assert program is not None
    assert (program.program, program.role) == ("kiosk", "usb")
    assert program.version == hexbuild.program_version(
        hexbuild.read_source()[hexbuild.PROGRAM_NAME]
    )
    assert serial_link.hardware == "1"  # QEMU's micro:bit is a V1
    assert serial_link.board_id is not None and serial_link.board_id.isdigit()
    assert serial_link.can_show_icons
    started, first = time.monotonic(), len(serial_link.samples)
    assert wait_for(lambda: len(serial_link.samples) >= first + 500, timeout=120)
    elapsed = time.monotonic() - started
    got = len(serial_link.samples) - first
    print(f"\nQEMU micro:bit: {got} samples in {elapsed:.1f} s = {got / elapsed:.1f} samples/s")
    assert serial_link.stats["rejected"] == 0
    assert serial_link.stats["lost"] == 0
    window = serial_link.samples.latest(500)
    assert np.allclose(window.xyz, STUB_G, atol=0.002)  # decoded exactly as the board sent
    assert np.all(np.diff(window.t) >= 0)


def test_the_board_answers_an_icon(link) -> None:
    serial_link, events = link
    assert events.wait_count(LinkState.CONNECTED, 1, timeout=60)
    heart = [
        [False, True, False, True, False],
        [True] * 5,
        [True] * 5,
        [False, True, True, True, False],
        [False, False, True, False, False],
    ]
    before = serial_link.stats["icons_shown"]
    serial_link.show_icon(heart)
    assert wait_for(lambda: serial_link.stats["icons_shown"] > before, timeout=30)
    assert serial_link.stats["icons_refused"] == 0
    assert serial_link.state is LinkState.CONNECTED


def test_emulator_killed_mid_stream_and_restarted(link, kiosk_board) -> None:
    serial_link, events = link
    assert events.wait_count(LinkState.CONNECTED, 1, timeout=60)
    board_id = serial_link.board_id
    assert wait_for(lambda: len(serial_link.samples) >= 50, timeout=60)
    connected = events.count(LinkState.CONNECTED)
    kiosk_board.kill()  # mid-stream: no goodbye, the socket just closes
    assert wait_for(lambda: serial_link.state is not LinkState.CONNECTED, timeout=30)
    recorded = serial_link.samples.latest(len(serial_link.samples))
    kiosk_board.start()
    restarted = time.monotonic()
    assert events.wait_count(LinkState.CONNECTED, connected + 1, timeout=90), serial_link.reason
    print(f"\nreconnected {time.monotonic() - restarted:.1f} s after the emulator restarted")
    assert serial_link.board_id == board_id
    n = len(recorded)
    assert wait_for(lambda: len(serial_link.samples) >= n + 50, timeout=60)
    after = serial_link.samples.latest(len(serial_link.samples))
    # nothing already recorded was lost or changed
    np.testing.assert_array_equal(after.t[:n], recorded.t)
    np.testing.assert_array_equal(after.xyz[:n], recorded.xyz)
    assert serial_link.stats["rejected"] == 0


def test_close_sends_stop_and_the_board_stays_quiet(link, kiosk_board) -> None:
    serial_link, _events = link
    assert wait_for(lambda: serial_link.state is LinkState.CONNECTED, timeout=90)
    serial_link.close()
    with serial.serial_for_url(kiosk_board.url, timeout=0.2) as raw:
        heard = b""
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            heard += raw.read(4096)
        assert b"\nP" not in b"\n" + heard  # STOP reached the board: no more samples
        raw.write(b"C[7]HS[]\n")
        answer = b""
        deadline = time.monotonic() + 30
        while b"R[7]HS[1]" not in answer and time.monotonic() < deadline:
            answer += raw.read(4096)
        assert b"R[7]HS[1]" in answer  # quiet because it was told to, not because it hung


@pytest.fixture(scope="module")
def foundation_board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatedMicrobit]:
    board = EmulatedMicrobit(_build_imitation(tmp_path_factory.mktemp("qemu-imitation")))
    board.start()
    try:
        yield board
    finally:
        board.kill()


def test_a_board_with_the_foundations_program_gets_no_extras(foundation_board) -> None:
    serial_link = SerialLink(
        foundation_board.url, buffer=SampleBuffer(10_000), timings=QEMU_TIMINGS
    )
    events = Events(serial_link)
    serial_link.connect()
    try:
        assert events.wait_count(LinkState.CONNECTED, 1, timeout=60), serial_link.reason
        program = serial_link.program
        assert program is not None
        assert (program.program, program.version) == ("foundation", "0.3.0")
        assert serial_link.board_id == "1234567"  # 0.3.0 knows MBID
        assert not serial_link.can_show_icons
        serial_link.show_icon([[True] * 5] * 5)  # must not go out as an LED command
        count = len(serial_link.samples)
        # a panicked board would stop streaming; this one keeps going
        assert wait_for(lambda: len(serial_link.samples) >= count + 100, timeout=90)
        assert serial_link.state is LinkState.CONNECTED
        assert serial_link.stats["rejected"] == 0 and serial_link.stats["noise"] == 0
    finally:
        serial_link.close()
