# The micro:bit ML kiosk's own program for the micro:bit (MicroPython, V1 and V2).
#
# One program, three jobs (ROLE, set by the kiosk when it builds the .hex):
#   "usb"    - plugged into the kiosk: sends its own movement and buttons.
#   "bridge" - plugged into the kiosk: passes on what a remote board sends by radio.
#   "remote" - on a battery: sends its movement and buttons by radio to the bridge
#              (and works like "usb" when plugged in, so the kiosk can read its id).
# Lines between "#: <roles>" and "#: end" are kept only in those roles' hex
# files: the V1 board has about 9 kB of memory for the whole program.
#
# While the kiosk has asked for data (ZSTART), every 20 ms it sends a line
#   P <sequence> <x> <y> <z> <buttons>   (hex digits, no spaces: 13 characters)
# with x, y, z in milli-g plus 2048 and buttons A = 1, B = 2.
# The commands it answers are in kiosk_serial.py.

from microbit import *
import kiosk_serial as serial

#: bridge remote
import radio

#: end

ROLE = "usb"
VERSION = "kiosk-1.0-" + ROLE  # what SWVER answers: the kiosk knows its own program by it
MY_HEX = "%08X" % serial.MY_ID
sequence = 0
remote_hex = ""  # bridge: the remote board whose radio packets to pass on
tuned = ""  # bridge: the remote board the radio is tuned to
latest = None  # bridge: the newest sample from that remote


#: bridge remote
def tune_radio(board_id):
    # A bridge and its remote meet on a channel and group chosen by the remote's
    # id, so two kiosks side by side do not hear each other's boards.
    radio.config(channel=board_id % 84, group=(board_id >> 8) & 255, length=32, queue=4)
    radio.on()


def listen():
    # The bridge keeps its remote's newest sample; the remote takes icons.
    global latest
    try:
        packet = radio.receive()
    except Exception:  # a damaged packet
        return
    if packet and len(packet) == 20 and packet[:8] == remote_hex:
        latest = packet[8:]
    elif packet and packet[:9] == "L" + MY_HEX:
        serial.show_icon(packet[9:])


#: end
#: bridge
def bridge_answer(cmd, value):
    # RMBID[<id>]: which remote board to listen to (its MBID); LED: show it there too.
    global remote_hex
    if cmd == "LED":
        if remote_hex:
            radio.send("L" + remote_hex + value)
        return value
    if cmd != "RMBID":
        return serial.UNKNOWN
    if value:
        if not value.isdigit() or int(value) > 0xFFFFFFFF:
            return serial.BAD_VALUE
        remote_hex = "%08X" % int(value)  # main() tunes the radio to it
    return str(int(remote_hex, 16)) if remote_hex else "0"


#: end


def axis(value):
    return min(max(value, -2048), 2047) + 2048


def next_sample():
    # The 12 hex digits after P: sequence, x, y, z, buttons.
    global sequence, latest
    #: bridge
    line, latest = latest, None
    return line
    #: end
    x, y, z = accelerometer.get_values()
    buttons = button_a.is_pressed() + 2 * button_b.is_pressed()
    sequence = (sequence + 1) & 255
    return "%02X%03X%03X%03X%d" % (sequence, axis(x), axis(y), axis(z), buttons)


def main():
    global tuned
    uart.init(baudrate=115200)  # from here on the USB serial port speaks the protocol
    serial.version = VERSION
    display.show(Image.SQUARE_SMALL)
    #: bridge
    serial.extra = bridge_answer
    #: end
    #: remote
    tune_radio(serial.MY_ID)
    display.scroll(str(serial.MY_ID), wait=False)  # staff can read its id off the board
    #: end
    pending = b""
    due = running_time()
    while True:
        if uart.any():
            pending = serial.serve(pending)
        #: bridge
        if tuned != remote_hex:  # here, not in the command: the V1's stack is small
            tuned = remote_hex
            tune_radio(int(tuned, 16))
        #: end
        #: bridge remote
        listen()
        #: end
        now = running_time()
        if now < due:
            sleep(1)
            continue
        due += serial.period
        if due < now - 100:  # far behind (a busy board): carry on, do not burst
            due = now
        line = next_sample()
        if line and serial.streaming:
            uart.write("P" + line + "\n")
        #: remote
        radio.send(MY_HEX + line)
        if button_a.is_pressed() and button_b.was_pressed():
            display.scroll(str(serial.MY_ID), wait=False)  # hold A, press B: the id again
        #: end


main()
