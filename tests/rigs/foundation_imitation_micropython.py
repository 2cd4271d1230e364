# A stand-in for the micro:bit Educational Foundation's serial firmware, for
# QEMU's micro:bit only (the Foundation publishes its hex for V2, and QEMU
# emulates a V1). It answers like that firmware (SWVER 0.3.0, protocol 1) and,
# like it, "panics" on any command it does not know: it writes PANIC 210 and
# never answers or streams again. The kiosk must therefore never send it one.

from microbit import accelerometer, button_a, button_b, running_time, sleep, uart

KNOWN = ("HS", "SWVER", "HWVER", "PER", "START", "ZSTART", "STOP", "MBID", "RMBID", "RF")
ANSWERS = {"HS": "1", "SWVER": "0.3.0", "HWVER": "2", "MBID": "1234567"}


def axis(value):
    return min(max(value, -2048), 2047) + 2048


def main():
    uart.init(baudrate=115200)
    streaming = False
    sequence = 0
    pending = b""
    due = running_time()
    while True:
        if uart.any():
            pending += uart.read(uart.any())
        end = pending.find(b"\n")
        if end >= 0:
            text = str(pending[:end], "ascii").strip()
            pending = pending[end + 1 :]
            close = text.find("]")
            start = text.find("[", close + 1)
            cmd = text[close + 1 : start]
            if not text.startswith("C[") or start < 0 or cmd not in KNOWN:
                uart.write("PANIC 210\n")
                while True:
                    sleep(1000)
            if cmd in ("ZSTART", "STOP"):
                streaming = cmd == "ZSTART"
            uart.write("R[{}]{}[{}]\n".format(text[2:close], cmd, ANSWERS.get(cmd, "")))
        now = running_time()
        if now < due:
            sleep(1)
            continue
        due = max(due + 20, now - 100)
        if streaming:
            x, y, z = accelerometer.get_values()
            buttons = button_a.is_pressed() + 2 * button_b.is_pressed()
            line = "P{:02X}{:03X}{:03X}{:03X}{:d}\n"
            uart.write(line.format(sequence, axis(x), axis(y), axis(z), buttons))
            sequence = (sequence + 1) & 255


main()
