"""ServiceNotifier against a real AF_UNIX datagram socket standing in for systemd."""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.system import notify
from kiosk.system.notify import ServiceNotifier

BACKENDS = ["systemd-python", "socket"]


class FakeSystemd:
    """A bound datagram socket; ``messages()`` returns what arrived so far."""

    def __init__(self, address: str | bytes) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.setblocking(False)

    def messages(self) -> list[str]:
        out = []
        while True:
            try:
                out.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return out


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake_systemd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSystemd]:
    path = tmp_path / "notify"
    fake = FakeSystemd(str(path))
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")  # WatchdogSec=2s -> ping every 1 s
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    yield fake
    fake.sock.close()


def _notifier(backend: str, **kwargs: object) -> ServiceNotifier:
    if backend == "systemd-python":
        pytest.importorskip("systemd.daemon", reason="systemd-python is not installed")
    n = ServiceNotifier(use_systemd_python=backend == "systemd-python", **kwargs)  # type: ignore[arg-type]
    assert n.backend == backend
    return n


@pytest.mark.parametrize("backend", BACKENDS)
def test_ready_status_stopping_arrive(backend: str, fake_systemd: FakeSystemd) -> None:
    n = _notifier(backend)
    n.status("Waiting for a micro:bit")
    n.ready()
    n.ready(status="Showing the attract screen")
    n.stopping()
    assert fake_systemd.messages() == [
        "STATUS=Waiting for a micro:bit",
        "READY=1",
        "READY=1\nSTATUS=Showing the attract screen",
        "STOPPING=1",
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_status_newlines_cannot_inject_assignments(backend: str, fake_systemd: FakeSystemd) -> None:
    _notifier(backend).status("line one\nREADY=1")
    assert fake_systemd.messages() == ["STATUS=line one READY=1"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_watchdog_is_rate_limited_to_half_the_period(
    backend: str, fake_systemd: FakeSystemd
) -> None:
    clock = Clock()
    n = _notifier(backend, clock=clock)
    assert n.watchdog_interval_s == pytest.approx(1.0)
    for _frame in range(300):  # 300 frames at 60 fps = 5 s
        n.watchdog()
        clock.now += 1 / 60
    received = fake_systemd.messages()
    assert set(received) == {"WATCHDOG=1"}
    # 5 s of frames with a 1 s minimum gap: the first frame plus one per second.
    assert len(received) in (5, 6)


def test_watchdog_gaps_never_exceed_the_interval_plus_a_frame(fake_systemd: FakeSystemd) -> None:
    clock = Clock()
    n = ServiceNotifier(use_systemd_python=False, clock=clock)
    times = []
    for _ in range(600):
        n.watchdog()
        if fake_systemd.messages():
            times.append(clock.now)
        clock.now += 1 / 30
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps and max(gaps) <= 1.0 + 1 / 30 + 1e-9 and min(gaps) >= 1.0 - 1e-9


def test_abstract_socket_address(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"kiosk-test-{os.getpid()}"
    fake = FakeSystemd(b"\0" + name.encode())
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        ServiceNotifier(use_systemd_python=False).ready()
        assert fake.messages() == ["READY=1"]
    finally:
        fake.sock.close()


def test_no_notify_socket_is_a_silent_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")
    n = ServiceNotifier()
    assert not n.enabled and n.backend == "none"
    sent: list[bytes] = []
    monkeypatch.setattr(socket.socket, "sendto", lambda *a: sent.append(a))  # type: ignore[misc]
    n.ready()
    n.watchdog()
    n.status("x")
    assert sent == []


def test_watchdog_for_another_pid_is_ignored(
    fake_systemd: FakeSystemd, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    n = ServiceNotifier(use_systemd_python=False)
    assert n.watchdog_interval_s is None
    n.watchdog()
    assert fake_systemd.messages() == []


def test_no_watchdog_configured_sends_no_pings(
    fake_systemd: FakeSystemd, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WATCHDOG_USEC")
    n = ServiceNotifier(use_systemd_python=False)
    n.watchdog()
    n.ready()
    assert fake_systemd.messages() == ["READY=1"]


def test_a_vanished_socket_is_logged_once_never_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens"))
    n = ServiceNotifier(use_systemd_python=False)
    n.ready()
    n.status("still fine")
    warnings = [r for r in caplog.records if "cannot notify systemd" in r.message]
    assert len(warnings) == 1


def test_falls_back_to_the_socket_when_systemd_python_is_missing(
    fake_systemd: FakeSystemd, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notify, "_systemd_notify_function", lambda: None)
    n = ServiceNotifier()
    assert n.backend == "socket"
    n.ready()
    assert fake_systemd.messages() == ["READY=1"]
    with pytest.raises(ImportError):
        ServiceNotifier(use_systemd_python=True)


def test_extend_timeout(fake_systemd: FakeSystemd) -> None:
    ServiceNotifier(use_systemd_python=False).extend_timeout(30)
    assert fake_systemd.messages() == ["EXTEND_TIMEOUT_USEC=30000000"]


# --- liveness: a frozen input path counts as a hang (issue 19) ---------------------------


def test_liveness_withholds_the_ping_while_a_part_is_stalled(tmp_path: Path) -> None:
    from kiosk.system.notify import Liveness

    now = [0.0]
    systemd = FakeSystemd(str(tmp_path / "notify"))
    notifier = ServiceNotifier(
        {"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "2000000"},
        use_systemd_python=False,
        clock=lambda: now[0],
    )
    live = Liveness(lambda: now[0])
    live.expect("input", 10.0)

    def run(seconds: float, beat: bool) -> int:
        pings = 0
        for _ in range(int(seconds / 0.5)):
            now[0] += 0.5
            if beat:
                live.beat("input")
            notifier.watchdog(live)
            pings += systemd.messages().count("WATCHDOG=1")  # drain: a full queue blocks
        return pings

    assert run(20, beat=True) >= 15
    assert run(10, beat=False) >= 8  # silence shorter than the limit: still alive
    assert live.stalled() == []
    assert run(20, beat=False) <= 1  # past the limit: no ping, systemd restarts the app
    assert live.stalled() == ["input"]
    assert run(5, beat=True) >= 3  # the part comes back, so do the pings
