"""The micro:bit Educational Foundation's sensor / radio-bridge serial line protocol, as pure code.

Kept apart from the link (which owns the port and the thread) so that the
encoding and decoding can be tested byte for byte, reused by the fake board
in the tests, and benchmarked without any I/O. Wire format (checked against
the Foundation's ``sensor-radio-bridge`` firmware and its ``microbit-connection``
host library; see ``shared/design/microbit.md``):

- command  ``C[<id>]<CMD>[<value>]\\n``, ``<id>`` 1-8 hex digits chosen by the host;
- response ``R[<id>]<CMD>[<value>]\\n`` or ``R[<id>]ERROR[<code>]\\n``;
- compact periodic line, 13 characters: ``P`` + 2 hex digits of sequence +
  3 x 3 hex digits of x, y, z in milli-g offset by +2048 + 1 hex digit of
  buttons (bit 0 = A, bit 1 = B);
- anything starting with another character is noise to skip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

#: The protocol version the handshake (``HS``) must answer.
PROTOCOL_VERSION = 1
BAUD_RATE = 115200
#: USB ids of the micro:bit's interface chip (DAPLink).
MICROBIT_VID = 0x0D28
MICROBIT_PID = 0x0204

#: Length of a compact periodic line without its newline.
COMPACT_LINE_LENGTH = 13
#: Longest line the host accepts; real lines are under 60 bytes, so anything
#: longer is a corrupted stream and is dropped up to its newline.
MAX_LINE_LENGTH = 128
#: The accelerometer offset and clamp of the compact format (12 bits per axis).
ACCEL_OFFSET = 2048

LINE_KINDS = (b"C", b"R", b"P")

_RESPONSE_RE = re.compile(rb"^R\[([0-9A-Fa-f]{1,8})\]([A-Z]+)\[([^\[\]]*)\]$")
_MAX_ID = 0xFFFFFFFF
_COMPACT_RE = re.compile(rb"P[0-9A-Fa-f]{11}[0-3]")

# Hex digit value of every byte; 255 marks a byte that is not a hex digit.
_HEX_VALUE = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789ABCDEF"):
    _HEX_VALUE[_c] = _i
for _i, _c in enumerate(b"abcdef"):
    _HEX_VALUE[_c] = 10 + _i


# ---- commands and responses ----------------------------------------------------------


def encode_command(command_id: int, command: str, value: str = "") -> bytes:
    """``C[<id in hex>]<command>[<value>]\\n`` as bytes."""
    if not 0 <= command_id <= _MAX_ID:
        raise ValueError("a command id is 1 to 8 hex digits (0 .. 0xFFFFFFFF)")
    if not command.isalpha() or not command.isupper():
        raise ValueError(f"a command name is capital letters, not {command!r}")
    if "[" in value or "]" in value or "\n" in value:
        raise ValueError(f"a command value cannot contain brackets or newlines: {value!r}")
    return f"C[{command_id:X}]{command}[{value}]\n".encode("ascii")


@dataclass(frozen=True)
class Response:
    """One ``R`` line: the id it answers, the command (or ``ERROR``) and the value text."""

    command_id: int
    command: str
    value: str

    @property
    def is_error(self) -> bool:
        return self.command == "ERROR"


def parse_response(line: bytes) -> Response | None:
    """The response in one line (without its newline), or None if it is not a valid ``R`` line."""
    match = _RESPONSE_RE.match(line.rstrip(b"\r"))
    if match is None:
        return None
    raw_id, command, value = match.groups()
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        return None
    return Response(int(raw_id, 16), command.decode("ascii"), text)


def encode_response(command_id_text: str, command: str, value: str = "") -> bytes:
    """``R[<id>]<command>[<value>]\\n``; the id is echoed as the host wrote it (for fake boards)."""
    return f"R[{command_id_text}]{command}[{value}]\n".encode("ascii")


_COMMAND_RE = re.compile(rb"^C\[([0-9A-Fa-f]{1,8})\]([A-Z]+)\[([^\[\]]*)\]$")


def parse_command(line: bytes) -> tuple[str, str, str] | None:
    """(id text, command, value) of a ``C`` line, or None; the board's side, used by fakes."""
    match = _COMMAND_RE.match(line.rstrip(b"\r"))
    if match is None:
        return None
    raw_id, command, value = match.groups()
    try:
        return raw_id.decode("ascii"), command.decode("ascii"), value.decode("ascii")
    except UnicodeDecodeError:
        return None


# ---- compact periodic lines -----------------------------------------------------------


@dataclass(frozen=True)
class CompactSample:
    """One decoded ``P`` line: sequence 0..255, x, y, z in milli-g, buttons bits."""

    sequence: int
    x: int
    y: int
    z: int
    buttons: int

    @property
    def button_a(self) -> bool:
        return bool(self.buttons & 1)

    @property
    def button_b(self) -> bool:
        return bool(self.buttons & 2)


def encode_compact(sequence: int, x: int, y: int, z: int, buttons: int) -> bytes:
    """The 13-character ``P`` line (plus newline) for milli-g values; clamps like the firmware."""

    def axis(value: int) -> int:
        return min(max(int(value), -ACCEL_OFFSET), ACCEL_OFFSET - 1) + ACCEL_OFFSET

    return b"P%02X%03X%03X%03X%1X\n" % (sequence & 0xFF, axis(x), axis(y), axis(z), buttons & 3)


def decode_compact(line: bytes) -> CompactSample | None:
    """Decode one ``P`` line (without newline); None when its length or digits are wrong.

    Plain Python on purpose: at 50 Hz a read holds one line, and numpy's
    per-call overhead would cost more than the decoding itself.
    """
    line = line.rstrip(b"\r")
    if _COMPACT_RE.fullmatch(line) is None:
        return None
    return CompactSample(
        sequence=int(line[1:3], 16),
        x=int(line[3:6], 16) - ACCEL_OFFSET,
        y=int(line[6:9], 16) - ACCEL_OFFSET,
        z=int(line[9:12], 16) - ACCEL_OFFSET,
        buttons=int(line[12:13], 16),
    )


@dataclass(frozen=True)
class CompactBatch:
    """Many decoded ``P`` lines: arrays of equal length, in arrival order."""

    sequence: np.ndarray  # (n,) int16, 0..255
    xyz_milli_g: np.ndarray  # (n, 3) int16
    buttons: np.ndarray  # (n,) uint8, bit 0 = A, bit 1 = B
    rejected: int  # P lines that were malformed and skipped

    def __len__(self) -> int:
        return int(self.sequence.shape[0])

    @property
    def xyz_g(self) -> np.ndarray:
        return self.xyz_milli_g.astype(np.float64) / 1000.0


_EMPTY_BATCH = CompactBatch(
    np.zeros(0, np.int16), np.zeros((0, 3), np.int16), np.zeros(0, np.uint8), 0
)


def decode_compact_lines(lines: list[bytes]) -> CompactBatch:
    """Decode many ``P`` lines at once with numpy (the hot path: ~50 lines/s per board).

    Lines of the wrong length, with a non-hex digit or a buttons digit above 3
    are counted in ``rejected`` and left out.
    """
    good = [line for line in lines if len(line) == COMPACT_LINE_LENGTH]
    wrong_length = len(lines) - len(good)
    if not good:
        return CompactBatch(
            _EMPTY_BATCH.sequence, _EMPTY_BATCH.xyz_milli_g, _EMPTY_BATCH.buttons, wrong_length
        )
    raw = np.frombuffer(b"".join(good), dtype=np.uint8).reshape(-1, COMPACT_LINE_LENGTH)
    digits = _HEX_VALUE[raw[:, 1:]]
    valid = (raw[:, 0] == ord("P")) & (digits.max(axis=1) <= 15) & (digits[:, 11] <= 3)
    if not valid.all():
        digits = digits[valid]
    d = digits.astype(np.int16)
    sequence = d[:, 0] * 16 + d[:, 1]
    axes = d[:, 2:11].reshape(-1, 3, 3)
    xyz = axes[:, :, 0] * 256 + axes[:, :, 1] * 16 + axes[:, :, 2] - ACCEL_OFFSET
    rejected = wrong_length + int(valid.size - np.count_nonzero(valid))
    return CompactBatch(sequence, xyz, digits[:, 11].copy(), rejected)


# ---- splitting a byte stream into lines ---------------------------------------------------


class LineSplitter:
    """Turns chunks read from the port into protocol lines.

    Keeps a partial line for the next chunk, drops lines that do not start
    with ``C``, ``R`` or ``P`` (debug prints, boot banners, line noise) and
    drops lines longer than ``max_length`` (their rest is skipped up to the next
    newline), so a corrupted stream can neither grow memory nor produce junk.
    """

    def __init__(self, max_length: int = MAX_LINE_LENGTH) -> None:
        self.max_length = max_length
        self._partial = b""
        self._discarding = False  # inside an over-long line, skipping to its newline
        self.noise_lines = 0
        self.overlong_lines = 0

    def reset(self) -> None:
        """Forget any partial line (after the port was reopened)."""
        self._partial = b""
        self._discarding = False

    def feed(self, data: bytes) -> list[bytes]:
        """The complete lines in ``data`` (plus what was kept), without newlines or ``\\r``."""
        if not data:
            return []
        joined = self._partial + data
        pieces = joined.split(b"\n")
        self._partial = pieces.pop()
        if pieces and self._discarding:
            self._discarding = False  # this newline ends the over-long line
            del pieces[0]
        if b"\r" in joined:
            pieces = [piece.rstrip(b"\r") for piece in pieces]
        limit = self.max_length
        # The common case (every line well-formed) in one comprehension; the
        # rejects are counted only when there are some.
        lines = [p for p in pieces if p[:1] in LINE_KINDS and len(p) <= limit]
        if len(lines) != len(pieces):
            for piece in pieces:
                if len(piece) > limit:
                    self.overlong_lines += 1
                elif piece and piece[:1] not in LINE_KINDS:
                    self.noise_lines += 1
        if len(self._partial) > limit:
            if not self._discarding:
                self.overlong_lines += 1
            self._discarding = True
            self._partial = b""
        return lines


# ---- which program the board runs ---------------------------------------------------------

#: What the kiosk's own program answers to SWVER starts with this ("kiosk-1.0-usb").
KIOSK_VERSION_PREFIX = "kiosk-"
KIOSK_ROLES = ("usb", "bridge", "remote")
#: Commands every version of the Foundation's sensor-radio-bridge firmware knows.
#: Anything else makes it panic (error 210) and stop until reset.
FOUNDATION_COMMANDS = frozenset({"HS", "SWVER", "HWVER", "PER", "START", "ZSTART", "STOP"})
#: Added in the Foundation's 0.2.0 (MBID, RMBID). RF is left out on purpose: it
#: retunes only the bridge, not its remote, and so breaks the radio link.
FOUNDATION_COMMANDS_0_2 = FOUNDATION_COMMANDS | {"MBID", "RMBID"}
#: The kiosk's own program (firmware/): the Foundation's commands plus LED and MBID.
KIOSK_COMMANDS = frozenset({"HS", "SWVER", "HWVER", "PER", "ZSTART", "STOP", "MBID", "LED"})


@dataclass(frozen=True)
class BoardProgram:
    """What the board said it runs (from its SWVER answer) and so which commands it knows."""

    program: str  # "kiosk" | "foundation" | "unknown"
    version: str  # as the board reported it ("1.0", "0.3.0"), "" if unknown
    role: str  # "usb" | "bridge" | "remote" for the kiosk's program, "" if not known

    @property
    def commands(self) -> frozenset[str]:
        if self.program == "kiosk":
            return KIOSK_COMMANDS | {"RMBID"} if self.role == "bridge" else KIOSK_COMMANDS
        if self.program == "foundation" and _version_tuple(self.version) >= (0, 2):
            return FOUNDATION_COMMANDS_0_2
        # an unknown program answered HS like the Foundation's: send only the safest set
        return FOUNDATION_COMMANDS

    def knows(self, command: str) -> bool:
        return command in self.commands

    @property
    def can_show_icons(self) -> bool:
        return self.knows("LED")

    @property
    def words(self) -> str:
        """For staff: "the kiosk's program 1.0 (usb)", "the Foundation's program 0.3.0"."""
        if self.program == "kiosk":
            return f"the kiosk's program {self.version} ({self.role})"
        if self.program == "foundation":
            return f"the Foundation's program {self.version}"
        return "an unknown program"


def identify_program(swver: str | None) -> BoardProgram:
    """Which program answered SWVER with ``swver`` (None: no answer or an ERROR)."""
    if swver is None:
        return BoardProgram("unknown", "", "")
    if swver.startswith(KIOSK_VERSION_PREFIX):
        version, _, role = swver[len(KIOSK_VERSION_PREFIX) :].partition("-")
        return BoardProgram("kiosk", version, role if role in KIOSK_ROLES else "")
    return BoardProgram("foundation", swver, "")


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for part in text.split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def encode_icon_value(led_bytes: bytes) -> str:
    """The LED command's value: 5 row bytes as 10 hex digits."""
    if len(led_bytes) != 5 or any(b > 31 for b in led_bytes):
        raise ValueError("an icon is 5 row bytes of 5 bits each")
    return led_bytes.hex().upper()
