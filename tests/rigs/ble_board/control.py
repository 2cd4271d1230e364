"""Steering the emulated board from a test: one text line in, one JSON line out.

Commands: ``status``; ``sent FROM`` (accelerometer payloads notified from
index FROM, as milli-g triples); ``gesture NAME``; ``press A|B [long]``;
``vanish``; ``return``. A Unix socket, so a test running as another user
(the kiosk's) can steer a board that runs as root.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
from pathlib import Path
from typing import Any

from tests.rigs.ble_board.board import EmulatedBoard

_ACCEL = struct.Struct("<hhh")


async def handle(board: EmulatedBoard, line: str) -> dict[str, Any]:
    words = line.split()
    if not words:
        return {"error": "empty command"}
    command, args = words[0], words[1:]
    if command == "status":
        r = board.record
        return {
            "name": board.local_name,
            "address": board.address,
            "present": board.present,
            "notifying": board.accel_data.notifying,
            "gesture": board.gesture,
            "period_ms": board.period_ms,
            "period_writes": r.period_writes,
            "led_writes": [v.hex() for v in r.led_writes],
            "led_commands_dropped": r.led_commands_dropped,
            "texts": [v.hex() for v in r.texts],
            "sent": len(r.sent),
            "button_notifications": r.button_notifications,
            "subscriptions": r.subscriptions,
            "crashes": r.crashes,
        }
    if command == "sent":
        start = int(args[0]) if args else 0
        return {
            "from": start,
            "samples": [list(_ACCEL.unpack(p)) for p in board.record.sent[start:]],
        }
    if command == "gesture" and args:
        if args[0].lower() not in board.movements:
            return {"error": f"no movement {args[0]!r}; have {sorted(board.movements)}"}
        board.gesture = args[0].lower()
        return {"gesture": board.gesture}
    if command == "press" and args and args[0] in board.buttons:
        await board.press(args[0], long_press=args[1:] == ["long"])
        return {"pressed": args[0]}
    if command == "repeat-advert" and args in (["on"], ["off"]):
        board.repeat_advert = args == ["on"]
        return {"repeat_advert": board.repeat_advert}
    if command == "vanish":
        await board.vanish()
        return {"present": board.present}
    if command == "return":
        await board.come_back()
        return {"present": board.present}
    return {"error": f"unknown command {line!r}"}


async def serve(board: EmulatedBoard, path: Path) -> asyncio.AbstractServer:
    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    reply = await handle(board, line.decode().strip())
                except Exception as exc:  # a bad command must not stop the board
                    reply = {"error": repr(exc)}
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        finally:
            writer.close()

    path.unlink(missing_ok=True)
    server = await asyncio.start_unix_server(client, path=str(path))
    os.chmod(path, 0o666)  # the checks run as the kiosk's unprivileged user
    return server


class BoardRemote:
    """The test's end of the control socket (blocking, one request at a time)."""

    def __init__(self, path: str | Path, timeout_s: float = 30.0) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout_s)
        self._sock.connect(str(path))
        self._file = self._sock.makefile("rwb")

    def ask(self, command: str) -> dict[str, Any]:
        self._file.write(command.encode() + b"\n")
        self._file.flush()
        line = self._file.readline()
        if not line:
            raise ConnectionError("the emulated board closed its control socket")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"emulated board: {reply['error']}")
        return reply

    def status(self) -> dict[str, Any]:
        return self.ask("status")

    def sent(self, start: int = 0) -> list[tuple[int, int, int]]:
        return [tuple(s) for s in self.ask(f"sent {start}")["samples"]]  # type: ignore[misc]

    def close(self) -> None:
        self._file.close()
        self._sock.close()
