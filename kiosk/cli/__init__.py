"""The ``kiosk`` command: one sub-command per job, each defined in its own module.

With no sub-command (or only options such as ``--windowed``) it runs the
touchscreen app. Expected failures (``KioskError``) print one clear line and
exit with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from kiosk.errors import KioskError

# Each module defines ``register(subparsers)``, which adds its sub-commands and
# sets ``func`` (taking the parsed arguments, returning an exit code).
COMMAND_MODULES = (
    "kiosk.cli.app_commands",  # run (default), demo
    "kiosk.cli.ml_commands",  # features, evaluate, train, predict
    "kiosk.cli.store_commands",  # import, export, projects
    "kiosk.cli.monitor",  # monitor
    "kiosk.cli.doctor",  # doctor, set-pin
    "kiosk.cli.config_commands",  # config
    "kiosk.cli.bench",  # bench
    "kiosk.cli.firmware",  # firmware build, flash
)

DEFAULT_COMMAND = "run"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="micro:bit machine-learning kiosk. With no command, runs the touchscreen app.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def _with_default_command(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    known: set[str] = set()
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        known.update(getattr(action, "choices", {}) or {})
    if any(arg in ("-h", "--help") for arg in argv[:1]):
        return argv
    if not any(arg in known for arg in argv):
        return [DEFAULT_COMMAND, *argv] if DEFAULT_COMMAND in known else argv
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    # pygame prints a banner to stdout on import; `--json` output must be only JSON.
    # Set before anything imports pygame, and inherited by child processes.
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    parser = build_parser()
    args_list = _with_default_command(list(sys.argv[1:] if argv is None else argv), parser)
    args = parser.parse_args(args_list)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
    try:
        return int(args.func(args) or 0)
    except KioskError as exc:
        print(f"kiosk {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `kiosk features ... | head`): stop quietly,
        # and keep Python from complaining again while flushing at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
