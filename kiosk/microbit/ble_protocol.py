"""The micro:bit's Bluetooth LE profile as bytes: UUIDs, payload parsing and encoding.

Pure functions, no radio and no bluepy, so they are tested exhaustively and
benchmarked on their own (``ble_parse_samples_per_s``), and the link module
only moves bytes. Facts from the micro:bit Bluetooth profile (see
``/work/shared/design/microbit.md``).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

import numpy as np

from kiosk.microbit.link import Icon, icon_to_led_bytes


def microbit_uuid(short: str) -> str:
    """The full UUID of a micro:bit service or characteristic from its 4 hex digits."""
    return f"e95d{short.lower()}-251d-470a-a062-fa1922dfa9a8"


ACCELEROMETER_SERVICE = microbit_uuid("0753")
ACCELEROMETER_DATA = microbit_uuid("ca4b")
ACCELEROMETER_PERIOD = microbit_uuid("fb24")
BUTTON_SERVICE = microbit_uuid("9882")
BUTTON_A_STATE = microbit_uuid("da90")
BUTTON_B_STATE = microbit_uuid("da91")
LED_SERVICE = microbit_uuid("d91d")
LED_MATRIX_STATE = microbit_uuid("7b77")
LED_TEXT = microbit_uuid("93ee")
DEVICE_INFORMATION_SERVICE = 0x180A
MODEL_NUMBER = 0x2A24
#: Client characteristic configuration descriptor; writing ENABLE_NOTIFICATIONS turns them on.
CCCD = 0x2902
ENABLE_NOTIFICATIONS = b"\x01\x00"

#: Advertising data type of the complete local name (and of a shortened one).
COMPLETE_LOCAL_NAME = 9
SHORT_LOCAL_NAME = 8

ACCELEROMETER_PAYLOAD_BYTES = 6
#: Accelerometer period the kiosk asks for (50 Hz, CreateAI's current data window).
DEFAULT_PERIOD_MS = 20

_ACCEL = struct.Struct("<hhh")
_PERIOD = struct.Struct("<H")
_ACCEL_DTYPE = np.dtype("<i2")


class PayloadError(ValueError):
    """Bytes that are not what the characteristic carries (garbage on the radio or a bug)."""


def parse_accelerometer(payload: bytes) -> tuple[float, float, float]:
    """6 bytes (x, y, z as int16 little-endian milli-g) -> (x, y, z) in g."""
    if len(payload) != ACCELEROMETER_PAYLOAD_BYTES:
        raise PayloadError(f"accelerometer payload has {len(payload)} bytes, expected 6")
    x, y, z = _ACCEL.unpack(payload)
    return x / 1000.0, y / 1000.0, z / 1000.0


def parse_accelerometer_many(payloads: Iterable[bytes]) -> np.ndarray:
    """Many 6-byte payloads -> (n, 3) float64 in g, in one vectorised pass.

    Raises PayloadError if any payload is not 6 bytes (filter them first when
    reading from the radio).
    """
    blob = b"".join(payloads)
    if len(blob) % ACCELEROMETER_PAYLOAD_BYTES:
        raise PayloadError("accelerometer payloads must all be 6 bytes long")
    return parse_accelerometer_blob(blob)


def parse_accelerometer_blob(blob: bytes) -> np.ndarray:
    """Concatenated 6-byte payloads (length a multiple of 6) -> (n, 3) float64 in g."""
    milli_g = np.frombuffer(blob, dtype=_ACCEL_DTYPE).reshape(-1, 3)
    return milli_g.astype(np.float64) / 1000.0


def encode_accelerometer(x: float, y: float, z: float) -> bytes:
    """(x, y, z) in g -> the 6 bytes a board sends (rounded to milli-g, saturated to int16)."""
    milli = [max(-32768, min(32767, round(v * 1000.0))) for v in (x, y, z)]
    return _ACCEL.pack(*milli)


def parse_button(payload: bytes) -> int:
    """One byte: 0 released, 1 pressed, 2 long press."""
    if len(payload) != 1 or payload[0] > 2:
        raise PayloadError(f"button payload {payload!r} is not one byte of 0, 1 or 2")
    return payload[0]


def encode_period(period_ms: int) -> bytes:
    """Accelerometer period as the board expects it; never 0 (that crashes a board)."""
    if not 1 <= period_ms <= 0xFFFF:
        raise ValueError(f"accelerometer period must be 1..65535 ms, got {period_ms}")
    return _PERIOD.pack(period_ms)


def parse_period(payload: bytes) -> int:
    """The board's read-back period in ms (uint16 little-endian)."""
    if len(payload) != _PERIOD.size:
        raise PayloadError(f"period payload has {len(payload)} bytes, expected 2")
    return _PERIOD.unpack(payload)[0]


def led_matrix_bytes(icon: Icon) -> bytes:
    """5 bytes, one per row from the top; bit ``1 << (4 - column)`` lights that column."""
    return icon_to_led_bytes(icon)


def advertised_names(name: str) -> tuple[str, str]:
    """The local names a board called ``name`` advertises under (firmware differs)."""
    return f"BBC micro:bit [{name.lower()}]", f"uBit [{name.lower()}]"


def matches_board(local_name: str | None, name: str) -> bool:
    """Whether an advertised local name is the board called ``name`` (case-insensitive)."""
    if not local_name:
        return False
    wanted = {n.lower() for n in advertised_names(name)}
    return local_name.strip().lower() in wanted
