"""The sensor-bridge line protocol, byte for byte: commands, responses, P lines, line splitting."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.microbit import serial_protocol as sp


def test_command_bytes_match_the_firmware_format() -> None:
    assert sp.encode_command(0x1A2B, "HS") == b"C[1A2B]HS[]\n"
    assert sp.encode_command(7, "ZSTART", "AB") == b"C[7]ZSTART[AB]\n"
    assert sp.encode_command(0xFFFFFFFF, "RMBID", "123456") == b"C[FFFFFFFF]RMBID[123456]\n"


@pytest.mark.parametrize(
    ("command_id", "command", "value"),
    [
        (-1, "HS", ""),
        (2**32, "HS", ""),
        (1, "hs", ""),
        (1, "H1", ""),
        (1, "RF", "1]"),
        (1, "RF", "\n"),
    ],
)
def test_bad_commands_are_refused(command_id: int, command: str, value: str) -> None:
    with pytest.raises(ValueError):
        sp.encode_command(command_id, command, value)


def test_responses_from_the_firmware_parse() -> None:
    assert sp.parse_response(b"R[1A2B]HS[1]") == sp.Response(0x1A2B, "HS", "1")
    assert sp.parse_response(b"R[7]ZSTART[]\r") == sp.Response(7, "ZSTART", "")
    error = sp.parse_response(b"R[12345678]ERROR[1234]")
    assert error is not None and error.is_error and error.value == "1234"
    assert sp.parse_response(b"R[1]SWVER[0.2.0]") == sp.Response(1, "SWVER", "0.2.0")


@pytest.mark.parametrize(
    "line",
    [
        b"R[]HS[1]",
        b"R[123456789]HS[1]",
        b"R[12]hs[1]",
        b"R[1]HS[1",
        b"R[1]HS[1]x",
        b"R[G]HS[1]",
        b"P[1]HS[1]",
        b"R[1]HS[\xff]",
        b"",
    ],
)
def test_malformed_responses_are_none(line: bytes) -> None:
    assert sp.parse_response(line) is None


@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from(["HS", "RF", "RMBID", "ZSTART", "STOP"]),
    st.text(alphabet="0123456789AB.-", max_size=10),
)
def test_command_and_board_reply_round_trip(command_id: int, command: str, value: str) -> None:
    parsed = sp.parse_command(sp.encode_command(command_id, command, value)[:-1])
    assert parsed is not None
    id_text, got_command, got_value = parsed
    assert (int(id_text, 16), got_command, got_value) == (command_id, command, value)
    reply = sp.parse_response(sp.encode_response(id_text, command, value)[:-1])
    assert reply == sp.Response(command_id, command, value)


def test_compact_line_example_decodes() -> None:
    # x = -1000 mg -> 1048 = 0x418, y = 0 -> 0x800, z = 2047 -> 0xFFF, buttons A+B = 3
    line = b"P2A418800FFF3"
    sample = sp.decode_compact(line)
    assert sample == sp.CompactSample(0x2A, -1000, 0, 2047, 3)
    assert sample.button_a and sample.button_b
    assert sp.encode_compact(0x2A, -1000, 0, 2047, 3) == line + b"\n"


def test_compact_encoding_clamps_like_the_firmware() -> None:
    sample = sp.decode_compact(sp.encode_compact(300, -5000, 5000, 0, 1)[:-1])
    assert sample == sp.CompactSample(300 & 0xFF, -2048, 2047, 0, 1)


@pytest.mark.parametrize(
    "line",
    [
        b"P2A418800FFF",
        b"P2A418800FFF30",
        b"P2A418800FFF4",
        b"P2A41880GFFF3",
        b"Q2A418800FFF3",
        b"P2A418800FF 3",
        b"",
    ],
)
def test_malformed_compact_lines_are_none(line: bytes) -> None:
    assert sp.decode_compact(line) is None


compact_values = st.tuples(
    st.integers(0, 255),
    st.integers(-2048, 2047),
    st.integers(-2048, 2047),
    st.integers(-2048, 2047),
    st.integers(0, 3),
)
junk_lines = st.one_of(
    st.binary(max_size=20).filter(lambda b: b"\n" not in b),
    st.builds(
        lambda s: b"P" + s,
        st.text(alphabet="0123456789ABCDEFGxyz", min_size=12, max_size=12).map(str.encode),
    ),
)


@given(st.lists(st.one_of(compact_values, junk_lines), max_size=60))
def test_vectorised_decode_equals_one_line_at_a_time(items: list) -> None:
    lines = [sp.encode_compact(*item)[:-1] if isinstance(item, tuple) else item for item in items]
    batch = sp.decode_compact_lines(lines)
    singles = [s for s in (sp.decode_compact(line) for line in lines) if s is not None]
    assert len(batch) == len(singles)
    assert batch.rejected == len(lines) - len(singles)
    assert batch.sequence.tolist() == [s.sequence for s in singles]
    assert batch.xyz_milli_g.tolist() == [[s.x, s.y, s.z] for s in singles]
    assert batch.buttons.tolist() == [s.buttons for s in singles]
    np.testing.assert_allclose(batch.xyz_g, batch.xyz_milli_g / 1000.0)
    for item, line in zip(items, lines, strict=True):
        if isinstance(item, tuple):  # every well-formed line round-trips exactly
            assert sp.decode_compact(line) == sp.CompactSample(*item)


def test_splitter_keeps_partial_lines_and_skips_noise() -> None:
    splitter = sp.LineSplitter()
    assert splitter.feed(b"P00800800800") == []
    assert splitter.feed(b"0\nt[12]debug\r\nR[1]HS[1]\r\n\nP01") == [b"P008008008000", b"R[1]HS[1]"]
    assert splitter.noise_lines == 1
    assert splitter.feed(b"8008008001\n") == [b"P018008008001"]


def test_splitter_strips_a_carriage_return_split_from_its_newline() -> None:
    splitter = sp.LineSplitter()
    assert splitter.feed(b"P018008008001\r") == []
    assert splitter.feed(b"\nR[1]HS[1]\r") == [b"P018008008001"]
    assert splitter.feed(b"\n") == [b"R[1]HS[1]"]


def test_splitter_drops_overlong_lines_without_growing() -> None:
    splitter = sp.LineSplitter(max_length=32)
    for _ in range(100):  # a stream that never sends a newline
        assert splitter.feed(b"P" * 50) == []
        assert len(splitter._partial) <= 32
    assert splitter.feed(b"tail of the long line\nP008008008000\n") == [b"P008008008000"]
    assert splitter.overlong_lines == 1
    assert splitter.feed(b"x" * 40 + b"\nR[2]STOP[]\n") == [b"R[2]STOP[]"]
    assert splitter.overlong_lines == 2


@settings(max_examples=200)
@given(
    st.lists(
        st.one_of(
            compact_values.map(lambda v: sp.encode_compact(*v)),
            st.sampled_from(
                [
                    b"noise\n",
                    b"R[1]HS[1]\n",
                    b"\xff\n",
                    b"\r\n",
                    b"P018008008001\r\n",
                    b"R[2]STOP[]\r\r\n",
                    b"P" * 200 + b"\n",
                ]
            ),
        ),
        max_size=30,
    ),
    st.lists(st.integers(0, 2000), max_size=10),
)
def test_splitting_does_not_depend_on_how_the_bytes_were_chunked(
    pieces: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(pieces)
    whole = sp.LineSplitter(max_length=64)
    expected = whole.feed(stream)
    chunked = sp.LineSplitter(max_length=64)
    got: list[bytes] = []
    bounds = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    for start, end in itertools.pairwise(bounds):
        got += chunked.feed(stream[start:end])
    assert got == expected
    assert chunked.noise_lines == whole.noise_lines
    assert chunked.overlong_lines == whole.overlong_lines
    assert expected == [
        p.rstrip(b"\r\n") for p in pieces if p[:1] in b"CRP" and len(p.rstrip(b"\r\n")) <= 64
    ]
