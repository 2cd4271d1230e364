"""A fake bluepy: micro:bits on a simulated radio, with fake time and fault injection.

There is no Bluetooth adapter here, so the BLE link is tested against objects
that behave like bluepy's ``Peripheral`` and ``Scanner`` as the link uses them:
a connect can fail, GATT look-ups raise ``BTLEGattError`` for absent services,
``waitForNotifications`` delivers notification bytes through the delegate on
the calling thread and raises ``BTLEDisconnectError`` when the link drops.
The exception classes are bluepy's own (bluepy's pure-Python module imports
without an adapter). Time is a ``FakeClock`` that jumps instead of sleeping,
so minutes of radio time take a fraction of a second.

Each board's k-th sample encodes k in its x and y and a checksum in z
(``sample_values``), so a test can tell a correct sample from a corrupted,
stale or invented one.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from bluepy import btle

from kiosk.microbit import ble_protocol as proto

# Value handles of the fake GATT table (the CCCD follows its value handle).
H_ACCEL_DATA = 0x28
H_ACCEL_PERIOD = 0x2B
H_BUTTON_A = 0x31
H_BUTTON_B = 0x34
H_LED_MATRIX = 0x3A
H_MODEL = 0x12
SUPPORTED_PERIODS_MS = (1, 2, 5, 10, 20, 40, 100, 1000)


def sample_values(k: int) -> tuple[int, int, int]:
    """The milli-g x, y, z of a fake board's k-th sample: k in x and y, a checksum in z."""
    return (k % 4001) - 2000, ((k // 4001) % 4001) - 2000, ((k * 37) % 2001) - 1000


def decode_sample(x_mg: int, y_mg: int) -> int:
    return (x_mg + 2000) + 4001 * (y_mg + 2000)


class FakeClock:
    """Monotonic seconds that only move when something waits; shared by link and fakes."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += max(seconds, 0.0)

    def advance_to(self, t: float) -> None:
        with self._lock:
            self._now = max(self._now, t)

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        if stop.is_set():
            return True
        self.advance(seconds)
        return stop.is_set()


@dataclass
class FakeBoard:
    """One micro:bit: its name, address, firmware's services and what it has been told."""

    name: str
    address: str = "d4:2a:7e:11:22:33"
    addr_type: str = btle.ADDR_TYPE_RANDOM
    rssi: int = -55
    advertised_as: str | None = None  # default "BBC micro:bit [name]"
    has_buttons: bool = True
    has_led: bool = True
    has_accelerometer: bool = True
    period_ms: int = 20
    epoch: float = 0.0  # time of sample 0
    connected: bool = False
    period_writes: list[int] = field(default_factory=list)
    led_writes: list[bytes] = field(default_factory=list)
    led_commands_dropped: int = 0  # matrix writes sent without response (a real board drops them)
    crashed: bool = False  # set if someone writes a 0 ms period

    def local_name(self) -> str:
        return self.advertised_as or f"BBC micro:bit [{self.name}]"

    def sample_index_at(self, t: float) -> int:
        """Index of the newest sample taken at or before t."""
        return math.floor((t - self.epoch) / (self.period_ms / 1000.0) + 1e-9)

    def sample_time(self, k: int) -> float:
        return self.epoch + k * self.period_ms / 1000.0


@dataclass
class FaultLog:
    """What the radio did, for assertions: every fault and every link lost and regained."""

    injected: dict[str, int] = field(default_factory=dict)
    lost_at: list[float] = field(default_factory=list)  # when a connection ended
    up_at: list[float] = field(default_factory=list)  # when notifications were enabled again
    sessions: int = 0
    presses: int = 0
    timeline: list[tuple[float, str]] = field(default_factory=list)  # for reading a failure

    def count(self, kind: str, t: float | None = None) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1
        if t is not None:
            self.timeline.append((t, kind))

    @property
    def total(self) -> int:
        return sum(self.injected.values())


class FakeRadio:
    """The air between the kiosk and the boards: factories for the link, and the faults.

    ``fail_next_connects``, ``miss_next_scans``, ``drop_during_setup`` arm faults
    for the next attempts; ``on_connection_event`` (if set) is called at every
    connection event of a live link and may return a fault to inject there:
    ``"drop"``, ``"silence"``, ``"garbage"``, ``"button_garbage"``,
    ``"unknown_handle"``, ``"press"`` (a real press and release of A).
    """

    def __init__(self, boards: list[FakeBoard], clock: FakeClock | None = None, seed: int = 0):
        self.boards = {b.address: b for b in boards}
        self.clock = clock or FakeClock()
        self.rng = np.random.default_rng(seed)
        self.log = FaultLog()
        self.fail_next_connects = 0
        self.miss_next_scans = 0
        self.drop_during_setup = 0
        self.scan_permission_denied = False
        self.adapter_powered = True  # off: bluepy's scan "starts" and silently sees nothing
        self.connect_time_s = 0.25
        self.connection_interval_s = (0.030, 0.048)
        self.silence_s = 4.0  # how long a "silence" fault keeps the board quiet
        self.on_connection_event: Callable[[FakePeripheral], str | None] | None = None
        self.peripherals: list[FakePeripheral] = []

    # the factories a BleLink takes
    def peripheral_factory(self, address: str, addr_type: str) -> FakePeripheral:
        return FakePeripheral(self, address, addr_type)

    def scanner_factory(self) -> FakeScanner:
        return FakeScanner(self)

    def adapter_check(self) -> bool:
        """What the kernel says of the adapter (BleLink's ``adapter_check``)."""
        return self.adapter_powered


class FakeService:
    def __init__(
        self, peripheral: FakePeripheral, uuid: btle.UUID, chars: list[FakeCharacteristic]
    ) -> None:
        self.peripheral = peripheral
        self.uuid = uuid
        self._chars = chars

    def getCharacteristics(self, forUUID=None) -> list[FakeCharacteristic]:
        self.peripheral._gatt_round_trip()
        if forUUID is None:
            return list(self._chars)
        wanted = btle.UUID(forUUID)
        return [c for c in self._chars if c.uuid == wanted]


class FakeCharacteristic:
    def __init__(self, peripheral: FakePeripheral, uuid: str | int, value_handle: int):
        self.peripheral = peripheral
        self.uuid = btle.UUID(uuid)
        self.valHandle = value_handle
        self.handle = value_handle - 1

    def getHandle(self) -> int:
        return self.valHandle

    def read(self) -> bytes:
        return self.peripheral.readCharacteristic(self.valHandle)

    def write(self, val: bytes, withResponse: bool = False) -> None:
        self.peripheral.writeCharacteristic(self.valHandle, val, withResponse)

    def getDescriptors(self, forUUID=None, hndEnd=0xFFFF):
        descs = self.peripheral.getDescriptors(self.valHandle + 1, self.valHandle + 1)
        if forUUID is None:
            return descs
        return [d for d in descs if d.uuid == btle.UUID(forUUID)]


class FakeDescriptor:
    def __init__(self, uuid: int, handle: int):
        self.uuid = btle.UUID(uuid)
        self.handle = handle


class FakePeripheral:
    """bluepy's Peripheral as seen by the link: connected on construction, or an exception."""

    def __init__(self, radio: FakeRadio, address: str, addr_type: str) -> None:
        self._radio = radio
        self._clock = radio.clock
        self.delegate = None
        self.addr = address
        radio.peripherals.append(self)
        self._connected = False
        if len(address.split(":")) != 6:
            raise ValueError(f"Expected MAC address, got {address!r}")
        self._clock.advance(radio.connect_time_s)
        board = radio.boards.get(address.lower())
        if radio.fail_next_connects > 0:
            radio.fail_next_connects -= 1
            radio.log.count("connect_fail", self._clock.now())
            raise btle.BTLEDisconnectError(
                f"Failed to connect to peripheral {address}, addr type: {addr_type}"
            )
        if board is None or board.connected or addr_type != board.addr_type:
            raise btle.BTLEDisconnectError(
                f"Failed to connect to peripheral {address}, addr type: {addr_type}"
            )
        self.board = board
        board.connected = True
        self._connected = True
        self._setup_drop = radio.drop_during_setup > 0
        if self._setup_drop:
            radio.drop_during_setup -= 1
        self._notify: set[int] = set()
        self._next_sample = board.sample_index_at(self._clock.now()) + 1
        self._next_event = self._clock.now() + self._interval()
        self._silent_until = -1.0
        self._queued: list[tuple[int, bytes]] = []  # extra notifications for the next event
        self._buttons = {H_BUTTON_A: 0, H_BUTTON_B: 0}

    # ---- connection ----------------------------------------------------------------

    def withDelegate(self, delegate):
        self.delegate = delegate
        return self

    setDelegate = withDelegate

    def disconnect(self) -> None:
        if self._connected:
            self._lose()

    def _lose(self) -> None:
        self._connected = False
        self.board.connected = False
        self._radio.log.lost_at.append(self._clock.now())
        self._radio.log.timeline.append((self._clock.now(), "lost"))

    def _check(self) -> None:
        if not self._connected:
            raise btle.BTLEInternalError("Helper not started (did you call start()?)")

    def _gatt_round_trip(self) -> None:
        """Every GATT request costs a few ms, and may meet an armed drop during set-up."""
        self._check()
        self._clock.advance(0.004)
        if self._setup_drop:
            self._setup_drop = False
            self._radio.log.count("setup_drop", self._clock.now())
            self._lose()
            raise btle.BTLEDisconnectError("Device disconnected", {"state": ["disc"]})

    # ---- GATT ------------------------------------------------------------------------

    def getServiceByUUID(self, uuidVal) -> FakeService:
        self._gatt_round_trip()
        uuid = btle.UUID(uuidVal)
        board = self.board
        table = {
            btle.UUID(proto.ACCELEROMETER_SERVICE): board.has_accelerometer
            and [
                FakeCharacteristic(self, proto.ACCELEROMETER_DATA, H_ACCEL_DATA),
                FakeCharacteristic(self, proto.ACCELEROMETER_PERIOD, H_ACCEL_PERIOD),
            ],
            btle.UUID(proto.BUTTON_SERVICE): board.has_buttons
            and [
                FakeCharacteristic(self, proto.BUTTON_A_STATE, H_BUTTON_A),
                FakeCharacteristic(self, proto.BUTTON_B_STATE, H_BUTTON_B),
            ],
            btle.UUID(proto.LED_SERVICE): board.has_led
            and [
                FakeCharacteristic(self, proto.LED_MATRIX_STATE, H_LED_MATRIX),
            ],
            btle.UUID(proto.DEVICE_INFORMATION_SERVICE): [
                FakeCharacteristic(self, proto.MODEL_NUMBER, H_MODEL),
            ],
        }
        chars = table.get(uuid)
        if not chars:
            raise btle.BTLEGattError(f"Service {uuid} not found", {"estat": [10]})
        return FakeService(self, uuid, chars)

    def getDescriptors(self, startHnd=1, endHnd=0xFFFF) -> list[FakeDescriptor]:
        self._gatt_round_trip()
        notifiable = (H_ACCEL_DATA, H_BUTTON_A, H_BUTTON_B)
        return [FakeDescriptor(0x2902, h + 1) for h in notifiable if startHnd <= h + 1 <= endHnd]

    def readCharacteristic(self, handle: int) -> bytes:
        self._gatt_round_trip()
        board = self.board
        if handle == H_ACCEL_PERIOD:
            return proto.encode_period(board.period_ms)
        if handle == H_MODEL:
            return b"BBC micro:bit V2"
        if handle == H_ACCEL_DATA:
            return proto.encode_accelerometer(
                *(v / 1000 for v in sample_values(board.sample_index_at(self._clock.now())))
            )
        raise btle.BTLEGattError("Invalid handle", {"estat": [1]})

    def writeCharacteristic(self, handle: int, val: bytes, withResponse: bool = False):
        if not isinstance(val, bytes | bytearray):
            raise TypeError("bluepy writes bytes")  # bluepy hex-encodes val: str fails there too
        self._gatt_round_trip()
        board = self.board
        if handle == H_ACCEL_PERIOD:
            requested = int.from_bytes(val[:2], "little")
            board.period_writes.append(requested)
            if requested == 0:
                board.crashed = True  # what a real board does; the link must never do this
                self._lose()
                raise btle.BTLEDisconnectError("Device disconnected")
            board.period_ms = min(SUPPORTED_PERIODS_MS, key=lambda p: abs(p - requested))
        elif handle in (H_ACCEL_DATA + 1, H_BUTTON_A + 1, H_BUTTON_B + 1):
            if bytes(val) == proto.ENABLE_NOTIFICATIONS:
                self._notify.add(handle - 1)
                if handle - 1 == H_ACCEL_DATA:
                    self._radio.log.up_at.append(self._clock.now())
                    self._radio.log.timeline.append((self._clock.now(), "up"))
                    self._radio.log.sessions += 1
                    self._next_sample = board.sample_index_at(self._clock.now()) + 1
            else:
                self._notify.discard(handle - 1)
        elif handle == H_LED_MATRIX and board.has_led:
            # The board's matrix characteristic accepts a write request only: a
            # write command (no response) is dropped without a word, as on a real board.
            if withResponse:
                board.led_writes.append(bytes(val))
            else:
                board.led_commands_dropped += 1
        else:
            raise btle.BTLEGattError("Invalid handle", {"estat": [1]})
        return {"rsp": ["wr"]}

    # ---- notifications -----------------------------------------------------------------

    def _interval(self) -> float:
        lo, hi = self._radio.connection_interval_s
        return float(self._radio.rng.uniform(lo, hi))

    def waitForNotifications(self, timeout: float) -> bool:
        self._check()
        # GATT requests since the last call took their own connection events
        self._next_event = max(self._next_event, self._clock.now())
        end = self._clock.now() + timeout
        while self._next_event <= end:
            event = self._next_event
            self._next_event = event + self._interval()
            hook = self._radio.on_connection_event
            fault = hook(self) if hook is not None else None
            if fault == "drop":
                self._clock.advance_to(event)
                self._radio.log.count("drop", event)
                self._lose()
                raise btle.BTLEDisconnectError("Device disconnected", {"state": ["disc"]})
            if fault is not None:
                self._inject(fault, event)
            batch = self._due(event)
            if batch:
                self._clock.advance_to(event)
                for handle, data in batch:
                    if self.delegate is not None:
                        self.delegate.handleNotification(handle, data)
                return True
        self._clock.advance_to(end)
        return False

    def _inject(self, fault: str, event: float) -> None:
        radio = self._radio
        if fault == "press":
            radio.log.presses += 1  # not a fault: a visitor pressing A
        else:
            radio.log.count(fault, event)
        if fault == "silence":
            self._silent_until = event + radio.silence_s
        elif fault == "garbage":
            for length in radio.rng.choice([0, 1, 2, 5, 7, 12, 20], size=3):
                self._queued.append((H_ACCEL_DATA, radio.rng.bytes(int(length))))
        elif fault == "button_garbage":
            self._queued.append((H_BUTTON_B, bytes([int(radio.rng.integers(3, 256))])))
            self._queued.append((H_BUTTON_A, b"\x01\x00"))
        elif fault == "unknown_handle":
            self._queued.append((0x77, radio.rng.bytes(6)))
        elif fault == "press":
            self._queued.append((H_BUTTON_A, b"\x01"))
            self._queued.append((H_BUTTON_A, b"\x00"))
        else:
            raise ValueError(f"unknown fault {fault!r}")

    def _due(self, event: float) -> list[tuple[int, bytes]]:
        """Notifications delivered at a connection event: queued extras, then samples."""
        board = self.board
        notifiable = (H_ACCEL_DATA, H_BUTTON_A, H_BUTTON_B)
        batch = [(h, d) for h, d in self._queued if h in self._notify or h not in notifiable]
        self._queued.clear()
        last = board.sample_index_at(event - 0.002)
        if H_ACCEL_DATA in self._notify and last >= self._next_sample:
            for k in range(self._next_sample, last + 1):
                if board.sample_time(k) >= self._silent_until:
                    values = (v / 1000 for v in sample_values(k))
                    batch.append((H_ACCEL_DATA, proto.encode_accelerometer(*values)))
            self._next_sample = last + 1
        return batch


class FakeScanEntry:
    """What bluepy's ScanEntry offers the link: addr, addrType, rssi, getValueText."""

    def __init__(self, addr: str, addr_type: str, rssi: int, local_name: str | None):
        self.addr = addr
        self.addrType = addr_type
        self.rssi = rssi
        self.connectable = True
        self.scanData = {} if local_name is None else {9: local_name.encode()}

    def getValue(self, sdid: int):
        return self.scanData.get(sdid)

    def getValueText(self, sdid: int) -> str | None:
        value = self.scanData.get(sdid)
        return None if value is None else value.decode("utf-8", "replace")


class FakeScanner:
    """bluepy's Scanner: start, process(timeout) collecting advertisements, getDevices, stop."""

    def __init__(self, radio: FakeRadio) -> None:
        self._radio = radio
        self._running = False
        self._missing = False  # this scan misses the board's adverts in its first step
        self.scanned: dict[str, FakeScanEntry] = {}

    def clear(self) -> None:
        self.scanned = {}

    def start(self, passive: bool = False) -> None:
        if self._radio.scan_permission_denied:
            raise btle.BTLEManagementError(
                "Failed to execute management command 'le on'",
                {"code": ["permission"], "estat": [20], "emsg": ["Permission Denied"]},
            )
        self._running = True
        if self._radio.miss_next_scans > 0:
            self._radio.miss_next_scans -= 1
            self._radio.log.count("scan_miss", self._radio.clock.now())
            self._missing = True

    def process(self, timeout: float = 10.0) -> None:
        if not self._running:
            raise btle.BTLEInternalError("Helper not started (did you call start()?)")
        self._radio.clock.advance(timeout)
        if not self._radio.adapter_powered:
            return  # bluepy ignored the adapter's "not powered": the scan hears nothing
        # other radios in the room, always around
        self.scanned.setdefault(
            "f0:00:00:00:00:01", FakeScanEntry("f0:00:00:00:00:01", "random", -70, "Fitbit Charge")
        )
        self.scanned.setdefault(
            "f0:00:00:00:00:02", FakeScanEntry("f0:00:00:00:00:02", "public", -80, None)
        )
        if self._missing:
            self._missing = False
            return
        for board in self._radio.boards.values():
            if not board.connected:  # a connected micro:bit stops advertising
                self.scanned[board.address] = FakeScanEntry(
                    board.address, board.addr_type, board.rssi, board.local_name()
                )

    def getDevices(self):
        return list(self.scanned.values())

    def stop(self) -> None:
        self._running = False

    def scan(self, timeout: float = 10, passive: bool = False):
        self.clear()
        self.start(passive)
        self.process(timeout)
        self.stop()
        return self.getDevices()
