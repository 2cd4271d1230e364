#!/usr/bin/env bash
# Runs inside the virtual machine (as root, its init's command): a system bus,
# two virtual controllers linked by btvirt, bluetoothd, the emulated micro:bit
# on hci1, then the kiosk's Bluetooth checks on hci0 as the unprivileged kiosk
# user with exactly the unit's capabilities, and (given DEMO_ARGS) the headless
# demo over Bluetooth. Usage: ble_guest.sh OUT CAPS [DEMO_ARGS]
# (CAPS like "net_raw,net_admin"; DEMO_ARGS options for `kiosk demo`, such as
# "--per-move 3"; none: no demo).
# Every step that fails says which and why in OUT/guest.log and exits non-zero.
set -uo pipefail
out=$1 caps=$2 demo_args=${3:-}
repo=$(cd "$(dirname "$0")/../.." && pwd)
py=$repo/.venv/bin/python
log=$out/guest.log
exec >>"$log" 2>&1
echo "guest-start $(cut -d' ' -f1 /proc/uptime)"
fail() { echo "GUEST-FAIL: $*"; echo "$*" > "$out/guest-failed"; exit 1; }
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...: poll, never a fixed sleep
    local until=$((SECONDS + $1)) what=$2; shift 2
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $until ] || fail "timed out waiting for $what"
        sleep 0.2
    done
}
export PYTHONDONTWRITEBYTECODE=1

mkdir -p /run/dbus
dbus-daemon --system --fork || fail "the system D-Bus did not start"
modprobe hci_vhci || fail "no hci_vhci module in this kernel"
wait_for 10 /dev/vhci test -c /dev/vhci

# btvirt links its controllers by a virtual radio. Under emulation the
# kernel's first reset of hci0 sometimes times out before btvirt answers,
# which leaves hci0 half set up: start again until both are managed.
both_managed() { btmgmt info 2>/dev/null | grep -q '^hci0:' && btmgmt info | grep -q '^hci1:'; }
for attempt in 1 2 3; do
    # shellcheck disable=SC2086  # options are words
    btvirt ${BTVIRT_OPTS:--l2} >"$out/btvirt.log" 2>&1 &
    btvirt_pid=$!
    end=$((SECONDS + 15))
    while [ $SECONDS -lt $end ] && ! both_managed; do sleep 0.3; done
    both_managed && break
    echo "btvirt attempt $attempt: hci0 and hci1 not both up; retrying"
    kill "$btvirt_pid"; wait "$btvirt_pid" 2>/dev/null
done
both_managed || fail "btvirt did not give two managed controllers (hci0, hci1)"

# The board's side: LE only, advertising from a random address. A micro:bit
# uses a static random one, but bluetoothd serves GATT on a controller's
# public address when it has one (btvirt's always do) and the kernel then
# hands a connection to the static address to nobody; with privacy the
# controller advertises from a resolvable private address (also "random" on
# the air) and connections arrive on the public identity bluetoothd serves.
# bluetoothd sets privacy on every controller from its configuration below.
# Only LE: the kiosk and a micro:bit speak nothing else. No Device ID: a board
# has one device information service, its own.
cat > /run/bluetooth-main.conf <<'CONF'
[General]
ControllerMode = le
DeviceID = false
Privacy = device
CONF
bluetoothd -n -f /run/bluetooth-main.conf >"$out/bluetoothd.log" 2>&1 &
wait_for 15 "bluetoothd on the system bus" \
    dbus-send --system --print-reply --dest=org.bluez /org/bluez/hci1 org.freedesktop.DBus.Introspectable.Introspect
wait_for 15 "hci0 and hci1 powered" sh -c \
    "btmgmt --index 0 info | grep -q 'current settings: powered' && btmgmt --index 1 info | grep -q 'current settings: powered'"
btmgmt info

mkdir -p /run/ble-board
control=/run/ble-board/control.sock
(cd "$repo" && exec "$py" -m tests.rigs.ble_board --adapter hci1 --name gutop \
    --control "$control") \
    >"$out/board.out" 2>"$out/board.log" &
wait_for 60 "the emulated board to advertise" grep -q '^ready' "$out/board.out"
cat "$out/board.out"

# The kiosk's user, as deploy/install.sh makes it, and the unit's capabilities only.
# (/etc/shadow is a read-only bind mount here, so useradd cannot run: the
# account lines are written directly into the guest's /etc overlay.)
echo "microbit-kiosk:x:990:990::/run/microbit-kiosk:/usr/sbin/nologin" >> /etc/passwd
echo "microbit-kiosk:x:990:" >> /etc/group
sed -i 's/^\(bluetooth:x:[0-9]*:\)$/\1microbit-kiosk/; s/^\(bluetooth:x:[0-9]*:.\+\)$/\1,microbit-kiosk/' /etc/group
id microbit-kiosk || fail "could not create the microbit-kiosk user"
home=/run/microbit-kiosk
mkdir -p "$home" && chown microbit-kiosk: "$home"
as_kiosk() {
    setpriv --reuid=microbit-kiosk --regid=microbit-kiosk --init-groups \
        --inh-caps="-all,+$caps_list" --ambient-caps="-all,+$caps_list" \
        --bounding-set="-all,+$caps_list" --no-new-privs \
        env HOME="$home" XDG_CACHE_HOME="$home" PYTHONDONTWRITEBYTECODE=1 "$@"
}
caps_list=${caps//,/,+}
# A development machine's Python may live under root's home (pyenv), which the
# kiosk user cannot enter; on the appliance it is under /usr. Open /root for
# this guest only (an overlay: the host's /root is not touched).
if ! as_kiosk test -x "$(readlink -f "$py")"; then
    mkdir -p /run/root-overlay/upper /run/root-overlay/work
    mount -t overlay overlay \
        -o lowerdir=/root,upperdir=/run/root-overlay/upper,workdir=/run/root-overlay/work /root \
        && chmod 711 /root
    as_kiosk test -x "$(readlink -f "$py")" || fail "the kiosk user cannot run $py"
fi
as_kiosk grep -E '^(Uid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status \
    > "$out/kiosk-caps.txt" || fail "setpriv could not drop to the kiosk user with $caps"
cat "$out/kiosk-caps.txt"

echo "checks-start $(cut -d' ' -f1 /proc/uptime)"
# The kiosk user writes in its own home (the host's output folder may sit in a
# directory only root can enter); root copies the results out.
(cd "$repo" && as_kiosk "$py" -m tests.rigs.ble_checks --control "$control" --out "$home/checks.json") \
    > "$home/checks.log" 2>&1
echo "checks-exit $? $(cut -d' ' -f1 /proc/uptime)"
cp "$home/checks.log" "$out/"
[ -f "$home/checks.json" ] && cp "$home/checks.json" "$out/"

# A whole visitor journey over Bluetooth (only when DEMO_ARGS are given): the
# headless demo, as the kiosk user, pairing with the same emulated board by its
# pattern. A real board has a CPU of its own; here the board, bluetoothd and
# btvirt share two emulated ones with the kiosk, whose drawing loop would
# starve them (the board then sends in bursts with gaps, and takes come out
# short): the kiosk runs at a lower priority, so the board keeps its pace, as
# a real one does. One BLAS thread: spinning worker threads only steal the
# emulated CPUs from the training.
if [ -n "$demo_args" ]; then
    echo "demo-start $(cut -d' ' -f1 /proc/uptime)"
    # shellcheck disable=SC2086  # options are words
    (cd "$repo" && as_kiosk nice -n 5 env SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy \
        OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$py" -m kiosk demo --headless \
        --board ble-emulated --board-control "$control" --out "$home/demo" $demo_args) \
        > "$home/demo.log" 2>&1
    echo "demo-exit $? $(cut -d' ' -f1 /proc/uptime)"
    cp "$home/demo.log" "$out/"
    [ -d "$home/demo" ] && cp -r "$home/demo" "$out/demo"
fi

echo "guest-done $(cut -d' ' -f1 /proc/uptime)"
