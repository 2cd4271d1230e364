"""``python -m tests.rigs.ble_board --adapter hci1 --name gutop --control SOCKET``.

Serves one emulated micro:bit through bluetoothd until killed; prints
``ready <address>`` once it advertises.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from dbus_fast import BusType
from dbus_fast.aio import MessageBus

from tests.rigs.ble_board.board import EmulatedBoard
from tests.rigs.ble_board.control import serve
from tests.rigs.ble_board.movements import DEFAULT_FILE, load_movements

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "createai"


async def main(args: argparse.Namespace) -> None:
    bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
    board = EmulatedBoard(
        bus,
        args.adapter,
        args.name,
        load_movements(args.movements),
        address=args.address,
        led_service=not args.no_led,
    )
    await board.start()
    server = await serve(board, args.control)
    print(f"ready {args.address}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m tests.rigs.ble_board")
    parser.add_argument("--adapter", default="hci1")
    parser.add_argument("--name", default="gutop", help="the 5-letter name it advertises")
    parser.add_argument("--control", type=Path, required=True, help="Unix socket to steer it")
    parser.add_argument("--movements", type=Path, default=DATA / DEFAULT_FILE)
    parser.add_argument("--address", default="", help="the static address hci1 was given")
    parser.add_argument("--no-led", action="store_true", help="a program without the LED service")
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s board %(message)s"
    )
    asyncio.run(main(parser.parse_args()))
