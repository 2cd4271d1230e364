"""A micro:bit over Bluetooth LE, through bluepy.

The kiosk finds the board by the name its pairing pattern spells
(``BBC micro:bit [gutop]`` or ``uBit [gutop]``), connects with a random
address (no bonding: the firmware must use "open link / no pairing"), asks for
a 20 ms accelerometer period and reads back the one the board chose, turns on
notifications for the accelerometer and both buttons, and writes the LED matrix
when the kiosk shows an icon. Everything runs on the link's own thread:
bluepy's ``waitForNotifications`` calls our delegate on that thread, and each
sample is time-stamped on arrival.

A dropped link (``BTLEDisconnectError``) or 3 s without a sample starts a
reconnect: first at once to the known address, then with a short, growing
back-off, scanning again when the address stops answering. After
``max_failures`` attempts in a row without a sample, and at least
``give_up_after_s`` without one (so a flaky but working link keeps trying),
the state is ``failed`` with a reason a visitor can read; ``connect()``
starts over (for example after pairing again).

Permissions. Connecting to a known address needs no privilege, but scanning
does: ``bluepy-helper`` (in bluepy's package folder) needs ``CAP_NET_RAW`` and
``CAP_NET_ADMIN``. Under systemd give them to the service with
``AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN`` (and the same in
``CapabilityBoundingSet=``); file capabilities set with
``setcap cap_net_raw,cap_net_admin+eip bluepy-helper`` work for a login shell
but are ignored under ``NoNewPrivileges=yes``. Bluetooth sockets exist only in
the host network namespace, so the unit must not use ``PrivateNetwork=yes``.
Without the capabilities a scan fails with a management error; the link then
says Bluetooth is unavailable and the log names the missing capabilities.

bluepy is imported lazily (on the link thread) so the package imports, and the
other links work, on machines without it. Tests inject a fake bluepy through
``peripheral_factory``, ``scanner_factory``, ``btle`` and ``clock``.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from kiosk.errors import LinkError
from kiosk.microbit import ble_protocol as proto
from kiosk.microbit.link import Icon, Link, LinkState
from kiosk.microbit.pattern import name_to_pattern, parse_columns, pattern_to_name
from kiosk.signal import SampleBuffer

log = logging.getLogger(__name__)

ADDR_TYPE_RANDOM = "random"  # bluepy's btle.ADDR_TYPE_RANDOM, without importing bluepy


@dataclass(frozen=True)
class BleTiming:
    """How long the link waits for things; tests shrink or fake them."""

    scan_s: float = 5.0  # give up a scan that has not seen the board after this long
    scan_step_s: float = 0.5  # check the scan results (and the stop flag) this often
    notify_wait_s: float = 0.25  # longest block in waitForNotifications (stop latency)
    silence_s: float = 3.0  # no sample for this long means the link is dead
    backoff_first_s: float = 0.25  # wait after the first failed attempt, doubling after each
    backoff_max_s: float = 1.0  # short: a dropped board should be back within 5 s
    max_failures: int = 6  # give up after this many attempts in a row without a sample...
    give_up_after_s: float = 20.0  # ...and this long without one (a flaky link keeps trying)
    rescan_after: int = 2  # failed attempts at a known address before scanning again

    def backoff(self, failures: int) -> float:
        return min(self.backoff_first_s * 2 ** max(failures - 1, 0), self.backoff_max_s)


class Clock(Protocol):
    """Time as the link sees it (monotonic seconds); a fake one makes tests fast."""

    def now(self) -> float: ...

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        """Wait up to ``seconds``; True if ``stop`` was set."""
        ...


class MonotonicClock:
    def now(self) -> float:
        return time.monotonic()

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        return stop.wait(seconds)


PeripheralFactory = Callable[[str, str], Any]
ScannerFactory = Callable[[], Any]
#: Whether the Bluetooth adapter is up: True, False, or None when it cannot be told.
AdapterCheck = Callable[[], bool | None]

_AF_BLUETOOTH = 31  # numbers, not socket's names: a Python built without BlueZ lacks them
_BTPROTO_HCI = 1
_HCIGETDEVINFO = 0x800448D3  # _IOR('H', 211, int)
_HCI_DEV_INFO_SIZE = 92  # struct hci_dev_info
_HCI_UP = 1  # bit 0 of hci_dev_info.flags, at offset 16


def adapter_up(index: int = 0) -> bool | None:
    """Whether hci``index`` is up (powered), asked of the kernel; None if it cannot say.

    bluepy's ``Scanner.start`` ignores a "not powered" answer from the
    adapter, so a scan on a switched-off adapter just sees nothing and the
    visitor would be told to check the board. This asks first, without any
    privilege (the same query ``hciconfig`` makes).
    """
    try:
        sock = socket.socket(_AF_BLUETOOTH, socket.SOCK_RAW, _BTPROTO_HCI)
    except OSError as exc:  # no Bluetooth in this kernel or this sandbox
        return False if exc.errno == errno.EAFNOSUPPORT else None
    with sock:
        request = bytearray(_HCI_DEV_INFO_SIZE)
        struct.pack_into("<H", request, 0, index)
        try:
            fcntl.ioctl(sock.fileno(), _HCIGETDEVINFO, request)
        except OSError as exc:
            return False if exc.errno == errno.ENODEV else None
    (flags,) = struct.unpack_from("<I", request, 16)
    return bool(flags & _HCI_UP)


_GIVE_UP_ADVICE = "Check the micro:bit has power and shows its pattern, then pair again."


class _AttemptFailed(Exception):
    """One connection attempt did not work; ``reason`` is for the visitor."""

    def __init__(self, reason: str, *, rescan: bool = False, advice: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.rescan = rescan
        self.advice = advice  # what to do if it keeps failing; default: _GIVE_UP_ADVICE


@dataclass
class _Handles:
    accelerometer: int
    buttons: dict[int, str]  # value handle -> "A" / "B"
    led: int | None


class _Notifications:
    """bluepy delegate: turns notification bytes into samples and button events."""

    def __init__(self, link: BleLink, handles: _Handles) -> None:
        self._link = link
        self._handles = handles
        self.samples = 0
        self.bad_payloads = 0
        self.button_state = {"A": 0, "B": 0}

    def handleNotification(self, cHandle: int, data: bytes) -> None:  # bluepy's name for it
        link = self._link
        try:
            if cHandle == self._handles.accelerometer:
                x, y, z = proto.parse_accelerometer(bytes(data))
                link._push_sample(x, y, z, link._clock.now())
                self.samples += 1
            elif cHandle in self._handles.buttons:
                self._button(self._handles.buttons[cHandle], proto.parse_button(bytes(data)))
            else:
                self._bad(f"notification on unknown handle {cHandle}")
        except proto.PayloadError as exc:
            self._bad(str(exc))

    def release_held_buttons(self) -> None:
        for button in ("A", "B"):
            self._button(button, 0)

    def _button(self, button: str, value: int) -> None:
        before = self.button_state[button]
        if value == before:
            return
        self.button_state[button] = value
        if value == 0:
            self._link._push_button(button, False, long_press=before == 2)
        else:
            # 0 -> 1 press; 1 -> 2 the same press became long; 0 -> 2 a missed press
            self._link._push_button(button, True, long_press=value == 2)

    def _bad(self, what: str) -> None:
        self.bad_payloads += 1
        self._link.stats["bad_payloads"] += 1
        if self.bad_payloads in (1, 10, 100) or self.bad_payloads % 1000 == 0:
            log.warning(
                "micro:bit %s sent something unexpected (%d so far): %s",
                self._link.board_name,
                self.bad_payloads,
                what,
            )


def board_name(board: str | Sequence[int]) -> str:
    """The 5-letter name from a name ("gutop"), digits ("31524") or heights ([3, 1, 5, 2, 4])."""
    if isinstance(board, str):
        text = board.strip()
        if text and not any(ch.isalpha() for ch in text):
            return pattern_to_name(parse_columns(text))
        name_to_pattern(text)  # raises PatternError with what is wrong
        return text.lower()
    return pattern_to_name(board)


class BleLink(Link):
    """One micro:bit over Bluetooth LE; see the module docstring."""

    kind = "Bluetooth"

    def __init__(
        self,
        board: str | Sequence[int],
        *,
        address: str | None = None,
        buffer: SampleBuffer | None = None,
        peripheral_factory: PeripheralFactory | None = None,
        scanner_factory: ScannerFactory | None = None,
        btle: ModuleType | None = None,
        timing: BleTiming | None = None,
        clock: Clock | None = None,
        period_ms: int = proto.DEFAULT_PERIOD_MS,
        adapter_check: AdapterCheck | None = None,
        adapter: int = 0,
    ) -> None:
        super().__init__(buffer)
        self.board_name = board_name(board)
        self.adapter = adapter  # hciN that scans and connects
        self.address = address  # learnt from the first scan; reconnects skip scanning
        self.period_ms = period_ms  # what we ask for; replaced by the board's read-back
        self.requested_period_ms = period_ms
        proto.encode_period(period_ms)  # refuse 0 and nonsense up front
        self.model: str | None = None
        self.led_supported: bool | None = None
        self._said_no_led = False  # staff are told once per link, not once per icon
        self.stats = {"sessions": 0, "drops": 0, "failed_attempts": 0, "bad_payloads": 0}
        self._btle = btle
        self._peripheral_factory = peripheral_factory
        self._scanner_factory = scanner_factory
        self._timing = timing or BleTiming()
        self._clock: Clock = clock or MonotonicClock()
        # With bluepy's own scanner, ask the kernel whether hci0 is up; injected
        # scanners (tests) bring their own check or none.
        if adapter_check is None and scanner_factory is None:
            adapter_check = lambda: adapter_up(adapter)  # noqa: E731
        self._adapter_check = adapter_check

    @property
    def description(self) -> str:
        model = f", {self.model}" if self.model else ""
        return f"micro:bit {self.board_name} over Bluetooth{model}"

    # ---- the I/O thread ------------------------------------------------------------

    def _run(self, stop: threading.Event) -> None:
        try:
            self._load_bluepy()
        except LinkError as exc:
            self._set_state(LinkState.FAILED, str(exc))
            return
        timing = self._timing
        failures = 0
        known_address_failures = 0
        last_data = self._clock.now()  # when a session last delivered samples
        reason: str | None = None  # why we are reconnecting; None on the first attempt
        advice = _GIVE_UP_ADVICE
        while not stop.is_set():
            if reason is None:
                self._set_state(LinkState.CONNECTING, f"Looking for micro:bit {self.board_name}…")
            else:
                self._set_state(LinkState.RECONNECTING, reason)
            if self.address is not None and known_address_failures >= timing.rescan_after:
                self.address = None  # the board may have a new address or be elsewhere
                known_address_failures = 0
            try:
                got_samples, reason = self._session(stop)
            except _AttemptFailed as exc:
                got_samples, reason, advice = False, exc.reason, exc.advice or _GIVE_UP_ADVICE
                if exc.rescan:
                    known_address_failures += 1
            except Exception as exc:  # anything from bluepy or the helper
                log.warning("Bluetooth attempt for %s failed: %r", self.board_name, exc)
                got_samples = False
                reason = f"Could not talk to micro:bit {self.board_name}; trying again…"
                advice = _GIVE_UP_ADVICE
                known_address_failures += 1
            if reason is None or stop.is_set():
                return
            if got_samples:
                failures = 0
                known_address_failures = 0
                last_data = self._clock.now()
                continue  # a link that worked is retried at once
            failures += 1
            self.stats["failed_attempts"] += 1
            if (
                failures >= timing.max_failures
                and self._clock.now() - last_data >= timing.give_up_after_s
            ):
                what = reason.removesuffix("trying again…").rstrip(" ;.")
                self._set_state(
                    LinkState.FAILED, f"{what}. Gave up after {failures} tries. {advice}"
                )
                return
            if self._clock.wait(stop, timing.backoff(failures)):
                return

    def _load_bluepy(self) -> None:
        if self._btle is None:
            try:
                from bluepy import btle  # lazy: bluepy is optional
            except ImportError as exc:
                if self._peripheral_factory is None or self._scanner_factory is None:
                    raise LinkError(
                        "Bluetooth support is not installed on this kiosk (bluepy); "
                        "use a USB micro:bit or ask a member of staff."
                    ) from exc
            else:
                self._btle = btle
        # Scan and connect on the same adapter: left to itself bluepy connects
        # through whichever adapter the kernel picks, which need not be the one
        # that saw the board (a second dongle, a virtual controller).
        adapter = self.adapter
        if self._peripheral_factory is None:
            peripheral_class = self._btle.Peripheral
            self._peripheral_factory = lambda addr, addr_type: peripheral_class(
                addr, addr_type, iface=adapter
            )
        if self._scanner_factory is None:
            scanner_class = self._btle.Scanner
            self._scanner_factory = lambda: scanner_class(adapter)

    def _session(self, stop: threading.Event) -> tuple[bool, str | None]:
        """One connection from scan to drop: (whether samples arrived, why it ended or None)."""
        if self.address is None:
            self.address = self._scan(stop)
            if self.address is None:
                return False, None  # stopped while scanning
        self._set_state(
            self.state if self.state is not LinkState.CONNECTED else LinkState.RECONNECTING,
            f"Connecting to micro:bit {self.board_name}…",
        )
        try:
            peripheral = self._peripheral_factory(self.address, ADDR_TYPE_RANDOM)
        except Exception as exc:  # bluepy raises several kinds
            log.info("connect to %s (%s) failed: %r", self.board_name, self.address, exc)
            raise _AttemptFailed(
                f"Found micro:bit {self.board_name} but could not connect; trying again…",
                rescan=True,
            ) from None
        delegate: _Notifications | None = None
        try:
            handles = self._set_up(peripheral)
            delegate = _Notifications(self, handles)
            peripheral.withDelegate(delegate)
            self._enable_notifications(peripheral, handles)
            self.stats["sessions"] += 1
            self._set_state(LinkState.CONNECTED, f"Connected to micro:bit {self.board_name}.")
            reason = self._stream(peripheral, delegate, handles, stop)
            return delegate.samples > 0, reason
        finally:
            if delegate is not None:
                delegate.release_held_buttons()  # a button held as the link dropped is let go
            try:
                peripheral.disconnect()
            except Exception as exc:  # already gone is fine
                log.debug("disconnect from %s: %r", self.board_name, exc)

    def _scan(self, stop: threading.Event) -> str | None:
        """The board's address, None if stopped; _AttemptFailed if it is not seen."""
        timing = self._timing
        if self._adapter_check is not None and self._adapter_check() is False:
            log.error(
                "Bluetooth adapter hci%d is off or missing; switch it on "
                "(bluetoothctl power on) or check it is plugged in",
                self.adapter,
            )
            raise _AttemptFailed(
                "Bluetooth is not available on this kiosk right now; trying again…",
                advice="Ask a member of staff, or use a micro:bit on USB.",
            )
        try:
            scanner = self._scanner_factory()
            scanner.clear()
            scanner.start()
        except Exception as exc:  # permissions, no adapter, helper missing
            log.error(
                "Bluetooth scan could not start (%r): the kiosk needs CAP_NET_RAW and "
                "CAP_NET_ADMIN for bluepy-helper and a working adapter",
                exc,
            )
            raise _AttemptFailed(
                "Bluetooth is not available on this kiosk right now; trying again…",
                advice="Ask a member of staff, or use a micro:bit on USB.",
            ) from None
        deadline = self._clock.now() + timing.scan_s
        try:
            while not stop.is_set():
                scanner.process(timing.scan_step_s)
                found = [
                    entry
                    for entry in scanner.getDevices()
                    if proto.matches_board(_local_name(entry), self.board_name)
                ]
                if found:
                    best = max(found, key=lambda e: e.rssi if e.rssi is not None else -999)
                    log.info(
                        "found micro:bit %s at %s (rssi %s)", self.board_name, best.addr, best.rssi
                    )
                    return str(best.addr)
                if self._clock.now() >= deadline:
                    raise _AttemptFailed(
                        f"Can't see micro:bit {self.board_name}. Check the pattern matches the "
                        "board's LEDs and the board is close by; trying again…"
                    )
            return None
        finally:
            try:
                scanner.stop()
            except Exception as exc:
                log.debug("stopping the scan: %r", exc)

    def _set_up(self, peripheral: Any) -> _Handles:
        """Find the handles, set the period; _AttemptFailed if the firmware lacks data."""
        try:
            accel = peripheral.getServiceByUUID(proto.ACCELEROMETER_SERVICE)
            data = accel.getCharacteristics(proto.ACCELEROMETER_DATA)[0]
            period = accel.getCharacteristics(proto.ACCELEROMETER_PERIOD)[0]
        except (IndexError, *self._gatt_errors()) as exc:
            log.warning("micro:bit %s has no accelerometer service: %r", self.board_name, exc)
            raise _AttemptFailed(
                f"micro:bit {self.board_name} does not send movement data; trying again…",
                advice="It needs the kiosk's program (or CreateAI's) on it: ask a member of staff.",
            ) from None
        peripheral.writeCharacteristic(
            period.getHandle(), proto.encode_period(self.requested_period_ms), True
        )
        try:
            read_back = peripheral.readCharacteristic(period.getHandle())
            self.period_ms = proto.parse_period(bytes(read_back))
        except proto.PayloadError as exc:
            log.warning("could not read back the accelerometer period: %s", exc)
            self.period_ms = self.requested_period_ms
        if self.period_ms != self.requested_period_ms:
            log.info(
                "micro:bit %s chose a %d ms period (asked %d)",
                self.board_name,
                self.period_ms,
                self.requested_period_ms,
            )
        buttons: dict[int, str] = {}
        try:
            service = peripheral.getServiceByUUID(proto.BUTTON_SERVICE)
            for uuid, button in ((proto.BUTTON_A_STATE, "A"), (proto.BUTTON_B_STATE, "B")):
                for char in service.getCharacteristics(uuid):
                    buttons[char.getHandle()] = button
        except self._gatt_errors() as exc:
            log.info(
                "micro:bit %s has no button service (%r); no button events", self.board_name, exc
            )
        led: int | None = None
        try:
            chars = peripheral.getServiceByUUID(proto.LED_SERVICE).getCharacteristics(
                proto.LED_MATRIX_STATE
            )
            led = chars[0].getHandle() if chars else None
        except self._gatt_errors():
            led = None
        if led is None and self.led_supported is not False:
            log.info(
                "micro:bit %s has no LED service; icons will not be shown on it", self.board_name
            )
        self.led_supported = led is not None
        self._read_model(peripheral)
        return _Handles(data.getHandle(), buttons, led)

    def _read_model(self, peripheral: Any) -> None:
        if self.model is not None:
            return
        try:
            service = peripheral.getServiceByUUID(proto.DEVICE_INFORMATION_SERVICE)
            chars = service.getCharacteristics(proto.MODEL_NUMBER)
            if chars:
                self.model = (
                    bytes(peripheral.readCharacteristic(chars[0].getHandle()))
                    .decode("utf-8", "replace")
                    .strip("\x00 ")
                )
        except self._gatt_errors():
            pass  # the model is only for the description

    def _enable_notifications(self, peripheral: Any, handles: _Handles) -> None:
        for handle in (handles.accelerometer, *handles.buttons):
            peripheral.writeCharacteristic(
                self._cccd_handle(peripheral, handle), proto.ENABLE_NOTIFICATIONS, True
            )

    def _cccd_handle(self, peripheral: Any, value_handle: int) -> int:
        """The CCCD of the characteristic whose value is at ``value_handle``."""
        try:
            for desc in peripheral.getDescriptors(value_handle + 1, value_handle + 3):
                if desc.uuid == proto.CCCD:
                    return int(desc.handle)
        except self._gatt_errors() as exc:
            log.debug("descriptor discovery failed: %r", exc)
        return value_handle + 1  # where the CCCD sits on every micro:bit firmware seen

    def _stream(
        self, peripheral: Any, delegate: _Notifications, handles: _Handles, stop: threading.Event
    ) -> str | None:
        """Deliver notifications until stop (None) or the link is lost (the reason)."""
        timing = self._timing
        clock = self._clock
        seen = delegate.samples
        last_sample = clock.now()
        disconnect_error = getattr(self._btle, "BTLEDisconnectError", ())
        try:
            while not stop.is_set():
                icon = self._next_icon()
                if icon is not None:
                    self._show(peripheral, handles, icon)
                peripheral.waitForNotifications(timing.notify_wait_s)
                now = clock.now()
                if delegate.samples != seen:
                    seen, last_sample = delegate.samples, now
                elif now - last_sample >= timing.silence_s:
                    self.stats["drops"] += 1
                    return f"micro:bit {self.board_name} stopped sending data; reconnecting…"
            return None
        except disconnect_error as exc:  # type: ignore[misc]
            log.info("Bluetooth link to %s dropped: %s", self.board_name, exc)
        except Exception as exc:  # helper died, GATT error mid-stream, ...
            log.warning("Bluetooth link to %s failed: %r", self.board_name, exc)
        self.stats["drops"] += 1
        return f"Lost the Bluetooth link to micro:bit {self.board_name}; reconnecting…"

    def _show(self, peripheral: Any, handles: _Handles, icon: Icon) -> None:
        """Write an icon to the LED matrix, or say once that this board cannot show one."""
        if handles.led is None:
            if not self._said_no_led:
                self._said_no_led = True
                log.warning(
                    "micro:bit %s has no LED service (CreateAI's data-collection program has "
                    "none), so it cannot show icons; they are shown on the screen only",
                    self.board_name,
                )
            return
        # A write request: the matrix characteristic does not accept a write command
        # (no response), and a board drops one without a word.
        peripheral.writeCharacteristic(handles.led, proto.led_matrix_bytes(icon), True)

    def _gatt_errors(self) -> tuple[type[BaseException], ...]:
        btle = self._btle
        if btle is None:
            return (LookupError,)
        return (btle.BTLEGattError, LookupError)


def _local_name(entry: Any) -> str | None:
    name = entry.getValueText(proto.COMPLETE_LOCAL_NAME)
    return name if name else entry.getValueText(proto.SHORT_LOCAL_NAME)
