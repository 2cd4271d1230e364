"""The micro:bit Bluetooth profile as bytes: parsing and encoding, checked against struct."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.microbit import ble_protocol as proto

int16 = st.integers(-32768, 32767)


def test_uuids_follow_the_microbit_base() -> None:
    assert proto.ACCELEROMETER_SERVICE == "e95d0753-251d-470a-a062-fa1922dfa9a8"
    assert proto.ACCELEROMETER_DATA == "e95dca4b-251d-470a-a062-fa1922dfa9a8"
    assert proto.ACCELEROMETER_PERIOD == "e95dfb24-251d-470a-a062-fa1922dfa9a8"
    assert proto.BUTTON_A_STATE.startswith("e95dda90")
    assert proto.BUTTON_B_STATE.startswith("e95dda91")
    assert proto.LED_MATRIX_STATE.startswith("e95d7b77")


@given(int16, int16, int16)
def test_accelerometer_payload_is_int16_le_milli_g(x: int, y: int, z: int) -> None:
    payload = struct.pack("<hhh", x, y, z)
    assert proto.parse_accelerometer(payload) == (x / 1000, y / 1000, z / 1000)


def test_known_payload() -> None:
    # x = -1000 mg, y = 512 mg, z = 2047 mg
    assert proto.parse_accelerometer(bytes.fromhex("18fc0002ff07")) == (-1.0, 0.512, 2.047)


@given(st.lists(st.tuples(int16, int16, int16), max_size=50))
def test_many_payloads_parse_like_one_at_a_time(rows: list[tuple[int, int, int]]) -> None:
    payloads = [struct.pack("<hhh", *r) for r in rows]
    many = proto.parse_accelerometer_many(payloads)
    assert many.shape == (len(rows), 3) and many.dtype == np.float64
    expected = np.array([proto.parse_accelerometer(p) for p in payloads]).reshape(-1, 3)
    np.testing.assert_array_equal(many, expected)


@pytest.mark.parametrize("length", [0, 1, 5, 7, 12])
def test_wrong_length_payload_is_refused(length: int) -> None:
    with pytest.raises(proto.PayloadError, match="6"):
        proto.parse_accelerometer(bytes(length))


def test_many_refuses_a_short_payload() -> None:
    with pytest.raises(proto.PayloadError):
        proto.parse_accelerometer_many([bytes(6), bytes(5)])


@given(st.floats(-2.048, 2.048), st.floats(-2.048, 2.048), st.floats(-2.048, 2.048))
def test_encode_round_trips_to_the_milli_g(x: float, y: float, z: float) -> None:
    back = proto.parse_accelerometer(proto.encode_accelerometer(x, y, z))
    assert np.allclose(back, (x, y, z), atol=0.0005 + 1e-12)


def test_encode_saturates_instead_of_overflowing() -> None:
    assert proto.parse_accelerometer(proto.encode_accelerometer(40.0, -40.0, 0)) == (
        32.767,
        -32.768,
        0.0,
    )


@pytest.mark.parametrize(("payload", "state"), [(b"\x00", 0), (b"\x01", 1), (b"\x02", 2)])
def test_button_bytes(payload: bytes, state: int) -> None:
    assert proto.parse_button(payload) == state


@pytest.mark.parametrize("payload", [b"", b"\x03", b"\xff", b"\x01\x00"])
def test_bad_button_bytes(payload: bytes) -> None:
    with pytest.raises(proto.PayloadError):
        proto.parse_button(payload)


def test_period_encoding_never_allows_zero() -> None:
    assert proto.encode_period(20) == b"\x14\x00"
    assert proto.parse_period(b"\xe8\x03") == 1000
    for bad in (0, -1, 70000):
        with pytest.raises(ValueError):
            proto.encode_period(bad)
    with pytest.raises(proto.PayloadError):
        proto.parse_period(b"\x14")


def test_led_bytes_one_per_row_leftmost_is_bit_4() -> None:
    icon = [
        [c == 0 for c in range(5)],
        [True] * 5,
        [False] * 5,
        [c == 4 for c in range(5)],
        [c in (1, 3) for c in range(5)],
    ]
    assert proto.led_matrix_bytes(icon) == bytes([0b10000, 0b11111, 0, 0b00001, 0b01010])


@pytest.mark.parametrize(
    ("advertised", "matches"),
    [
        ("BBC micro:bit [gutop]", True),
        ("uBit [gutop]", True),
        ("BBC micro:bit [GUTOP]", True),
        ("BBC micro:bit [gutoz]", False),
        ("BBC micro:bit", False),
        (None, False),
        ("", False),
        ("gutop", False),
    ],
)
def test_advertised_name_matching(advertised: str | None, matches: bool) -> None:
    assert proto.matches_board(advertised, "gutop") is matches
