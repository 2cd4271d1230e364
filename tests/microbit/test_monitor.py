"""``kiosk monitor``: a subprocess against a fake board on a pty, and the report it builds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest

from kiosk.cli import monitor
from kiosk.microbit.link import ButtonEvent, Fault, LinkState, StateChange
from kiosk.microbit.simulated import SimulatedLink
from kiosk.signal import SampleBuffer

from .fake_serial_board import FakeSerialBoard, wait_for

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(90)


def run_kiosk(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-m", "kiosk", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_monitor_subprocess_reports_a_board_on_a_pty() -> None:
    with FakeSerialBoard(rate_hz=50) as board:
        process = run_kiosk("monitor", "--serial", board.path, "--seconds", "2", "--json")
        assert wait_for(lambda: board.streaming, 20), "the monitor never started the stream"
        time.sleep(0.3)
        board.buttons = 2  # hold B for a while, then let go
        time.sleep(0.3)
        board.buttons = 0
        out, err = process.communicate(timeout=60)
        sent = list(board.log.sent)
        commands = list(board.log.commands)
    assert process.returncode == 0, err
    report = json.loads(out)
    assert report["link"] == "USB" and report["simulated"] is False
    assert report["samples"] >= 20
    assert report["rate_hz"] > 0
    assert [(b["button"], b["pressed"]) for b in report["buttons"]] == [("B", True), ("B", False)]
    states = [s["state"] for s in report["states"]]
    assert states[0] == "connecting" and "connected" in states and states[-1] == "disconnected"
    last = report["last"]
    milli = (round(last["x"] * 1000), round(last["y"] * 1000), round(last["z"] * 1000))
    assert milli in [(x, y, z) for x, y, z, _ in sent]
    assert commands[0] == ("HS", "") and ("STOP", "") in commands


def test_monitor_exits_1_when_nothing_arrives(tmp_path: Path) -> None:
    process = run_kiosk(
        "monitor", "--serial", str(tmp_path / "nothing"), "--seconds", "0.3", "--json"
    )
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    report = json.loads(out)
    assert report["samples"] == 0 and report["last"] is None
    assert any(s["fault"] == "board not found" for s in report["states"])
    assert "no samples" in err


def test_monitor_rejects_a_bad_pattern_in_one_line() -> None:
    process = run_kiosk("monitor", "--pattern", "3152", "--seconds", "1")
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert err.strip().splitlines()[-1].startswith("kiosk monitor:")
    assert "Traceback" not in err


def test_monitor_pattern_opens_bluetooth_with_the_heights(monkeypatch, capsys) -> None:
    seen: dict = {}

    def fake_open_link(kind, pattern=None, serial_port="auto", remote_id="", **kw):
        seen.update(kind=kind, pattern=pattern)
        return SimulatedLink(realtime=True, buffer=kw.get("buffer"))

    monkeypatch.setattr(monitor, "open_link", fake_open_link)
    args = Namespace(
        pattern="31524", serial=None, simulated=None, remote_id="", seconds=0.3, json=True
    )
    assert monitor.run(args) == 0
    assert seen == {"kind": "ble", "pattern": [3, 1, 5, 2, 4]}
    assert json.loads(capsys.readouterr().out)["simulated"] is True


def test_monitor_simulated_text_output(capsys) -> None:
    args = Namespace(
        pattern=None, serial=None, simulated="shake", remote_id="", seconds=0.4, json=False
    )
    assert monitor.run(args) == 0
    out = capsys.readouterr().out
    assert "connected" in out and "Simulated micro:bit (shake)" in out


def test_report_rate_buttons_states_and_last_from_known_samples() -> None:
    link = SimulatedLink(realtime=False, buffer=SampleBuffer(64))
    t = 100.0 + np.arange(11) * 0.025  # 11 samples over 0.25 s: 40 Hz
    rows = np.column_stack((t, np.linspace(0, 1, 11), np.zeros(11), -np.ones(11)))
    link.samples.extend(rows)
    events = [
        StateChange(LinkState.CONNECTED, "ok", 100.5),
        StateChange(LinkState.RECONNECTING, "lost", 100.75, Fault.CONNECTION_LOST),
        ButtonEvent("A", True, 101.0),
        ButtonEvent("A", False, 101.25, long_press=True),
    ]
    report = monitor.build_report(link, events, started=100.0, seconds=2.0)
    assert report["samples"] == 11
    assert report["rate_hz"] == pytest.approx(40.0)
    assert report["last"] == {"x": 1.0, "y": 0.0, "z": -1.0}
    assert report["buttons"] == [
        {"button": "A", "pressed": True, "long_press": False, "t": 1.0},
        {"button": "A", "pressed": False, "long_press": True, "t": 1.25},
    ]
    assert report["states"] == [
        {"state": "connected", "fault": None, "reason": "ok", "t": 0.5},
        {"state": "reconnecting", "fault": "connection lost", "reason": "lost", "t": 0.75},
    ]
    json.dumps(report)  # JSON-able as is
