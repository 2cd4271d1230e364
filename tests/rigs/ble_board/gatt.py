"""BlueZ's D-Bus GATT server and advertising objects, through dbus-fast.

bluetoothd asks these objects for values and hands them writes; it keeps the
ATT database, the client characteristic configuration descriptors and the
radio. Only what the emulated board needs is here: a service, a
characteristic with read / write / notify callbacks, and one advertisement.
"""
# No "from __future__ import annotations": dbus-fast reads these annotations as
# D-Bus signatures, and a void method must say None, not the string "None".

from collections.abc import Callable
from typing import Annotated, Any

from dbus_fast import DBusError, Variant
from dbus_fast.annotations import DBusSignature
from dbus_fast.service import PropertyAccess, ServiceInterface, dbus_property, method

Bytes = Annotated[bytes, DBusSignature("ay")]
Options = Annotated[dict[str, Variant], DBusSignature("a{sv}")]
Str = Annotated[str, DBusSignature("s")]
Bool = Annotated[bool, DBusSignature("b")]
Path = Annotated[str, DBusSignature("o")]
Strings = Annotated[list[str], DBusSignature("as")]
UInt16 = Annotated[int, DBusSignature("q")]

Reader = Callable[[], bytes]
#: (value, kind) where kind is BlueZ's write type: "request", "command" or "reliable".
Writer = Callable[[bytes, str], None]

NOT_SUPPORTED = "org.bluez.Error.NotSupported"
INVALID_LENGTH = "org.bluez.Error.InvalidValueLength"


class GattService(ServiceInterface):
    def __init__(self, path: str, uuid: str) -> None:
        super().__init__("org.bluez.GattService1")
        self.path = path
        self._uuid = uuid

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> Str:
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> Bool:
        return True


class GattCharacteristic(ServiceInterface):
    """One characteristic; ``flags`` are BlueZ's ("read", "write", "notify", ...)."""

    def __init__(
        self,
        path: str,
        service: GattService,
        uuid: str,
        flags: list[str],
        *,
        read: Reader | None = None,
        write: Writer | None = None,
        on_notify: Callable[[bool], None] | None = None,
    ) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self.path = path
        self._service_path = service.path
        self._uuid = uuid
        self._flags = flags
        self._read = read
        self._write = write
        self._on_notify = on_notify
        self._value = b""
        self.notifying = False

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> Str:
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Service(self) -> Path:
        return self._service_path

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> Strings:
        return self._flags

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> Bytes:
        # bluetoothd notifies the subscribed client when this changes
        return self._value

    @dbus_property(access=PropertyAccess.READ)
    def Notifying(self) -> Bool:
        return self.notifying

    @method()
    def ReadValue(self, options: Options) -> Bytes:
        if self._read is None:
            raise DBusError(NOT_SUPPORTED, "not readable")
        return self._read()

    @method()
    def WriteValue(self, value: Bytes, options: Options) -> None:
        if self._write is None:
            raise DBusError(NOT_SUPPORTED, "not writable")
        kind = options.get("type")
        self._write(bytes(value), str(kind.value) if kind is not None else "request")

    @method()
    def StartNotify(self) -> None:
        self._set_notifying(True)

    @method()
    def StopNotify(self) -> None:
        self._set_notifying(False)

    def _set_notifying(self, on: bool) -> None:
        if on == self.notifying:
            return
        self.notifying = on
        self.emit_properties_changed({"Notifying": on})
        if self._on_notify is not None:
            self._on_notify(on)

    def notify(self, value: bytes) -> bool:
        """Send ``value`` to the subscribed client; False if nobody listens."""
        if not self.notifying:
            return False
        self._value = value
        self.emit_properties_changed({"Value": value})
        return True


class Advertisement(ServiceInterface):
    """A connectable LE advertisement carrying the board's complete local name."""

    def __init__(self, path: str, local_name: str) -> None:
        super().__init__("org.bluez.LEAdvertisement1")
        self.path = path
        self._local_name = local_name
        self._appearance = 0xFFFF  # BlueZ's "leave it out"

    @dbus_property(access=PropertyAccess.READ)
    def Type(self) -> Str:
        return "peripheral"

    @dbus_property(access=PropertyAccess.READ)
    def LocalName(self) -> Str:
        return self._local_name

    @dbus_property(access=PropertyAccess.READ)
    def Discoverable(self) -> Bool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Appearance(self) -> UInt16:
        return self._appearance

    def nudge(self) -> None:
        """Change the advertisement a little, so bluetoothd sets it up (and enables it) again.

        The address stays: the advertising instance is the same one.
        """
        self._appearance = 0x0000 if self._appearance == 0xFFFF else 0xFFFF
        self.emit_properties_changed({"Appearance": self._appearance})

    @method()
    def Release(self) -> None:
        pass  # bluetoothd dropped it (adapter gone); the board registers again on return


def variant_value(value: Any) -> Any:
    return value.value if isinstance(value, Variant) else value
