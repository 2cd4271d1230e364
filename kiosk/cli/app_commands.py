"""``kiosk`` / ``kiosk run``: the touchscreen app; ``kiosk demo``: the scripted journey headless.

``run`` reads the appliance's configuration (display, session, sound, admin
PIN, micro:bit, database), applies the lockdown hints before the display
opens, and tells systemd when the first frame is up. With no display at all
it runs the headless demo instead, so a fresh checkout always shows something.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import signal
import sys
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.i18n import LANGUAGES, SOURCE_LANGUAGE

log = logging.getLogger(__name__)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 800x480, not {text!r}") from None
    if not (200 <= w <= 8000 and 200 <= h <= 8000):
        raise argparse.ArgumentTypeError(f"size {text} is out of range (200..8000 per side)")
    return w, h


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser("run", help="the touchscreen app (the default command)")
    run.add_argument(
        "--windowed", action="store_true", help="a normal window, not fullscreen/locked"
    )
    run.add_argument("--size", type=_size, metavar="WxH", help="window size, e.g. 800x480")
    run.add_argument("--db", type=Path, metavar="PATH", help="the database file")
    run.add_argument("--config", type=Path, metavar="PATH", help="the kiosk.toml to read")
    run.set_defaults(func=run_app)

    demo = subparsers.add_parser("demo", help="the whole visitor journey with a simulated board")
    demo.add_argument("--headless", action="store_true", help="no window (SDL dummy video driver)")
    demo.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="screenshots and summary.json go here",
    )
    demo.add_argument(
        "--size",
        type=_size,
        default=(800, 480),
        metavar="WxH",
        help="screen size (default 800x480)",
    )
    demo.add_argument(
        "--fps", type=int, default=60, metavar="N", help="frames per second at most (default 60)"
    )
    demo.add_argument(
        "--board",
        choices=("pretend", "ble-emulated"),
        default="pretend",
        help="pretend: the simulated board (default); ble-emulated: over Bluetooth to the "
        "BlueZ test rig's emulated micro:bit",
    )
    demo.add_argument(
        "--board-control",
        type=Path,
        default=Path("/run/ble-board/control.sock"),
        metavar="SOCKET",
        help="the emulated board's control socket (with --board ble-emulated)",
    )
    demo.add_argument(
        "--per-move", type=int, default=5, metavar="N", help="recordings per move (default 5)"
    )
    demo.add_argument(
        "--test-seconds", type=float, default=3.0, metavar="S", help="live test time per move"
    )
    demo.add_argument(
        "--language",
        choices=sorted(LANGUAGES),
        default=SOURCE_LANGUAGE,
        help="the language on screen (default en)",
    )
    demo.set_defaults(func=run_demo_command)


def run_demo_command(args: argparse.Namespace) -> int:
    if args.headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ["SDL_AUDIODRIVER"] = "dummy"
    from kiosk.ui.demo import DemoFailed, DemoPlan, run_demo
    from kiosk.ui.demo_boards import open_demo_board

    plan = DemoPlan(
        size=args.size,
        recordings_per_move=max(3, args.per_move),
        test_seconds=args.test_seconds,
        language=getattr(args, "language", SOURCE_LANGUAGE),
    )
    try:
        board = open_demo_board(args.board, args.board_control)
        summary = run_demo(args.out, dataclasses.replace(plan, fps=max(1, args.fps)), board)
    except DemoFailed as error:
        raise KioskError(f"the demo stopped: {error}") from None
    print(json.dumps(summary, indent=1))
    return 0


def _display_available() -> bool:
    if os.environ.get("SDL_VIDEODRIVER"):
        return True
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return True
    return Path("/dev/dri").exists() or Path("/dev/fb0").exists()  # kmsdrm / fbdev on the Pi


def run_app(args: argparse.Namespace) -> int:
    from kiosk.system.config import admin_settings_path, database_path, load_config
    from kiosk.system.lockdown import apply_sdl_hints

    if not _display_available():
        print(
            "kiosk: no display here, so running the headless demo into demo-out/", file=sys.stderr
        )
        return run_demo_command(
            argparse.Namespace(
                headless=True,
                out=Path("demo-out"),
                size=(800, 480),
                per_move=5,
                test_seconds=3.0,
                board="pretend",
                board_control=None,
                fps=60,
            )
        )
    # The admin screen's changes live beside the database (see load_config).
    config, problems = load_config(args.config, database=args.db)
    db_path = database_path(config, args.db)
    admin_settings = admin_settings_path(config, args.db)
    for problem in problems:
        log.warning("configuration: %s", problem)
    locked = not args.windowed
    apply_sdl_hints(locked)

    from kiosk.session.admin_settings import SettingsFile
    from kiosk.session.boards import HardwareBoards
    from kiosk.session.session import Session
    from kiosk.store.startup import open_for_kiosk
    from kiosk.system.config import DEFAULT_PIN_HASH
    from kiosk.system.notify import ServiceNotifier
    from kiosk.system.pin import PIN_FILENAME, PinKeeper
    from kiosk.ui.app import AppOptions, KioskApp

    settings = config
    # Never refuses: a damaged database is moved aside and recovered, a full
    # disk gives a kiosk with recording off (see kiosk.store.startup).
    store, startup = open_for_kiosk(db_path)
    notifier = ServiceNotifier()
    if not startup.clean:
        notifier.status(startup.summary)
    session = Session(
        store,
        # The session's settings as they are when a board is opened (the admin screen
        # can change the radio remote's id while the kiosk runs).
        HardwareBoards(lambda: session.settings),
        settings,
        # The technician's PIN; a box still on the shipped default asks staff to
        # choose one on the PIN pad instead of accepting 1234.
        pin_check=PinKeeper(config.pin_hash, db_path.parent / PIN_FILENAME, DEFAULT_PIN_HASH),
        settings_file=SettingsFile(admin_settings),  # admin changes kept across restarts
        startup=startup,
    )
    size = args.size or ((config.width, config.height) if config.width else None)
    options = AppOptions(
        size=size or ((1024, 600) if args.windowed else None),
        fullscreen=config.fullscreen and not args.windowed,
        diagonal_inches=config.diagonal_inches,
        locked=locked,
        corner_hold_s=config.corner_hold_s,
        sound_volume=config.sound_volume,
    )
    try:
        app = KioskApp(session, options, notifier)
    except Exception as error:  # pygame.error: no usable video device
        session.close()
        store.close()
        raise KioskError(
            f"cannot open the display ({error}); try `kiosk demo --headless --out DIR`"
        ) from None
    signal.signal(signal.SIGTERM, lambda *_: setattr(app, "running", False))
    try:
        return app.run()
    finally:
        if session.link is not None:
            session.link.close()
        app.close()
        session.close()  # every queued change saved first
        store.close()
