"""The health checks behind ``kiosk doctor``: is this box able to run the exhibit?

Each check looks at one thing (display, touch, Bluetooth, capabilities,
TFLite, database, disk, settings) and returns ``Check`` results that say what
is wrong and what to type or plug in to fix it. They only read: nothing here
changes the box. Paths go through a ``Host`` so tests can point the checks
at a fake ``/proc``, ``/sys`` and ``/etc``.
"""

from __future__ import annotations

import contextlib
import ctypes
import grp
import json
import os
import shutil
import sqlite3
import struct
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kiosk import i18n
from kiosk.store.startup import REPORT_FILENAME, damaged_files, db_cap_bytes, read_report
from kiosk.system.config import (
    DEFAULT_CONFIG_PATH,
    DEFAULT_PIN,
    SERVICE_STATE_DIR,
    Settings,
    config_path_from_env,
    load_config,
    running_under_systemd,
)
from kiosk.system.config import (
    database_path as config_database_path,
)

OK, WARN, FAIL = "ok", "warn", "fail"
UNIT_NAME = "microbit-kiosk.service"
PREFIX = "/opt/microbit-kiosk"
VENV = f"{PREFIX}/.venv"
BLE_CAPABILITIES = ("CAP_NET_ADMIN", "CAP_NET_RAW")
_CAP_BITS = {"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13}
ABS_MT_POSITION_X = 0x35
ABS_X = 0x00
BTN_TOUCH = 0x14A
MIN_FREE_MB, LOW_FREE_MB = 100, 500


@dataclass(frozen=True)
class Check:
    """One finding: ``status`` is "ok", "warn" (works, but look) or "fail" (will not work)."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Host:
    """The machine being checked: ``root`` is "/" except in tests."""

    root: Path = Path("/")
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def path(self, absolute: str | Path) -> Path:
        return self.root / str(absolute).lstrip("/")

    def read(self, absolute: str | Path) -> str | None:
        try:
            return self.path(absolute).read_text(errors="replace")
        except OSError:
            return None

    def is_raspberry_pi(self) -> bool:
        model = self.read("/proc/device-tree/model") or ""
        return "Raspberry Pi" in model


# --- settings -------------------------------------------------------------


def check_config(config_path: Path, problems: list[str]) -> list[Check]:
    if not problems:
        state = "read" if config_path.exists() else "not present, using the defaults"
        return [Check("config", OK, f"{config_path}: {state}")]
    fix = f"edit {config_path} (each key is explained in {PREFIX}/deploy/kiosk.toml)"
    return [Check("config", WARN, problem, fix) for problem in problems]


def check_admin_pin(config: Settings, config_path: Path, state_dir: Path | None = None) -> Check:
    from kiosk.system.pin import PIN_FILENAME, secret_file_problem, verify_pin

    set_pin = f"sudo {VENV}/bin/kiosk set-pin --write" + (
        "" if config_path == DEFAULT_CONFIG_PATH else f" --config {config_path}"
    )
    if verify_pin(DEFAULT_PIN, config.pin_hash):
        chosen = state_dir is not None and (state_dir / PIN_FILENAME).exists()
        if chosen:
            return Check("admin PIN", OK, "chosen on the touchscreen at first start (a hash)")
        return Check(
            "admin PIN",
            WARN,
            f"no admin PIN is set: the default {DEFAULT_PIN} is refused, and the PIN pad asks "
            "whoever opens it first to choose one",
            set_pin,
        )
    exposed = secret_file_problem(config_path)
    if exposed:
        return Check("admin PIN", WARN, exposed, f"sudo chmod o-rwx,g-w {config_path}")
    return Check("admin PIN", OK, "set (stored as a hash)")


# --- display and touch ------------------------------------------------------


def sdl_video_drivers() -> list[str] | None:
    """The video drivers built into the SDL that pygame uses, or None if unknown.

    pygame has no call for this, so ask SDL itself (already loaded by
    pygame) through ctypes; listing drivers needs no SDL_Init.
    """
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # keep --json output clean
    try:
        import pygame  # noqa: F401  (loads libSDL2 into this process)
    except ImportError:
        return None
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "libSDL2-2" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            sdl = ctypes.CDLL(path)
            sdl.SDL_GetVideoDriver.restype = ctypes.c_char_p
            count = sdl.SDL_GetNumVideoDrivers()
            return [sdl.SDL_GetVideoDriver(i).decode() for i in range(count)]
        except (OSError, AttributeError):
            continue
    return None


def _drm_connectors(host: Host) -> tuple[list[str], list[str]]:
    """(DRM card device nodes, connected connectors like 'card1-HDMI-A-1')."""
    cards = sorted(p.name for p in host.path("/dev/dri").glob("card*"))
    connected = []
    for status in sorted(host.path("/sys/class/drm").glob("card*-*/status")):
        with contextlib.suppress(OSError):
            if status.read_text().strip() == "connected":
                connected.append(status.parent.name)
    return cards, connected


def check_display(host: Host, drivers: list[str] | None) -> Check:
    wanted = host.environ.get("SDL_VIDEODRIVER", "kmsdrm" if host.is_raspberry_pi() else "")
    desktop = bool(host.environ.get("DISPLAY") or host.environ.get("WAYLAND_DISPLAY"))
    listed = ", ".join(drivers) if drivers is not None else "unknown"
    if drivers is None:
        return Check(
            "display",
            FAIL,
            "pygame (SDL) cannot be loaded",
            "sudo apt-get install python3-pygame, then re-run deploy/install.sh",
        )
    # SDL names drivers in either case ("KMSDRM" in bookworm's SDL 2.26) and
    # matches SDL_VIDEODRIVER without regard to case, so compare the same way.
    names = {driver.lower() for driver in drivers}
    if host.is_raspberry_pi() and "kmsdrm" not in names:
        return Check(
            "display",
            FAIL,
            f"pygame's SDL has no kmsdrm driver (it has: {listed}); this is the PyPI wheel, "
            "which cannot draw without a desktop",
            f"sudo {VENV}/bin/pip uninstall -y pygame (the venv then uses Debian's python3-pygame)",
        )
    if wanted and wanted.lower() not in names:
        return Check(
            "display",
            FAIL,
            f"SDL_VIDEODRIVER={wanted} but SDL only has: {listed}",
            "install Debian's python3-pygame (kmsdrm) or unset SDL_VIDEODRIVER",
        )
    if desktop and wanted in ("", "x11", "wayland"):
        return Check("display", OK, f"desktop session (SDL drivers: {listed})")
    cards, connected = _drm_connectors(host)
    if not cards:
        return Check(
            "display",
            FAIL,
            "no display: no DRM/KMS device (/dev/dri/card*) and no desktop "
            f"(SDL drivers: {listed})",
            "on a Pi: keep 'dtoverlay=vc4-kms-v3d' in config.txt and check the display cable; "
            "elsewhere run the app inside a desktop session, or the demo headless",
        )
    if not connected:
        return Check(
            "display",
            FAIL,
            f"{', '.join(cards)} found but no screen is connected",
            "check the HDMI or DSI ribbon cable and the panel's power, then reboot",
        )
    return Check("display", OK, f"{', '.join(connected)} connected; SDL drivers: {listed}")


def _bitmask(line: str) -> int:
    """A /proc/bus/input/devices bitmap ("B: ABS=3 0") as one integer."""
    bits = struct.calcsize("l") * 8
    value = 0
    for word in line.split("=", 1)[1].split():
        value = (value << bits) | int(word, 16)
    return value


def input_devices(host: Host) -> list[dict[str, str]] | None:
    """Each device block of /proc/bus/input/devices as {"N": name, "H": handlers, "ABS":..}."""
    text = host.read("/proc/bus/input/devices")
    if text is None:
        return None
    devices = []
    for block in text.split("\n\n"):
        entry: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith("N: Name="):
                entry["N"] = line.split("=", 1)[1].strip().strip('"')
            elif line.startswith("H: Handlers="):
                entry["H"] = line.split("=", 1)[1]
            elif line.startswith("B: "):
                key = line[3:].split("=", 1)[0]
                entry[key] = line[3:]
        if entry:
            devices.append(entry)
    return devices


def _is_touchscreen(device: dict[str, str]) -> bool:
    abs_bits = _bitmask(device["ABS"]) if "ABS" in device else 0
    key_bits = _bitmask(device["KEY"]) if "KEY" in device else 0
    multi_touch = bool(abs_bits >> ABS_MT_POSITION_X & 1)
    single_touch = bool(abs_bits >> ABS_X & 1) and bool(key_bits >> BTN_TOUCH & 1)
    return multi_touch or single_touch


def check_touch(host: Host) -> Check:
    devices = input_devices(host)
    if devices is None:
        return Check(
            "touch",
            FAIL,
            "no input devices are visible (/proc/bus/input/devices is missing)",
            "run kiosk doctor on the kiosk itself, not in a container",
        )
    touch = [d for d in devices if _is_touchscreen(d)]
    if not touch:
        return Check(
            "touch",
            FAIL,
            f"no touchscreen among {len(devices)} input device(s)",
            "connect the panel's touch cable (USB for HDMI panels, the DSI ribbon for the "
            "official display); `cat /proc/bus/input/devices` lists what the kernel sees",
        )
    names = ", ".join(d.get("N", "?") for d in touch)
    events = [w for d in touch for w in d.get("H", "").split() if w.startswith("event")]
    unreadable = []
    for event in events:
        node = host.path(f"/dev/input/{event}")
        with contextlib.suppress(OSError, KeyError):
            st = node.stat()
            if grp.getgrgid(st.st_gid).gr_name != "input" or not st.st_mode & 0o040:
                unreadable.append(f"/dev/input/{event}")
    if unreadable:
        return Check(
            "touch",
            WARN,
            f"{names}: {', '.join(unreadable)} not readable by group input",
            "the udev rules should give input devices to group input; check `ls -l /dev/input`",
        )
    return Check("touch", OK, f"{names} ({', '.join(events) or 'no event node'})")


# --- Bluetooth --------------------------------------------------------------


def _rfkill_blocked(host: Host) -> bool:
    def read(path: Path, default: str) -> str:
        try:
            return path.read_text().strip()
        except OSError:
            return default

    for entry in host.path("/sys/class/rfkill").glob("rfkill*"):
        if read(entry / "type", "") == "bluetooth" and "1" in (
            read(entry / "soft", "0"),
            read(entry / "hard", "0"),
        ):
            return True
    return False


def _bluepy_helper() -> Path | None:
    try:
        import bluepy
    except ImportError:
        return None
    helper = Path(bluepy.__file__).parent / "bluepy-helper"
    return helper if os.access(helper, os.X_OK) else None


def check_bluetooth(host: Host, link: str) -> Check:
    needed = link in ("auto", "ble")
    miss = FAIL if needed else WARN
    adapters = sorted(p.name for p in host.path("/sys/class/bluetooth").glob("hci*"))
    if not adapters:
        return Check(
            "bluetooth",
            miss,
            f"no Bluetooth adapter (/sys/class/bluetooth is empty); link = {link!r}",
            "on a Pi 3/4/5 the adapter is built in: sudo apt-get install bluez pi-bluetooth, "
            "check 'dtoverlay=disable-bt' is NOT in config.txt, reboot; or use a USB micro:bit "
            'with link = "serial" in kiosk.toml',
        )
    if _rfkill_blocked(host):
        return Check(
            "bluetooth",
            miss,
            f"{', '.join(adapters)} is switched off (rfkill)",
            "sudo rfkill unblock bluetooth",
        )
    if needed and _bluepy_helper() is None:
        return Check(
            "bluetooth",
            FAIL,
            f"{', '.join(adapters)} present but bluepy's helper is missing",
            f"sudo apt-get install libglib2.0-dev && sudo {VENV}/bin/pip install "
            "--force-reinstall --no-binary bluepy bluepy",
        )
    return Check("bluetooth", OK, ", ".join(adapters))


def unit_capabilities(host: Host) -> set[str] | None:
    """The ambient capabilities the installed unit (with its drop-ins) grants, or None."""
    unit = host.path(f"/etc/systemd/system/{UNIT_NAME}")
    if not unit.is_file():
        return None
    files = [unit, *sorted(host.path(f"/etc/systemd/system/{UNIT_NAME}.d").glob("*.conf"))]
    caps: set[str] = set()
    for path in files:
        with contextlib.suppress(OSError):
            for line in path.read_text().splitlines():
                key, _, value = line.strip().partition("=")
                if key.strip() != "AmbientCapabilities":
                    continue
                if not value.strip():
                    caps.clear()  # an empty assignment resets the list
                elif value.strip().startswith("~"):
                    caps.difference_update(value.strip()[1:].split())
                else:
                    caps.update(value.split())
    return caps


def _process_capabilities(host: Host) -> set[str]:
    status = host.read("/proc/self/status") or ""
    for line in status.splitlines():
        if line.startswith("CapEff:"):
            mask = int(line.split()[1], 16)
            return {name for name, bit in _CAP_BITS.items() if mask >> bit & 1}
    return set()


def check_capabilities(host: Host, link: str) -> Check:
    needed = link in ("auto", "ble")
    caps = unit_capabilities(host)
    here = _process_capabilities(host)
    here_text = "this process has " + (", ".join(sorted(here)) if here else "neither")
    if caps is None:
        return Check(
            "capabilities",
            WARN if needed else OK,
            f"{UNIT_NAME} is not installed, so nothing grants Bluetooth scanning "
            f"{'/'.join(BLE_CAPABILITIES)} ({here_text})",
            "sudo ./deploy/install.sh" if needed else "",
        )
    missing = [c for c in BLE_CAPABILITIES if c not in caps]
    if needed and missing:
        return Check(
            "capabilities",
            FAIL,
            f"{UNIT_NAME} does not grant {', '.join(missing)}: Bluetooth scanning will fail "
            "(setcap on bluepy-helper does not help under NoNewPrivileges)",
            "remove the drop-in that clears AmbientCapabilities "
            '(`systemctl cat microbit-kiosk`), or set link = "serial"',
        )
    granted = ", ".join(sorted(caps)) or "none"
    return Check("capabilities", OK, f"the service gets {granted}; {here_text}")


# --- runtime, storage --------------------------------------------------------


def check_tflite() -> Check:
    try:
        from kiosk.ml.runtime import load_interpreter_class

        interpreter = load_interpreter_class()
    except ImportError as exc:
        return Check(
            "tflite",
            FAIL,
            f"the kiosk's model code cannot be imported: {exc}",
            "re-run deploy/install.sh",
        )
    except Exception as exc:  # KioskError with the install advice
        return Check(
            "tflite",
            FAIL,
            str(exc),
            f"sudo {VENV}/bin/pip install 'tflite-runtime; python_version<\"3.12\"' "
            "'ai-edge-litert; python_version>=\"3.12\"'",
        )
    return Check("tflite", OK, f"{interpreter.__module__}.{interpreter.__name__}")


def database_path(host: Host, config: Settings) -> Path:
    """The database the service uses (not the one of the person running doctor)."""
    installed = host.path(f"/etc/systemd/system/{UNIT_NAME}").is_file()
    service = True if installed or running_under_systemd() else None
    return config_database_path(config, for_service=service)


def check_data_mount(host: Host) -> Check | None:
    """A data partition listed in fstab for the state directory must be mounted."""
    fstab = host.read("/etc/fstab") or ""
    listed = any(
        len(f := line.split()) >= 2 and f[1].rstrip("/") == str(SERVICE_STATE_DIR)
        for line in fstab.splitlines()
        if not line.lstrip().startswith("#")
    )
    if not listed:
        return None
    if os.path.ismount(host.path(SERVICE_STATE_DIR)):
        return Check("data partition", OK, f"mounted at {SERVICE_STATE_DIR}")
    return Check(
        "data partition",
        FAIL,
        f"{SERVICE_STATE_DIR} is in /etc/fstab but not mounted: saved projects go to the "
        "system card (lost at reboot with a read-only root)",
        "plug the data USB stick in, then: sudo mount /var/lib/microbit-kiosk && "
        "sudo systemctl restart microbit-kiosk",
    )


def _read_integrity(path: Path) -> list[str]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return [str(r[0]) for r in connection.execute("PRAGMA integrity_check")]
    finally:
        connection.close()


def _integrity_rows(path: Path) -> list[str]:
    """SQLite's integrity check, read-only, as the file's owner.

    Opening a WAL database may create its -shm file; run as root (doctor
    over SSH with sudo) that file would belong to root and lock the service
    out of its own database, so root forks a child that becomes the owner
    first. The kiosk's Store is not used: it would create and migrate the file.
    """
    owner = path.stat()
    if os.geteuid() != 0 or owner.st_uid == 0:
        return _read_integrity(path)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop to the owner, check, report, exit without cleanup
        code = 0
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(owner.st_gid)
            os.setuid(owner.st_uid)
            reply: dict[str, Any] = {"rows": _read_integrity(path)}
        except BaseException as exc:
            reply = {"error": str(exc)}
            code = 1
        with os.fdopen(write_end, "w") as out:
            json.dump(reply, out)
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as answer:
        text = answer.read()
    os.waitpid(pid, 0)
    reply = json.loads(text or '{"error": "the check stopped"}')
    if "error" in reply:
        raise sqlite3.DatabaseError(reply["error"])
    return list(reply["rows"])


def check_database(path: Path) -> Check:
    if not path.exists():
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is not None and os.access(parent, os.W_OK):
            return Check("database", OK, f"{path} does not exist yet; created at first start")
        return Check(
            "database",
            WARN,
            f"{path} does not exist yet",
            "it is created by the service at first start (sudo systemctl start microbit-kiosk)",
        )
    restart = (
        "sudo systemctl restart microbit-kiosk: at start the kiosk moves a damaged file "
        "aside (kept for inspection), recovers what it can into a new one and says so here"
    )
    try:
        rows = _integrity_rows(path)
    except UnicodeDecodeError:
        # SQLite's message quoted a damaged byte of the schema.
        return Check("database", FAIL, f"{path} is damaged (its schema has a bad byte)", restart)
    except (sqlite3.Error, OSError) as exc:
        return Check("database", FAIL, f"{path} cannot be opened: {exc}", restart)
    if rows != ["ok"]:
        return Check("database", FAIL, f"{path} is damaged: {'; '.join(rows[:3])}", restart)
    size = path.stat().st_size
    cap = db_cap_bytes(path)
    detail = f"{path} ({size // 1024} KiB of at most {cap // (1024 * 1024)} MiB, integrity ok)"
    if size > cap * 0.9:
        return Check("database", WARN, detail, "delete old projects or snapshots in the admin menu")
    return Check("database", OK, detail)


def check_startup(path: Path) -> Check | None:
    """What the kiosk did at its last start (a recovered database, a full disk), if anything."""
    report = read_report(path.parent / REPORT_FILENAME)
    aside = damaged_files(path.parent, path.name)
    if report is None and not aside:
        return None
    lines = [str(line) for line in (report or {}).get("staff", [])]
    if not lines:
        lines = [f"earlier damaged databases kept beside it: {', '.join(p.name for p in aside)}"]
    fix = (
        f"look at the files kept in {path.parent}; delete them once nothing in them is "
        f"needed, and {path.parent / REPORT_FILENAME} to clear this warning"
    )
    return Check("last start", WARN, " ".join(lines), fix)


def check_disk(path: Path) -> Check:
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("/"))
    usage = shutil.disk_usage(existing)
    free_mb = usage.free // (1024 * 1024)
    detail = f"{free_mb} MB free on the file system of {existing}"
    if free_mb < MIN_FREE_MB:
        return Check(
            "disk",
            FAIL,
            detail + f" (needs at least {MIN_FREE_MB} MB)",
            "delete old projects in the admin menu, or `sudo apt-get clean`; "
            "`sudo du -xh / | sort -h | tail` shows what is big",
        )
    if free_mb < LOW_FREE_MB:
        return Check("disk", WARN, detail + " (getting low)", "sudo apt-get clean")
    return Check("disk", OK, detail)


# --- micro:bits on USB and the kiosk's own programs for them ----------------


def check_boards(config: Settings, boards: Callable[[str], list] | None = None) -> list[Check]:
    """One line per micro:bit on USB: which program and role it runs, and what to do."""
    from kiosk.firmware.report import attached_boards  # opens serial ports: only when run

    reports = (boards or attached_boards)(config.radio_remote_id)
    if not reports:
        status = WARN if config.link_kind == "serial" else OK
        return [
            Check(
                "micro:bit (USB)",
                status,
                "none plugged in",
                "plug the micro:bit in with a USB data cable" if status == WARN else "",
            )
        ]
    return [
        Check(f"micro:bit {r.port}", r.status, r.detail, r.fix)
        for r in reports  # the probe shares the port with a running kiosk: a brief glitch
    ]


def check_firmware() -> Check:
    """The kiosk's micro:bit programs are built (set-up does it) so boards can be flashed."""
    from kiosk.firmware.hexbuild import BOARD_VERSIONS, ROLES, default_out_dir, hex_name

    folder = default_out_dir()
    missing = [
        hex_name(role, version)
        for role in ROLES
        for version in BOARD_VERSIONS
        if not (folder / hex_name(role, version)).is_file()
    ]
    if missing:
        return Check(
            "micro:bit programs",
            WARN,
            f"{len(missing)} of {len(ROLES) * len(BOARD_VERSIONS)} hex files missing in {folder}",
            "kiosk firmware build (deploy/install.sh and scripts/setup.sh run it)",
        )
    return Check("micro:bit programs", OK, f"built in {folder}")


def check_languages(config: Settings) -> Check:
    """The screen's languages: each catalog compiled at install, the default among them."""
    shown = i18n.available()
    names = ", ".join(i18n.language_name(code) for code in shown)
    missing = [code for code in i18n.LANGUAGES if code not in shown]
    fix = "re-run deploy/install.sh (it compiles the message catalogs)"
    if config.language not in shown:
        return Check(
            "languages",
            WARN,
            f"display.language = {config.language!r} has no compiled catalog in "
            f"{i18n.LOCALE_DIR}: visitors start in English",
            fix,
        )
    if missing:
        return Check(
            "languages", WARN, f"{names}; not compiled: {', '.join(missing)} (not offered)", fix
        )
    return Check(
        "languages", OK, f"{names}; visitors start in {i18n.language_name(config.language)}"
    )


# --- all of it --------------------------------------------------------------


def run_checks(
    host: Host | None = None,
    config_path: Path | None = None,
    drivers: Callable[[], list[str] | None] = sdl_video_drivers,
    boards: Callable[[str], list] | None = None,
) -> list[Check]:
    """Every check, in the order a technician should fix things."""
    host = host or Host()
    config_path = config_path or config_path_from_env()
    config, problems = load_config(config_path)
    link = config.link_kind
    db = database_path(host, config)
    results: list[Check] = [*check_config(config_path, problems)]
    results.append(check_admin_pin(config, config_path, database_path(host, config).parent))
    results.append(check_display(host, drivers()))
    results.append(check_touch(host))
    results.append(check_bluetooth(host, link))
    results.append(check_capabilities(host, link))
    results.extend(check_boards(config, boards))
    results.append(check_firmware())
    results.append(check_languages(config))
    results.append(check_tflite())
    mount = check_data_mount(host)
    if mount is not None:
        results.append(mount)
    results.append(check_database(db))
    startup = check_startup(db)
    if startup is not None:
        results.append(startup)
    results.append(check_disk(db))
    return results


def failures(results: list[Check]) -> Iterator[Check]:
    return (c for c in results if c.status == FAIL)
