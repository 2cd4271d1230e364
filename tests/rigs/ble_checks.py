"""The kiosk's own BleLink against the emulated micro:bit, on a real BlueZ stack.

Run inside the virtual machine (see ``ble_guest.sh``) as the unprivileged
kiosk user, on hci0, while the emulated board serves on hci1. Each check
records what it saw; ``test_ble_bluez.py`` asserts on the JSON this writes,
so a failing check shows its evidence. The link is the product's, with its
default timing, except where a check wants it to give up quickly.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.microbit.ble import BLE_RETRY, BleLink, BleTiming, board_name
from kiosk.microbit.link import ButtonEvent, LinkState, StateChange
from kiosk.signal import SampleBuffer
from tests.rigs.ble_board.control import BoardRemote

PATTERN = "31524"  # the columns a visitor copies from the board: "gutop"
STREAM_S = 30.0
#: Short give-up timing for the checks that expect no connection at all.
QUICK_GIVE_UP = BleTiming(
    scan_s=2.0,
    retry=dataclasses.replace(BLE_RETRY, attempts_before_failed=2, failed_after_s=3.0),
)
ICONS = (
    [[r == c for c in range(5)] for r in range(5)],
    [[r == 2 or c == 2 for c in range(5)] for r in range(5)],
    [[True] * 5 for _ in range(5)],
)


class CheckFailed(AssertionError):
    pass


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Poll until ``predicate``; the monotonic time it became true, or CheckFailed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.01)
    if predicate():
        return time.monotonic()
    raise CheckFailed(f"timed out after {timeout_s:.0f} s waiting for {what}")


def events(link: BleLink) -> tuple[list[StateChange], list[ButtonEvent]]:
    got = link.poll_events()
    return (
        [e for e in got if isinstance(e, StateChange)],
        [e for e in got if isinstance(e, ButtonEvent)],
    )


def milli(xyz: np.ndarray) -> list[tuple[int, int, int]]:
    return [tuple(int(v) for v in row) for row in np.rint(xyz * 1000).astype(int)]  # type: ignore[misc]


def contiguous_in(received: list[tuple[int, int, int]], sent: list[tuple[int, int, int]]) -> int:
    """Where ``received`` appears, in order and unbroken, in ``sent``; -1 if it does not."""
    if not received:
        return -1
    first = received[0]
    for start in (i for i, s in enumerate(sent) if s == first):
        if sent[start : start + len(received)] == received:
            return start
    return -1


def gives_up(name: str, expect: str) -> dict[str, Any]:
    """A link that cannot reach its board ends FAILED with a reason naming the problem."""
    link = BleLink(name, timing=QUICK_GIVE_UP, buffer=SampleBuffer(256))
    started = time.monotonic()
    link.connect()
    try:
        wait_for(lambda: link.state is LinkState.FAILED, 60, f"the {name} link to give up")
    finally:
        link.close()
    states, _ = events(link)
    reasons = [s.reason for s in states]
    final = next(s.reason for s in reversed(states) if s.state is LinkState.FAILED)
    result: dict[str, Any] = {
        "final_reason": final,
        "reasons": reasons,
        "seconds": round(time.monotonic() - started, 2),
        "samples": len(link.samples),
    }
    if not any(expect in r for r in reasons):
        raise CheckFailed(f"no reason said {expect!r}: {reasons}")
    if "Gave up" not in final or link.samples.sequence >= 0:
        raise CheckFailed(f"the link did not give up cleanly: {result}")
    return result


def adapter(power: str) -> None:
    """``btmgmt power on|off`` on hci0: needs CAP_NET_ADMIN, which the kiosk has."""
    done = subprocess.run(
        ["btmgmt", "--index", "0", "power", power], capture_output=True, text=True, timeout=30
    )
    if done.returncode != 0:
        raise CheckFailed(f"btmgmt power {power}: {done.stdout} {done.stderr}")


def check_adapter_down(board: BoardRemote) -> dict[str, Any]:
    adapter("off")
    try:
        return gives_up(PATTERN, "Bluetooth is not available")
    finally:
        adapter("on")


def check_wrong_name(board: BoardRemote) -> dict[str, Any]:
    before = board.status()["subscriptions"]
    result = gives_up("tutut", "Can't see micro:bit tutut")
    if board.status()["subscriptions"] != before:
        raise CheckFailed("a link for another name subscribed to the board")
    return result


def check_no_board(board: BoardRemote) -> dict[str, Any]:
    board.ask("vanish")
    try:
        return gives_up(PATTERN, "Can't see micro:bit gutop")
    finally:
        board.ask("return")


def check_stream(board: BoardRemote, link: BleLink, figures: dict[str, Any]) -> dict[str, Any]:
    """Pattern -> scan -> connect -> 20 ms -> 30 s of samples, every one as the board sent it."""
    sent_before = board.status()["sent"]
    started = time.monotonic()
    link.connect()
    first = wait_for(lambda: link.samples.sequence >= 0, 60, "the first sample")
    figures["scan_to_first_sample_s"] = round(first - started, 3)
    t0 = time.monotonic()
    time.sleep(STREAM_S)  # the figure is the rate over this wall-clock span, checked below
    window = link.samples.between(t0, time.monotonic())
    status = board.status()
    times = np.asarray(window.t)
    gaps_ms = np.diff(times) * 1000.0
    span = float(times[-1] - times[0]) if len(times) > 1 else 0.0
    rate = (len(times) - 1) / span if span > 0 else 0.0
    received = milli(link.samples.latest(link.samples.capacity).xyz)
    sent = board.sent(sent_before)
    at = contiguous_in(received, sent)
    figures.update(
        samples_per_s=round(rate, 2),
        gap_ms_p50=round(float(np.percentile(gaps_ms, 50)), 2),
        gap_ms_p95=round(float(np.percentile(gaps_ms, 95)), 2),
        gap_ms_max=round(float(gaps_ms.max()), 2),
        stream_seconds=round(span, 2),
    )
    result = {
        "state": link.state.value,
        "description": link.description,
        "address": link.address,
        "period_ms": link.period_ms,
        "board_period_ms": status["period_ms"],
        "period_writes": status["period_writes"],
        "samples_in_window": len(times),
        "bad_payloads": link.stats["bad_payloads"],
        "received": len(received),
        "received_at_sent_index": at,
    }
    problems = []
    if link.state is not LinkState.CONNECTED:
        problems.append(f"state {link.state.value}")
    if link.address is None or int(link.address[:2], 16) >> 6 != 0b01:
        problems.append(f"the board's address {link.address} is not a random (private) one")
    if "BBC micro:bit V2" not in link.description:
        problems.append("model number not read")
    if link.period_ms != 20 or status["period_ms"] != 20 or status["period_writes"] != [20]:
        problems.append("period not set to 20 ms exactly once")
    if span < STREAM_S * 0.9:
        problems.append(f"only {span:.1f} s of samples")
    if not 45.0 <= rate <= 55.0:
        problems.append(f"{rate:.1f} samples/s, not 45-55")
    if link.stats["bad_payloads"]:
        problems.append(f"{link.stats['bad_payloads']} malformed payloads")
    if at < 0:
        problems.append("samples differ from what the board sent (malformed, reordered or lost)")
    if problems:
        raise CheckFailed(f"{'; '.join(problems)}: {result}")
    return result


def check_buttons(board: BoardRemote, link: BleLink) -> dict[str, Any]:
    events(link)
    board.ask("press A")
    board.ask("press B long")
    want = [("A", True, False), ("A", False, False), ("B", True, False), ("B", True, True)]
    want.append(("B", False, True))
    got: list[tuple[str, bool, bool]] = []

    def arrived() -> bool:
        got.extend((e.button, e.pressed, e.long_press) for e in events(link)[1])
        return len(got) >= len(want)

    wait_for(arrived, 15, "five button events")
    if got != want:
        raise CheckFailed(f"button events {got}, expected {want}")
    return {"events": got}


def check_icons(board: BoardRemote, link: BleLink) -> dict[str, Any]:
    before = len(board.status()["led_writes"])
    expected = []
    for icon in ICONS:
        link.show_icon(icon)
        expected.append(
            bytes(sum(1 << (4 - c) for c, lit in enumerate(row) if lit) for row in icon)
        )
        # one at a time: the link keeps only the newest queued icon, as the screen wants
        want = before + len(expected)
        wait_for(
            lambda want=want: len(board.status()["led_writes"]) >= want,  # type: ignore[misc]
            15,
            "the icon to reach the board",
        )
    status = board.status()
    writes = [bytes.fromhex(v) for v in status["led_writes"][before:]]
    result = {
        "written": [w.hex() for w in writes],
        "dropped_commands": status["led_commands_dropped"],
    }
    if writes != expected or status["led_commands_dropped"]:
        raise CheckFailed(f"the board got {result}, expected {[e.hex() for e in expected]}")
    return result


def check_vanish(board: BoardRemote, link: BleLink, figures: dict[str, Any]) -> dict[str, Any]:
    """The board drops off the air and comes back: the link reconnects and keeps every sample."""
    kept = link.samples.latest(link.samples.capacity)
    old_address = link.address
    events(link)
    board.ask("vanish")
    wait_for(lambda: link.state is not LinkState.CONNECTED, 20, "the link to notice the board went")
    seq_gone = link.samples.sequence
    time.sleep(2.0)  # off the air a while, as a board whose battery was pulled and put back
    board.ask("return")
    back = time.monotonic()
    # Connected again and streaming (bluepy hands over notifications that arrive
    # while the link is still turning them on, so the first sample can come a
    # moment before the link says it is connected).
    again = wait_for(
        lambda: link.samples.sequence > seq_gone and link.state is LinkState.CONNECTED,
        60,
        "samples after the board came back, and the link connected",
    )
    figures["reconnect_after_return_s"] = round(again - back, 3)
    states, _ = events(link)
    after = link.samples.between(float(kept.t[0]), float(kept.t[-1]) + 1e-9)
    result = {
        "states": [f"{s.state.value}: {s.reason}" for s in states],
        "reconnect_s": figures["reconnect_after_return_s"],
        "kept_samples": len(kept.t),
        "still_there": len(after.t),
        "old_address": old_address,
        "new_address": link.address,
    }
    problems = []
    if figures["reconnect_after_return_s"] > 5.0:
        problems.append("reconnected more than 5 s after the board came back")
    if len(after.t) != len(kept.t) or not np.array_equal(after.xyz, kept.xyz):
        problems.append("samples from before the drop changed or went missing")
    if not any(s.state is LinkState.RECONNECTING for s in states):
        problems.append("no reconnecting state shown")
    if link.state is not LinkState.CONNECTED:
        problems.append(f"state {link.state.value} after coming back")
    if problems:
        raise CheckFailed(f"{'; '.join(problems)}: {result}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--control", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    assert board_name(PATTERN) == "gutop"
    board = BoardRemote(args.control)
    figures: dict[str, Any] = {}
    results: dict[str, Any] = {"figures": figures, "checks": {}}
    link = BleLink(PATTERN, buffer=SampleBuffer(8192))

    def run(name: str, check: Callable[[], dict[str, Any]]) -> None:
        started = time.monotonic()
        try:
            detail = check()
            results["checks"][name] = {"ok": True, "detail": detail}
        except Exception as exc:
            logging.error("check %s failed: %s", name, traceback.format_exc())
            results["checks"][name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        results["checks"][name]["seconds"] = round(time.monotonic() - started, 2)
        args.out.write_text(json.dumps(results, indent=1) + "\n")

    run("adapter_down", lambda: check_adapter_down(board))
    run("wrong_name", lambda: check_wrong_name(board))
    run("no_board", lambda: check_no_board(board))
    try:
        run("stream", lambda: check_stream(board, link, figures))
        if results["checks"]["stream"]["ok"]:
            run("buttons", lambda: check_buttons(board, link))
            run("icons", lambda: check_icons(board, link))
            run("vanish", lambda: check_vanish(board, link, figures))
    finally:
        link.close()
    board.close()
    return 0 if all(c["ok"] for c in results["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
