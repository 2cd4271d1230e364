"""An emulated BBC micro:bit on a real BlueZ stack (test equipment, not product code).

It runs as a GATT server and LE advertiser through bluetoothd's D-Bus API
(``dbus-fast``) on one virtual controller, so the kiosk's own ``BleLink`` can
find, connect to and stream from it through bluepy, the kernel and a second
virtual controller exactly as it would with a board on a desk. See
``board.py`` for what it serves and ``control.py`` for how a test steers it.
"""
