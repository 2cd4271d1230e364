"""``kiosk bench``: speed and memory figures, each with a baseline measured in the same run.

Each area of the kiosk has a module in ``kiosk.bench`` with a ``run() -> dict``
returning its figures; this command runs them in order and prints one JSON
object (``--json``) or one line per figure. Targets are checked by reading
these figures, never by timed tests.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import time
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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    for name in BENCH_MODULES:
        area = name.rsplit(".", 1)[1]
        if args.only and area not in args.only:
            continue
        figures.update(importlib.import_module(name).run())
    figures["bench_total_s"] = round(time.perf_counter() - started, 3)
    if args.json:
        print(json.dumps(figures, indent=1, sort_keys=True))
    else:
        for key in sorted(figures):
            print(f"{key:40s} {figures[key]}")
    return 0
