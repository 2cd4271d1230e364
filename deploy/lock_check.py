"""Check an installed venv against deploy/requirements.lock.

Usage: lock_check.py --python 3.11 requirements.lock FREEZE.txt

FREEZE.txt is ``pip list --local --format=freeze`` of the venv (what pip put
there, not Debian's packages seen through --system-site-packages). Every
package in it must be pinned by the lock with exactly that version, for that
Python version. Prints one line of figures; exits 1 with the offenders
otherwise. deploy/check-arm64.sh runs it on the arm64 install, the tests on
the lock itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# pip (and on Python 3.11 setuptools) come with the venv from Debian's
# python3-venv wheels, so Debian pins them; the kiosk is the project itself.
NOT_LOCKED = {"pip", "setuptools", "microbit-ml-kiosk"}


def read_lock(path: Path, python: str) -> dict[str, str]:
    """{canonical name: pinned version} of the lock's lines that apply on ``python``."""
    pins: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        specs = list(requirement.specifier)
        if len(specs) != 1 or specs[0].operator != "==":
            raise ValueError(f"{path.name}:{number}: '{line}' is not an exact pin (name==version)")
        env = {"python_version": python, "sys_platform": "linux", "platform_machine": "aarch64"}
        if requirement.marker is not None and not requirement.marker.evaluate(env):
            continue
        name = canonicalize_name(requirement.name)
        if name in pins:
            raise ValueError(f"{path.name}:{number}: {name} is pinned twice for Python {python}")
        pins[name] = specs[0].version
    return pins


def read_freeze(path: Path) -> dict[str, str]:
    installed: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "==" in line:
            name, version = line.strip().split("==", 1)
            installed[canonicalize_name(name)] = version
    return installed


def problems(pins: dict[str, str], installed: dict[str, str]) -> list[str]:
    found = []
    for name, version in sorted(installed.items()):
        if name in NOT_LOCKED:
            continue
        if name not in pins:
            found.append(f"{name}=={version} is installed but not pinned in the lock")
        elif pins[name] != version:
            found.append(f"{name}=={version} is installed but the lock pins {pins[name]}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", required=True, help="the venv's Python, e.g. 3.11")
    parser.add_argument("lock", type=Path)
    parser.add_argument("freeze", type=Path)
    args = parser.parse_args(argv)
    pins = read_lock(args.lock, args.python)
    installed = read_freeze(args.freeze)
    found = problems(pins, installed)
    if found:
        print("\n".join(found), file=sys.stderr)
        return 1
    locked = sum(name not in NOT_LOCKED for name in installed)
    print(f"{locked} packages installed by pip, each at the version the lock pins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
