"""``kiosk bench``: speed and memory figures, each with a baseline measured in the same run.

Each area of the kiosk has a module in ``kiosk.bench`` with a ``run() -> dict``
returning its figures; this command runs them in order and prints one JSON
object (``--json``) or one line per figure. Targets are checked by reading
these figures, never by timed tests.

``--window`` draws in a real window, so that presenting each frame is counted
(SDL's dummy driver presents nothing): the desktop's X display when there is
one, else a private Xvfb (started here, stopped at the end), else the Pi's
console through KMS/DRM. ``bench_video_driver`` says which one the figures are
from; on a kiosk, ``kiosk bench --window --only ui`` is the figure a
technician can send back.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

BENCH_MODULES = (
    "kiosk.bench.ml",
    "kiosk.bench.train_latency",
    "kiosk.bench.links",
    "kiosk.bench.explain",
    "kiosk.bench.ui",
)

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench", help="measure speed and memory (also a self-test on a Pi)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="AREA",
        help="run only these areas (ml, train_latency, links, explain, ui); repeatable",
    )
    parser.add_argument(
        "--window",
        action="store_true",
        help="draw in a real window (X display, Xvfb or KMS/DRM) so presenting is counted",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    xvfb = _use_a_window() if getattr(args, "window", False) else None
    try:
        figures["bench_video_driver"] = os.environ.get("SDL_VIDEODRIVER", "default")
        for name in BENCH_MODULES:
            area = name.rsplit(".", 1)[1]
            if args.only and area not in args.only:
                continue
            figures.update(importlib.import_module(name).run())
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)
    figures["bench_total_s"] = round(time.perf_counter() - started, 3)
    if args.json:
        print(json.dumps(figures, indent=1, sort_keys=True))
    else:
        for key in sorted(figures):
            print(f"{key:40s} {figures[key]}")
    return 0


XVFB_WAIT_S = 20.0


def _use_a_window() -> subprocess.Popen[bytes] | None:
    """Point SDL (here and in the bench's child processes) at a real display.

    Returns the Xvfb started for it, if one was (the caller stops it).
    """
    if os.environ.get("DISPLAY"):
        os.environ["SDL_VIDEODRIVER"] = "x11"
        return None
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        if Path("/dev/dri").is_dir():  # a Pi's console, no desktop
            os.environ["SDL_VIDEODRIVER"] = "kmsdrm"
            return None
        raise SystemExit("kiosk bench --window: no X display, no Xvfb and no /dev/dri")
    number = next(n for n in range(90, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    process = subprocess.Popen(
        [xvfb, f":{number}", "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    socket = Path(f"/tmp/.X11-unix/X{number}")
    deadline = time.monotonic() + XVFB_WAIT_S
    while not socket.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(10)
            raise SystemExit(f"kiosk bench --window: Xvfb :{number} did not start")
        time.sleep(0.05)
    os.environ["DISPLAY"] = f":{number}"
    os.environ["SDL_VIDEODRIVER"] = "x11"
    log.info("drawing in a window on Xvfb :%d", number)
    return process
