"""The emulated micro:bit: its GATT services, its notification stream and its presence.

What it serves, as the micro:bit Bluetooth profile and a V2 board do:

- accelerometer service: data (read, notify) sent every period, and period
  (read, write request) rounded to a period the board supports, read back as
  the rounded one; writing 0 "crashes" it as it does a real board (it vanishes);
- button service: A and B state (read, notify), 0 released, 1 pressed, 2 long;
- LED service: matrix state (read, write request only: a write command is
  dropped and counted, as a real board drops it) and text (write request);
- device information: model number "BBC micro:bit V2".

Everything the kiosk sends is recorded byte for byte for the checks, and so is
every accelerometer payload it notified, in order. ``vanish`` powers the
controller off (the kiosk's link drops, the board stops advertising) and
``come_back`` powers it on and advertises again.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from dataclasses import dataclass, field

from dbus_fast import Variant
from dbus_fast.aio import MessageBus, ProxyInterface

from tests.rigs.ble_board.gatt import Advertisement, GattCharacteristic, GattService
from tests.rigs.ble_board.movements import Movement

log = logging.getLogger("ble_board")


def uuid(short: str) -> str:
    return f"e95d{short}-251d-470a-a062-fa1922dfa9a8"


#: Periods a V2 board's accelerometer supports (ms); a request gets the nearest.
SUPPORTED_PERIODS_MS = (1, 2, 5, 10, 20, 40, 100, 1000)
APP_ROOT = "/uk/org/microbit/board"
ADVERT_PATH = "/uk/org/microbit/advert0"
_ACCEL = struct.Struct("<hhh")
POWER_ON_QUIET_S = 1.0  # no advertising changes this long after powering on


def round_period(requested_ms: int) -> int:
    """The supported period nearest the request (a tie goes to the longer one)."""
    return min(SUPPORTED_PERIODS_MS, key=lambda p: (abs(p - requested_ms), -p))


def encode_accelerometer(x: float, y: float, z: float) -> bytes:
    return _ACCEL.pack(*(max(-32768, min(32767, round(v * 1000.0))) for v in (x, y, z)))


@dataclass
class Record:
    """What the board was told and what it sent, for the checks."""

    period_writes: list[int] = field(default_factory=list)
    led_writes: list[bytes] = field(default_factory=list)
    led_commands_dropped: int = 0
    texts: list[bytes] = field(default_factory=list)
    sent: list[bytes] = field(default_factory=list)  # every accelerometer payload notified
    button_notifications: list[tuple[str, int]] = field(default_factory=list)
    subscriptions: int = 0  # times the kiosk turned accelerometer notifications on
    crashes: int = 0


class EmulatedBoard:
    """One micro:bit called ``name`` served by bluetoothd on ``adapter`` (e.g. hci1)."""

    def __init__(
        self,
        bus: MessageBus,
        adapter: str,
        name: str,
        movements: dict[str, Movement],
        *,
        address: str = "",
        model: str = "BBC micro:bit V2",
        led_service: bool = True,
    ) -> None:
        self.bus = bus
        self.adapter_path = f"/org/bluez/{adapter}"
        self.name = name
        self.local_name = f"BBC micro:bit [{name}]"
        self.movements = movements
        self.gesture = "still" if "still" in movements else next(iter(movements))
        self.model = model
        # The static random address the controller was given (bluetoothd's Address
        # property shows the controller's public one, which LE-only mode does not use).
        self.address = address
        self.period_ms = 20  # a board's default
        self.present = False
        self.record = Record()
        self._started = asyncio.get_running_loop().time()
        self._objects: list[GattService | GattCharacteristic] = []
        self._advert = Advertisement(ADVERT_PATH, self.local_name)
        self._adapter: ProxyInterface | None = None
        self._props: ProxyInterface | None = None
        self._gatt: ProxyInterface | None = None
        self._adverts: ProxyInterface | None = None
        self.repeat_advert = True
        self._powered_at = -1e9  # when the controller was last powered on (loop time)
        self._tasks: list[asyncio.Task[None]] = []  # kept: the loop holds tasks weakly
        self._build(led_service)

    # ---- the services ------------------------------------------------------------------

    def _service(self, index: int, service_uuid: str) -> GattService:
        service = GattService(f"{APP_ROOT}/service{index}", service_uuid)
        self._objects.append(service)
        return service

    def _char(self, service: GattService, index: int, *args, **kw) -> GattCharacteristic:
        char = GattCharacteristic(f"{service.path}/char{index}", service, *args, **kw)
        self._objects.append(char)
        return char

    def _build(self, led_service: bool) -> None:
        accel = self._service(0, uuid("0753"))
        self.accel_data = self._char(
            accel,
            0,
            uuid("ca4b"),
            ["read", "notify"],
            read=lambda: encode_accelerometer(*self._movement_now()),
            on_notify=self._accel_notify,
        )
        self._char(
            accel,
            1,
            uuid("fb24"),
            ["read", "write"],
            read=lambda: struct.pack("<H", self.period_ms),
            write=self._write_period,
        )
        buttons = self._service(1, uuid("9882"))
        self.buttons = {
            "A": self._char(buttons, 0, uuid("da90"), ["read", "notify"], read=lambda: b"\x00"),
            "B": self._char(buttons, 1, uuid("da91"), ["read", "notify"], read=lambda: b"\x00"),
        }
        if led_service:
            led = self._service(2, uuid("d91d"))
            self._char(
                led,
                0,
                uuid("7b77"),
                ["read", "write"],
                read=lambda: self.record.led_writes[-1] if self.record.led_writes else bytes(5),
                write=self._write_matrix,
            )
            self._char(led, 1, uuid("93ee"), ["write"], write=self._write_text)
        info = self._service(3, "0000180a-0000-1000-8000-00805f9b34fb")
        self._char(
            info,
            0,
            "00002a24-0000-1000-8000-00805f9b34fb",
            ["read"],
            read=lambda: self.model.encode(),
        )

    def _accel_notify(self, on: bool) -> None:
        if on:
            self.record.subscriptions += 1
        log.info("accelerometer notifications %s", "on" if on else "off")

    def _write_period(self, value: bytes, kind: str) -> None:
        if len(value) != 2:
            log.warning("period write of %d bytes ignored", len(value))
            return
        requested = struct.unpack("<H", value)[0]
        self.record.period_writes.append(requested)
        if requested == 0:
            # A real board divides by the period: 0 crashes it, and it drops off the air.
            self.record.crashes += 1
            asyncio.get_running_loop().create_task(self.vanish())
            return
        self.period_ms = round_period(requested)
        log.info("period %d ms asked, %d ms set", requested, self.period_ms)

    def _write_matrix(self, value: bytes, kind: str) -> None:
        if kind != "request":
            self.record.led_commands_dropped += 1  # the board's characteristic takes requests only
            return
        self.record.led_writes.append(value)

    def _write_text(self, value: bytes, kind: str) -> None:
        self.record.texts.append(value)

    # ---- on and off the air --------------------------------------------------------------

    async def start(self) -> None:
        for obj in self._objects:
            self.bus.export(obj.path, obj)
        self.bus.export(ADVERT_PATH, self._advert)
        introspection = await self.bus.introspect("org.bluez", self.adapter_path)
        proxy = self.bus.get_proxy_object("org.bluez", self.adapter_path, introspection)
        self._props = proxy.get_interface("org.freedesktop.DBus.Properties")
        self._gatt = proxy.get_interface("org.bluez.GattManager1")
        self._adverts = proxy.get_interface("org.bluez.LEAdvertisingManager1")
        await self._set_powered(True)
        await self._gatt.call_register_application(APP_ROOT, {})  # type: ignore[attr-defined]
        await self._advertise()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._stream()), loop.create_task(self._repeat_advert())]

    async def _set_powered(self, on: bool) -> None:
        assert self._props is not None
        await self._props.call_set("org.bluez.Adapter1", "Powered", Variant("b", on))  # type: ignore[attr-defined]

    async def _advertise(self) -> None:
        assert self._adverts is not None
        await self._adverts.call_register_advertisement(ADVERT_PATH, {})  # type: ignore[attr-defined]
        self.present = True
        log.info("advertising as %r", self.local_name)

    async def vanish(self) -> None:
        """Off the air at once, as a board whose battery is pulled: the link drops.

        The controller is powered off with the advertisement left registered,
        so on return the same advertising instance, and its address, come back
        (a board keeps its address; registering again would draw a new one).
        """
        if not self.present:
            return
        self.present = False
        await self._set_powered(False)
        log.info("vanished")

    async def come_back(self) -> None:
        if self.present:
            return
        await self._set_powered(True)
        self._powered_at = asyncio.get_running_loop().time()
        self.present = True
        log.info("back")

    async def _connected(self) -> bool:
        """Whether any device is connected to (or connecting with) this controller."""
        root = await self.bus.introspect("org.bluez", "/")
        manager = self.bus.get_proxy_object("org.bluez", "/", root).get_interface(
            "org.freedesktop.DBus.ObjectManager"
        )
        objects = await manager.call_get_managed_objects()  # type: ignore[attr-defined]
        for path, interfaces in objects.items():
            device = interfaces.get("org.bluez.Device1")
            on_this_adapter = path.startswith(self.adapter_path + "/")
            if on_this_adapter and device is not None and device["Connected"].value:
                return True
        return False

    async def _repeat_advert(self) -> None:
        """Advertise afresh every 0.5 s while nobody is connected.

        A board advertises every few hundred milliseconds, so a scanner hears it
        again and again. btvirt's radio reports an advertiser to a scanner only
        once, when either starts, and bluepy's helper drops a report that comes
        before it has marked itself as scanning: without this, a scan that
        started after the board never sees it. Changing the advertisement makes
        bluetoothd set it up and enable it again, and btvirt report it again, as
        the next advertising event would. (Registering it again would do that
        too, but as a new instance with a new private address each time.)
        """
        while True:
            await asyncio.sleep(0.5)
            if not self.repeat_advert or not self.present or self.accel_data.notifying:
                continue
            if await self._connected():
                continue  # a connected board does not advertise; a connection being made needs it
            # Not while the controller powers off or has just powered on (bluetoothd
            # then sets the advertisement up itself): a change racing that is
            # rejected by the controller, and bluetoothd 5.66 aborts on the rejection.
            loop = asyncio.get_running_loop()
            if not self.present or loop.time() - self._powered_at < POWER_ON_QUIET_S:
                continue
            self._advert.nudge()

    # ---- what it sends -----------------------------------------------------------------

    def _movement_now(self) -> tuple[float, float, float]:
        t = asyncio.get_running_loop().time() - self._started
        return self.movements[self.gesture].at(t)

    async def _stream(self) -> None:
        """One accelerometer notification per period, on a schedule that does not drift."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due += self.period_ms / 1000.0
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -2.0:
                # A long stall (the machine was busy): carry on from now. Shorter
                # lags catch up in a burst, as a board's queued notifications do.
                due = loop.time()
            if not self.present:
                continue
            payload = encode_accelerometer(*self._movement_now())
            if self.accel_data.notify(payload):
                self.record.sent.append(payload)

    async def press(self, button: str, long_press: bool = False) -> None:
        """A press (1), a long press (1 then 2) and the release (0), as notifications."""
        char = self.buttons[button]
        for value in (1, 2, 0) if long_press else (1, 0):
            if char.notify(bytes([value])):
                self.record.button_notifications.append((button, value))
            await asyncio.sleep(0.15)
