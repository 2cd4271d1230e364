"""Choose and build the right micro:bit link from the kiosk's settings.

One place decides which backend serves the visitor, so the app, ``kiosk
monitor`` and the doctor agree: ``auto`` prefers a board on USB (no pairing,
most reliable), then Bluetooth when a pairing pattern is known and this
machine has bluepy and an adapter, and falls back to a simulated board that
is clearly labelled as such (``Link.simulated``), so the kiosk still demos.
Links are returned unconnected: the caller calls ``connect()``.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from pathlib import Path

from kiosk.errors import LinkError
from kiosk.microbit.link import Link
from kiosk.microbit.serial_link import SerialLink, find_serial_boards
from kiosk.signal import SampleBuffer

log = logging.getLogger(__name__)

KINDS = ("auto", "ble", "serial", "simulated")
BLUETOOTH_SYSFS = Path("/sys/class/bluetooth")

Pattern = str | Sequence[int]


def usb_board_present() -> bool:
    """True if a micro:bit is plugged in on USB (VID 0x0D28, PID 0x0204)."""
    try:
        return bool(find_serial_boards())
    except Exception:  # listing ports must never stop the kiosk from starting
        log.warning("could not list the USB serial ports", exc_info=True)
        return False


def bluetooth_available(sysfs: Path = BLUETOOTH_SYSFS) -> bool:
    """True if bluepy is installed and the kernel reports a Bluetooth adapter (hciN)."""
    if importlib.util.find_spec("bluepy") is None:
        return False
    try:
        return any(entry.name.startswith("hci") for entry in sysfs.iterdir())
    except OSError:
        return False


def open_link(
    kind: str = "auto",
    pattern: Pattern | None = None,
    serial_port: str = "auto",
    remote_id: str | int = "",
    *,
    buffer: SampleBuffer | None = None,
    gesture: str = "still",
) -> Link:
    """An unconnected link of ``kind`` ("auto", "ble", "serial" or "simulated").

    ``pattern`` is the board's pairing pattern (digits "31524", heights or its
    5-letter name) for Bluetooth; ``serial_port`` a device path or "auto";
    ``remote_id`` the remote board of a radio bridge (empty: none);
    ``gesture`` what a simulated board does. Raises LinkError for a choice
    that cannot work (e.g. Bluetooth without a pattern).
    """
    kind = (kind or "auto").strip().lower()
    if kind not in KINDS:
        raise LinkError(f"Unknown micro:bit link {kind!r}: choose one of {', '.join(KINDS)}.")
    if kind == "auto":
        kind = _choose(pattern, serial_port)
    if kind == "serial":
        return SerialLink(serial_port or "auto", remote_id or None, buffer=buffer)
    if kind == "ble":
        if pattern is None or (isinstance(pattern, str) and not pattern.strip()):
            raise LinkError("Bluetooth needs the micro:bit's pattern: copy it from its LEDs.")
        from kiosk.microbit.ble import BleLink  # imported here: bluepy stays optional

        return BleLink(pattern, buffer=buffer)
    from kiosk.microbit.simulated import SimulatedLink

    return SimulatedLink(gesture=gesture, buffer=buffer)


def _choose(pattern: Pattern | None, serial_port: str) -> str:
    if serial_port and serial_port != "auto":
        return "serial"  # a configured port means a board is expected there
    if usb_board_present():
        return "serial"
    if pattern is not None and bluetooth_available():
        return "ble"
    log.warning(
        "No micro:bit on USB%s: using a simulated micro:bit (demo mode).",
        "" if pattern is None else " and no usable Bluetooth adapter",
    )
    return "simulated"
