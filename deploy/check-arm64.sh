#!/usr/bin/env bash
# Proves the installer and the app on the Raspberry Pi's architecture, by
# emulation: builds (or reuses) an arm64 Debian root, copies this repository
# in, runs deploy/install.sh for real inside it, then inside it runs
# `kiosk doctor`, `kiosk train` on real recordings, `kiosk predict` through the
# arm64 TFLite runtime and the headless demo, and checks the installed systemd
# units with the arm64 system's own systemd-analyze; with --boot it then boots
# that system (qemu-system-aarch64) and watches the service. See
# deploy/README.md ("What the arm64 check proves").
#
#   sudo deploy/check-arm64.sh bookworm     # Python 3.11, tflite-runtime, numpy < 2
#   sudo deploy/check-arm64.sh trixie       # Python 3.13, ai-edge-litert
#
# Needs root, qemu-user-static with binfmt_misc (arm64 binaries run through
# qemu) and mmdebstrap; scripts/setup.sh installs the packages.
# The root is cached outside the repository (KIOSK_ARM64_CACHE, default
# /var/cache/microbit-kiosk-arm64/SUITE/base); each run installs into a fresh
# copy of it, so every run is a first install on a clean system.
# Debian's .deb files and pip's downloads are cached beside it.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_ROOT=${KIOSK_ARM64_CACHE:-/var/cache/microbit-kiosk-arm64}
MIRROR=${KIOSK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${KIOSK_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
DATASET=${KIOSK_ARM64_DATASET:-$SRC/../shared/data/createai/dataset.json}
# Raspberry Pi OS Lite has these; debootstrap's minbase does not. (Not python3:
# install.sh must bring it on a system that lacks it.)
BASE_PACKAGES=systemd-sysv,dbus,udev,ca-certificates,kmod,iproute2,procps
# Probability tolerance between the model trained on x86 and the one trained on arm64.
TOLERANCE=1e-5

REBUILD=0
KEEP=0
REDUCED=0
BOOT=0
AGAIN=0
OUT=""
SUITE=""

usage() {
    cat <<EOF
Usage: sudo $0 [options] bookworm|trixie

  --out DIR     where the report, models, predictions and screenshots go
                (default: $CACHE_ROOT/SUITE/last-run)
  --rebuild     build the cached arm64 root again from Debian's packages
  --keep        keep the installed root afterwards (to look inside)
  --again       run the checks again on the root kept by --keep, without
                installing again (for working on a failing check)
  --reduced     build/reuse the root and prove arm64 Python, numpy and the
                TFLite runtime run in it, without the full install (for CI)
  --boot        then boot the installed system in qemu-system-aarch64 (TCG) and
                check the service: READY, restarted by the watchdog when hung,
                down for good after "Exit to shell" (tapped on a uinput panel)
  -h, --help    this text
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --out) OUT=${2:?--out needs a folder}; shift ;;
        --rebuild) REBUILD=1 ;;
        --keep) KEEP=1 ;;
        --again) AGAIN=1; KEEP=1 ;;
        --reduced) REDUCED=1 ;;
        --boot) BOOT=1 ;;
        -h|--help) usage; exit 0 ;;
        bookworm|trixie) SUITE=$1 ;;
        *) echo "check-arm64.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
[ -n "$SUITE" ] || { usage >&2; exit 2; }

CACHE=$CACHE_ROOT/$SUITE
BASE=$CACHE/base
# The reduced check has its own working copy, so it can run beside a full one.
RUN=$CACHE/run
[ "$REDUCED" -eq 0 ] || RUN=$CACHE/run-reduced
# Debian's .deb files, kept between runs (apt locks the folder: one per kind of run).
ARCHIVES=$CACHE/apt-archives
[ "$REDUCED" -eq 0 ] || ARCHIVES=$CACHE/apt-archives-reduced
ROOT=$RUN/root
# Every write into the arm64 system goes through "$ROOT/...": never let it be the host's /.
case "$ROOT" in /?*/root) ;; *) echo "check-arm64.sh: bad root path '$ROOT'" >&2; exit 1 ;; esac
OUT=${OUT:-$CACHE/last-run}
REPORT=$OUT/report.txt
INSIDE_SRC=/root/microbit-kiosk
INSIDE_OUT=/root/check-out
VENV=/opt/microbit-kiosk/.venv

say() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf 'check-arm64.sh: %s\n' "$*" >&2; exit 1; }
# figure KEY VALUE: one line of the report (also printed).
figure() { printf '%s\t%s\n' "$1" "$2" >> "$REPORT"; note "$1: $2"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# --- Can this machine run arm64 binaries at all? ------------------------------

preflight() {
    [ "$(id -u)" -eq 0 ] || die "run as root (it mounts file systems and chroots): sudo $0 $SUITE"
    local missing=() cmd
    for cmd in mmdebstrap chroot mount umount; do
        command -v "$cmd" >/dev/null || missing+=("$cmd")
    done
    [ ${#missing[@]} -eq 0 ] || die "missing ${missing[*]}: run scripts/setup.sh (installs qemu-user-static, binfmt-support, mmdebstrap)"
    if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null \
            || die "binfmt_misc is not mounted and cannot be mounted here: arm64 binaries cannot run"
    fi
    if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
        { command -v update-binfmts >/dev/null && update-binfmts --enable qemu-aarch64; } >/dev/null 2>&1 || true
        if [ -x /lib/systemd/systemd-binfmt ]; then /lib/systemd/systemd-binfmt >/dev/null 2>&1 || true; fi
    fi
    [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] \
        || die "no binfmt_misc entry for qemu-aarch64: apt-get install qemu-user-static binfmt-support"
    grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 \
        || die "the qemu-aarch64 binfmt entry is disabled (update-binfmts --enable qemu-aarch64)"
    # F (fix binary): the interpreter is opened now, so it works inside the chroot.
    grep -q '^flags:.*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 \
        || die "the qemu-aarch64 binfmt entry lacks the F flag; use Debian's qemu-user-static"
    [ -f "$DATASET" ] || die "no recordings at $DATASET (set KIOSK_ARM64_DATASET)"
    # The x86 reference model and the comparisons run in this checkout's venv.
    [ -x "$SRC/.venv/bin/kiosk" ] || "$SRC/scripts/setup.sh"
}

# --- The cached root ------------------------------------------------------------

build_base() {
    if [ -f "$BASE/.built-at" ] && [ "$REBUILD" -eq 0 ]; then
        note "reusing $BASE (built $(cat "$BASE/.built-at" 2>/dev/null || echo '?'); --rebuild to redo)"
        return 0
    fi
    say "Building an arm64 Debian $SUITE root in $BASE (several minutes, once)"
    local started tmp
    started=$(now)
    tmp=$CACHE/base.tmp
    rm -rf "$tmp"
    mkdir -p "$CACHE"
    local sources=("deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main"
                   "deb $SECURITY_MIRROR $SUITE-security main")
    nice -n 10 mmdebstrap --arch=arm64 --variant=minbase --include="$BASE_PACKAGES" \
        "$SUITE" "$tmp" "${sources[@]}" > "$CACHE/build.log" 2>&1 \
        || { tail -n 30 "$CACHE/build.log" >&2; die "mmdebstrap failed (log: $CACHE/build.log)"; }
    date -u +%FT%TZ > "$tmp/.built-at"
    rm -rf "$BASE"
    mv "$tmp" "$BASE"
    figure root_build_cold_s "$(since "$started")"
}

# --- A fresh copy of the cached root, with /proc, /sys, /dev -----------------------

MOUNTED=()
mount_at() {  # mount_at TARGET MOUNT-ARGS...
    local target=$1; shift
    mkdir -p "$target"
    mount "$@" "$target"
    MOUNTED+=("$target")
}

cleanup() {
    local i
    for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
        umount -l "${MOUNTED[$i]}" 2>/dev/null || true
    done
    MOUNTED=()
    if [ "$KEEP" -eq 0 ] && [ -d "$RUN" ]; then
        rm -rf "$RUN"
    fi
}
trap cleanup EXIT

prepare_root() {
    local started
    started=$(now)
    local keep=$KEEP
    KEEP=1 cleanup
    KEEP=$keep
    mkdir -p "$RUN" "$ARCHIVES/partial" "$CACHE/pip"
    if [ "$AGAIN" -eq 1 ] && [ -x "$ROOT$VENV/bin/kiosk" ]; then
        note "--again: reusing the installed root kept in $ROOT"
    else
        AGAIN=0
        rm -rf "$RUN"
        mkdir -p "$RUN"
        # A copy, not an overlay mount: install.sh rightly refuses to install onto
        # an overlay root (on a Pi that is the read-only mode, where changes vanish).
        cp -a --reflink=auto "$BASE" "$ROOT"
    fi
    mount_at "$ROOT/proc" -t proc proc
    # No /sys: it would describe this machine's x86 CPUs, and the TFLite
    # runtimes' CPU probe (cpuinfo) read it and crashed ai-edge-litert under
    # qemu-user; without it they fall back to safe defaults.
    mount_at "$ROOT/dev" --bind /dev
    mount_at "$ROOT/dev/pts" -t devpts devpts -o newinstance,ptmxmode=0666
    mount_at "$ROOT/run" -t tmpfs tmpfs -o mode=0755
    mount_at "$ROOT/tmp" -t tmpfs tmpfs -o mode=1777
    mount_at "$ROOT/var/cache/apt/archives" --bind "$ARCHIVES"
    mount_at "$ROOT/root/.cache/pip" --bind "$CACHE/pip"
    cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
    # A host behind a TLS-inspecting proxy names its CA bundle in PIP_CERT;
    # pip inside needs the same bundle to reach the package index.
    if [ -n "${PIP_CERT:-}" ] && [ -f "$PIP_CERT" ]; then
        cp "$PIP_CERT" "$ROOT/run/host-ca.crt"
    fi
    figure root_cached_ready_s "$(since "$started")"
}

# inside CMD...: run a command in the arm64 root as root, with a clean environment.
inside() {
    # SYSTEMD_OFFLINE=1: no systemd runs in this root, so systemctl edits unit
    # links and skips start/restart/daemon-reload, as in any chroot (here the
    # host's PID 1 is not systemd, which defeats systemctl's own chroot test).
    # QEMU_CPU: emulate a Pi 4's Cortex-A72, not qemu's default "max" CPU.
    local env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
               HOME=/root LANG=C.UTF-8 TERM=dumb PYTHONDONTWRITEBYTECODE=1 SYSTEMD_OFFLINE=1
               QEMU_CPU=cortex-a72)
    [ -f "$ROOT/run/host-ca.crt" ] && env+=(PIP_CERT=/run/host-ca.crt)
    nice -n 10 chroot "$ROOT" /usr/bin/env -i "${env[@]}" "$@"
}

# timed NAME CMD...: run inside, stdout to OUT/NAME.log and stderr to OUT/NAME.err
# (the TFLite runtime writes an INFO line there), record its time; fail with both tails.
timed() {
    local name=$1 started rc=0; shift
    started=$(now)
    inside "$@" > "$OUT/$name.log" 2> "$OUT/$name.err" || rc=$?
    figure "${name}_s" "$(since "$started")"
    if [ "$rc" -ne 0 ]; then
        tail -n 40 "$OUT/$name.log" "$OUT/$name.err" >&2
        die "$name failed with exit code $rc (log: $OUT/$name.log, $OUT/$name.err)"
    fi
}

# --- The checks -----------------------------------------------------------------------

copy_repository() {
    # What a `git clone` of this checkout would hold, plus uncommitted edits.
    mkdir -p "$ROOT$INSIDE_SRC" "$ROOT$INSIDE_OUT"
    if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
        git -C "$SRC" ls-files -z --cached --others --exclude-standard \
            | (cd "$SRC" && xargs -0 tar --no-recursion -cf - --ignore-failed-read 2>/dev/null) \
            | tar -C "$ROOT$INSIDE_SRC" -xf -
    else
        tar -C "$SRC" --exclude=.venv --exclude=.git -cf - . | tar -C "$ROOT$INSIDE_SRC" -xf -
    fi
    cp "$DATASET" "$ROOT$INSIDE_OUT/dataset.json"
}

reduced_check() {
    say "Reduced check: the locked TFLite runtime on arm64 Python predicts like x86"
    # Debian's Python, the lock's runtime wheels from PyPI, and the kiosk's own
    # `predict` on a model trained here: no training stack, no apt build tools.
    timed reduced_apt_update env DEBIAN_FRONTEND=noninteractive apt-get update -q
    timed reduced_apt_install env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends python3-venv
    local python runtime
    python=$(inside python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    case "$python" in 3.11) runtime=tflite-runtime ;; *) runtime=ai-edge-litert ;; esac
    inside python3 -m venv /opt/reduced
    timed reduced_pip env PIP_DISABLE_PIP_VERSION_CHECK=1 \
        PIP_CONSTRAINT="$INSIDE_SRC/deploy/requirements.lock" /opt/reduced/bin/pip install -q \
        numpy "$runtime" flatbuffers tflite platformdirs tomlkit
    # The kiosk itself, without its training and hardware dependencies.
    timed reduced_kiosk env PIP_DISABLE_PIP_VERSION_CHECK=1 \
        PIP_CONSTRAINT="$INSIDE_SRC/deploy/requirements.lock" /opt/reduced/bin/pip install -q \
        --no-deps "$INSIDE_SRC"
    figure machine "$(inside /opt/reduced/bin/python -c 'import platform; print(platform.machine())')"
    figure python "$(inside /opt/reduced/bin/python -c 'import sys; print(sys.version.split()[0])')"
    figure runtime "$runtime $(inside /opt/reduced/bin/python -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "$runtime")"
    x86_reference
    timed predict /opt/reduced/bin/kiosk predict "$INSIDE_OUT/model-x86.tflite" \
        "$INSIDE_OUT/dataset.json" --json
    cp "$OUT/predict.log" "$OUT/predictions-x86-model-on-arm64.json"
    compare_with_x86 "$OUT/predictions-x86-model-on-arm64.json"
}

# x86_reference: train on this machine (x86) and predict there; copy the model in.
x86_reference() {
    "$SRC/.venv/bin/kiosk" train "$DATASET" --out "$OUT/model-x86.tflite" --json > "$OUT/train-x86.log"
    "$SRC/.venv/bin/kiosk" predict "$OUT/model-x86.tflite" "$DATASET" --json > "$OUT/predictions-x86.json"
    cp "$OUT/model-x86.tflite" "$ROOT$INSIDE_OUT/"
}

# compare_with_x86 PREDICTIONS.json...: argmax equal, probabilities within TOLERANCE.
compare_with_x86() {
    "$SRC/.venv/bin/python" "$SRC/deploy/compare_predictions.py" --tolerance "$TOLERANCE" \
        "$OUT/predictions-x86.json" "$@" > "$OUT/compare.txt" \
        || { cat "$OUT/compare.txt" >&2; die "arm64 predictions differ from x86"; }
    figure predictions "$(head -n1 "$OUT/compare.txt")"
    sed 's/^/    | /' "$OUT/compare.txt"
}

run_install() {
    say "deploy/install.sh for real in the arm64 $SUITE root"
    if [ "$AGAIN" -eq 1 ]; then
        note "--again: not installing again"
    else
        timed install bash "$INSIDE_SRC/deploy/install.sh"
    fi
    figure python "$(inside "$VENV/bin/python" -c 'import sys; print(sys.version.split()[0])')"
    figure machine "$(inside "$VENV/bin/python" -c 'import platform; print(platform.machine())')"
    # The lock: every package pip put into the venv is pinned in deploy/requirements.lock.
    inside "$VENV/bin/python" -m pip list --local --format=freeze > "$OUT/venv-freeze.txt" 2>/dev/null
    local python lock
    python=$(inside "$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    lock=$("$SRC/.venv/bin/python" "$SRC/deploy/lock_check.py" --python "$python" \
        "$SRC/deploy/requirements.lock" "$OUT/venv-freeze.txt" 2>&1) \
        || { printf '%s\n' "$lock" >&2; die "the venv does not match deploy/requirements.lock"; }
    figure lock "$lock"
    # SDL's kmsdrm needs EGL and the Pi's Mesa drivers (vc4: Pi 4 display, v3d: Pi 4/5 GPU).
    local lib=/usr/lib/aarch64-linux-gnu file
    for file in libEGL.so.1 libGLESv2.so.2 libgbm.so.1 dri/vc4_dri.so dri/v3d_dri.so; do
        [ -e "$ROOT$lib/$file" ] || die "install.sh left no $lib/$file: SDL's kmsdrm could not draw on a Pi"
    done
    figure display_stack "libEGL, libGLESv2, libgbm, Mesa vc4 and v3d drivers present"
}

run_doctor() {
    say "kiosk doctor"
    inside "$VENV/bin/kiosk" doctor > "$OUT/doctor.txt" 2>&1 || true
    inside "$VENV/bin/kiosk" doctor --json > "$OUT/doctor.json" 2>/dev/null || true
    sed 's/^/    | /' "$OUT/doctor.txt"
    python3 - "$OUT/doctor.json" <<'EOF' || die "kiosk doctor: the TFLite runtime or Debian's pygame is not working (see $OUT/doctor.txt)"
import json, sys
checks = {c["name"]: c for c in json.load(open(sys.argv[1]))["checks"]}
tflite = checks["tflite"]
assert tflite["status"] == "ok", tflite
display = checks["display"]["detail"]
# Debian's pygame: its SDL has kmsdrm (the PyPI wheel's has not); SDL 2.26 says "KMSDRM".
assert "kmsdrm" in display.lower(), display
EOF
    figure doctor_tflite "$(python3 -c 'import json,sys; print({c["name"]: c for c in json.load(open(sys.argv[1]))["checks"]}["tflite"]["detail"])' "$OUT/doctor.json")"
}

run_ml() {
    say "kiosk train and kiosk predict on real recordings, compared with x86"
    timed train "$VENV/bin/kiosk" train "$INSIDE_OUT/dataset.json" --out "$INSIDE_OUT/model-arm64.tflite" --json
    timed predict "$VENV/bin/kiosk" predict "$INSIDE_OUT/model-arm64.tflite" "$INSIDE_OUT/dataset.json" --json
    cp "$ROOT$INSIDE_OUT/model-arm64.tflite" "$OUT/"
    cp "$OUT/predict.log" "$OUT/predictions-arm64.json"
    # The same training on this machine (x86), and the x86 model through the arm64 runtime.
    x86_reference
    inside "$VENV/bin/kiosk" predict "$INSIDE_OUT/model-x86.tflite" "$INSIDE_OUT/dataset.json" --json \
        > "$OUT/predictions-x86-model-on-arm64.json"
    compare_with_x86 "$OUT/predictions-arm64.json" "$OUT/predictions-x86-model-on-arm64.json"
    if cmp -s "$OUT/model-x86.tflite" "$OUT/model-arm64.tflite"; then
        figure model_bytes "identical on x86 and arm64 ($(stat -c %s "$OUT/model-x86.tflite") bytes)"
    else
        figure model_bytes "differ: x86 $(stat -c %s "$OUT/model-x86.tflite") bytes, arm64 $(stat -c %s "$OUT/model-arm64.tflite") bytes, $(cmp -l "$OUT/model-x86.tflite" "$OUT/model-arm64.tflite" 2>/dev/null | wc -l) bytes differ"
    fi
}

run_demo() {
    say "the headless demo (visitor journey with a simulated board)"
    timed demo "$VENV/bin/kiosk" demo --headless --out "$INSIDE_OUT/demo"
    rm -rf "$OUT/demo"
    cp -r "$ROOT$INSIDE_OUT/demo" "$OUT/demo"
    local shots
    shots=$(find "$OUT/demo" -name '*.png' | wc -l)
    [ "$shots" -gt 0 ] || die "the demo wrote no screenshots"
    figure demo_screenshots "$shots"
    figure demo_predictions_per_s "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["predictions_per_s"])' "$OUT/demo/summary.json")"
}

run_units() {
    say "systemd units, checked by the arm64 system's own systemd-analyze"
    figure systemd "$(inside systemctl --version | head -n1)"
    local unit verify
    for unit in microbit-kiosk.service microbit-kiosk-console.service; do
        verify=$(inside systemd-analyze verify --man=no "/etc/systemd/system/$unit" 2>&1) \
            || { printf '%s\n' "$verify" >&2; die "systemd-analyze verify $unit failed"; }
        # Messages about units of the host that are absent in a bare root are not ours.
        verify=$(printf '%s\n' "$verify" | grep -F "$unit" || true)
        [ -z "$verify" ] || { printf '%s\n' "$verify" >&2; die "systemd-analyze verify complains about $unit"; }
        inside systemd-analyze security --offline=yes "/etc/systemd/system/$unit" \
            > "$OUT/security-$unit.txt" 2>&1 || true
        local exposure
        exposure=$(grep -oE 'Overall exposure level for [^:]+: [0-9.]+' "$OUT/security-$unit.txt" | grep -oE '[0-9.]+$' || true)
        [ -n "$exposure" ] || { tail -n 5 "$OUT/security-$unit.txt" >&2; die "no exposure level for $unit"; }
        awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' \
            || die "$unit: exposure $exposure is above 2.0 (see $OUT/security-$unit.txt)"
        figure "exposure_$unit" "$exposure"
        figure "verify_$unit" "clean"
    done
    [ "$(inside systemctl is-enabled microbit-kiosk.service)" = enabled ] \
        || die "microbit-kiosk.service is not enabled after install.sh"
    figure enabled "microbit-kiosk.service, microbit-kiosk-console.service"
}

# --- A booted arm64 machine (qemu-system-aarch64, TCG) ----------------------------------

# Only for this emulated machine: TCG runs the app far slower than a Pi, so
# starting may take longer than the unit's 120 s. The watchdog is unchanged.
# The booted machine's screen: the Pi's 7" panel. Its PIN for the admin screen.
VM_SCREEN=800x480
VM_PIN=2580
VM_DROPIN='[Service]
TimeoutStartSec=30min'
VM_UNIT='[Unit]
Description=deploy/check-arm64.sh --boot: watch microbit-kiosk.service, then power off
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/kiosk-vm-scenario
StandardOutput=journal+console
[Install]
WantedBy=multi-user.target'

run_boot() {
    say "Booting the installed arm64 system (qemu-system-aarch64, software emulation)"
    command -v qemu-system-aarch64 >/dev/null \
        || die "no qemu-system-aarch64: apt-get install qemu-system-arm (scripts/setup.sh does)"
    # Debian's arm64 kernel; the Pi has its own, so this is the closest here.
    # Its initramfs needs only what mounts this machine's root (virtio disk,
    # ext4): MODULES=most made mkinitramfs run modprobe for thousands of
    # modules through qemu-user, which took over 15 minutes.
    mkdir -p "$ROOT/etc/initramfs-tools/conf.d" "$ROOT/usr/share/initramfs-tools/modules.d"
    printf 'MODULES=list\n' > "$ROOT/etc/initramfs-tools/conf.d/kiosk-vm.conf"
    printf '%s\n' virtio_pci virtio_blk ext4 crc32c_generic \
        > "$ROOT/usr/share/initramfs-tools/modules.d/kiosk-vm"
    timed boot_kernel env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends linux-image-arm64 initramfs-tools
    install -D -m 0755 "$SRC/deploy/arm64-vm-scenario.sh" "$ROOT/usr/local/sbin/kiosk-vm-scenario"
    install -D -m 0755 "$SRC/deploy/arm64-vm-touch.py" "$ROOT/usr/local/sbin/kiosk-vm-touch"
    # Staff's PIN, set as the technician does (README, "Set the admin PIN"), and
    # where the installed app puts the PIN keys and "Exit to shell" on this screen.
    printf '%s\n%s\n' "$VM_PIN" "$VM_PIN" | inside "$VENV/bin/kiosk" set-pin --write > "$OUT/set-pin.log" 2>&1 \
        || { cat "$OUT/set-pin.log" >&2; die "kiosk set-pin --write failed in the root"; }
    mkdir -p "$ROOT/usr/local/share/kiosk-vm"
    printf '%s\n' "$VM_PIN" > "$ROOT/usr/local/share/kiosk-vm/pin"
    cp "$SRC/deploy/vm_touch_plan.py" "$ROOT$INSIDE_OUT/"
    inside env KIOSK_CONFIG=/etc/microbit-kiosk/kiosk.toml "$VENV/bin/python" \
        "$INSIDE_OUT/vm_touch_plan.py" "$VM_SCREEN" > "$OUT/touch-plan.txt" 2> "$OUT/touch-plan.err" \
        || { cat "$OUT/touch-plan.err" >&2; die "deploy/vm_touch_plan.py failed in the root"; }
    cp "$OUT/touch-plan.txt" "$ROOT/usr/local/share/kiosk-vm/touch-plan.txt"
    printf '%s\n' "$VM_UNIT" > "$ROOT/etc/systemd/system/kiosk-vm-scenario.service"
    inside systemctl enable kiosk-vm-scenario.service >/dev/null 2>&1
    mkdir -p "$ROOT/etc/systemd/system/microbit-kiosk.service.d"
    printf '%s\n' "$VM_DROPIN" > "$ROOT/etc/systemd/system/microbit-kiosk.service.d/emulation.conf"
    printf '/dev/vda / ext4 defaults 0 1\n' > "$ROOT/etc/fstab"
    printf 'kiosk-vm\n' > "$ROOT/etc/hostname"
    local kernel initrd image=$RUN/disk.img started rc=0 i
    kernel=$(find "$ROOT/boot" -name 'vmlinuz-*' | sort | tail -n1)
    initrd=$(find "$ROOT/boot" -name 'initrd.img-*' | sort | tail -n1)
    { [ -n "$kernel" ] && [ -n "$initrd" ]; } || die "no kernel or initrd in $ROOT/boot"
    cp "$kernel" "$initrd" "$RUN/"
    # The image is made from the root with nothing mounted in it.
    for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTED[$i]}" || true; done
    MOUNTED=()
    rm -f "$image"
    truncate -s 6G "$image"
    mkfs.ext4 -q -F -L kiosk-root -d "$ROOT" "$image"
    started=$(now)
    timeout 45m nice -n 10 qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on -smp 2 -m 2048 \
        -accel tcg,thread=multi -nographic -monitor none -serial "file:$OUT/boot-console.log" \
        -kernel "$RUN/$(basename "$kernel")" -initrd "$RUN/$(basename "$initrd")" \
        -append "root=/dev/vda rw console=ttyAMA0" \
        -drive "file=$image,format=raw,if=virtio" \
        -device "virtio-gpu-pci,xres=${VM_SCREEN%x*},yres=${VM_SCREEN#*x}" -device virtio-keyboard-pci \
        -nic none > "$OUT/qemu.log" 2>&1 || rc=$?
    figure boot_run_s "$(since "$started")"
    if [ "$rc" -ne 0 ]; then
        tail -n 20 "$OUT/boot-console.log" >&2
        die "qemu-system-aarch64 ended with $rc (console: $OUT/boot-console.log)"
    fi
    debugfs -R "cat /root/vm-check.txt" "$image" > "$OUT/vm-check.txt" 2>/dev/null
    debugfs -R "cat /root/vm-touch.log" "$image" > "$OUT/vm-touch.log" 2>/dev/null || true
    [ -s "$OUT/vm-check.txt" ] \
        || die "the booted machine left no /root/vm-check.txt (console: $OUT/boot-console.log)"
    sed 's/^/    | /' "$OUT/vm-check.txt"
    local key
    for key in booted_s display_mode ready watchdog_restart exit_to_shell exit_to_shell_s; do
        figure "vm_$key" "$(awk -F'\t' -v k="$key" '$1 == k { print $2 }' "$OUT/vm-check.txt")"
    done
    grep -q $'^ready\tyes' "$OUT/vm-check.txt" || die "the service did not report READY in the booted machine"
    grep -q $'^watchdog_restart\tyes' "$OUT/vm-check.txt" || die "the watchdog did not restart the hung app"
    grep -q $'^exit_to_shell\tyes' "$OUT/vm-check.txt" || die "\"Exit to shell\" did not stop the service for good"
}

# --- Main ------------------------------------------------------------------------------

preflight
mkdir -p "$OUT"
: > "$REPORT"
figure suite "$SUITE"
figure started "$(date -u +%FT%TZ)"
total=$(now)
build_base
prepare_root
copy_repository
if [ "$REDUCED" -eq 1 ]; then
    reduced_check
else
    run_install
    run_doctor
    run_units
    run_ml
    run_demo
    [ "$BOOT" -eq 0 ] || run_boot
fi
figure total_s "$(since "$total")"
say "All checks passed on arm64 $SUITE. Report: $REPORT"
