"""``kiosk doctor`` (is this box able to run the exhibit?) and ``kiosk set-pin``.

Doctor prints each check with what is wrong and how to fix it, and exits 0
when nothing failed, 1 otherwise (warnings do not fail). ``--json`` gives the
same for scripts. The checks themselves live in ``kiosk.system.checks``.

set-pin reads a new admin PIN twice (hidden when typed at a terminal, one
line each when piped) and prints the ``pin_hash = ...`` line for kiosk.toml,
or writes it there with ``--write``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import TextIO

from kiosk.errors import KioskError
from kiosk.system.checks import FAIL, OK, WARN, Check, Host, run_checks
from kiosk.system.config import config_path_from_env, load_config
from kiosk.system.config_edit import toml_string, write_setting
from kiosk.system.pin import hash_pin, pin_problem, restrict_secret_file, verify_pin

_LABEL = {OK: "ok", WARN: "WARN", FAIL: "FAIL"}
_CONFIG_HELP = "settings file (default: $KIOSK_CONFIG or /etc/microbit-kiosk/kiosk.toml)"


def register(subparsers: argparse._SubParsersAction) -> None:
    doctor = subparsers.add_parser(
        "doctor",
        help="check display, touch, Bluetooth, TFLite, database and disk",
        description="Check that this box can run the exhibit, and say how to fix what cannot.",
    )
    doctor.add_argument("--json", action="store_true", help="print the results as JSON")
    doctor.add_argument("--config", type=Path, default=None, help=_CONFIG_HELP)
    doctor.set_defaults(func=run_doctor)

    set_pin = subparsers.add_parser(
        "set-pin",
        help="set the admin PIN (stored as a hash in kiosk.toml)",
        description="Read a new admin PIN twice and print the kiosk.toml line that stores "
        "its hash, or write it into the settings file with --write.",
    )
    set_pin.add_argument(
        "--write",
        action="store_true",
        help="write the hash into the settings file instead of printing it",
    )
    set_pin.add_argument("--config", type=Path, default=None, help=_CONFIG_HELP)
    set_pin.set_defaults(func=run_set_pin)


def format_report(results: list[Check]) -> str:
    width = max(len(c.name) for c in results)
    failed = sum(c.status == FAIL for c in results)
    warned = sum(c.status == WARN for c in results)
    lines = []
    for check in results:
        lines.append(f"{_LABEL[check.status]:<4}  {check.name:<{width}}  {check.detail}")
        if check.fix and check.status != OK:
            lines.append(f"{'':<4}  {'':<{width}}  fix: {check.fix}")
    if failed:
        summary = f"{failed} problem(s) stop the exhibit from working; fix the FAIL lines above."
    elif warned:
        summary = f"The box can run the exhibit; {warned} warning(s) worth a look."
    else:
        summary = "All fine: the box can run the exhibit."
    return "\n".join([*lines, "", summary])


def run_doctor(args: argparse.Namespace) -> int:
    results = run_checks(Host(), args.config)
    ok = not any(c.status == FAIL for c in results)
    if args.json:
        print(json.dumps({"ok": ok, "checks": [c.as_dict() for c in results]}, indent=2))
    else:
        print(format_report(results))
    return 0 if ok else 1


def read_pin_twice(stdin: TextIO | None = None) -> str:
    """The new PIN, typed twice; hidden at a terminal, two lines when piped."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass("New admin PIN (4-8 digits): ")
        second = getpass.getpass("Same PIN again: ")
    else:
        first, second = stdin.readline().strip(), stdin.readline().strip()
    problem = pin_problem(first)
    if problem:
        raise KioskError(f"{problem}; nothing was changed")
    if first != second:
        raise KioskError("the two PINs differ; nothing was changed, try again")
    return first


def run_set_pin(args: argparse.Namespace) -> int:
    pin = read_pin_twice()
    pin_hash = hash_pin(pin)
    line = f"pin_hash = {toml_string(pin_hash)}"
    if not args.write:
        print("Put this line in the [admin] section of kiosk.toml:")
        print(line)
        return 0
    path = args.config or config_path_from_env()
    try:
        write_setting(path, "admin", "pin_hash", pin_hash)
    except KioskError as exc:  # from the atomic writer: names the file and the reason
        hint = "; run with sudo" if "ermission" in str(exc) else ""
        raise KioskError(f"{exc}{hint}") from exc
    except PermissionError as exc:
        raise KioskError(f"cannot write {path} ({exc.strerror}); run with sudo") from exc
    except OSError as exc:
        raise KioskError(f"cannot write {path} ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise KioskError(f"{path} is not valid TOML, so it was left alone: {exc}") from exc
    # The hash of a 4-8 digit PIN cracks in minutes: root and the service only.
    problem = restrict_secret_file(path)
    if problem:
        print(f"WARNING: {problem}; make it readable by root and microbit-kiosk only")
    config, _ = load_config(path)
    if not verify_pin(pin, config.pin_hash):
        raise KioskError(f"wrote {path} but the PIN does not read back; check its [admin] section")
    print(f"The new PIN is saved in {path}.")
    print("Apply it with: sudo systemctl restart microbit-kiosk")
    if _root_is_overlay():
        print(
            "WARNING: the root file system is read-only (overlay): this change is lost at "
            "the next reboot. See deploy/README.md, 'Updating'."
        )
    return 0


def _root_is_overlay() -> bool:
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return False
    return any(len(f := m.split()) > 2 and f[1] == "/" and f[2] == "overlay" for m in mounts)
