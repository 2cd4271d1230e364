#!/usr/bin/env python3
"""A pretend touch panel for the booted arm64 machine of ``check-arm64.sh --boot``.

The emulated machine has no touch panel, so this creates one through the
kernel's uinput device: a direct-touch (touchscreen) input device with the
multi-touch slots and single-touch axes a real USB or DSI panel reports. The
exhibit sees it exactly as it would see a panel (kernel -> udev -> SDL's evdev
input -> FINGERDOWN/FINGERUP), so a tap made here is a tap on the screen; no
part of the app is bypassed.

It reads commands from stdin, one per line, positions as fractions of the
screen (0..1, as SDL reports them):

    down X Y      put a finger down (or move it there, if down)
    up            lift it
    tap X Y       down, a short hold, up

Standard library only: it runs with the system's python3 in the VM.
"""

from __future__ import annotations

import fcntl
import os
import struct
import sys
import time

# linux/input-event-codes.h and linux/uinput.h (the generic ioctl encoding arm64 uses).
EV_SYN, EV_KEY, EV_ABS = 0x00, 0x01, 0x03
SYN_REPORT = 0
BTN_TOUCH = 0x14A
ABS_X, ABS_Y = 0x00, 0x01
ABS_MT_SLOT, ABS_MT_POSITION_X, ABS_MT_POSITION_Y, ABS_MT_TRACKING_ID = 0x2F, 0x35, 0x36, 0x39
INPUT_PROP_DIRECT = 0x01
BUS_VIRTUAL = 0x06
ABS_CNT = 0x40


def _iow_int(nr: int) -> int:
    return (1 << 30) | (4 << 16) | (ord("U") << 8) | nr


UI_SET_EVBIT, UI_SET_KEYBIT, UI_SET_ABSBIT, UI_SET_PROPBIT = (
    _iow_int(100),
    _iow_int(101),
    _iow_int(103),
    _iow_int(110),
)
UI_DEV_CREATE, UI_DEV_DESTROY = (ord("U") << 8) | 1, (ord("U") << 8) | 2
MAX = 32767  # the axes' range; SDL reports position / MAX
HOLD_S = 0.3  # a tap's finger-down time: several frames of the app, even on a slow machine


class TouchPanel:
    def __init__(self, name: str = "check-arm64 pretend touch panel") -> None:
        self.fd = os.open("/dev/uinput", os.O_WRONLY | os.O_NONBLOCK)
        for ev in (EV_SYN, EV_KEY, EV_ABS):
            fcntl.ioctl(self.fd, UI_SET_EVBIT, ev)
        fcntl.ioctl(self.fd, UI_SET_KEYBIT, BTN_TOUCH)
        axes = (ABS_X, ABS_Y, ABS_MT_SLOT, ABS_MT_POSITION_X, ABS_MT_POSITION_Y, ABS_MT_TRACKING_ID)
        for axis in axes:
            fcntl.ioctl(self.fd, UI_SET_ABSBIT, axis)
        fcntl.ioctl(self.fd, UI_SET_PROPBIT, INPUT_PROP_DIRECT)
        absmax, absmin = [0] * ABS_CNT, [0] * ABS_CNT
        for axis in (ABS_X, ABS_Y, ABS_MT_POSITION_X, ABS_MT_POSITION_Y):
            absmax[axis] = MAX
        absmax[ABS_MT_SLOT] = 0  # one finger
        absmax[ABS_MT_TRACKING_ID] = 65535
        # struct uinput_user_dev: name[80], input_id (4 x u16), ff_effects_max, abs arrays.
        setup = struct.pack(
            f"80s4HI{ABS_CNT}i{ABS_CNT}i{ABS_CNT}i{ABS_CNT}i",
            name.encode()[:79],
            BUS_VIRTUAL,
            0x1D6B,
            0x0001,
            1,
            0,
            *absmax,
            *absmin,
            *([0] * ABS_CNT),
            *([0] * ABS_CNT),
        )
        os.write(self.fd, setup)
        fcntl.ioctl(self.fd, UI_DEV_CREATE)
        self.down_now = False
        self.tracking = 0

    def _emit(self, *events: tuple[int, int, int]) -> None:
        now = time.time()
        sec, usec = int(now), int((now % 1) * 1_000_000)
        data = b"".join(struct.pack("llHHi", sec, usec, t, c, v) for t, c, v in events)
        data += struct.pack("llHHi", sec, usec, EV_SYN, SYN_REPORT, 0)
        os.write(self.fd, data)

    def down(self, fx: float, fy: float) -> None:
        x, y = (round(min(max(f, 0.0), 1.0) * MAX) for f in (fx, fy))
        events = [(EV_ABS, ABS_MT_SLOT, 0)]
        if not self.down_now:
            self.tracking += 1
            events.append((EV_ABS, ABS_MT_TRACKING_ID, self.tracking))
        events += [(EV_ABS, ABS_MT_POSITION_X, x), (EV_ABS, ABS_MT_POSITION_Y, y)]
        if not self.down_now:
            events.append((EV_KEY, BTN_TOUCH, 1))
        events += [(EV_ABS, ABS_X, x), (EV_ABS, ABS_Y, y)]
        self._emit(*events)
        self.down_now = True

    def up(self) -> None:
        if self.down_now:
            self._emit(
                (EV_ABS, ABS_MT_SLOT, 0), (EV_ABS, ABS_MT_TRACKING_ID, -1), (EV_KEY, BTN_TOUCH, 0)
            )
        self.down_now = False

    def close(self) -> None:
        self.up()
        fcntl.ioctl(self.fd, UI_DEV_DESTROY)
        os.close(self.fd)


def main() -> int:
    panel = TouchPanel()
    print("touch panel ready", flush=True)
    try:
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            if words[0] == "down" and len(words) == 3:
                panel.down(float(words[1]), float(words[2]))
            elif words[0] == "up":
                panel.up()
            elif words[0] == "tap" and len(words) == 3:
                panel.down(float(words[1]), float(words[2]))
                time.sleep(HOLD_S)
                panel.up()
            else:
                print(f"touch: unknown command {line.strip()!r}", file=sys.stderr, flush=True)
    finally:
        panel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
