# The serial protocol of the micro:bit ML kiosk's program (MicroPython, V1 and V2).
#
# It speaks the micro:bit Educational Foundation's serial protocol, one line each way:
#   the kiosk sends   C[<id>]<COMMAND>[<value>]
#   the board answers R[<id>]<COMMAND>[<value>]   or   R[<id>]ERROR[<code>]
# Commands: HS (handshake), SWVER, HWVER, ZSTART (start sending), STOP, PER
# (milliseconds between samples), and two of the kiosk's own: LED (show an
# icon) and MBID (this board's id). Anything else gets an ERROR answer; the
# board never stops. main.py adds the commands of its role (see "extra").
# This file is a module of its own because MicroPython on the V1 board
# (about 9 kB of memory) cannot compile the whole program in one piece.
# V1 has no bytes.decode, so bytes become text with str(b, "ascii").

from microbit import display, uart
import machine
import os

# Error codes in ERROR[...] answers
BAD_VALUE = 1  # a known command with a value it cannot use
UNKNOWN = 4  # a command this program does not know
MALFORMED = 5  # a line that is not C[<id>]<COMMAND>[<value>]

HARDWARE = "2" if "v2" in os.uname().machine else "1"
MY_ID = int.from_bytes(machine.unique_id()[-4:], "big")  # what MBID answers

version = "kiosk"  # what SWVER answers; main.py sets it
extra = None  # main.py's answer(cmd, value) for its role's own commands
streaming = False  # True between ZSTART and STOP
period = 20  # ms between samples


def is_hex(text):
    for ch in text:
        if ch not in "0123456789ABCDEFabcdef":
            return False
    return True


def show_icon(value):
    # 10 hex digits = 5 bytes, one per row from the top; bit 16 >> column
    # lights that column (column 0 on the left). False if the value is wrong.
    if len(value) != 10 or not is_hex(value):
        return False
    for row in range(5):
        bits = int(value[2 * row : 2 * row + 2], 16)
        if bits > 31:
            return False
        for col in range(5):
            display.set_pixel(col, row, 9 if bits & (16 >> col) else 0)
    return True


def answer(cmd, value):
    # The answer's value for one command, or an error code (a number).
    global streaming, period
    if cmd == "HS":
        return "1"  # protocol version 1, as the Foundation's firmware answers
    if cmd == "SWVER":
        return version
    if cmd == "HWVER":
        return HARDWARE
    if cmd == "MBID":
        return BAD_VALUE if value else str(MY_ID)
    if cmd == "ZSTART" or cmd == "STOP":
        streaming = cmd == "ZSTART"
        return ""
    if cmd == "PER":
        if not value.isdigit() or not 10 <= int(value) <= 65535:
            return BAD_VALUE
        period = int(value)
        return value
    if cmd == "LED" and not show_icon(value):
        return BAD_VALUE
    if extra:
        return extra(cmd, value)
    return value if cmd == "LED" else UNKNOWN


def command(line):
    # Answer one line from the kiosk: C[<id>]<COMMAND>[<value>]
    try:
        text = str(line, "ascii").strip()
    except Exception:
        text = ""
    close = text.find("]")
    start = text.find("[", close + 1)
    ident = text[2:close]
    value = text[start + 1 : -1]
    ok = text[:2] == "C[" and 3 <= close <= 10 and start > 0 and text[-1:] == "]"
    if not ok or not is_hex(ident) or "[" in value or "]" in value:
        uart.write("R[0]ERROR[%d]\n" % MALFORMED)
        return
    cmd = text[close + 1 : start]
    try:
        result = answer(cmd, value)
    except Exception:
        result = BAD_VALUE
    if type(result) is int:
        uart.write("R[%s]ERROR[%d]\n" % (ident, result))
    else:
        uart.write("R[%s]%s[%s]\n" % (ident, cmd, result))


def serve(pending):
    # Answer every complete line that arrived; returns the unfinished rest.
    pending += uart.read(uart.any())
    end = pending.find(b"\n")
    while end >= 0:
        command(pending[:end])
        pending = pending[end + 1 :]
        end = pending.find(b"\n")
    return pending if len(pending) < 100 else b""  # longer is noise: drop it
