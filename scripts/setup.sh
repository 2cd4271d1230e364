#!/usr/bin/env bash
# Creates .venv/ at the repository root with everything the kiosk and its tests
# need. Idempotent: it does nothing when pyproject.toml has not changed since
# the last successful run. Used by ./run.sh and ./test.sh, so a fresh
# Debian/Ubuntu machine needs no other set-up step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Build dependencies: bluepy compiles its helper against GLib, systemd-python
# against libsystemd; Xvfb and xdotool let the tests drive a real window;
# shellcheck, systemd-analyze and loadkeys (kbd) check the appliance files.
apt_packages=(python3-venv python3-dev gcc pkg-config libglib2.0-dev libsystemd-dev
              xvfb xdotool shellcheck systemd kbd)
# Issue 11: QEMU's micro:bit machine runs the kiosk's own micro:bit program in the tests.
apt_packages+=(qemu-system-arm)
# issue 19: the sqlite3 program, whose .recover the kiosk tries first on a damaged
# database at start-up (kiosk/store/startup.py; a row copy in Python follows).
apt_packages+=(sqlite3)
# issue 15: deploy/check-arm64.sh runs an arm64 Debian root through qemu (binfmt_misc).
apt_packages+=(qemu-user-static binfmt-support mmdebstrap debian-archive-keyring)
# Issue 12, the BlueZ rig (tests/rigs/test_ble_bluez.py): a kernel for virtme-ng to
# boot under QEMU (busybox builds its initramfs), BlueZ and btvirt's virtual controllers.
apt_packages+=(linux-image-amd64 qemu-system-x86 busybox-static bluez bluez-test-tools)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for p in "${apt_packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
fi
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo=none; fi
    if [ "$sudo" = none ]; then
        echo "setup: cannot install apt packages without root: ${missing[*]}" >&2
        echo "setup: run 'sudo apt-get install ${missing[*]}' once, then try again" >&2
    else
        echo "setup: installing apt packages: ${missing[*]}"
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi

# Issue 11: the kiosk's micro:bit programs as hex files, built offline from the
# MicroPython runtime that micropython-microbit-fs ships (nothing prebuilt is
# committed); rebuilt whenever the program's source is newer than the hexes.
build_firmware() {
    local out=.venv/share/microbit-kiosk/firmware
    if [ ! -f "$out/kiosk-usb-v1.hex" ] || [ -n "$(find firmware -newer "$out/kiosk-usb-v1.hex" -name '*.py')" ]; then
        .venv/bin/kiosk firmware build --out "$out" >/dev/null
    fi
}

# Issue 17: the screen's languages. The message catalogs (kiosk/locale/*/LC_MESSAGES/
# kiosk.po) are compiled into the .mo files the kiosk loads; they are build products,
# never committed, and rebuilt whenever a catalog is newer than its .mo.
compile_catalogs() {
    local po
    for po in kiosk/locale/*/LC_MESSAGES/kiosk.po; do
        [ -f "$po" ] || continue
        if [ ! -f "${po%.po}.mo" ] || [ "$po" -nt "${po%.po}.mo" ]; then
            .venv/bin/pybabel -q compile -D kiosk -d kiosk/locale
            return
        fi
    done
}

stamp=.venv/.setup-stamp
want=$(cat pyproject.toml deploy/requirements.lock | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    build_firmware
    compile_catalogs
    exit 0
fi
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The versions the Pi installs (deploy/requirements.lock), so tests run on them.
.venv/bin/python -m pip install -q -c deploy/requirements.lock -e ".[dev]"
build_firmware
compile_catalogs
echo "$want" > "$stamp"
