"""Where the session gets its micro:bit links from, so tests and demos can swap the source.

The real source opens Bluetooth, USB serial or a simulated ("pretend") board
through ``kiosk.microbit.factory``; a test passes its own ``BoardSource``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from kiosk.microbit.link import Link
from kiosk.settings import Settings


class BoardSource(Protocol):
    def usb_board_present(self) -> bool: ...

    def open_bluetooth(self, columns: str) -> Link: ...

    def open_usb(self) -> Link: ...

    def open_simulated(self) -> Link: ...


class HardwareBoards:
    """Real boards through the micro:bit factory; the pretend board is a SimulatedLink."""

    def __init__(self, settings: Callable[[], Settings], simulated_seed: int = 0) -> None:
        # A getter, not a copy: the admin screen changes settings (the radio remote's id)
        # while the kiosk runs, and the next board opened must use the new ones.
        self._settings = settings
        self._seed = simulated_seed

    def usb_board_present(self) -> bool:
        from kiosk.microbit.factory import usb_board_present

        return usb_board_present()

    def open_bluetooth(self, columns: str) -> Link:
        from kiosk.microbit.factory import open_link

        return open_link("ble", pattern=columns)

    def open_usb(self) -> Link:
        from kiosk.microbit.factory import open_link

        return open_link(
            "serial",
            serial_port=self._settings().serial_port,
            remote_id=self._settings().radio_remote_id,
        )

    def open_simulated(self) -> Link:
        from kiosk.microbit.simulated import SimulatedLink

        self._seed += 1  # each pretend board behaves a little differently
        return SimulatedLink(gesture="still", seed=self._seed, realtime=True)
