#!/usr/bin/env bash
# Turns a fresh Raspberry Pi OS Lite (64-bit; bookworm with Python 3.11 or
# trixie with Python 3.13) into the micro:bit kiosk appliance. Idempotent:
# run it again after `git pull` to update. `--dry-run` prints every step
# without doing anything. See deploy/README.md ("For the technician").
set -euo pipefail

APP=microbit-kiosk
PREFIX=/opt/microbit-kiosk
VENV=$PREFIX/.venv
ETC=/etc/microbit-kiosk
STATE=/var/lib/microbit-kiosk
UNIT_DIR=/etc/systemd/system
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GROUPS_NEEDED=(video render input bluetooth audio dialout)
# Debian's python3-pygame is built against an SDL with the kmsdrm driver (the
# PyPI wheel has none); the venv sees it through --system-site-packages.
# SDL's kmsdrm draws through EGL on a GBM device, which needs Mesa's EGL and
# DRI drivers (vc4/v3d on a Pi): libsdl2 only recommends them, and with
# --no-install-recommends a minimal system had neither (deploy/check-arm64.sh).
APT_PACKAGES=(python3 python3-venv python3-pip python3-dev python3-pygame python3-systemd
              python3-numpy bluez rfkill libglib2.0-dev pkg-config gcc make kbd sqlite3
              libegl1 libgles2 libgl1-mesa-dri)

DRY_RUN=0
READ_ONLY=0
ALLOW_VOLATILE=0
DATA_DEVICE=""
FORMAT_DATA=0
ROTATE=""
START=1
FORCE=0
ORIGINAL_ARGS=("$@")

usage() {
    cat <<EOF
Usage: sudo $0 [options]

  --dry-run               print every step, change nothing
  --rotate DEGREES        display rotation: 0, 90, 180 or 270 (portrait panels: 90 or 270)
  --data-device DEVICE    a partition (e.g. /dev/sda1) mounted at $STATE for the database
  --format-data           format --data-device as ext4 if it has no file system yet
  --read-only             make the root file system read-only (overlay); needs --data-device
  --allow-volatile-data   with --read-only but no data device: accept that all visitor
                          data and settings changed on the box are lost at each reboot
  --no-start              install and enable, but do not (re)start the service now
  --force                 install on an OS other than Raspberry Pi OS bookworm/trixie
  -h, --help              this text
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY_RUN=1 ;;
        --rotate) ROTATE=${2:?--rotate needs 0, 90, 180 or 270}; shift ;;
        --data-device) DATA_DEVICE=${2:?--data-device needs a device such as /dev/sda1}; shift ;;
        --format-data) FORMAT_DATA=1 ;;
        --read-only) READ_ONLY=1 ;;
        --allow-volatile-data) ALLOW_VOLATILE=1 ;;
        --no-start) START=0 ;;
        --force) FORCE=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

say() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

# Every change goes through run/write_file, so --dry-run really changes nothing.
run() {
    local arg
    printf '+'
    for arg in "$@"; do
        # Quote only what needs it, so the line can be pasted into a shell.
        if [[ "$arg" =~ ^[A-Za-z0-9_./=:@%+,-]+$ ]]; then printf ' %s' "$arg"; else printf ' %q' "$arg"; fi
    done
    printf '\n'
    if [ "$DRY_RUN" -eq 0 ]; then
        "$@"
    fi
}

# write_file PATH MODE: writes stdin to PATH (atomically), only if it differs.
write_file() {
    local path=$1 mode=$2 content
    content=$(cat)
    if [ -f "$path" ] && [ "$(cat "$path")" = "$content" ]; then
        note "unchanged: $path"
        return 0
    fi
    if [ -f "$path" ]; then
        printf '+ change %s:\n' "$path"
        { diff -u "$path" - <<<"$content" || true; } | tail -n +3 | sed 's/^/    | /'
    else
        printf '+ write %s (mode %s):\n' "$path" "$mode"
        printf '%s\n' "$content" | sed 's/^/    | /'
    fi
    if [ "$DRY_RUN" -eq 0 ]; then
        mkdir -p "$(dirname "$path")"
        local tmp
        tmp=$(mktemp "$path.XXXXXX")
        printf '%s\n' "$content" > "$tmp"
        # (chmod fails harmlessly on the FAT boot partition)
        chmod "$mode" "$tmp" 2>/dev/null || true
        mv -f "$tmp" "$path"
    fi
}

# copy_file SOURCE DEST MODE: install a file from the source tree if it differs.
copy_file() {
    if [ -f "$2" ] && cmp -s "$1" "$2"; then
        note "unchanged: $2"
    else
        run install -D -m "$3" "$1" "$2"
    fi
}

# The firmware partition: /boot/firmware since bookworm, /boot before.
# (KIOSK_BOOT_DIR points the --dry-run test at a fake one.)
boot_dir() {
    if [ -n "${KIOSK_BOOT_DIR:-}" ]; then echo "$KIOSK_BOOT_DIR"
    elif [ -d /boot/firmware ]; then echo /boot/firmware
    else echo /boot
    fi
}

# set_cmdline ARG...: kernel arguments in cmdline.txt (one line). "key=value"
# or "flag" sets (replacing any older value of key); "-key" removes key.
set_cmdline() {
    local file words arg key
    file="$(boot_dir)/cmdline.txt"
    if [ ! -f "$file" ]; then
        note "no $file (not a Raspberry Pi?): skipping kernel arguments $*"
        return 0
    fi
    words=$(head -n1 "$file" | tr ' ' '\n' | grep -v '^$' || true)
    for arg in "$@"; do
        key=${arg#-}
        key=${key%%=*}
        words=$(printf '%s\n' "$words" | grep -v -e "^${key}=" -e "^${key}\$" || true)
        [ "${arg:0:1}" = "-" ] || words=$(printf '%s\n%s\n' "$words" "$arg")
    done
    write_file "$file" 0755 <<<"$(printf '%s\n' "$words" | grep -v '^$' | tr '\n' ' ' | sed 's/ *$//')"
}

# ensure_config_txt LINE: append a line to config.txt's [all] section if missing.
ensure_config_txt() {
    local file
    file="$(boot_dir)/config.txt"
    if [ ! -f "$file" ]; then
        note "no $file (not a Raspberry Pi?): skipping '$1'"
        return 0
    fi
    if grep -qxF "$1" "$file"; then
        note "already in $file: $1"
        return 0
    fi
    write_file "$file" 0755 < <(cat "$file"; printf '[all]\n%s\n' "$1")
}

root_is_overlay() {
    [ "$(findmnt -n -o FSTYPE / 2>/dev/null || true)" = overlay ]
}

# --- 0. Checks before changing anything ------------------------------------

say "Checking the system"
if [ ! -f "$SRC/pyproject.toml" ] || [ ! -f "$SRC/services/$APP.service" ]; then
    die "run this script from a checkout of the kiosk repository (missing $SRC/pyproject.toml)"
fi
if [ "$(id -u)" -ne 0 ]; then
    if [ "$DRY_RUN" -eq 1 ]; then
        note "not root: fine for --dry-run; the real run needs sudo"
    else
        die "run as root: sudo $0 ${ORIGINAL_ARGS[*]}"
    fi
fi
# shellcheck source=/dev/null
codename=$( . /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-unknown}" )
python_version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null \
                 || echo none)
model=$( { tr -d '\0' < /proc/device-tree/model; } 2>/dev/null || echo "not a Raspberry Pi")
note "OS: $codename, Python: $python_version, board: $model"
case "$codename" in
    bookworm) note "Python 3.11: the TFLite runtime is tflite-runtime with numpy < 2" ;;
    trixie) note "Python 3.13: the TFLite runtime is ai-edge-litert" ;;
    *)
        if [ "$FORCE" -eq 1 ] || [ "$DRY_RUN" -eq 1 ]; then
            note "WARNING: '$codename' is not bookworm or trixie; continuing anyway"
        else
            die "this is '$codename'; flash Raspberry Pi OS Lite 64-bit (bookworm or trixie), or pass --force"
        fi ;;
esac
case "$ROTATE" in ""|0|90|180|270) ;; *) die "--rotate must be 0, 90, 180 or 270, not '$ROTATE'" ;; esac
if root_is_overlay; then
    die "the root file system is read-only (overlay) now: changes would vanish at reboot.
Run: sudo raspi-config nonint disable_overlayfs && sudo reboot
then run this script again (with --read-only to turn the overlay back on)."
fi
if [ "$READ_ONLY" -eq 1 ] && [ -z "$DATA_DEVICE" ] && [ "$ALLOW_VOLATILE" -eq 0 ]; then
    die "--read-only without --data-device would lose every saved project at each reboot.
Give --data-device /dev/sdXN (a USB stick or a spare partition), or add --allow-volatile-data."
fi
if [ -n "$DATA_DEVICE" ] && [ ! -b "$DATA_DEVICE" ] && [ "$DRY_RUN" -eq 0 ]; then
    die "$DATA_DEVICE is not a block device (see lsblk)"
fi

# --- 1. Packages ----------------------------------------------------------

say "Installing Debian packages"
run env DEBIAN_FRONTEND=noninteractive apt-get update -q
run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${APT_PACKAGES[@]}"

# --- 2. Service user --------------------------------------------------------

say "Creating the service user $APP"
for group in "${GROUPS_NEEDED[@]}"; do
    getent group "$group" >/dev/null || run groupadd --system "$group"
done
if getent passwd "$APP" >/dev/null; then
    note "user $APP exists"
else
    run useradd --system --user-group --home-dir "$STATE" --no-create-home \
        --shell /usr/sbin/nologin --comment "microbit kiosk" "$APP"  # no ':' in a passwd field
fi
run usermod --append --groups "$(IFS=,; echo "${GROUPS_NEEDED[*]}")" "$APP"

# --- 3. The application in a virtual environment -----------------------------

say "Installing the kiosk into $VENV"
# Read again: a system without python3 before step 1 has it now.
python_version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null \
                 || echo none)
venv_python=none
if [ -x "$VENV/bin/python" ]; then
    venv_python=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
fi
if [ "$venv_python" != none ] && [ "$venv_python" != "$python_version" ]; then
    note "the venv was made with Python $venv_python, the system now has $python_version: rebuilding"
    run rm -rf "$VENV"
    venv_python=none
fi
if [ "$venv_python" != none ]; then
    note "venv exists (Python $venv_python)"
else
    run mkdir -p "$PREFIX"
    # --system-site-packages: Debian's pygame (kmsdrm) and systemd bindings.
    run python3 -m venv --system-site-packages "$VENV"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
# The dependencies (pyproject.toml's markers pick tflite-runtime + numpy<2 on
# 3.11, ai-edge-litert on 3.13), then the kiosk itself, always reinstalled so
# an update with an unchanged version number still lands. Every version is
# pinned by deploy/requirements.lock; as PIP_CONSTRAINT (not -c) it also pins
# the build tools pip fetches to build bluepy and the kiosk.
LOCK=$SRC/deploy/requirements.lock
[ -f "$LOCK" ] || die "missing $LOCK: this checkout is incomplete"
run env PIP_CONSTRAINT="$LOCK" "$VENV/bin/pip" install -q "$SRC"
run env PIP_CONSTRAINT="$LOCK" "$VENV/bin/pip" install -q --no-deps --force-reinstall "$SRC"
# The screen's languages (issue 17): the package ships its message catalogs (.po);
# their compiled form (.mo), which the kiosk loads, is built here, where it is used.
locale_dir="<the installed kiosk package>/locale"
if [ "$DRY_RUN" -eq 0 ]; then
    locale_dir=$("$VENV/bin/python" -c 'from kiosk.i18n import LOCALE_DIR; print(LOCALE_DIR)')
fi
run "$VENV/bin/pybabel" -q compile -D kiosk -d "$locale_dir"
if [ "$DRY_RUN" -eq 0 ]; then
    # (pygame 2.1 prints a banner on import unless told not to.)
    pygame_from=$(PYGAME_HIDE_SUPPORT_PROMPT=1 "$VENV/bin/python" -c \
                  'import os, pygame; print(os.path.dirname(pygame.__file__))' \
                  2>/dev/null || echo "not importable")
    case "$pygame_from" in
        /usr/lib/python3/dist-packages/*) note "pygame: Debian's ($pygame_from), with kmsdrm" ;;
        *) note "WARNING: pygame comes from $pygame_from, not Debian's python3-pygame;"
           note "         it may lack the kmsdrm driver. Fix: $VENV/bin/pip uninstall pygame" ;;
    esac
fi
copy_file "$SRC/deploy/README.md" "$PREFIX/deploy/README.md" 0644
copy_file "$SRC/deploy/kiosk.toml" "$PREFIX/deploy/kiosk.toml" 0644

# --- 4. Configuration -------------------------------------------------------

say "Configuration in $ETC"
if [ -f "$ETC/kiosk.toml" ]; then
    note "keeping your $ETC/kiosk.toml (the documented example is $PREFIX/deploy/kiosk.toml)"
else
    copy_file "$SRC/deploy/kiosk.toml" "$ETC/kiosk.toml" 0644
fi
copy_file "$SRC/deploy/console-lockdown.kmap" "$ETC/console-lockdown.kmap" 0644
if [ -n "$ROTATE" ]; then
    config_now="$ETC/kiosk.toml"
    [ -f "$config_now" ] || config_now="$SRC/deploy/kiosk.toml"
    grep -qE '^[[:space:]]*rotation[[:space:]]*=' "$config_now" \
        || die "$config_now has no 'rotation =' line under [display]; add 'rotation = $ROTATE' by hand"
    write_file "$ETC/kiosk.toml" 0644 < <(sed -E "s/^[[:space:]]*rotation[[:space:]]*=.*/rotation = $ROTATE/" "$config_now")
fi
# kiosk.toml holds the admin PIN's hash: readable by root and the service only
# (a PIN has few values; a world-readable hash is cracked offline in minutes).
run chown "root:$APP" "$ETC/kiosk.toml"
run chmod 0640 "$ETC/kiosk.toml"

# --- 5. Data partition (optional) ---------------------------------------------

if [ -n "$DATA_DEVICE" ]; then
    say "Data partition $DATA_DEVICE at $STATE"
    fstype=$(blkid -o value -s TYPE "$DATA_DEVICE" 2>/dev/null || true)
    if [ -z "$fstype" ]; then
        if [ "$FORMAT_DATA" -eq 1 ]; then
            run mkfs.ext4 -q -L kioskdata "$DATA_DEVICE"
        elif [ "$DRY_RUN" -eq 0 ]; then
            die "$DATA_DEVICE has no file system; add --format-data to format it as ext4 (erases it)"
        fi
    elif [ "$fstype" != ext4 ]; then
        die "$DATA_DEVICE holds $fstype; use an ext4 partition (or wipe it and use --format-data)"
    fi
    uuid=$(blkid -o value -s UUID "$DATA_DEVICE" 2>/dev/null || echo "<uuid-after-formatting>")
    # nofail: a missing drive must not stop the boot; the exhibit still runs.
    fstab_line="UUID=$uuid $STATE ext4 defaults,noatime,nofail,x-systemd.device-timeout=10s 0 2"
    if grep -qE "[[:space:]]${STATE}[[:space:]]" /etc/fstab; then
        write_file /etc/fstab 0644 < <(grep -vE "[[:space:]]${STATE}[[:space:]]" /etc/fstab; echo "$fstab_line")
    else
        write_file /etc/fstab 0644 < <(cat /etc/fstab; echo "$fstab_line")
    fi
    run mkdir -p "$STATE"
    run systemctl daemon-reload
    findmnt -n "$STATE" >/dev/null 2>&1 || run mount "$STATE"
    mount_unit=$(systemd-escape --path --suffix=mount "$STATE")
    write_file "$UNIT_DIR/$APP.service.d/data-partition.conf" 0644 <<EOF
# Written by deploy/install.sh: the database lives on $DATA_DEVICE.
[Unit]
Wants=$mount_unit
After=$mount_unit
EOF
fi

# --- 6. systemd units -----------------------------------------------------------

say "Installing and enabling the services"
copy_file "$SRC/services/$APP.service" "$UNIT_DIR/$APP.service" 0644
copy_file "$SRC/services/$APP-console.service" "$UNIT_DIR/$APP-console.service" 0644
# Flashing micro:bits (issue 11): the board's MICROBIT drive is mounted for the
# service user at /media/microbit, and the kiosk's own programs are built.
copy_file "$SRC/deploy/microbit-drive.rules" /etc/udev/rules.d/70-microbit-kiosk-drive.rules 0644
copy_file "$SRC/deploy/media-microbit.mount" "$UNIT_DIR/media-microbit.mount" 0644
run mkdir -p /media/microbit
# A teacher's USB stick (issue 17): mounted at /media/usb-stick for the service
# user (the admin screen imports and exports there); the unit may write only there.
copy_file "$SRC/deploy/usb-stick.rules" /etc/udev/rules.d/71-microbit-kiosk-usb-stick.rules 0644
run mkdir -p /media/usb-stick
# A running udevd is told to read the new rule; in a chroot or an image being
# built there is no udevd (nothing to tell), and the rule applies from the next boot.
if [ "$DRY_RUN" -eq 1 ] || [ -S /run/udev/control ]; then
    run udevadm control --reload
else
    note "udev is not running here: the micro:bit drive and USB stick rules apply from the next boot"
fi
run "$VENV/bin/kiosk" firmware build --source "$SRC/firmware"
run systemctl daemon-reload
run systemctl enable "$APP.service" "$APP-console.service"
run systemctl enable bluetooth.service
# A box with no Bluetooth adapter (USB micro:bits only) has nothing to unblock;
# that must not stop the installation (kiosk doctor reports Bluetooth).
if [ "$DRY_RUN" -eq 1 ] || rfkill list bluetooth >/dev/null 2>&1; then
    run rfkill unblock bluetooth
else
    note "no rfkill device here (no Bluetooth adapter?): not unblocking; kiosk doctor checks Bluetooth"
fi

# --- 7. Lock the console down -----------------------------------------------------

say "Giving the display to the exhibit (no login prompt, no console switching)"
# No login prompt on the display; SSH still works for the technician.
run systemctl disable getty@tty1.service
run systemctl mask getty@tty1.service
write_file /etc/systemd/logind.conf.d/$APP.conf 0644 <<EOF
# Written by deploy/install.sh: no login prompts spawned on other consoles.
[Login]
NAutoVTs=0
ReserveVT=0
EOF
# Ctrl+Alt+Del must not reboot the exhibit (the keymap also unbinds it).
run systemctl mask ctrl-alt-del.target
write_file /etc/systemd/system.conf.d/$APP.conf 0644 <<EOF
# Written by deploy/install.sh: pressing Ctrl+Alt+Del 7 times must not reboot either.
[Manager]
CtrlAltDelBurstAction=none
EOF
write_file /etc/sysctl.d/90-$APP.conf 0644 <<EOF
# Written by deploy/install.sh: no magic SysRq keys (Alt+SysRq+B reboots).
kernel.sysrq = 0
EOF
# A quiet boot with no blinking cursor or console blanking on the panel; the
# boot console turned like the panel (the app turns its own picture and
# touches from [display] rotation in kiosk.toml).
kernel_args=(consoleblank=0 vt.global_cursor_default=0 logo.nologo quiet loglevel=3)
case "$ROTATE" in
    "") ;;
    0) kernel_args+=(-fbcon) ;;
    90) kernel_args+=(fbcon=rotate:1) ;;
    180) kernel_args+=(fbcon=rotate:2) ;;
    270) kernel_args+=(fbcon=rotate:3) ;;
esac
set_cmdline "${kernel_args[@]}"
ensure_config_txt "disable_splash=1"

# --- 8. Start ---------------------------------------------------------------------------

if [ "$START" -eq 1 ]; then
    say "Starting the exhibit"
    run systemctl restart "$APP-console.service" "$APP.service"
fi

# --- 9. Read-only root (last: it takes effect at the next boot) ------------------------

if [ "$READ_ONLY" -eq 1 ]; then
    say "Making the root file system read-only (overlay) from the next boot"
    run raspi-config nonint enable_overlayfs
    note "reboot now: sudo reboot. To change anything later, see deploy/README.md (Updating)."
fi

say "Done"
if [ "$DRY_RUN" -eq 1 ]; then
    note "dry run: nothing was changed"
else
    note "check the box with: sudo $VENV/bin/kiosk doctor"
    "$VENV/bin/kiosk" doctor || true
fi
