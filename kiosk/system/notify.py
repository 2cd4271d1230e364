"""Tell systemd how the exhibit is doing: ready, status lines, watchdog pings.

The unit is ``Type=notify`` with ``WatchdogSec=``: systemd waits for READY=1
(sent after the first frame is on screen), shows the last STATUS= line in
``systemctl status``, and restarts the service when WATCHDOG=1 pings stop,
which catches a frozen UI loop, not only a dead process.

It uses systemd-python's ``systemd.daemon.notify`` when that is installed and
otherwise sends the same datagrams itself (the protocol is one AF_UNIX
datagram of ``KEY=value`` lines to ``$NOTIFY_SOCKET``; a leading '@' means
the abstract namespace). Without ``$NOTIFY_SOCKET`` (a developer's terminal)
every call is a cheap no-op. A failing send is logged once and never raised:
the exhibit must not stop because its supervisor is not listening.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


def _systemd_notify_function() -> Callable[[str], Any] | None:
    try:
        from systemd import daemon
    except ImportError:
        return None
    return daemon.notify


def _socket_address(value: str) -> str | bytes:
    # "@name" is Linux's abstract namespace: a leading NUL byte on the wire.
    return b"\0" + value[1:].encode() if value.startswith("@") else value


class Liveness:
    """Parts of the app that must each check in for the watchdog ping to go out.

    A loop that keeps running is not enough: if its input stage stops
    completing (events no longer drained, touches no longer handled), the
    exhibit is as dead to a visitor as a frozen one. Each part ``beat``s when
    it did its job; ``ServiceNotifier.watchdog`` withholds the ping while any
    part is silent for longer than its limit, so systemd restarts the app.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._limits: dict[str, float] = {}
        self._last: dict[str, float] = {}

    def expect(self, part: str, within_s: float) -> None:
        """``part`` must beat at least every ``within_s`` seconds from now on."""
        self._limits[part] = within_s
        self._last[part] = self._clock()

    def beat(self, part: str) -> None:
        self._last[part] = self._clock()

    def stalled(self) -> list[str]:
        """The parts silent for longer than their limit (empty: all alive)."""
        now = self._clock()
        return [p for p, limit in self._limits.items() if now - self._last[p] > limit]


class ServiceNotifier:
    """sd_notify for the kiosk. Safe and cheap to call from the UI loop every frame.

    ``use_systemd_python``: None picks systemd-python when importable, False
    forces the pure-Python sender, True requires systemd-python.
    ``clock`` is injectable so tests can check the watchdog rate limit.
    """

    def __init__(
        self,
        environ: dict[str, str] | None = None,
        *,
        use_systemd_python: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        env = os.environ if environ is None else environ
        self._socket_path = env.get("NOTIFY_SOCKET", "")
        self._clock = clock
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._warned = False
        self._withheld = False
        self._watchdog_interval_s = self._watchdog_interval(env)
        self._last_ping: float | None = None
        self._send_with_systemd: Callable[[str], Any] | None = None
        if self._socket_path and use_systemd_python is not False:
            self._send_with_systemd = _systemd_notify_function()
            if use_systemd_python and self._send_with_systemd is None:
                raise ImportError("systemd-python (package python3-systemd) is not installed")
            # systemd-python reads $NOTIFY_SOCKET itself, so it can only be
            # used when we were given the process environment.
            if self._send_with_systemd and os.environ.get("NOTIFY_SOCKET") != self._socket_path:
                self._send_with_systemd = None

    @staticmethod
    def _watchdog_interval(env: Any) -> float | None:
        """Seconds between pings (half of WatchdogSec), or None when no watchdog is set for us."""
        try:
            usec = int(env.get("WATCHDOG_USEC", ""))
        except ValueError:
            return None
        owner = env.get("WATCHDOG_PID", "")
        if usec <= 0 or (owner and owner != str(os.getpid())):
            return None
        return usec / 2 / 1_000_000

    @property
    def enabled(self) -> bool:
        """True when there is a systemd to talk to."""
        return bool(self._socket_path)

    @property
    def backend(self) -> str:
        """ "systemd-python", "socket" or "none": which sender is in use."""
        if not self.enabled:
            return "none"
        return "systemd-python" if self._send_with_systemd else "socket"

    @property
    def watchdog_interval_s(self) -> float | None:
        """How often ``watchdog()`` really sends (None: no watchdog configured)."""
        return self._watchdog_interval_s

    def ready(self, status: str | None = None) -> None:
        """The first frame is on screen: systemd may consider the service started."""
        self._send("READY=1" + (f"\nSTATUS={_one_line(status)}" if status else ""))

    def status(self, text: str) -> None:
        """A short line for `systemctl status` ("Waiting for a micro:bit", "Training 3 actions")."""
        self._send(f"STATUS={_one_line(text)}")

    def watchdog(self, liveness: Liveness | None = None) -> None:
        """Ping the watchdog; sends at most once per WatchdogSec/2, so call it every frame.

        With ``liveness``, no ping while one of its parts is stalled: a hang.
        """
        if self._watchdog_interval_s is None or not self.enabled:
            return
        stalled = liveness.stalled() if liveness is not None else []
        if stalled:
            if not self._withheld:
                self._withheld = True
                log.error("no watchdog ping: %s stalled; systemd will restart", ", ".join(stalled))
            return
        self._withheld = False
        now = self._clock()
        with self._lock:
            if self._last_ping is not None and now - self._last_ping < self._watchdog_interval_s:
                return
            self._last_ping = now
        self._send("WATCHDOG=1")

    def extend_timeout(self, seconds: float) -> None:
        """Ask for more start-up or stop time (a slow first model load, a long save)."""
        self._send(f"EXTEND_TIMEOUT_USEC={int(seconds * 1_000_000)}")

    def stopping(self) -> None:
        """The app is shutting down on purpose (admin exit, SIGTERM)."""
        self._send("STOPPING=1")

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None

    def _send(self, message: str) -> None:
        if not self.enabled:
            return
        try:
            if self._send_with_systemd is not None:
                self._send_with_systemd(message)
            else:
                self._send_datagram(message.encode())
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("cannot notify systemd at %s: %s", self._socket_path, exc)

    def _send_datagram(self, payload: bytes) -> None:
        with self._lock:
            if self._socket is None:
                kind = socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                self._socket = socket.socket(socket.AF_UNIX, kind)
            self._socket.sendto(payload, _socket_address(self._socket_path))


def _one_line(text: str) -> str:
    # The protocol is newline-separated KEY=value pairs: a newline in a
    # status would start a bogus assignment.
    return " ".join(str(text).split())
