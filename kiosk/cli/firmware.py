"""``kiosk firmware build`` (the kiosk's micro:bit programs as hex files) and ``kiosk flash ROLE``.

build writes one hex per role (usb, bridge, remote) and board version (V1,
V2), offline, from ``firmware/`` and the MicroPython runtime that
micropython-microbit-fs ships; the same source gives the same bytes. flash
copies the right one onto the plugged-in micro:bit's drive, waits for the
board to restart and checks it answers with the kiosk's program.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from kiosk.firmware import hexbuild


def register(subparsers: argparse._SubParsersAction) -> None:
    firmware = subparsers.add_parser(
        "firmware",
        help="build the kiosk's micro:bit programs (hex files)",
        description="Build the kiosk's own micro:bit programs as .hex files, offline.",
    )
    actions = firmware.add_subparsers(dest="firmware_command", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build",
        help="write kiosk-<role>-v<1|2>.hex for every role and board version",
        description="Write kiosk-<role>-v<1|2>.hex for the roles usb, bridge and remote on "
        "micro:bit V1 and V2. Deterministic: the same source gives the same bytes.",
    )
    build.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"folder for the hex files (default: {hexbuild.default_out_dir()})",
    )
    build.add_argument(
        "--source",
        type=Path,
        default=None,
        help="the firmware/ folder with the program (default: this checkout's)",
    )
    build.add_argument("--json", action="store_true", help="print what was built as JSON")
    build.set_defaults(func=run_build)

    flash = subparsers.add_parser(
        "flash",
        help="put the kiosk's program on the plugged-in micro:bit",
        description="Copy the kiosk's program for ROLE onto the micro:bit's MICROBIT drive, "
        "wait for the board to restart and check that it answers with that program.",
    )
    flash.add_argument("role", choices=hexbuild.ROLES, help="; ".join(hexbuild.ROLE_WORDS.values()))
    flash.add_argument("--drive", type=Path, default=None, help="the MICROBIT drive's folder")
    flash.add_argument(
        "--board-version",
        type=int,
        choices=hexbuild.BOARD_VERSIONS,
        default=None,
        help="1 or 2 (default: read from the drive's DETAILS.TXT)",
    )
    flash.add_argument(
        "--hex-dir",
        type=Path,
        default=None,
        help=f"where the built hex files are (default: {hexbuild.default_out_dir()})",
    )
    flash.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the board")
    flash.add_argument("--json", action="store_true", help="print the result as JSON")
    flash.set_defaults(func=run_flash)


def run_build(args: argparse.Namespace) -> int:
    out = args.out or hexbuild.default_out_dir()
    started = time.perf_counter()
    built = hexbuild.build_all(out, args.source)
    seconds = time.perf_counter() - started
    if args.json:
        rows = [
            {
                "role": b.role,
                "board_version": b.board_version,
                "path": str(b.path),
                "bytes": b.size,
                "sha256": b.sha256,
            }
            for b in built
        ]
        print(json.dumps({"seconds": round(seconds, 3), "hex_files": rows}, indent=2))
        return 0
    for b in built:
        print(f"{b.path}  {b.size:>9,} bytes  sha256 {b.sha256[:16]}")
    print(f"Built {len(built)} hex files in {seconds:.1f} s.")
    return 0


def run_flash(args: argparse.Namespace) -> int:
    from kiosk.firmware.flasher import flash

    def progress(text: str) -> None:
        if not args.json:
            print(text, file=sys.stderr)

    result = flash(
        args.role,
        drive=args.drive,
        board_version=args.board_version,
        hex_dir=args.hex_dir,
        timeout_s=args.timeout,
        progress=progress,
    )
    if args.json:
        print(
            json.dumps(
                {
                    "role": result.role,
                    "board_version": result.board_version,
                    "hex": str(result.hex_path),
                    "port": result.port,
                    "program": result.program.program,
                    "version": result.program.version,
                    "board_id": result.board_id,
                    "seconds": round(result.seconds, 1),
                },
                indent=2,
            )
        )
        return 0
    print(f"Done in {result.seconds:.0f} s: {result.port} runs {result.program.words}.")
    if result.role == "remote":
        print(
            f"This remote's id is {result.board_id}. Put in kiosk.toml, [microbit]: "
            f'radio_remote_id = "{result.board_id}", then flash the USB board with '
            "'kiosk flash bridge' and run the remote on a battery."
        )
    return 0
