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
reconnect. A micro:bit advertises from a static random address, which it
keeps: the link goes straight back to it, with a short, growing back-off,
scanning again when the address stops answering. A board that advertises from
a private address (a resolvable one, renewed whenever it starts advertising
again) is looked for by name again at once. bluepy's ``connect`` has no time
limit (an absent board holds it for the kernel's 20-40 s), so a connect gets
``BleTiming.connect_s`` and then its ``bluepy-helper`` is stopped, and
``close()`` stops it at once. The ``Link``
base runs the retries under ``BleTiming.retry``: after a few attempts in a
row without a sample, and at least 20 s without one (so a flaky but working
link keeps trying), the state is ``failed`` with a typed fault (board not
seen, no answer, no movement service, adapter down, ...) and the link
stops; ``connect()`` starts over (for example after pairing again). What the
visitor reads is chosen from the fault in ``kiosk.session.board_words``.

Permissions. Connecting to a known address needs no privilege, but scanning
does: ``bluepy-helper`` (in bluepy's package folder) needs ``CAP_NET_RAW`` and
``CAP_NET_ADMIN``. Under systemd give them to the service with
``AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN`` (and the same in
``CapabilityBoundingSet=``); file capabilities set with
``setcap cap_net_raw,cap_net_admin+eip bluepy-helper`` work for a login shell
but are ignored under ``NoNewPrivileges=yes``. Bluetooth sockets exist only in
the host network namespace, so the unit must not use ``PrivateNetwork=yes``.
Without the capabilities a scan fails with a management error; the link then
reports a missing permission (or a missing adapter) and the log names the
missing capabilities.

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
from typing import Any

from kiosk.microbit import ble_protocol as proto
from kiosk.microbit.link import (
    BoardFault,
    Clock,
    Fault,
    Icon,
    Link,
    LinkState,
    MonotonicClock,
    RetryPolicy,
)
from kiosk.microbit.pattern import name_to_pattern, parse_columns, pattern_to_name
from kiosk.signal import SampleBuffer

log = logging.getLogger(__name__)

ADDR_TYPE_RANDOM = "random"  # bluepy's btle.ADDR_TYPE_RANDOM, without importing bluepy


#: Short waits (a dropped board should be back within 5 s); failed after 6 attempts
#: in a row without a sample and 20 s without one (a flaky link keeps trying); then
#: stop: the visitor pairs again.
BLE_RETRY = RetryPolicy(
    first_delay_s=0.25,
    max_delay_s=1.0,
    attempts_before_failed=6,
    failed_after_s=20.0,
    keep_trying_after_failed=False,
)


@dataclass(frozen=True)
class BleTiming:
    """How long the link waits for things; tests shrink or fake them."""

    scan_s: float = 5.0  # give up a scan that has not seen the board after this long
    scan_step_s: float = 0.5  # check the scan results (and the stop flag) this often
    connect_s: float = 5.0  # give up a connect the board has not answered after this long
    notify_wait_s: float = 0.25  # longest block in waitForNotifications (stop latency)
    silence_s: float = 3.0  # no sample for this long means the link is dead
    retry: RetryPolicy = BLE_RETRY
    rescan_after: int = 2  # failed attempts at a known address before scanning again


PeripheralFactory = Callable[[str, str], Any]
ScannerFactory = Callable[[], Any]
#: Whether the Bluetooth adapter is up: True, False, or None when it cannot be told.
AdapterCheck = Callable[[], bool | None]

_AF_BLUETOOTH = 31  # numbers, not socket's names: a Python built without BlueZ lacks them
_BTPROTO_HCI = 1
_HCIGETDEVINFO = 0x800448D3  # _IOR('H', 211, int)
_HCI_DEV_INFO_SIZE = 92  # struct hci_dev_info
_HCI_UP = 1  # bit 0 of hci_dev_info.flags, at offset 16
_WATCH_STEP_S = 0.05  # how often a connect's watchdog looks at the clock and the stop flag


def static_address(address: str) -> bool:
    """Whether a random address is a static one (top two bits 11), which a board keeps.

    A resolvable or non-resolvable private address (01, 00) is drawn afresh
    when the board starts advertising again: going back to it finds nobody.
    """
    try:
        return int(address[:2], 16) >> 6 == 0b11
    except ValueError:
        return False


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
        self._timing = timing or BleTiming()
        super().__init__(buffer, retry=self._timing.retry, clock=clock or MonotonicClock())
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
        # bluepy's module (or a test's stand-in with the same names), loaded lazily.
        self._btle: Any = btle
        self._peripheral_factory = peripheral_factory
        self._scanner_factory = scanner_factory
        self._known_address_failures = 0  # failed attempts at the known address in a row
        self._ever_delivered = False
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

    def _attempt(self, stop: threading.Event) -> bool:
        """Scan if need be, connect, stream until stop or a drop (see ``Link._attempt``)."""
        self._load_bluepy()
        if self.address is not None and self._known_address_failures >= self._timing.rescan_after:
            self.address = None  # the board may have a new address or be elsewhere
            self._known_address_failures = 0
        self._progress(
            LinkState.RECONNECTING if self._ever_delivered else LinkState.CONNECTING,
            f"Looking for micro:bit {self.board_name}…",
        )
        try:
            delivered = self._session(stop)
        except BoardFault:
            self.stats["failed_attempts"] += 1
            raise
        except Exception as exc:  # anything from bluepy or the helper
            log.warning("Bluetooth attempt for %s failed: %r", self.board_name, exc)
            self.stats["failed_attempts"] += 1
            self._known_address_failures += 1
            raise BoardFault(
                Fault.NO_ANSWER, f"Could not talk to micro:bit {self.board_name} ({exc!r})."
            ) from None
        if delivered:
            self._ever_delivered = True
            self._known_address_failures = 0
            if self.address is not None and not static_address(self.address):
                # A private address is gone once the board stops advertising it:
                # look for the name again rather than wait on an address nobody has.
                if not stop.is_set():
                    log.info(
                        "micro:bit %s was at private address %s; scanning for it again",
                        self.board_name,
                        self.address,
                    )
                self.address = None
        return delivered

    def _load_bluepy(self) -> None:
        if self._btle is None:
            try:
                from bluepy import btle  # lazy: bluepy is optional
            except ImportError as exc:
                if self._peripheral_factory is None or self._scanner_factory is None:
                    raise BoardFault(
                        Fault.ADAPTER_MISSING,
                        "Bluetooth support (bluepy) is not installed on this kiosk; "
                        "install it with scripts/setup.sh.",
                        retry=False,
                    ) from exc
            else:
                self._btle = btle
        # Scan and connect on the same adapter: left to itself bluepy connects
        # through whichever adapter the kernel picks, which need not be the one
        # that saw the board (a second dongle, a virtual controller). Without a
        # peripheral factory, _connect_bluepy connects on self.adapter.
        adapter = self.adapter
        module: Any = self._btle  # loaded above whenever the scanner below is needed
        if self._scanner_factory is None:
            scanner_class = module.Scanner
            self._scanner_factory = lambda: scanner_class(adapter)

    def _session(self, stop: threading.Event) -> bool:
        """One connection from scan to drop: whether samples arrived; BoardFault if none did."""
        if self.address is None:
            self.address = self._scan(stop)
            if self.address is None:
                return False  # stopped while scanning
        self._progress(
            self.state if self.state is not LinkState.CONNECTED else LinkState.RECONNECTING,
            f"Connecting to micro:bit {self.board_name}…",
        )
        try:
            if self._peripheral_factory is not None:
                peripheral = self._peripheral_factory(self.address, ADDR_TYPE_RANDOM)
            else:
                peripheral = self._connect_bluepy(self.address, stop)
        except BoardFault:
            self._known_address_failures += 1
            raise
        except Exception as exc:  # bluepy raises several kinds
            log.info("connect to %s (%s) failed: %r", self.board_name, self.address, exc)
            self._known_address_failures += 1
            raise BoardFault(
                Fault.NO_ANSWER,
                f"Found micro:bit {self.board_name} at {self.address} but could not connect.",
            ) from None
        delegate: _Notifications | None = None
        try:
            handles = self._set_up(peripheral)
            delegate = _Notifications(self, handles)
            peripheral.withDelegate(delegate)
            self._enable_notifications(peripheral, handles)
            self.stats["sessions"] += 1
            self._set_state(LinkState.CONNECTED, f"Connected to micro:bit {self.board_name}.")
            ended = self._stream(peripheral, delegate, handles, stop)
            if ended is None or delegate.samples == 0:
                if ended is not None:
                    raise ended  # connected but nothing came: a failed attempt
                return delegate.samples > 0
            # It worked, then went away: say so, and try again at once.
            self._set_state(LinkState.RECONNECTING, f"{ended.detail} Reconnecting…", ended.fault)
            return True
        finally:
            if delegate is not None:
                delegate.release_held_buttons()  # a button held as the link dropped is let go
            try:
                peripheral.disconnect()
            except Exception as exc:  # already gone is fine
                log.debug("disconnect from %s: %r", self.board_name, exc)

    def _connect_bluepy(self, address: str, stop: threading.Event) -> Any:
        """bluepy's Peripheral connected to ``address`` within ``connect_s``, else BoardFault.

        bluepy's ``connect`` waits for its helper's answer without a time
        limit, and the helper waits for the kernel, which gives up on an
        absent board only after 20-40 s. A watchdog thread stops the helper
        when ``connect_s`` has passed or ``stop`` is set (``close()``): the
        connect then returns at once with bluepy's "helper exited" error.
        """
        peripheral = self._btle.Peripheral()  # nothing starts until connect()
        finished = threading.Event()
        why: list[str] = []  # set by the watchdog: why it stopped the helper
        deadline = time.monotonic() + self._timing.connect_s

        def watch() -> None:
            while not finished.wait(_WATCH_STEP_S):
                if stop.is_set() or time.monotonic() >= deadline:
                    if not why:
                        why.append("stopped" if stop.is_set() else "timed out")
                    _kill_helper(peripheral)  # again each step: the helper may start late

        watchdog = threading.Thread(target=watch, name="ble-connect-watchdog", daemon=True)
        watchdog.start()
        error: Exception | None = None
        try:
            peripheral.connect(address, ADDR_TYPE_RANDOM, iface=self.adapter)
        except Exception as exc:
            error = exc
        finally:
            finished.set()
            watchdog.join()
        if error is None and not why:
            return peripheral
        _stop_helper(peripheral)  # killed, or ended without bluepy stopping it
        if error is not None and not why:
            raise error  # bluepy's own answer (the board refused, the kernel gave up)
        log.info("connect to %s (%s) %s: %r", self.board_name, address, why[0], error)
        raise BoardFault(
            Fault.NO_ANSWER,
            f"micro:bit {self.board_name} at {address} did not answer a connect within "
            f"{self._timing.connect_s:g} s.",
        )

    def _scan(self, stop: threading.Event) -> str | None:
        """The board's address, None if stopped; BoardFault if it is not seen."""
        timing = self._timing
        adapter_up = None if self._adapter_check is None else self._adapter_check()
        if adapter_up is False:
            log.error(
                "Bluetooth adapter hci%d is off or missing; switch it on "
                "(bluetoothctl power on) or check it is plugged in",
                self.adapter,
            )
            raise BoardFault(
                Fault.ADAPTER_DOWN,
                f"Bluetooth is not available on this kiosk right now: adapter hci{self.adapter} "
                "is off or missing (bluetoothctl power on).",
            )
        try:
            make_scanner = self._scanner_factory
            assert make_scanner is not None, "set by _load_bluepy before the first scan"
            scanner = make_scanner()
            scanner.clear()
            scanner.start()
        except Exception as exc:  # permissions, no adapter, helper missing
            log.error(
                "Bluetooth scan could not start (%r): the kiosk needs CAP_NET_RAW and "
                "CAP_NET_ADMIN for bluepy-helper and a working adapter",
                exc,
            )
            # An adapter known to be up that will not scan: the capabilities are missing.
            permission = adapter_up is True or "ermission" in str(exc)
            raise BoardFault(
                Fault.PERMISSION_MISSING if permission else Fault.ADAPTER_MISSING,
                f"Bluetooth is not available on this kiosk right now: the scan on "
                f"hci{self.adapter} could not start ({exc!r}); the service needs CAP_NET_RAW "
                "and CAP_NET_ADMIN for bluepy-helper, and a working adapter.",
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
                    raise BoardFault(
                        Fault.BOARD_NOT_FOUND,
                        f"Can't see micro:bit {self.board_name}: nothing advertised that name "
                        f"for {timing.scan_s:g} s.",
                    )
            return None
        finally:
            try:
                scanner.stop()
            except Exception as exc:
                log.debug("stopping the scan: %r", exc)

    def _set_up(self, peripheral: Any) -> _Handles:
        """Find the handles, set the period; BoardFault if the firmware lacks data."""
        try:
            accel = peripheral.getServiceByUUID(proto.ACCELEROMETER_SERVICE)
            data = accel.getCharacteristics(proto.ACCELEROMETER_DATA)[0]
            period = accel.getCharacteristics(proto.ACCELEROMETER_PERIOD)[0]
        except self._gatt_errors(IndexError) as exc:
            log.warning("micro:bit %s has no accelerometer service: %r", self.board_name, exc)
            raise BoardFault(
                Fault.WRONG_PROGRAM,
                f"micro:bit {self.board_name} does not send movement data (no accelerometer "
                "service): it needs the kiosk's program (or CreateAI's).",
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
    ) -> BoardFault | None:
        """Deliver notifications until stop (None) or the link is lost (how, as a fault)."""
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
                    return BoardFault(
                        Fault.CONNECTION_LOST if delegate.samples else Fault.NO_DATA,
                        f"micro:bit {self.board_name} stopped sending data "
                        f"({timing.silence_s:g} s without a sample).",
                    )
            return None
        except disconnect_error as exc:  # type: ignore[misc]
            log.info("Bluetooth link to %s dropped: %s", self.board_name, exc)
        except Exception as exc:  # helper died, GATT error mid-stream, ...
            log.warning("Bluetooth link to %s failed: %r", self.board_name, exc)
        self.stats["drops"] += 1
        return BoardFault(
            Fault.CONNECTION_LOST, f"Lost the Bluetooth link to micro:bit {self.board_name}."
        )

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

    @property
    def can_show_icons(self) -> bool:
        """False once the board is known to lack the LED service (CreateAI's data-collection
        program has none): the screen then says the icon is shown there only."""
        return self.led_supported is not False

    def _gatt_errors(self, *more: type[BaseException]) -> tuple[type[BaseException], ...]:
        """What a missing service or characteristic raises (bluepy's GATT error when loaded)."""
        btle = self._btle
        if btle is None:
            return (LookupError, *more)
        return (btle.BTLEGattError, LookupError, *more)


def _kill_helper(peripheral: Any) -> None:
    """Kill a bluepy Peripheral's helper process (if it runs); its connect then fails at once.

    Only the kill: the thread in bluepy's ``connect`` is still reading the
    helper's pipe, and cleans up (``_stop_helper``) once the connect returns.
    """
    helper = getattr(peripheral, "_helper", None)
    if helper is not None and helper.poll() is None:
        helper.kill()


def _stop_helper(peripheral: Any) -> None:
    """End a bluepy Peripheral's ``bluepy-helper`` at once and forget it.

    bluepy's own ``disconnect`` asks the helper to quit and waits for its
    answer, which a helper stuck in a connect never gives; so the process is
    killed, reaped and its pipes closed, and the Peripheral is left as bluepy
    leaves one that never connected (a later ``disconnect`` does nothing).
    """
    helper = getattr(peripheral, "_helper", None)
    if helper is None:
        return
    if helper.poll() is None:
        helper.kill()
    try:
        helper.wait(timeout=2.0)
    except Exception as exc:  # a helper the kernel is slow to reap: leave it to Python
        log.debug("bluepy-helper did not end: %r", exc)
    for stream in (helper.stdin, helper.stdout):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass  # a pipe to a dead process: nothing to flush
    peripheral._helper = None
    stderr = getattr(peripheral, "_stderr", None)
    if stderr is not None:
        stderr.close()
        peripheral._stderr = None


def _local_name(entry: Any) -> str | None:
    name = entry.getValueText(proto.COMPLETE_LOCAL_NAME)
    return name if name else entry.getValueText(proto.SHORT_LOCAL_NAME)
