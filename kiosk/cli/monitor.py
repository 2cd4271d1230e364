"""``kiosk monitor``: connect one micro:bit and report what arrives, for a technician.

Works with any board or program that speaks the protocols in
``shared/design/microbit.md`` (Bluetooth by pairing pattern, USB serial by
port, or a simulated board), so it doubles as the first check when a board
"does nothing": are samples arriving, at what rate, do the buttons work, and
why did the link change state.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from kiosk.microbit.factory import open_link
from kiosk.microbit.link import ButtonEvent, Link, LinkEvent, StateChange
from kiosk.microbit.pattern import parse_columns
from kiosk.signal import SampleBuffer

MAX_RATE_HZ = 200  # sizes the buffer so a whole run fits and the rate covers all of it


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "monitor",
        help="connect one micro:bit and report samples, rate, buttons and link states",
        description="Connect one micro:bit and report what arrives.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--pattern",
        metavar="COLUMNS",
        help="Bluetooth board by its pattern: five column heights 1-5, e.g. 31524",
    )
    source.add_argument(
        "--serial", metavar="PORT", help="USB board (or radio bridge) on a device path, or 'auto'"
    )
    source.add_argument(
        "--simulated",
        metavar="GESTURE",
        help="a simulated board making GESTURE (still, shake, circle, ...)",
    )
    parser.add_argument(
        "--remote-id",
        default="",
        metavar="ID",
        help="with --serial: the remote micro:bit of a radio bridge",
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, metavar="N", help="how long to listen (default 10)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    seconds = max(0.0, float(args.seconds))
    buffer = SampleBuffer(max(4096, min(int(seconds * MAX_RATE_HZ) + 1, 1_000_000)))
    if args.pattern is not None:
        link = open_link("ble", pattern=parse_columns(args.pattern), buffer=buffer)
    elif args.serial is not None:
        link = open_link("serial", serial_port=args.serial, remote_id=args.remote_id, buffer=buffer)
    else:
        link = open_link("simulated", buffer=buffer, gesture=args.simulated)
    started = time.monotonic()
    events: list[LinkEvent] = []
    link.connect()
    try:
        next_status = started + 1.0
        while (now := time.monotonic()) < started + seconds:
            new = link.poll_events()
            events += new
            if not args.json:
                for event in new:
                    print(_describe(event, started), flush=True)
                if now >= next_status:
                    print(_status_line(link, started), flush=True)
                    next_status += 1.0
            time.sleep(min(0.05, max(0.0, started + seconds - now)))
        drain(link)
    finally:
        link.close()
        events += link.poll_events()
    report = build_report(link, events, started, seconds)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(_summary(report))
    if report["samples"] == 0:
        print("kiosk monitor: no samples arrived.", file=sys.stderr)
        return 1
    return 0


def drain(link: Link, quiet_s: float = 0.1, limit_s: float = 0.25) -> None:
    """Let samples already on their way in be counted before the link is closed.

    A sample the board sent just before the end (or just before it was
    unplugged) may still sit in the port's buffer or the radio stack; closing
    at once stopped the reader before it got there, so the last one was lost.
    Waits until no sample arrived for ``quiet_s`` (at most ``limit_s``).
    """
    deadline = time.monotonic() + limit_s
    seen = link.samples.sequence
    quiet_since = time.monotonic()
    while (now := time.monotonic()) < deadline and now - quiet_since < quiet_s:
        time.sleep(0.01)
        if link.samples.sequence != seen:
            seen, quiet_since = link.samples.sequence, time.monotonic()


def build_report(link: Link, events: list[LinkEvent], started: float, seconds: float) -> dict:
    """The JSON-able summary: samples, rate, buttons, states, last sample (times from start)."""
    window = link.samples.latest(link.samples.capacity)
    n = len(window)
    span = float(window.t[-1] - window.t[0]) if n >= 2 else 0.0
    last = window.xyz[-1] if n else None
    report: dict[str, Any] = {
        "link": link.kind,
        "description": link.description,
        "simulated": bool(link.simulated),
        "seconds": seconds,
        "samples": link.samples.sequence + 1,
        "rate_hz": round((n - 1) / span, 2) if span > 0 else 0.0,
        "buttons": [
            {
                "button": e.button,
                "pressed": e.pressed,
                "long_press": e.long_press,
                "t": round(e.t - started, 3),
            }
            for e in events
            if isinstance(e, ButtonEvent)
        ],
        "states": [
            {
                "state": e.state.value,
                "fault": None if e.fault is None else e.fault.value,
                "reason": e.reason,
                "t": round(e.t - started, 3),
            }
            for e in events
            if isinstance(e, StateChange)
        ],
        "last": None
        if last is None
        else {
            "x": round(float(last[0]), 3),
            "y": round(float(last[1]), 3),
            "z": round(float(last[2]), 3),
        },
    }
    stats = getattr(link, "stats", None)
    if isinstance(stats, dict):
        report["stats"] = dict(stats)
    return report


def _describe(event: LinkEvent, started: float) -> str:
    t = event.t - started
    if isinstance(event, StateChange):
        fault = f" [{event.fault.value}]" if event.fault is not None else ""
        return f"{t:7.2f} s  {event.state.value:12s} {event.reason}{fault}"
    action = "pressed" if event.pressed else "released"
    return f"{t:7.2f} s  button {event.button} {action}{' (long)' if event.long_press else ''}"


def _status_line(link: Link, started: float) -> str:
    latest = link.samples.latest(1)
    xyz = " ".join(f"{v:+.3f}" for v in latest.xyz[0]) if len(latest) else "-"
    return (
        f"{time.monotonic() - started:7.2f} s  {link.state.value:12s} "
        f"samples {link.samples.sequence + 1}  last x y z (g) {xyz}"
    )


def _summary(report: dict) -> str:
    last = report["last"]
    xyz = "-" if last is None else f"{last['x']:+.3f} {last['y']:+.3f} {last['z']:+.3f} g"
    return (
        f"{report['description']}: {report['samples']} samples at {report['rate_hz']} Hz, "
        f"{len(report['buttons'])} button events, last {xyz}"
    )
