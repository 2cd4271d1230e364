"""``kiosk config``: the settings in force, or the documented example file.

``kiosk config`` prints every setting as the kiosk would use it (the
technician's file with the admin screen's changes on top) and any problem
with the files; ``kiosk config --example`` prints the documented example that
``deploy/kiosk.toml`` holds, generated from the schema in ``kiosk.settings``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    config = subparsers.add_parser(
        "config", help="show the settings in force, or the documented example kiosk.toml"
    )
    config.add_argument(
        "--example", action="store_true", help="print the documented example settings file"
    )
    config.add_argument("--config", type=Path, metavar="PATH", help="the kiosk.toml to read")
    config.add_argument("--db", type=Path, metavar="PATH", help="the database file")
    config.set_defaults(func=run_config)


def run_config(args: argparse.Namespace) -> int:
    from kiosk.settings import SCHEMA
    from kiosk.system.config import example_toml, load_config

    if args.example:
        sys.stdout.write(example_toml())
        return 0
    settings, problems = load_config(args.config, database=args.db)
    section = ""
    for spec in SCHEMA:
        if spec.meta.section != section:
            section = spec.meta.section
            print(f"[{section}]")
        value = getattr(settings, spec.name)
        shown = "(hash)" if spec.name == "pin_hash" else repr(value)
        print(f"{spec.meta.key} = {shown}")
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 0
