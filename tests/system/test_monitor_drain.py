"""``kiosk monitor`` counts the sample that was on its way in when the run ended (issue 19)."""

from __future__ import annotations

import json
import threading
import time
from argparse import Namespace

import pytest

from kiosk.cli import monitor
from kiosk.signal import SampleBuffer


class LateLink:
    """A board that sends steadily, and whose last sample lands just after the run ends."""

    kind = "USB"
    description = "late board"
    simulated = False

    def __init__(self, buffer: SampleBuffer, seconds: float) -> None:
        self.samples = buffer
        self._seconds = seconds
        self.sent = 0
        self._thread = threading.Thread(target=self._send, daemon=True)
        self._stop = threading.Event()

    def connect(self) -> None:
        self._thread.start()

    def _send(self) -> None:
        end = time.monotonic() + self._seconds
        while time.monotonic() < end and not self._stop.is_set():
            self.samples.append(time.monotonic(), 0.0, 0.0, -1.0)
            self.sent += 1
            time.sleep(0.02)
        time.sleep(0.05)  # in the port's buffer while the monitor's loop ends
        if not self._stop.is_set():
            self.samples.append(time.monotonic(), 0.5, 0.5, 0.5)
            self.sent += 1

    def poll_events(self) -> list:
        return []

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)


def test_the_last_sample_is_counted(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    links = []

    def fake_open(kind, **kwargs):
        links.append(LateLink(kwargs["buffer"], seconds=0.5))
        return links[0]

    monkeypatch.setattr(monitor, "open_link", fake_open)
    args = Namespace(seconds=0.5, json=True, pattern=None, serial="/dev/null", remote_id=None)
    assert monitor.run(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["samples"] == links[0].sent
    assert report["last"] == {"x": 0.5, "y": 0.5, "z": 0.5}
