"""Link parsing throughput: how many micro:bits at 50 Hz one kiosk core can decode.

Each figure comes with a naive baseline measured in the same process on the
same bytes, so the ratio says what the vectorised code buys on this machine
(a Pi or a laptop alike). The per-board figure uses the serial link's real
per-read path with one line per read, which is what a board at 50 Hz gives:
the conservative case, since batching only helps.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from kiosk.microbit import serial_protocol as sp

SERIAL_LINES = 20_000
CHUNK_BYTES = 4096
SINGLE_LINE_READS = 5_000
BLE_PAYLOADS = 20_000
BOARD_RATE_HZ = 50.0


def _best_of(repeats: int, work: Callable[[], int]) -> float:
    """Items per second of ``work`` (which returns how many items it handled), best run."""
    best = float("inf")
    count = 0
    for _ in range(repeats):
        started = time.perf_counter()
        count = work()
        best = min(best, time.perf_counter() - started)
    return count / best if best > 0 else float("inf")


def _serial_stream(n: int) -> bytes:
    rng = np.random.default_rng(0)
    xyz = rng.integers(-2048, 2048, size=(n, 3))
    # a visitor presses a button now and then: a new button state every 25 samples
    buttons = np.repeat(rng.integers(0, 4, size=n // 25 + 1), 25)[:n]
    return b"".join(
        sp.encode_compact(i, int(x), int(y), int(z), int(b))
        for i, ((x, y, z), b) in enumerate(zip(xyz, buttons, strict=True))
    )


def _naive_serial(stream: bytes) -> int:
    """One line at a time with int(..., 16): what a first version would do."""
    samples = []
    for line in stream.split(b"\n"):
        if len(line) != 13 or line[:1] != b"P":
            continue
        try:
            x = (int(line[3:6], 16) - 2048) / 1000.0
            y = (int(line[6:9], 16) - 2048) / 1000.0
            z = (int(line[9:12], 16) - 2048) / 1000.0
            buttons = int(line[12:13], 16)
        except ValueError:
            continue
        samples.append((x, y, z, buttons))
    return len(samples)


def _vectorised_serial(stream: bytes) -> int:
    splitter = sp.LineSplitter()
    count = 0
    for start in range(0, len(stream), CHUNK_BYTES):
        lines = splitter.feed(stream[start : start + CHUNK_BYTES])
        batch = sp.decode_compact_lines([line for line in lines if line[:1] == b"P"])
        count += len(batch.xyz_g)
    return count


def _serial_link_single_reads(lines: list[bytes]) -> int:
    """The link's own path (split, decode, time-stamp, buffer, buttons) one line per read."""
    from kiosk.microbit.serial_link import SerialLink
    from kiosk.signal import SampleBuffer

    link = SerialLink("auto", buffer=SampleBuffer(8192))
    splitter = sp.LineSplitter()
    now = time.monotonic()
    for line in lines:
        link._take(splitter.feed(line), now)
    return len(lines)


def _serial_figures() -> dict[str, float | int]:
    stream = _serial_stream(SERIAL_LINES)
    assert _naive_serial(stream) == _vectorised_serial(stream) == SERIAL_LINES
    fast = _best_of(3, lambda: _vectorised_serial(stream))
    naive = _best_of(3, lambda: _naive_serial(stream))
    single = [line + b"\n" for line in stream.split(b"\n")[:SINGLE_LINE_READS]]
    per_read = _best_of(3, lambda: _serial_link_single_reads(single))
    return {
        "serial_parse_samples_per_s": round(fast),
        "serial_parse_baseline_samples_per_s": round(naive),
        "serial_parse_speedup": round(fast / naive, 2),
        "serial_link_one_line_reads_samples_per_s": round(per_read),
        "serial_boards_at_50hz": int(per_read // BOARD_RATE_HZ),
    }


def _ble_figures() -> dict[str, float | int]:
    try:
        from kiosk.microbit import ble_protocol as proto
    except ImportError:  # the BLE backend is not installed in this tree
        return {}
    rng = np.random.default_rng(1)
    payloads = [
        proto.encode_accelerometer(*(float(v) for v in row))
        for row in rng.uniform(-2.048, 2.048, size=(BLE_PAYLOADS, 3))
    ]

    def per_payload() -> int:  # what the link runs for each notification
        for payload in payloads:
            proto.parse_accelerometer(payload)
        return len(payloads)

    def naive() -> int:
        for payload in payloads:
            _ = (
                int.from_bytes(payload[0:2], "little", signed=True) / 1000.0,
                int.from_bytes(payload[2:4], "little", signed=True) / 1000.0,
                int.from_bytes(payload[4:6], "little", signed=True) / 1000.0,
            )
        return len(payloads)

    def batched() -> int:
        return len(proto.parse_accelerometer_many(payloads))

    fast = _best_of(3, per_payload)
    slow = _best_of(3, naive)
    many = _best_of(3, batched)
    return {
        "ble_parse_samples_per_s": round(fast),
        "ble_parse_baseline_samples_per_s": round(slow),
        "ble_parse_speedup": round(fast / slow, 2),
        "ble_parse_batched_samples_per_s": round(many),
        "ble_boards_at_50hz": int(fast // BOARD_RATE_HZ),
    }


def run() -> dict[str, float | int]:
    return {**_serial_figures(), **_ble_figures()}
